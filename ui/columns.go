package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Columns (C): the focused pane's columns, each shown or hidden, in the
// order they are drawn. space shows or hides one, J and K move it down or
// up, enter keeps the choice (and offers to save it to [ui] columns in the
// config), esc leaves the columns as they were.

// columnsEdit is the chooser's state.
type columnsEdit struct {
	pane   paneID
	name   string // the table's name ("keys", "incidents")
	items  []columnItem
	cursor int
	scrollView
}

// startColumns opens the chooser on the focused pane.
func (m Model) startColumns() (Model, tea.Cmd) {
	p := m.panes[m.focus]
	name, _ := p.heading()
	m.columns = columnsEdit{pane: m.focus, name: name, items: p.columnList()}
	m.mode = modeColumns
	return m, nil
}

// keyColumns edits the choice.
func (m Model) keyColumns(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	e := &m.columns
	e.items = slices.Clone(e.items)
	switch {
	case key.Matches(k, km.Interrupt):
		return m, tea.Quit
	case key.Matches(k, km.Back):
		m.mode = modeNormal
		m.setFlash("columns unchanged", false)
		return m, nil
	case key.Matches(k, km.KeepFilter): // enter
		return m.applyColumns()
	case k.String() == "space":
		it := &e.items[e.cursor]
		if it.shown && shownCount(e.items) == 1 {
			m.setFlash("one column at least stays shown", true)
			return m, nil
		}
		it.shown = !it.shown
	case k.String() == "J" || k.String() == "shift+down":
		if e.cursor < len(e.items)-1 {
			e.items[e.cursor], e.items[e.cursor+1] = e.items[e.cursor+1], e.items[e.cursor]
			e.cursor++
		}
	case k.String() == "K" || k.String() == "shift+up":
		if e.cursor > 0 {
			e.items[e.cursor], e.items[e.cursor-1] = e.items[e.cursor-1], e.items[e.cursor]
			e.cursor--
		}
	default:
		if to, ok := km.motion(k, e.cursor, 5, len(e.items)-1); ok {
			e.cursor = max(0, min(len(e.items)-1, to))
		}
	}
	return m, nil
}

func shownCount(items []columnItem) int {
	n := 0
	for _, it := range items {
		if it.shown {
			n++
		}
	}
	return n
}

// shownNames are the columns chosen, in order.
func (e *columnsEdit) shownNames() []string {
	var out []string
	for _, it := range e.items {
		if it.shown {
			out = append(out, it.name)
		}
	}
	return out
}

// applyColumns shows the chosen columns and asks whether to save them.
func (m Model) applyColumns() (Model, tea.Cmd) {
	e := &m.columns
	names := e.shownNames()
	m.mode = modeNormal
	p := m.panes[e.pane]
	if a, ok := p.(*altPane); ok {
		p = a.pane
	}
	p.setColumns(names)
	m.fixScroll()
	if m.opts.SaveColumns == nil {
		m.setFlash(e.name+" columns: "+strings.Join(names, ", ")+" (this run only: no config file)", false)
		return m, nil
	}
	m.askQ(question{kind: askColumns, pane: e.name, cols: names})
	return m, nil
}

// lines draws the chooser.
func (e *columnsEdit) lines(c *viewCtx, w int) []string {
	st := &c.st
	out := []string{st.bold.Render("Columns of "+e.name) + st.dim.Render(" — in the order drawn; space shows or hides, J and K move"), ""}
	for i, it := range e.items {
		box := "[ ] "
		if it.shown {
			box = "[x] "
		}
		l := fit(box+it.title+st.dim.Render("  ("+it.name+")"), w)
		if i == e.cursor {
			l = st.selected.Render(fit(box+it.title+"  ("+it.name+")", w))
		}
		out = append(out, l)
	}
	out = append(out, "", st.dim.Render("A narrow terminal still leaves out the least needed columns first. enter keeps this; the config can keep it as [ui] columns."))
	return out
}
