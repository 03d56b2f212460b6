package ui

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// valuesPane is the Hosts or the Origins table (kind "host" or "origin",
// as Backend.Allow takes it): every value seen, with whether it is
// allowed; the engine picks its rows by the pane's sort and filter over
// the whole table. `a` allows the selected value for this run; enter lists
// the recent requests that carried exactly it. An origin seen only in
// Referers (check_referer) is marked so.
func valuesPane(kind string) *tablePane[valueRow] {
	title, field := "Hosts", "Host"
	rows := func(v *snapView) []valueRow { return valueRows(v.Hosts, v.HostCheck == "") }
	query := func(q *detect.Query) *detect.TableQuery { return &q.Hosts }
	if kind == "origin" {
		title, field = "Origins", "Origin"
		rows = func(v *snapView) []valueRow { return valueRows(v.Origins, v.OriginCheck == "") }
		query = func(q *detect.Query) *detect.TableQuery { return &q.Origins }
	}
	return newTablePane(&tableSpec[valueRow]{
		name: strings.ToLower(title), title: title,
		empty: "none seen yet", noMatch: "nothing matches the filter",
		emptyWhy: func(v *snapView) string { return blindTo(v, field) },
		rows:     rows,
		query:    query,
		engineFilter: func(f string) detect.TableQuery {
			if !plainFilter(f) || strings.Contains(f, "xn--") || matchesWord(f, "allowed", "foreign", "no check", "referer", "(none)") {
				return detect.TableQuery{} // matched here, on what is shown: all rows
			}
			return detect.TableQuery{Filter: f}
		},
		pins: func(v *valueRow) []detect.Pin { return []detect.Pin{{Kind: detect.PinKind(kind), Value: v.Value}} },
		partial: func(v *snapView) detect.Partial {
			if kind == "origin" {
				return v.Coverage.Origins
			}
			return v.Coverage.Hosts
		},
		id:  func(v *valueRow) string { return v.Value },
		tie: func(a, b *valueRow) int { return cmp.Compare(a.Value, b.Value) },
		match: func(v *valueRow) []string {
			texts := []string{v.Value, showHost(v.Value).name, v.status()}
			if v.FromReferer {
				texts = append(texts, "referer")
			}
			return texts
		},
		open: func(v *valueRow) drill { return drill{kind: kind, value: v.Value} },
		allow: func(v *valueRow) allowTarget {
			return allowTarget{kind: kind, value: v.Value, already: v.Allowed}
		},
		cols: []col[valueRow]{
			{title: strings.ToUpper(kind), query: "value", min: 16, want: 23, flex: 1,
				raw: func(v *valueRow) any { return v.Value },
				host: func(v *valueRow) hostText {
					h := showHost(v.Value)
					if h.name == "" {
						h.name = "(none)"
					}
					if v.FromReferer {
						h.note = " (Referer)"
					}
					return h
				},
				cmp: func(a, b *valueRow) int { return cmp.Compare(a.Value, b.Value) }},
			{title: "REQS", name: "requests", query: "requests", min: 7, right: true, desc: true, sorted: true,
				cell: func(v *valueRow) string { return count(v.Requests) },
				raw:  func(v *valueRow) any { return v.Requests },
				cmp:  func(a, b *valueRow) int { return cmp.Compare(a.Requests, b.Requests) }},
			{title: "KEYS", query: "keys", min: 4, right: true, drop: 2, desc: true,
				cell: func(v *valueRow) string { return strconv.Itoa(v.Keys) },
				raw:  func(v *valueRow) any { return v.Keys },
				cmp:  func(a, b *valueRow) int { return cmp.Compare(a.Keys, b.Keys) }},
			{title: "STATUS", query: "allowed", min: 10,
				raw: func(v *valueRow) any { return v.status() },
				cell: func(v *valueRow) string {
					switch v.status() {
					case "allowed":
						return "✓ allowed"
					case "foreign":
						return "✗ foreign"
					}
					return "· no check"
				},
				accent: func(v *valueRow) accent {
					switch v.status() {
					case "allowed":
						return acGood
					case "foreign":
						return acBad
					}
					return acMuted
				},
				cmp: func(a, b *valueRow) int { return compareBool(a.Allowed, b.Allowed) }},
			{title: "LAST", query: "last", min: 4, right: true, drop: 1,
				age: func(v *valueRow) time.Time { return v.LastSeen }},
		},
	})
}

// matchesWord reports whether filter f (any case) is part of a word this
// pane shows beside the values, which the engine cannot match.
func matchesWord(f string, words ...string) bool {
	f = strings.ToLower(f)
	for _, w := range words {
		if strings.Contains(w, f) {
			return true
		}
	}
	return false
}

// valueRow is a Host or Origin row as the pane shows it: checked is false
// when its check is off (no allowlist), so not being allowed says nothing.
type valueRow struct {
	*detect.ValueStat
	checked bool
}

func valueRows(vs []detect.ValueStat, checked bool) []valueRow {
	rows := make([]valueRow, len(vs))
	for i := range vs {
		rows[i] = valueRow{&vs[i], checked}
	}
	return rows
}

// status is the row's status word: allowed, foreign, or "no check".
func (v *valueRow) status() string {
	switch {
	case v.Allowed:
		return "allowed"
	case v.checked:
		return "foreign"
	}
	return "no check"
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
