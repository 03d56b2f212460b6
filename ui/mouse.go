package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// Mouse: a click selects a pane, a tab or a row, or puts the time cursor
// on the timeline; a click on a column's title sorts by it (again: the
// other way); a second click on the same row soon after opens it (a
// double click); the wheel scrolls the pane or the view under it.
// Everything stays reachable by keyboard; Options.NoMouse (--no-mouse)
// leaves the mouse to the terminal.

// doubleClick is how soon a second click on the same row opens it.
const doubleClick = 400 * time.Millisecond

// wheelRows is how far one wheel step scrolls.
const wheelRows = 3

// click is the last click on a row, to tell a double click.
type click struct {
	at        time.Time
	pane      paneID
	row       int
	detail    bool
	x, y      int
	onTimeBar bool
}

// region is a pane's table on screen: its content's top-left corner and
// size (its column header is the first line).
type region struct{ x, y, w, h int }

func (r region) contains(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// headerHeight is how many lines the header takes in this frame.
func (m *Model) headerHeight() int {
	hd := m.header()
	return len(hd.lines(m.ctx.width, m.ctx.height/2))
}

// regions is where each pane's table is drawn (grid), or the focused one
// (tabs: the others are not on screen).
func (m *Model) regions() (out [nPanes]region, tabsY int) {
	top := m.headerHeight()
	bodyH := max(0, m.ctx.height-top-1)
	r := m.paneRectsFor(bodyH)
	if !m.ctx.grid {
		out[m.focus] = region{0, top + 1, r[m.focus].w, r[m.focus].h}
		return out, top
	}
	topH := r[paneAlerts].h + 2
	leftW := r[paneAlerts].w + 2
	reqW := r[paneRequests].w + 2
	hostsH := r[paneHosts].h + 2
	out[paneAlerts] = region{1, top + 1, r[paneAlerts].w, r[paneAlerts].h}
	out[paneKeys] = region{leftW + 1, top + 1, r[paneKeys].w, r[paneKeys].h}
	out[paneRequests] = region{1, top + topH + 1, r[paneRequests].w, r[paneRequests].h}
	out[paneHosts] = region{reqW + 1, top + topH + 1, r[paneHosts].w, r[paneHosts].h}
	out[paneOrigins] = region{reqW + 1, top + topH + hostsH + 1, r[paneOrigins].w, r[paneOrigins].h}
	return out, -1
}

// timeBarAt is the timeline bucket at (x, y), or -1: the header's request
// and alert lines draw one cell a bucket after their label.
func (m *Model) timeBarAt(x, y int) int {
	hd := m.header()
	line := 1
	if !hd.inline(hd.sources(), m.ctx.width) {
		line++
	}
	last := line
	if hd.showHistogram() {
		last++
	}
	i := x - timeLabel
	if y < line || y > last || i < 0 || i >= sparkWidth(m.ctx.width) {
		return -1
	}
	return i
}

// onMouse handles a mouse message; only clicks and the wheel act.
func (m Model) onMouse(msg tea.MouseMsg) (Model, tea.Cmd) {
	if m.opts.NoMouse {
		return m, nil
	}
	switch msg := msg.(type) {
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			return m.onClick(msg.X, msg.Y)
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			return m.onWheel(msg.X, msg.Y, -wheelRows)
		case tea.MouseWheelDown:
			return m.onWheel(msg.X, msg.Y, wheelRows)
		}
	}
	return m, nil
}

// onClick acts on a left click at (x, y).
func (m Model) onClick(x, y int) (Model, tea.Cmd) {
	now := m.opts.Now()
	prev := m.lastClick
	m.lastClick = click{at: now, x: x, y: y, row: -1}
	again := func(c click) bool {
		return now.Sub(prev.at) < doubleClick && prev.detail == c.detail && prev.pane == c.pane && prev.row == c.row &&
			prev.onTimeBar == c.onTimeBar && c.row >= 0
	}
	switch m.mode {
	case modeNormal:
	case modeDetail:
		return m.clickDetail(y, now, prev)
	default:
		return m, nil // a prompt or the help: keys only
	}
	if i := m.timeBarAt(x, y); i >= 0 {
		m.setCursor(i)
		m.lastClick.onTimeBar, m.lastClick.row = true, i
		if again(m.lastClick) {
			return m.markCursor()
		}
		return m, nil
	}
	regions, tabsY := m.regions()
	if y == tabsY {
		_, starts := m.tabs(m.ctx.width)
		for i := nPanes - 1; i >= 0; i-- {
			if x >= starts[i] {
				m.focusPane(paneID(i))
				break
			}
		}
		return m, nil
	}
	for i, r := range regions {
		if r.w == 0 || !r.contains(x, y) {
			continue
		}
		p := paneID(i)
		m.focusPane(p)
		pn := m.panes[p]
		if y == r.y {
			c := pn.columnAt(m.ctx, r.w, r.h, x-r.x, m.view.now())
			if text := pn.sortBy(c); text != "" {
				m.reapply(p)
				m.setFlash(text, false)
				return m, m.fetch(0, false)
			}
			return m, nil
		}
		row := pn.rowAt(y-r.y, r.h)
		if row < 0 {
			return m, nil
		}
		pn.selectRow(row, r.h)
		m.lastClick.pane, m.lastClick.row = p, row
		if again(m.lastClick) {
			m.lastClick = click{}
			return m.enter()
		}
		return m, nil
	}
	return m, nil
}

// clickDetail selects the detail's row under the click; a second click
// opens it.
func (m Model) clickDetail(y int, now time.Time, prev click) (Model, tea.Cmd) {
	line := m.detail.offset + y - m.headerHeight()
	body := m.detail.body(m.ctx, m.view, m.ctx.width)
	for i, t := range body.targets {
		if t.line != line {
			continue
		}
		m.detail.sel = i
		m.lastClick.detail, m.lastClick.row = true, i
		if now.Sub(prev.at) < doubleClick && prev.detail && prev.row == i && t.open.detail.kind != detailNone {
			m.lastClick = click{}
			return m.openDetail(t.open.detail, true)
		}
		return m, nil
	}
	return m, nil
}

// onWheel scrolls what is under the mouse by n rows.
func (m Model) onWheel(x, y, n int) (Model, tea.Cmd) {
	switch m.mode {
	case modeDetail:
		body := m.detail.body(m.ctx, m.view, m.ctx.width)
		m.detail.offset = max(0, min(max(0, len(body.lines)-m.bodyHeight()), m.detail.offset+n))
		return m, nil
	case modeHelp:
		body := m.help.lines(m.ctx, m.ctx.width)
		m.help.offset = max(0, min(max(0, len(body)-m.bodyHeight()), m.help.offset+n))
		return m, nil
	case modeNormal:
	default:
		return m, nil
	}
	regions, _ := m.regions()
	for i, r := range regions {
		if r.w > 0 && r.contains(x, y) {
			m.panes[i].scrollBy(n, r.h)
			return m, nil
		}
	}
	return m, nil
}
