package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// keysPane is the table of API key fingerprints, busiest first, sortable
// by any column. (Keyboard bindings are in keymap.go.)
func keysPane() *tablePane[detect.KeyStat] {
	// count columns: a number per key, most first when picked.
	number := func(title string, min, drop int, v func(k *detect.KeyStat) int) col[detect.KeyStat] {
		return col[detect.KeyStat]{title: title, min: min, right: true, drop: drop, desc: true,
			cell: func(k *detect.KeyStat) string { return strconv.Itoa(v(k)) },
			cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(v(a), v(b)) }}
	}
	return newTablePane(&tableSpec[detect.KeyStat]{
		name: "keys", title: "Keys",
		empty: "no API keys seen yet", noMatch: "no key matches the filter",
		rows: func(s *detect.Snapshot) []detect.KeyStat { return s.Keys },
		id:   func(k *detect.KeyStat) string { return k.Key },
		// Ties fall back to the fingerprint so rows do not shuffle between
		// refreshes.
		tie:   func(a, b *detect.KeyStat) int { return cmp.Compare(a.Key, b.Key) },
		match: func(k *detect.KeyStat) []string { return append([]string{k.Key}, k.Fired...) },
		open: func(k *detect.KeyStat) drill {
			return drill{detail: detailView{kind: detailKey, key: detect.KeyDetail{Key: k.Key, Stat: *k}}}
		},
		cols: []col[detect.KeyStat]{
			{title: "KEY", min: 12, flex: 1,
				cell:   func(k *detect.KeyStat) string { return clean(k.Key) },
				accent: always[detect.KeyStat](acKey),
				cmp:    func(a, b *detect.KeyStat) int { return cmp.Compare(a.Key, b.Key) }},
			{title: "REQS", min: 7, right: true, desc: true, sorted: true,
				cell: func(k *detect.KeyStat) string { return count(k.Requests) },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.Requests, b.Requests) }},
			{title: "REQ/S", min: 6, right: true, desc: true,
				cell: func(k *detect.KeyStat) string { return rate(k.RateNow) },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.RateNow, b.RateNow) }},
			{title: "PEAK", min: 6, right: true, drop: 3, desc: true,
				cell: func(k *detect.KeyStat) string { return rate(k.PeakRate) },
				cmp:  func(a, b *detect.KeyStat) int { return cmp.Compare(a.PeakRate, b.PeakRate) }},
			number("HOSTS", 5, 0, func(k *detect.KeyStat) int { return k.Hosts }),
			number("CLIENTS", 7, 2, func(k *detect.KeyStat) int { return k.Clients }),
			number("ORIGINS", 7, 4, func(k *detect.KeyStat) int { return k.Origins }),
			{title: "LAST", min: 5, right: true, drop: 1, desc: true,
				age: func(k *detect.KeyStat) time.Time { return k.LastSeen },
				cmp: func(a, b *detect.KeyStat) int { return a.LastSeen.Compare(b.LastSeen) }},
			{title: "FLAGS", min: max(5, len(detect.Detectors)),
				cell: func(k *detect.KeyStat) string { return flags(k.Fired) },
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

// flags shows which detectors fired on a key, one letter each in a fixed
// place (detect.Detectors order) so the column reads at a glance.
func flags(fired []string) string {
	var b strings.Builder
	for _, d := range detect.Detectors {
		if slices.Contains(fired, d) {
			b.WriteString(detLetter(d))
		} else {
			b.WriteString("·")
		}
	}
	return b.String()
}

// detLetter is a detector's letter in the FLAGS column.
func detLetter(det string) string {
	switch det {
	case detect.DetUnexpectedHost:
		return "H"
	case detect.DetHostServed:
		return "A" // a foreign Host the server answered
	case detect.DetForeignOrigin:
		return "O"
	case detect.DetKeyBurst:
		return "B"
	case detect.DetKeySpread:
		return "S"
	case detect.DetDNSPrivateAnswer:
		return "P"
	case detect.DetDNSRebind:
		return "R"
	case detect.DetUnexpectedSNI:
		return "T"
	}
	if det == "" {
		return "?"
	}
	return strings.ToUpper(det[:1])
}
