package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// requestsPane shows the last requests the engine kept, newest first.
type requestsPane struct {
	ctx  *viewCtx
	t    table
	data []*detect.Request
}

func requestCols() []column {
	return []column{
		{title: "TIME", min: 8},
		{title: "CLIENT", min: 15, drop: 3, shrink: true},
		{title: "METHOD", min: 6, drop: 4}, // mostly GET: the first to go
		{title: "HOST", min: 12, want: 15, flex: 2},
		{title: "TARGET", min: 12, want: 14, flex: 3},
		{title: "ORIGIN", min: 12, want: 15, flex: 2, drop: 2},
		{title: "KEY", min: 12, drop: 1},
		{title: "ST", min: 3, right: true, drop: 1},
	}
}

func requestColDesc(col int) bool { return col == 0 || col == 7 }

func (p *requestsPane) apply(all []detect.Request) {
	p.t.total = len(all)
	f := p.t.filterLower()
	p.data = make([]*detect.Request, 0, len(all))
	for i := range all {
		if f == "" || requestMatches(&all[i], f) {
			p.data = append(p.data, &all[i])
		}
	}
	if c := p.t.sortCol; c >= 0 {
		slices.SortStableFunc(p.data, func(a, b *detect.Request) int {
			r := requestCmp(a, b, c)
			if p.t.desc {
				r = -r
			}
			return cmp.Or(r, b.Time.Compare(a.Time))
		})
	}
	p.t.follow(len(p.data), p.idAt)
}

// idAt identifies a request well enough to follow it while newer ones push
// it down the list.
func (p *requestsPane) idAt(i int) string {
	r := p.data[i]
	return strconv.FormatInt(r.Time.UnixNano(), 36) + " " + r.Client.String() + " " + r.Method + " " + r.Target
}

func (p *requestsPane) selected() (detect.Request, bool) {
	if p.t.cursor < 0 || p.t.cursor >= len(p.data) {
		return detect.Request{}, false
	}
	return *p.data[p.t.cursor], true
}

func requestCmp(a, b *detect.Request, col int) int {
	switch col {
	case 0:
		return a.Time.Compare(b.Time)
	case 1:
		return a.Client.Compare(b.Client)
	case 2:
		return cmp.Compare(a.Method, b.Method)
	case 3:
		return cmp.Compare(a.Host, b.Host)
	case 4:
		return cmp.Compare(a.Target, b.Target)
	case 5:
		return cmp.Compare(a.Origin, b.Origin)
	case 6:
		return cmp.Compare(a.Key, b.Key)
	case 7:
		return cmp.Compare(a.Status, b.Status)
	}
	return 0
}

func requestMatches(r *detect.Request, f string) bool {
	for _, s := range [...]string{r.Method, r.Host, r.Target, r.Origin, r.Key, r.UserAgent, r.Referer, r.Source} {
		if containsFold(clean(s), f) {
			return true
		}
	}
	return containsFold(cleanAddr(r.Client), f) || (r.Status != 0 && strings.Contains(strconv.Itoa(r.Status), f))
}

// requestRow formats one request for the requests pane and for evidence
// lists in the detail views.
func requestRow(r *detect.Request) row {
	host := clean(r.Host)
	if !r.HasHost && host == "" {
		host = "(no Host)"
	}
	if r.DupHost {
		host += " (dup Host)"
	}
	origin := clean(r.Origin)
	if !r.HasOrigin && origin == "" {
		origin = "-"
	}
	key := clean(r.Key)
	if key == "" {
		key = "-"
	}
	st, stAcc := "-", acNone
	if r.Status != 0 {
		st = strconv.Itoa(r.Status)
		switch {
		case r.Status >= 500:
			stAcc = acBad
		case r.Status >= 400:
			stAcc = acWarn
		case r.Status >= 200 && r.Status < 300:
			stAcc = acGood
		}
	}
	return row{
		cells:   []string{clock(r.Time), cleanAddr(r.Client), clean(r.Method), host, clean(r.Target), origin, key, st},
		accents: []accent{acMuted, acNone, acNone, acNone, acNone, acNone, acKey, stAcc},
	}
}

func (p *requestsPane) rowAt(i int) row { return requestRow(p.data[i]) }

func (p *requestsPane) title() string {
	if p.t.filter != "" {
		return "Requests " + count(uint64(p.t.n)) + "/" + count(uint64(p.t.total))
	}
	return "Requests " + count(uint64(p.t.n))
}

// Render draws the table in width×height cells.
func (p *requestsPane) Render(width, height int) string {
	empty := "no requests yet"
	if p.t.filter != "" {
		empty = "no recent request matches the filter"
	}
	return strings.Join(renderTable(p.ctx, requestCols(), &p.t, p.rowAt, width, height, p.ctx.focus == paneRequests, empty), "\n")
}
