package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/rebindwatch/rebindwatch/source"
)

// onKey dispatches a key press by mode.
func (m Model) onKey(k tea.KeyPressMsg) (Model, tea.Cmd) {
	switch m.mode {
	case modeFilter:
		return m.keyFilter(k)
	case modeConfirm:
		return m.keyConfirm(k)
	case modeHelp:
		return m.keyHelp(k)
	}
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Quit):
		return m, tea.Quit
	case key.Matches(k, km.Help):
		m.back, m.mode = m.mode, modeHelp
		m.help.offset = 0
		return m, nil
	case key.Matches(k, km.Pause):
		return m.togglePause()
	case key.Matches(k, km.Faster):
		return m.changeSpeed(+1)
	case key.Matches(k, km.Slower):
		return m.changeSpeed(-1)
	case key.Matches(k, km.Step):
		return m.step()
	case key.Matches(k, km.Clear):
		b := m.opts.Backend
		return m, func() tea.Msg {
			b.ClearAlerts()
			return actionMsg{text: "alerts cleared (counts per detector stay)"}
		}
	case key.Matches(k, km.Write):
		return m.startWrite()
	case key.Matches(k, km.Allow):
		return m.allow()
	}
	if m.mode == modeDetail {
		return m.keyDetail(k)
	}
	return m.keyNormal(k)
}

// keyNormal handles the keys that act on the focused pane.
func (m Model) keyNormal(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	if p, ok := m.paneKey(k); ok {
		m.focusPane(p)
		return m, nil
	}
	p := m.panes[m.focus]
	switch {
	case key.Matches(k, km.Up, km.Down, km.PageUp, km.PageDown, km.Top, km.Bottom):
		m.navigate(k)
	case key.Matches(k, km.Enter):
		return m.enter()
	case key.Matches(k, km.Back):
		if p.filterText() != "" {
			p.setFilter("", false)
			m.reapply(m.focus)
			name, _ := p.heading()
			m.setFlash(name+" filter cleared", false)
		}
	case key.Matches(k, km.Filter):
		m.mode = modeFilter
		m.input.SetValue(p.filterText())
		m.input.CursorEnd()
		return m, m.input.Focus()
	case key.Matches(k, km.Sort, km.SortReverse):
		text := p.sortNext(key.Matches(k, km.SortReverse))
		m.reapply(m.focus)
		m.setFlash(text, false)
	}
	return m, nil
}

// paneKey reports a pane switch: 1-5, tab, shift+tab.
func (m *Model) paneKey(k tea.KeyPressMsg) (paneID, bool) {
	km := &m.ctx.keys
	for i, b := range []key.Binding{km.Pane1, km.Pane2, km.Pane3, km.Pane4, km.Pane5} {
		if key.Matches(k, b) {
			return paneID(i), true
		}
	}
	switch {
	case key.Matches(k, km.NextPane):
		return (m.focus + 1) % nPanes, true
	case key.Matches(k, km.PrevPane):
		return (m.focus + nPanes - 1) % nPanes, true
	}
	return 0, false
}

func (m *Model) focusPane(p paneID) {
	m.focus = p
	m.fixScroll()
}

// navigate moves the focused pane's cursor.
func (m *Model) navigate(k tea.KeyPressMsg) {
	m.panes[m.focus].moveBy(&m.ctx.keys, k, m.paneRects()[m.focus].h-1)
}

// enter drills down from the focused pane's selected row.
func (m Model) enter() (Model, tea.Cmd) {
	d, ok := m.panes[m.focus].enter()
	switch {
	case !ok:
		return m, nil
	case d.detail.kind != detailNone:
		m.detail = d.detail
		m.mode = modeDetail
		return m, m.fetchDetail()
	}
	// A value's drill-down is the recent requests that carried it.
	shown := clean(d.value)
	m.panes[paneRequests].setFilter(shown, true)
	m.focusPane(paneRequests)
	m.reapply(paneRequests)
	m.setFlash("recent requests with "+d.kind+" "+shown+" — esc clears the filter", false)
	return m, nil
}

// fetchDetail asks the Backend for the open detail's data; a request's
// detail has it all already.
func (m *Model) fetchDetail() tea.Cmd {
	b := m.opts.Backend
	switch m.detail.kind {
	case detailAlert:
		id := m.detail.alert.ID
		return func() tea.Msg {
			a, ok := b.AlertDetail(id)
			return alertDetailMsg{id: id, alert: a, ok: ok}
		}
	case detailKey:
		fp := m.detail.key.Key
		return func() tea.Msg {
			d, ok := b.KeyDetail(fp)
			return keyDetailMsg{fp: fp, detail: d, ok: ok}
		}
	}
	return nil
}

// keyDetail handles keys while a detail view is open.
func (m Model) keyDetail(k tea.KeyPressMsg) (Model, tea.Cmd) {
	if p, ok := m.paneKey(k); ok {
		m.mode = modeNormal
		m.focusPane(p)
		return m, nil
	}
	if key.Matches(k, m.ctx.keys.Back) {
		m.mode = modeNormal
		m.detail = detailView{}
		m.fixScroll()
		return m, nil
	}
	bodyH := m.bodyHeight()
	m.detail.scroll(&m.ctx.keys, k, len(m.detail.lines(m.ctx, m.ctx.width, m.snap.EventTime)), bodyH)
	return m, nil
}

func (m Model) keyHelp(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Quit):
		return m, tea.Quit
	case key.Matches(k, km.Help, km.Back):
		m.mode = m.back
		return m, nil
	}
	m.help.scroll(km, k, len(m.help.lines(m.ctx, m.ctx.width)), m.bodyHeight())
	return m, nil
}

// keyFilter feeds the filter input; the filter applies as it is typed.
func (m Model) keyFilter(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Interrupt):
		return m, tea.Quit
	case key.Matches(k, km.KeepFilter):
		m.mode = modeNormal
		m.input.Blur()
		return m, nil
	case key.Matches(k, km.Back):
		m.mode = modeNormal
		m.input.Blur()
		m.input.SetValue("")
		m.panes[m.focus].setFilter("", false)
		m.reapply(m.focus)
		return m, nil
	case key.Matches(k, km.FilterMove):
		m.navigate(k)
		return m, nil
	}
	return m.updateInput(k)
}

func (m Model) updateInput(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if p := m.panes[m.focus]; m.input.Value() != p.filterText() {
		p.setFilter(m.input.Value(), true)
		m.reapply(m.focus)
	}
	return m, cmd
}

// togglePause pauses the replay (Pacer) or holds the display (live).
func (m Model) togglePause() (Model, tea.Cmd) {
	if m.opts.Pacer != nil {
		paused := !m.paused
		m.paused = paused
		text := "replay resumed"
		if paused {
			text = "replay paused — . steps one second, space resumes"
		}
		return m, m.pacerCmd(text, func(p *source.Pacer) { p.SetPaused(paused) })
	}
	if m.held {
		m.held = false
		if l := m.latest; l.Requests > 0 || !l.EventTime.IsZero() {
			m.apply(l)
		}
		m.latest = nil
		m.setFlash("display live again", false)
		return m, nil
	}
	m.held = true
	m.latest = m.snap
	m.setFlash("display held — counting goes on; space resumes", false)
	return m, nil
}

// pacerCmd runs a pacer control in a command, in the order the keys came
// (see pacerCtl), and reports the pacer's state after it.
func (m *Model) pacerCmd(text string, op func(p *source.Pacer)) tea.Cmd {
	m.pacerGen++
	gen, p, ctl := m.pacerGen, m.opts.Pacer, m.ctl
	return func() tea.Msg {
		ctl.mu.Lock()
		defer ctl.mu.Unlock()
		if gen > ctl.applied {
			op(p)
			ctl.applied = gen
		}
		return actionMsg{text: text, paused: p.Paused(), speed: p.Speed(), pacer: true, gen: gen}
	}
}

func (m Model) changeSpeed(dir int) (Model, tea.Cmd) {
	if m.opts.Pacer == nil {
		m.setFlash("speed applies to replays (-r, --demo) only", true)
		return m, nil
	}
	x := nextSpeed(m.speed, dir)
	m.speed = x
	return m, m.pacerCmd("replay at "+speedText(x), func(p *source.Pacer) { p.SetSpeed(x) })
}

func (m Model) step() (Model, tea.Cmd) {
	switch {
	case m.opts.Pacer == nil:
		m.setFlash("stepping applies to replays (-r, --demo) only", true)
		return m, nil
	case !m.paused:
		m.setFlash("pause first (space); then . steps one second of event time", true)
		return m, nil
	}
	return m, m.pacerCmd("stepped 1 s of event time", func(p *source.Pacer) { p.Step(time.Second) })
}

// allow allows the selected host or origin (or an alert's subject) for
// this run.
func (m Model) allow() (Model, tea.Cmd) {
	var t allowTarget
	switch {
	case m.mode == modeDetail && m.detail.kind == detailAlert:
		t = alertAllow(&m.detail.alert)
	case m.mode == modeDetail:
		m.setFlash("a allows a host or an origin: open a host/origin alert or use panes 3 and 4", true)
		return m, nil
	default:
		var ok bool
		if t, ok = m.panes[m.focus].allowSelected(); !ok {
			return m, nil
		}
	}
	kind, value := t.kind, t.value
	switch {
	case kind == "":
		m.setFlash("a allows a host or an origin: select one in panes 3 or 4, or a host/origin alert", true)
		return m, nil
	case t.already:
		m.setFlash(kind+" "+clean(value)+" is already allowed", false)
		return m, nil
	}
	b := m.opts.Backend
	shown := clean(value)
	if m.mode == modeDetail {
		m.detail.alert.Allowed = true // until the Backend says so too
	}
	hint := " — w writes it to the config"
	if m.opts.SaveAllowlist == nil {
		hint = " (this run only)"
	}
	return m, func() tea.Msg {
		if err := b.Allow(kind, value); err != nil {
			return actionMsg{text: "not allowed: " + clean(err.Error()), warn: true}
		}
		return actionMsg{text: "allowed " + kind + " " + shown + hint}
	}
}

// startWrite asks before writing the allowlist additions.
func (m Model) startWrite() (Model, tea.Cmd) {
	switch {
	case m.opts.SaveAllowlist == nil:
		m.setFlash("writing the allowlist is not available (no config file); allowed values last for this run", true)
		return m, nil
	case len(m.snap.AddedHosts)+len(m.snap.AddedOrigins) == 0:
		m.setFlash("no allowlist changes to write (a allows a host or origin first)", false)
		return m, nil
	}
	m.confirmHosts = slices.Clone(m.snap.AddedHosts)
	m.confirmOrigins = slices.Clone(m.snap.AddedOrigins)
	m.back, m.mode = m.mode, modeConfirm
	return m, nil
}

// keyConfirm answers the y/n question: Yes writes; No, or any other key,
// is the question's default and does not.
func (m Model) keyConfirm(k tea.KeyPressMsg) (Model, tea.Cmd) {
	if key.Matches(k, m.ctx.keys.Interrupt) {
		return m, tea.Quit
	}
	m.mode = m.back
	if m.mode == modeConfirm {
		m.mode = modeNormal
	}
	if !key.Matches(k, m.ctx.keys.Yes) {
		m.setFlash("allowlist not written", false)
		return m, nil
	}
	save, hosts, origins := m.opts.SaveAllowlist, m.confirmHosts, m.confirmOrigins
	m.confirmHosts, m.confirmOrigins = nil, nil
	return m, func() tea.Msg {
		path, err := save(hosts, origins)
		return saveMsg{path: path, err: err}
	}
}

// confirmText is the y/n question.
func (m *Model) confirmText() string {
	var parts []string
	if n := len(m.confirmHosts); n > 0 {
		parts = append(parts, plural(n, "host", "hosts"))
	}
	if n := len(m.confirmOrigins); n > 0 {
		parts = append(parts, plural(n, "origin", "origins"))
	}
	return "Add " + strings.Join(parts, " and ") + " to the allowlist in the config file? [y/N]"
}
