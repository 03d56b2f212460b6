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
// allowed. `a` allows the selected value for this run; enter lists the
// recent requests that carried it.
func valuesPane(kind string) *tablePane[detect.ValueStat] {
	title, rows := "Hosts", func(s *detect.Snapshot) []detect.ValueStat { return s.Hosts }
	if kind == "origin" {
		title, rows = "Origins", func(s *detect.Snapshot) []detect.ValueStat { return s.Origins }
	}
	return newTablePane(&tableSpec[detect.ValueStat]{
		name: strings.ToLower(title), title: title,
		empty: "none seen yet", noMatch: "nothing matches the filter",
		rows: rows,
		id:   func(v *detect.ValueStat) string { return v.Value },
		tie:  func(a, b *detect.ValueStat) int { return cmp.Compare(a.Value, b.Value) },
		match: func(v *detect.ValueStat) []string {
			return []string{v.Value, statusWord(v.Allowed)}
		},
		open: func(v *detect.ValueStat) drill { return drill{kind: kind, value: v.Value} },
		allow: func(v *detect.ValueStat) allowTarget {
			return allowTarget{kind: kind, value: v.Value, already: v.Allowed}
		},
		cols: []col[detect.ValueStat]{
			{title: strings.ToUpper(kind), min: 16, flex: 1,
				cell: func(v *detect.ValueStat) string {
					if s := clean(v.Value); s != "" {
						return s
					}
					return "(none)"
				},
				cmp: func(a, b *detect.ValueStat) int { return cmp.Compare(a.Value, b.Value) }},
			{title: "REQS", min: 7, right: true, desc: true, sorted: true,
				cell: func(v *detect.ValueStat) string { return count(v.Requests) },
				cmp:  func(a, b *detect.ValueStat) int { return cmp.Compare(a.Requests, b.Requests) }},
			{title: "KEYS", min: 4, right: true, drop: 2, desc: true,
				cell: func(v *detect.ValueStat) string { return strconv.Itoa(v.Keys) },
				cmp:  func(a, b *detect.ValueStat) int { return cmp.Compare(a.Keys, b.Keys) }},
			{title: "STATUS", min: 9,
				cell: func(v *detect.ValueStat) string {
					if v.Allowed {
						return "✓ allowed"
					}
					return "✗ foreign"
				},
				accent: func(v *detect.ValueStat) accent {
					if v.Allowed {
						return acGood
					}
					return acBad
				},
				cmp: func(a, b *detect.ValueStat) int { return compareBool(a.Allowed, b.Allowed) }},
			{title: "LAST", min: 4, right: true, drop: 1, desc: true,
				age: func(v *detect.ValueStat) time.Time { return v.LastSeen },
				cmp: func(a, b *detect.ValueStat) int { return a.LastSeen.Compare(b.LastSeen) }},
		},
	})
}

// statusWord is what the filter matches for a value's status.
func statusWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "foreign"
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
