package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// keysPane is the table of key fingerprints, sortable by any column.
type keysPane struct {
	ctx  *viewCtx
	t    table
	data []*detect.KeyStat
}

const keysDefaultSort = 1 // requests, most first

func keyCols() []column {
	return []column{
		{title: "KEY", min: 12, flex: 1},
		{title: "REQS", min: 7, right: true},
		{title: "REQ/S", min: 6, right: true},
		{title: "PEAK", min: 6, right: true, drop: 3},
		{title: "HOSTS", min: 5, right: true},
		{title: "CLIENTS", min: 7, right: true, drop: 2},
		{title: "ORIGINS", min: 7, right: true, drop: 4},
		{title: "LAST", min: 5, right: true, drop: 1},
		{title: "FLAGS", min: max(5, len(detect.Detectors))},
	}
}

// numericDesc says which columns sort most-first when first chosen.
func keyColDesc(col int) bool { return col != 0 && col != 8 }

func (p *keysPane) apply(all []detect.KeyStat) {
	p.t.total = len(all)
	f := p.t.filterLower()
	p.data = make([]*detect.KeyStat, 0, len(all))
	for i := range all {
		if f == "" || keyMatches(&all[i], f) {
			p.data = append(p.data, &all[i])
		}
	}
	c := p.t.sortCol
	slices.SortFunc(p.data, func(a, b *detect.KeyStat) int {
		r := 0
		if c >= 0 {
			r = keyCmp(a, b, c)
			if p.t.desc {
				r = -r
			}
		}
		// Ties (and the natural order) fall back to the fingerprint so rows
		// do not shuffle between refreshes.
		return cmp.Or(r, cmp.Compare(a.Key, b.Key))
	})
	p.t.follow(len(p.data), p.idAt)
}

func (p *keysPane) idAt(i int) string { return p.data[i].Key }

func (p *keysPane) selected() (detect.KeyStat, bool) {
	if p.t.cursor < 0 || p.t.cursor >= len(p.data) {
		return detect.KeyStat{}, false
	}
	return *p.data[p.t.cursor], true
}

func keyCmp(a, b *detect.KeyStat, col int) int {
	switch col {
	case 0:
		return cmp.Compare(a.Key, b.Key)
	case 1:
		return cmp.Compare(a.Requests, b.Requests)
	case 2:
		return cmp.Compare(a.RateNow, b.RateNow)
	case 3:
		return cmp.Compare(a.PeakRate, b.PeakRate)
	case 4:
		return cmp.Compare(a.Hosts, b.Hosts)
	case 5:
		return cmp.Compare(a.Clients, b.Clients)
	case 6:
		return cmp.Compare(a.Origins, b.Origins)
	case 7:
		return a.LastSeen.Compare(b.LastSeen)
	case 8:
		return cmp.Compare(len(a.Fired), len(b.Fired))
	}
	return 0
}

func keyMatches(k *detect.KeyStat, f string) bool {
	if containsFold(clean(k.Key), f) {
		return true
	}
	for _, d := range k.Fired {
		if containsFold(d, f) {
			return true
		}
	}
	return false
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

func (p *keysPane) rowAt(i int) row {
	k := p.data[i]
	fl := flags(k.Fired)
	flAcc := acMuted
	if len(k.Fired) > 0 {
		flAcc = acBad
	}
	return row{
		cells: []string{
			clean(k.Key),
			count(k.Requests),
			rate(k.RateNow),
			rate(k.PeakRate),
			strconv.Itoa(k.Hosts),
			strconv.Itoa(k.Clients),
			strconv.Itoa(k.Origins),
			age(p.ctx.now, k.LastSeen),
			fl,
		},
		accents: []accent{acKey, acNone, acNone, acNone, acNone, acNone, acNone, acNone, flAcc},
	}
}

func (p *keysPane) title() string {
	if p.t.filter != "" {
		return "Keys " + count(uint64(p.t.n)) + "/" + count(uint64(p.t.total))
	}
	return "Keys " + count(uint64(p.t.n))
}

// Render draws the keys table in width×height cells.
func (p *keysPane) Render(width, height int) string {
	empty := "no API keys seen yet"
	if p.t.filter != "" {
		empty = "no key matches the filter"
	}
	return strings.Join(renderTable(p.ctx, keyCols(), &p.t, p.rowAt, width, height, p.ctx.focus == paneKeys, empty), "\n")
}
