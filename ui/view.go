package ui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// viewCtx is the shared, read-mostly context the panes render from:
// terminal size, styles, keys. The size is written on resize (the same for
// every copy of the model); nothing else changes after New. What differs
// per frame, the focus and the event clock, is passed to each render.
type viewCtx struct {
	width, height int
	grid          bool // wide layout: panes side by side
	st            styles
	keys          KeyMap
	help          help.Model
}

// View renders the whole screen. It sets the alternate screen on the View
// (Bubble Tea v2 has no WithAltScreen), never reads the wall clock and
// changes nothing.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	if !m.opts.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	title := m.opts.Title
	if title == "" {
		title = "rebindwatch"
	}
	v.WindowTitle = clean(title)
	return v
}

// render builds the frame: header, body, footer; every line exactly the
// terminal's width and no more lines than its height.
func (m *Model) render() string {
	c := m.ctx
	W, H := c.width, c.height
	if W <= 0 || H <= 0 {
		return ""
	}
	if W < minWidth || H < minHeight {
		msg := []string{
			cut("terminal too small: "+strconv.Itoa(W)+"×"+strconv.Itoa(H), W),
			cut("rebindwatch needs "+strconv.Itoa(minWidth)+"×"+strconv.Itoa(minHeight)+" (80×24 or more is best)", W),
			cut("q quits", W),
		}
		return frame(msg, W, H)
	}
	// Ages are relative to the clock in the header: event time, or a live
	// source's wall clock.
	now := m.view.now()
	hd := m.header()
	head := hd.lines(W, H/2)
	bodyH := max(0, H-len(head)-1)
	lines := make([]string, 0, H)
	lines = append(lines, head...)
	var hintL, hintR string // the footer's hint while the help or a detail is open
	switch m.screen() {
	case modeColumns:
		body := m.columns.lines(c, W)
		lines = append(lines, m.columns.window(body, W, bodyH)...)
	case modeHelp:
		body := m.help.lines(c, W)
		lines = append(lines, m.help.window(body, W, bodyH)...)
		hintL, hintR = m.help.hint(len(body), bodyH)
	case modeDetail:
		body := m.detail.body(c, m.view, W)
		lines = append(lines, m.detail.window(body.lines, W, bodyH)...)
		hintL, hintR = m.detail.hint(m.view, body, bodyH)
	default:
		lines = append(lines, m.renderPanes(bodyH, now)...)
	}
	lines = append(lines, m.footer(W, hintL, hintR))
	return frame(lines, W, H)
}

// renderPanes is the body when no detail or help is open: the grid or the tabs.
func (m *Model) renderPanes(bodyH int, now time.Time) []string {
	if m.ctx.grid {
		return m.renderGrid(bodyH, m.paneRectsFor(bodyH), now)
	}
	return m.renderTabs(m.ctx.width, bodyH, now)
}

// frame makes lines exactly w cells wide and exactly h lines, so a
// miscounted pane can never push the layout off screen.
func frame(lines []string, w, h int) string {
	if len(lines) > h {
		// Keep the footer (the key hints and prompts) at the bottom.
		lines = append(lines[:h-1:h-1], lines[len(lines)-1])
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i := range lines {
		lines[i] = clipLine(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// renderPane renders one list pane's table, exactly h lines.
func (m *Model) renderPane(p paneID, w, h int, now time.Time) []string {
	lines := strings.Split(m.panes[p].render(m.ctx, w, h, p == m.focus, now), "\n")
	blank := strings.Repeat(" ", max(0, w))
	for len(lines) < h {
		lines = append(lines, blank)
	}
	return lines
}

// renderTabs is the narrow layout: a tab bar, then the focused pane.
func (m *Model) renderTabs(w, h int, now time.Time) []string {
	if h <= 0 {
		return nil
	}
	out := []string{m.tabBar(w)}
	return append(out, m.renderPane(m.focus, w, h-1, now)...)
}

// tabBar lists the panes with their counts; it drops the counts of the
// other panes when the line is too narrow, never the "new" marker.
func (m *Model) tabBar(w int) string {
	line, _ := m.tabs(w)
	return line
}

// tabs draws the tab bar and says where each tab starts (a click finds
// its pane).
func (m *Model) tabs(w int) (string, [nPanes]int) {
	st := &m.ctx.st
	var starts [nPanes]int
	for _, full := range []bool{true, false} {
		var b strings.Builder
		x := 0
		for i, p := range m.panes {
			id := paneID(i)
			label := strconv.Itoa(i+1) + " " + p.status()
			if !full && id != m.focus {
				_, title := p.heading()
				label = strconv.Itoa(i+1) + " " + title
				if n := p.news(); n > 0 {
					label += " +" + strconv.Itoa(n)
				}
			}
			label = " " + label + " "
			starts[i] = x
			x += width(label) + 1
			switch {
			case id == m.focus:
				b.WriteString(st.tabActive.Render(label))
			case p.news() > 0:
				b.WriteString(st.tabAlert.Render(label))
			default:
				b.WriteString(st.tabIdle.Render(label))
			}
			if id < nPanes-1 {
				b.WriteString(st.border.Render("│"))
			}
		}
		if width(b.String()) <= w || !full {
			return clipLine(b.String(), w), starts
		}
	}
	return "", starts
}

// renderGrid is the wide layout: alerts | keys on top, requests |
// hosts over origins below, each in a titled box.
func (m *Model) renderGrid(h int, r [nPanes]rect, now time.Time) []string {
	topH := r[paneAlerts].h + 2
	left := m.box(paneAlerts, r[paneAlerts], now)
	right := m.box(paneKeys, r[paneKeys], now)
	out := make([]string, 0, h)
	for i := 0; i < topH; i++ {
		out = append(out, left[i]+right[i])
	}
	req := m.box(paneRequests, r[paneRequests], now)
	side := append(m.box(paneHosts, r[paneHosts], now), m.box(paneOrigins, r[paneOrigins], now)...)
	for i := 0; i < len(req) && len(out) < h; i++ {
		s := ""
		if i < len(side) {
			s = side[i]
		}
		out = append(out, req[i]+s)
	}
	return out
}

// box draws a pane inside a border with its title in the top edge; the
// focused pane gets a heavy, coloured border so focus reads without colour.
func (m *Model) box(p paneID, r rect, now time.Time) []string {
	st := &m.ctx.st
	focused := p == m.focus
	bs := st.border
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	if focused {
		bs = st.borderOn
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	}
	iw := max(0, r.w)
	title := " " + strconv.Itoa(int(p)+1) + " " + m.panes[p].status() + " "
	title = cut(title, max(0, iw-2))
	ts := st.paneTitle
	if focused {
		ts = st.paneTitOn
	}
	if m.panes[p].news() > 0 {
		ts = st.tabAlert
	}
	top := bs.Render(tl+hz) + ts.Render(title) + bs.Render(strings.Repeat(hz, max(0, iw-1-width(title)))+tr)
	out := make([]string, 0, r.h+2)
	out = append(out, top)
	for _, l := range m.renderPane(p, iw, r.h, now) {
		out = append(out, bs.Render(vt)+l+bs.Render(vt)) // pane lines are exactly iw wide
	}
	out = append(out, bs.Render(bl+strings.Repeat(hz, iw)+br))
	return out
}

// footer is one line: the filter prompt, the y/n question, a transient
// message, the hint of the open help or detail, or the short key help.
func (m *Model) footer(w int, hintL, hintR string) string {
	st := &m.ctx.st
	// Prompts first: the user is answering them.
	switch m.mode {
	case modeFilter:
		hint := st.dim.Render("  enter keeps · esc clears")
		name, _ := m.panes[m.focus].heading()
		return clipLine(st.bold.Render("filter "+name+" ")+m.input.View()+hint, w)
	case modeConfirm:
		return clipLine(st.warn.Render(m.confirmText(w)), w)
	case modePin:
		return clipLine(st.warn.Render(m.pinPrompt(w)), w)
	case modeExport:
		return clipLine(st.warn.Render(m.exportPrompt()), w)
	case modeColumns:
		return clipLine(st.warn.Render("space shows/hides · J K move · enter keeps · esc cancels"), w)
	}
	switch {
	case m.flash != "" && m.warn:
		return clipLine(st.warn.Render(m.flash), w)
	case m.flash != "":
		return clipLine(st.flash.Render(m.flash), w)
	case hintL != "" || hintR != "":
		return spaceBetween(st.dim.Render(hintL), st.dim.Render(hintR), w)
	}
	h := m.ctx.help // a copy: the width is this frame's
	h.SetWidth(w)
	return clipLine(h.ShortHelpView(m.ctx.keys.ShortHelp()), w)
}
