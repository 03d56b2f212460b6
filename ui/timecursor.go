package ui

import (
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Time: the header's timeline shows requests (the pinned traffic only,
// when pins are set) and alerts by detector over a window of event time
// that ends now: a minute, ten, an hour or the whole run ({ and }). A
// cursor steps through it ([ and ]); m marks the cursor, and a second m
// pins the range between the two marks, which every pane then shows. A
// replay keeps every event's time, so a finished replay can be scrubbed
// through; a live source's window keeps moving, the pinned range does not.

// zoom is one width of the timeline.
type zoom struct {
	span  time.Duration
	label string
}

var zooms = []zoom{{time.Minute, "1m"}, {10 * time.Minute, "10m"}, {time.Hour, "1h"}, {detect.SpanAll, "all"}}

// sparkWidth is how many cells (and buckets) the timeline has at width w.
func sparkWidth(w int) int {
	switch {
	case w < 70:
		return 10
	case w < 100:
		return 20
	}
	return 30
}

// timeLabel is the fixed width of the timeline lines' labels, so the
// request and alert lines' cells line up (and a click finds its bucket).
const timeLabel = 12

// moveCursor steps the time cursor by dir buckets; the first step puts it
// on the newest bucket.
func (m Model) moveCursor(dir int) (Model, tea.Cmd) {
	a := &m.snap.Activity
	n := len(a.Requests)
	if n == 0 || a.Step <= 0 {
		m.setFlash("no timeline yet", true)
		return m, nil
	}
	i := n - 1
	if b := a.Bucket(m.cursor); !m.cursor.IsZero() && b >= 0 {
		i = max(0, min(n-1, b+dir))
	} else if !m.cursor.IsZero() && m.cursor.Before(a.Start) {
		i = 0
	}
	m.cursor = a.Start.Add(time.Duration(i) * a.Step)
	return m, nil
}

// setCursor puts the cursor on bucket i (a click on the timeline).
func (m *Model) setCursor(i int) {
	a := &m.snap.Activity
	if i >= 0 && i < len(a.Requests) {
		m.cursor = a.Start.Add(time.Duration(i) * a.Step)
	}
}

// changeZoom widens (dir > 0) or narrows the timeline.
func (m Model) changeZoom(dir int) (Model, tea.Cmd) {
	z := max(0, min(len(zooms)-1, m.zoom+dir))
	if z == m.zoom {
		m.setFlash("the timeline is already at its "+map[bool]string{true: "widest", false: "narrowest"}[dir > 0]+
			" ("+zooms[z].label+")", false)
		return m, nil
	}
	m.zoom = z
	m.setFlash("timeline: "+zooms[z].label+" — [ ] move the cursor, m marks", false)
	return m, m.fetch(0, false)
}

// markCursor marks the cursor's bucket: the first mark is remembered, the
// second pins the range from one to the other (both buckets included).
func (m Model) markCursor() (Model, tea.Cmd) {
	a := &m.snap.Activity
	if m.cursor.IsZero() {
		m.setFlash("move the time cursor first: [ and ] (or click the timeline), then m", true)
		return m, nil
	}
	if m.mark.IsZero() {
		m.mark = m.cursor
		m.setFlash("marked "+clock(m.mark)+" — move the cursor and press m again to pin the range (esc forgets it)", false)
		return m, nil
	}
	from, to := m.mark, m.cursor
	if to.Before(from) {
		from, to = to, from
	}
	to = to.Add(a.Step)
	chips := make([]chip, 0, len(m.chips)+1)
	for _, c := range m.chips {
		if !c.isRange() {
			chips = append(chips, c)
		}
	}
	m.chips = append(chips, chip{from: from, to: to})
	m.mark = time.Time{}
	m.setFlash("range "+clock(from)+"–"+clock(to)+" pinned: every pane shows it — backspace drops it", false)
	return m, m.fetch(0, false)
}

// timeCells draws the timeline's request counts, one cell a bucket, the
// cursor and a mark in reverse video, the pinned range underlined.
func (h *header) timeCells(w int) string {
	st := &h.ctx.st
	a := &h.view.Activity
	if len(a.Requests) != w {
		return st.spark.Render(sparkline(a.Requests, w))
	}
	cells := sparkCells(a.Requests, w)
	var b strings.Builder
	for i, c := range cells {
		b.WriteString(h.cellStyle(i, st.spark).Render(c))
	}
	return b.String()
}

// alertCells draws the alerts of each bucket: the letter of the detector
// that raised the most (the keys table's FLAGS letters), "·" for none.
// It returns the letters used, for the legend.
func (h *header) alertCells(w int) (string, []string) {
	st := &h.ctx.st
	a := &h.view.Activity
	var used []string
	var b strings.Builder
	for i := 0; i < w; i++ {
		letter, p := "·", st.dim
		if len(a.Alerts) == w && a.Alerts[i] != nil {
			best := 0
			for d, n := range a.Alerts[i] {
				if n > a.Alerts[i][best] {
					best = d
				}
			}
			letter, p = infoOf(detect.Detectors[best]).letter, st.bad
			if !slices.Contains(used, detect.Detectors[best]) {
				used = append(used, detect.Detectors[best])
			}
		}
		b.WriteString(h.cellStyle(i, p).Render(letter))
	}
	return b.String(), used
}

// cellStyle is a timeline cell's look: the cursor and the mark reversed,
// the pinned range underlined, else p.
func (h *header) cellStyle(i int, p paint) paint {
	st := &h.ctx.st
	a := &h.view.Activity
	at := a.Start.Add(time.Duration(i) * a.Step)
	switch {
	case !h.cursor.IsZero() && a.Bucket(h.cursor) == i, !h.mark.IsZero() && a.Bucket(h.mark) == i:
		return st.selected
	case !h.from.IsZero() && !at.Before(h.from) && at.Before(h.to):
		return st.inRange
	}
	return p
}

// cursorText says what the cursor's bucket holds.
func (h *header) cursorText() string {
	a := &h.view.Activity
	i := a.Bucket(h.cursor)
	if h.cursor.IsZero() || i < 0 {
		return ""
	}
	n := 0
	for _, c := range a.Alerts[i] {
		n += c
	}
	return "▸ " + clock(h.cursor) + " +" + span(a.Step) + ": " + count(uint64(a.Requests[i])) + " req, " + plural(n, "alert", "alerts")
}

// narrowRate is the request rate of the pinned traffic: the last whole
// bucket of the timeline, per second.
func narrowRate(a *detect.Activity) float64 {
	n := len(a.Requests)
	if n < 2 || a.Step <= 0 {
		return 0
	}
	return a.Requests[n-2] / a.Step.Seconds()
}
