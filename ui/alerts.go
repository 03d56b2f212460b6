package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// alertsPane lists alerts, newest first unless sorted otherwise. Its cursor
// sticks to the top so a new alert shows at once; when the user has
// scrolled away, the pane counts the alerts they have not seen yet.
type alertsPane struct {
	ctx    *viewCtx
	t      table
	data   []*detect.Alert // filtered and sorted, as shown
	seenID uint64          // newest alert ID the user has had on screen at the top
	unseen int             // alerts newer than seenID
}

func alertCols() []column {
	return []column{
		{title: "SEV", min: 6},
		{title: "DETECTOR", min: 13},
		{title: "SUBJECT", min: 16, flex: 3},
		{title: "KEY", min: 12, drop: 2},
		{title: "CLIENT", min: 15, drop: 4, shrink: true},
		{title: "COUNT", min: 5, right: true, drop: 3},
		{title: "AGE", min: 4, right: true, drop: 1},
	}
}

// apply takes a new snapshot's alerts. shown says whether the pane is on
// screen, so alerts at the top count as seen.
func (p *alertsPane) apply(all []detect.Alert, shown bool) {
	p.t.total = len(all)
	f := p.t.filterLower()
	p.data = make([]*detect.Alert, 0, len(all))
	for i := range all {
		if f == "" || alertMatches(&all[i], f) {
			p.data = append(p.data, &all[i])
		}
	}
	if c := p.t.sortCol; c >= 0 {
		slices.SortFunc(p.data, func(a, b *detect.Alert) int {
			r := alertCmp(a, b, c)
			if p.t.desc {
				r = -r
			}
			return cmp.Or(r, cmp.Compare(b.ID, a.ID))
		})
	}
	p.t.follow(len(p.data), p.idAt)
	p.markSeen(all, shown)
}

// markSeen updates the "N new" marker.
func (p *alertsPane) markSeen(all []detect.Alert, shown bool) {
	var newest uint64
	for i := range all {
		newest = max(newest, all[i].ID)
	}
	if shown && p.t.cursor == 0 {
		p.seenID = newest
	}
	p.unseen = 0
	for i := range all {
		if all[i].ID > p.seenID {
			p.unseen++
		}
	}
}

func (p *alertsPane) idAt(i int) string { return strconv.FormatUint(p.data[i].ID, 10) }

// selected returns the alert under the cursor.
func (p *alertsPane) selected() (detect.Alert, bool) {
	if p.t.cursor < 0 || p.t.cursor >= len(p.data) {
		return detect.Alert{}, false
	}
	return *p.data[p.t.cursor], true
}

func alertCmp(a, b *detect.Alert, col int) int {
	switch col {
	case 0:
		return cmp.Compare(a.Severity, b.Severity)
	case 1:
		return cmp.Compare(detLabel(a), detLabel(b))
	case 2:
		return cmp.Compare(a.Subject, b.Subject)
	case 3:
		return cmp.Compare(a.Key, b.Key)
	case 4:
		return cmp.Compare(a.Client, b.Client)
	case 5:
		return cmp.Compare(a.Count, b.Count)
	case 6:
		return a.Time.Compare(b.Time)
	}
	return 0
}

// alertMatches is the filter: a case-insensitive substring of any shown field.
func alertMatches(a *detect.Alert, f string) bool {
	for _, s := range [...]string{a.Detector, a.Dimension, a.Class, a.Outcome, a.Severity.String(), a.Subject, a.Key, a.Client, a.Host, a.Origin, a.Target, a.Message} {
		if containsFold(clean(s), f) {
			return true
		}
	}
	return a.Allowed && strings.Contains("allowed", f)
}

func (p *alertsPane) rowAt(i int) row {
	a := p.data[i]
	subject := clean(a.Subject)
	if a.Allowed {
		subject = "✓ " + subject + " (allowed)"
	}
	n := ""
	if a.Count > 1 {
		n = "×" + strconv.Itoa(a.Count)
	}
	key := clean(a.Key)
	if key == "" {
		key = "-"
	}
	client := clean(a.Client)
	if client == "" {
		client = "-"
	}
	return row{
		cells:   []string{sevLabel(a.Severity), detLabel(a), subject, key, client, n, age(p.ctx.now, a.Time)},
		accents: []accent{sevAccent(a.Severity), acNone, acNone, acKey},
		dim:     a.Allowed,
	}
}

// title is the pane's name with its counts and the "new" marker.
func (p *alertsPane) title() string {
	s := "Alerts " + count(uint64(p.t.n))
	if p.t.filter != "" {
		s = "Alerts " + count(uint64(p.t.n)) + "/" + count(uint64(p.t.total))
	}
	if p.unseen > 0 {
		s += " · " + strconv.Itoa(p.unseen) + " new ↑"
	}
	return s
}

// Render draws the alerts table in width×height cells.
func (p *alertsPane) Render(width, height int) string {
	empty := "no alerts yet"
	if p.t.filter != "" {
		empty = "no alert matches the filter"
	}
	lines := renderTable(p.ctx, alertCols(), &p.t, p.rowAt, width, height, p.focused(), empty)
	return strings.Join(lines, "\n")
}

// focused is set by the root model before rendering.
func (p *alertsPane) focused() bool { return p.ctx.focus == paneAlerts }
