package ui

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// keysPane is the table of API key fingerprints, busiest first, sortable
// by any column; the engine picks its rows by the same sort and filter
// over every key it tracks. (Keyboard bindings are in keymap.go.)
func keysPane() *tablePane[detect.KeyStat] {
	// count columns: a number per key, most first when picked.
	number := func(title, query string, min, drop int, v func(k *detect.KeyStat) int) col[detect.KeyStat] {
		return col[detect.KeyStat]{title: title, name: query, query: query, min: min, right: true, drop: drop, desc: true,
			cell: func(k *detect.KeyStat) string { return strconv.Itoa(v(k)) },
			raw:  func(k *detect.KeyStat) any { return v(k) },
			cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(v(a), v(b)) }}
	}
	return newTablePane(&tableSpec[detect.KeyStat]{
		name: "keys", title: "Keys",
		empty: "no API keys seen yet", noMatch: "no key matches the filter",
		emptyWhy: func(v *snapView) string { return blindTo(v, "key") },
		rows:     func(v *snapView) []detect.KeyStat { return v.Keys },
		id:       func(k *detect.KeyStat) string { return k.Key },
		// Ties fall back to the fingerprint so rows do not shuffle between
		// refreshes.
		tie:          func(a, b *detect.KeyStat) int { return cmp.Compare(a.Key, b.Key) },
		match:        func(k *detect.KeyStat) []string { return append([]string{k.Key}, detTexts(k.Fired)...) },
		query:        func(q *detect.Query) *detect.TableQuery { return &q.Keys },
		engineFilter: keyEngineFilter,
		pins:         func(k *detect.KeyStat) []detect.Pin { return []detect.Pin{{Kind: detect.PinKey, Value: k.Key}} },
		partial:      func(v *snapView) detect.Partial { return v.Coverage.Keys },
		open: func(k *detect.KeyStat) drill {
			return drill{detail: detailView{kind: detailKey, key: detect.KeyDetail{Key: k.Key, Stat: *k}}}
		},
		cols: []col[detect.KeyStat]{
			{title: "KEY", query: "key", min: 12, flex: 1,
				cell:   func(k *detect.KeyStat) string { return clean(k.Key) },
				accent: always[detect.KeyStat](acKey),
				cmp:    func(a, b *detect.KeyStat) int { return cmp.Compare(a.Key, b.Key) }},
			{title: "REQS", name: "requests", query: "requests", min: 7, right: true, desc: true, sorted: true,
				cell: func(k *detect.KeyStat) string { return count(k.Requests) },
				raw:  func(k *detect.KeyStat) any { return k.Requests },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.Requests, b.Requests) }},
			{title: "REQ/S", name: "rate", query: "rate", min: 6, right: true, desc: true,
				cell: func(k *detect.KeyStat) string { return rate(k.RateNow) },
				raw:  func(k *detect.KeyStat) any { return k.RateNow },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.RateNow, b.RateNow) }},
			{title: "PEAK", query: "peak", min: 6, right: true, drop: 3, desc: true,
				cell: func(k *detect.KeyStat) string { return rate(k.PeakRate) },
				raw:  func(k *detect.KeyStat) any { return k.PeakRate },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.PeakRate, b.PeakRate) }},
			number("HOSTS", "hosts", 5, 0, func(k *detect.KeyStat) int { return k.Hosts }),
			number("CLIENTS", "clients", 7, 2, func(k *detect.KeyStat) int { return k.Clients }),
			number("ORIGINS", "origins", 7, 4, func(k *detect.KeyStat) int { return k.Origins }),
			{title: "LAST", query: "last", min: 5, right: true, drop: 1,
				age: func(k *detect.KeyStat) time.Time { return k.LastSeen }},
			// Only the detectors that fired, one letter each: ten detectors
			// in fixed places would push ORIGINS out at 140 columns.
			{title: "FLAGS", min: 5, flex: 1,
				cell: func(k *detect.KeyStat) string { return flags(k.Fired) },
				raw:  func(k *detect.KeyStat) any { return strings.Join(k.Fired, " ") },
				accent: func(k *detect.KeyStat) accent {
					if len(k.Fired) > 0 {
						return acBad
					}
					return acMuted
				},
				cmp: func(a, b *detect.KeyStat) int { return cmp.Compare(len(a.Fired), len(b.Fired)) }},
		},
	})
}

// keyEngineFilter is the keys filter the engine answers as this pane
// does: the typed text, which it finds in a key's fingerprint and in the
// JSON names of the detectors that fired on it, and the detectors whose
// label shows it ("dns/rebind"). Text the sanitiser would show otherwise
// cannot be matched there: every row then (filtered here).
func keyEngineFilter(f string) detect.TableQuery {
	f = strings.ToLower(f)
	if !plainFilter(f) {
		return detect.TableQuery{}
	}
	q := detect.TableQuery{Filter: f}
	for _, d := range detInfos {
		if strings.Contains(d.label, f) && !strings.Contains(d.name, f) {
			q.Detectors = append(q.Detectors, d.name)
		}
	}
	return q
}

// plainFilter reports whether the engine matches f as this dashboard does:
// printable ASCII, nothing the sanitiser would show otherwise.
func plainFilter(f string) bool {
	for i := 0; i < len(f); i++ {
		if f[i] < 0x20 || f[i] >= 0x7f || f[i] == '\\' {
			return false
		}
	}
	return true
}
