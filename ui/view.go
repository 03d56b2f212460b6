package ui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// View renders the whole screen. It sets the alternate screen on the View
// (Bubble Tea v2 has no WithAltScreen) and never reads the wall clock.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
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
	W, H := m.ctx.width, m.ctx.height
	if W <= 0 || H <= 0 {
		return ""
	}
	// The per-frame part of the shared context comes from the model being
	// rendered, so a copy of the model renders as itself.
	m.ctx.focus, m.ctx.now = m.focus, m.snap.EventTime
	if W < minWidth || H < minHeight {
		msg := []string{
			cut("terminal too small: "+strconv.Itoa(W)+"×"+strconv.Itoa(H), W),
			cut("rebindwatch needs "+strconv.Itoa(minWidth)+"×"+strconv.Itoa(minHeight)+" (80×24 or more is best)", W),
			cut("q quits", W),
		}
		return frame(msg, W, H)
	}
	hd := m.header()
	head := hd.lines(W, H/2)
	bodyH := max(0, H-len(head)-1)
	lines := make([]string, 0, H)
	lines = append(lines, head...)
	switch m.mode {
	case modeHelp:
		lines = append(lines, strings.Split(m.helpV.Render(W, bodyH), "\n")...)
	case modeDetail:
		// Render and the footer's hint both need the body: build it once
		// (m is View's own copy, so the memo dies with the frame).
		m.detail.body = m.detail.lines(W)
		lines = append(lines, strings.Split(m.detail.Render(W, bodyH), "\n")...)
	default:
		if m.ctx.grid {
			lines = append(lines, m.renderGrid(W, bodyH, m.paneRectsFor(bodyH))...)
		} else {
			lines = append(lines, m.renderTabs(W, bodyH)...)
		}
	}
	lines = append(lines, m.footer(W, bodyH))
	return frame(lines, W, H)
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

// renderPane renders one list pane's table.
func (m *Model) renderPane(p paneID, w, h int) []string {
	var s string
	switch p {
	case paneAlerts:
		s = m.alerts.Render(w, h)
	case paneKeys:
		s = m.keysP.Render(w, h)
	case paneHosts:
		s = m.hosts.Render(w, h)
	case paneOrigins:
		s = m.origins.Render(w, h)
	default:
		s = m.requests.Render(w, h)
	}
	lines := strings.Split(s, "\n")
	blank := strings.Repeat(" ", max(0, w))
	for len(lines) < h {
		lines = append(lines, blank)
	}
	return lines
}

// renderTabs is the narrow layout: a tab bar, then the focused pane.
func (m *Model) renderTabs(w, h int) []string {
	if h <= 0 {
		return nil
	}
	out := []string{m.tabBar(w)}
	return append(out, m.renderPane(m.focus, w, h-1)...)
}

// tabBar lists the panes with their counts; it drops the counts of the
// other panes when the line is too narrow, never the "new alerts" marker.
func (m *Model) tabBar(w int) string {
	st := &m.ctx.st
	for _, full := range []bool{true, false} {
		var b strings.Builder
		for p := paneAlerts; p < nPanes; p++ {
			label := strconv.Itoa(int(p)+1) + " " + m.paneTitle(p)
			if !full && p != m.focus {
				label = strconv.Itoa(int(p)+1) + " " + strings.Fields(m.paneTitle(p))[0]
				if p == paneAlerts && m.alerts.unseen > 0 {
					label += " +" + strconv.Itoa(m.alerts.unseen)
				}
			}
			label = " " + label + " "
			switch {
			case p == m.focus:
				b.WriteString(st.tabActive.Render(label))
			case p == paneAlerts && m.alerts.unseen > 0:
				b.WriteString(st.tabAlert.Render(label))
			default:
				b.WriteString(st.tabIdle.Render(label))
			}
			if p < nPanes-1 {
				b.WriteString(st.border.Render("│"))
			}
		}
		if width(b.String()) <= w || !full {
			return clipLine(b.String(), w)
		}
	}
	return ""
}

// renderGrid is the wide layout: alerts | keys on top, requests |
// hosts over origins below, each in a titled box.
func (m *Model) renderGrid(w, h int, r [nPanes]rect) []string {
	topH := r[paneAlerts].h + 2
	left := m.box(paneAlerts, r[paneAlerts])
	right := m.box(paneKeys, r[paneKeys])
	out := make([]string, 0, h)
	for i := 0; i < topH; i++ {
		out = append(out, left[i]+right[i])
	}
	req := m.box(paneRequests, r[paneRequests])
	side := append(m.box(paneHosts, r[paneHosts]), m.box(paneOrigins, r[paneOrigins])...)
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
func (m *Model) box(p paneID, r rect) []string {
	st := &m.ctx.st
	focused := p == m.focus
	bs := st.border
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	if focused {
		bs = st.borderOn
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	}
	iw := max(0, r.w)
	title := " " + strconv.Itoa(int(p)+1) + " " + m.paneTitle(p) + " "
	title = cut(title, max(0, iw-2))
	ts := st.paneTitle
	if focused {
		ts = st.paneTitOn
	}
	if p == paneAlerts && m.alerts.unseen > 0 {
		ts = st.tabAlert
	}
	top := bs.Render(tl+hz) + ts.Render(title) + bs.Render(strings.Repeat(hz, max(0, iw-1-width(title)))+tr)
	out := make([]string, 0, r.h+2)
	out = append(out, top)
	for _, l := range m.renderPane(p, iw, r.h) {
		out = append(out, bs.Render(vt)+l+bs.Render(vt)) // pane lines are exactly iw wide
	}
	out = append(out, bs.Render(bl+strings.Repeat(hz, iw)+br))
	return out
}

// footer is one line: the filter prompt, the y/n question, a transient
// message, or the short key help.
func (m *Model) footer(w, bodyH int) string {
	st := &m.ctx.st
	// Prompts first: the user is answering them.
	switch m.mode {
	case modeFilter:
		hint := st.dim.Render("  enter keeps · esc clears")
		return clipLine(st.bold.Render("filter "+m.paneName(m.focus)+" ")+m.input.View()+hint, w)
	case modeConfirm:
		return clipLine(st.warn.Render(m.confirmText()), w)
	}
	if m.flash != "" {
		if m.warn {
			return clipLine(st.warn.Render(m.flash), w)
		}
		return clipLine(st.flash.Render(m.flash), w)
	}
	switch m.mode {
	case modeDetail:
		l, r := m.detail.hint(w, bodyH)
		return spaceBetween(st.dim.Render(l), st.dim.Render(r), w)
	case modeHelp:
		l, r := m.helpV.hint(w, bodyH)
		return spaceBetween(st.dim.Render(l), st.dim.Render(r), w)
	}
	h := m.ctx.help // a copy: the width is this frame's
	h.SetWidth(w)
	return clipLine(h.ShortHelpView(m.ctx.keys.ShortHelp()), w)
}
