package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// valuesPane is the Hosts or the Origins table: every value seen, with
// whether it is allowed. `a` allows the selected value for this run.
type valuesPane struct {
	ctx  *viewCtx
	kind string // "host" or "origin", as Backend.Allow takes it
	id   paneID
	t    table
	data []*detect.ValueStat
}

const valuesDefaultSort = 1 // requests, most first

func valueCols(kind string) []column {
	title := "HOST"
	if kind == "origin" {
		title = "ORIGIN"
	}
	return []column{
		{title: title, min: 16, flex: 1},
		{title: "REQS", min: 7, right: true},
		{title: "KEYS", min: 4, right: true, drop: 2},
		{title: "STATUS", min: 9},
		{title: "LAST", min: 4, right: true, drop: 1},
	}
}

func valueColDesc(col int) bool { return col == 1 || col == 2 || col == 4 }

func (p *valuesPane) apply(all []detect.ValueStat) {
	p.t.total = len(all)
	f := p.t.filterLower()
	p.data = make([]*detect.ValueStat, 0, len(all))
	for i := range all {
		if f == "" || valueMatches(&all[i], f) {
			p.data = append(p.data, &all[i])
		}
	}
	c := p.t.sortCol
	slices.SortFunc(p.data, func(a, b *detect.ValueStat) int {
		r := 0
		if c >= 0 {
			r = valueCmp(a, b, c)
			if p.t.desc {
				r = -r
			}
		}
		return cmp.Or(r, cmp.Compare(a.Value, b.Value))
	})
	p.t.follow(len(p.data), p.idAt)
}

func (p *valuesPane) idAt(i int) string { return p.data[i].Value }

func (p *valuesPane) selected() (detect.ValueStat, bool) {
	if p.t.cursor < 0 || p.t.cursor >= len(p.data) {
		return detect.ValueStat{}, false
	}
	return *p.data[p.t.cursor], true
}

func valueCmp(a, b *detect.ValueStat, col int) int {
	switch col {
	case 0:
		return cmp.Compare(a.Value, b.Value)
	case 1:
		return cmp.Compare(a.Requests, b.Requests)
	case 2:
		return cmp.Compare(a.Keys, b.Keys)
	case 3:
		return cmp.Compare(boolInt(a.Allowed), boolInt(b.Allowed))
	case 4:
		return a.LastSeen.Compare(b.LastSeen)
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func valueMatches(v *detect.ValueStat, f string) bool {
	if containsFold(clean(v.Value), f) {
		return true
	}
	if v.Allowed {
		return strings.Contains("allowed", f)
	}
	return strings.Contains("foreign", f)
}

func (p *valuesPane) rowAt(i int) row {
	v := p.data[i]
	status, acc := "✗ foreign", acBad
	if v.Allowed {
		status, acc = "✓ allowed", acGood
	}
	value := clean(v.Value)
	if value == "" {
		value = "(none)"
	}
	return row{
		cells:   []string{value, count(v.Requests), strconv.Itoa(v.Keys), status, age(p.ctx.now, v.LastSeen)},
		accents: []accent{acNone, acNone, acNone, acc},
	}
}

func (p *valuesPane) name() string {
	if p.kind == "origin" {
		return "Origins"
	}
	return "Hosts"
}

func (p *valuesPane) title() string {
	if p.t.filter != "" {
		return p.name() + " " + count(uint64(p.t.n)) + "/" + count(uint64(p.t.total))
	}
	return p.name() + " " + count(uint64(p.t.n))
}

// Render draws the table in width×height cells.
func (p *valuesPane) Render(width, height int) string {
	empty := "none seen yet"
	if p.t.filter != "" {
		empty = "nothing matches the filter"
	}
	return strings.Join(renderTable(p.ctx, valueCols(p.kind), &p.t, p.rowAt, width, height, p.ctx.focus == p.id, empty), "\n")
}
