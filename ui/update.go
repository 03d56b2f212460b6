package ui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
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
	case modePin:
		return m.keyPin(k)
	case modeExport:
		return m.keyExport(k)
	case modeColumns:
		return m.keyColumns(k)
	}
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Quit):
		return m.quit(k)
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
		return m.startClear()
	case key.Matches(k, km.Write):
		return m.startWrite()
	case key.Matches(k, km.Allow):
		return m.allow()
	case key.Matches(k, km.Suggest):
		return m.openSuggested()
	case key.Matches(k, km.Adopt):
		return m.adopt()
	case key.Matches(k, km.Report):
		return m.writeReport()
	case key.Matches(k, km.Pin):
		return m.startPin()
	case key.Matches(k, km.Unpin):
		return m.unpin()
	case key.Matches(k, km.DropPin):
		return m.dropPin()
	case key.Matches(k, km.Earlier):
		return m.moveCursor(-1)
	case key.Matches(k, km.Later):
		return m.moveCursor(+1)
	case key.Matches(k, km.ZoomOut):
		return m.changeZoom(+1)
	case key.Matches(k, km.ZoomIn):
		return m.changeZoom(-1)
	case key.Matches(k, km.Mark):
		return m.markCursor()
	case key.Matches(k, km.Export):
		return m.startExport()
	case key.Matches(k, km.UseFormat):
		return m.startUseFormat()
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
	case key.Matches(k, km.Back) && !m.mark.IsZero():
		m.mark = time.Time{}
		m.setFlash("mark forgotten", false)
	case key.Matches(k, km.Back) && !m.cursor.IsZero() && p.filterText() == "":
		m.cursor = time.Time{}
	case key.Matches(k, km.Back):
		if p.filterText() != "" {
			p.setFilter("", false)
			m.reapply(m.focus)
			name, _ := p.heading()
			m.setFlash(name+" filter cleared", false)
			return m, m.fetch(0, false)
		}
	case key.Matches(k, km.Filter):
		m.mode = modeFilter
		m.input.SetValue(p.typed())
		m.input.CursorEnd()
		return m, m.input.Focus()
	case key.Matches(k, km.Sort, km.SortReverse):
		text := p.sortNext(key.Matches(k, km.SortReverse))
		m.reapply(m.focus)
		m.setFlash(text, false)
		return m, m.fetch(0, false) // the engine's top rows of the new order
	case key.Matches(k, km.Columns):
		return m.startColumns()
	case key.Matches(k, km.View):
		if t, ok := p.(interface{ toggle() string }); ok {
			m.setFlash(t.toggle(), false)
			m.fixScroll()
		} else {
			m.setFlash("v switches the alerts pane (1) between incidents and every alert", true)
		}
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
	m.panes[m.focus].moveBy(&m.ctx.keys, k, m.paneRects()[m.focus].h)
}

// enter drills down from the focused pane's selected row.
func (m Model) enter() (Model, tea.Cmd) {
	d, ok := m.panes[m.focus].enter()
	switch {
	case !ok:
		return m, nil
	case d.detail.kind != detailNone:
		return m.openDetail(d.detail, false)
	}
	// A value's drill-down is the recent requests that carried exactly it.
	m.panes[paneRequests].pinTo(d.kind, d.value)
	m.focusPane(paneRequests)
	m.reapply(paneRequests)
	m.setFlash("recent requests with "+d.kind+" "+clean(d.value)+" exactly — esc clears", false)
	return m, nil
}

// openDetail shows a detail view; from another one (push), esc comes
// back to it.
func (m Model) openDetail(d detailView, push bool) (Model, tea.Cmd) {
	if push {
		m.stack = append(m.stack[:len(m.stack):len(m.stack)], m.detail)
	} else {
		m.stack = nil
	}
	d.sel = -1
	m.detail = d
	m.mode = modeDetail
	return m, m.fetchDetail()
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
	case detailIncident:
		id := m.detail.incident.Incident.ID
		return func() tea.Msg {
			d, ok := b.IncidentDetail(id)
			return incidentDetailMsg{id: id, detail: d, ok: ok}
		}
	case detailKey:
		fp := m.detail.key.Key
		return func() tea.Msg {
			d, ok := b.KeyDetail(fp)
			return keyDetailMsg{fp: fp, detail: d, ok: ok}
		}
	case detailSuggest:
		if f := m.opts.Proposal; f != nil {
			return func() tea.Msg { return proposalMsg{p: f()} }
		}
	}
	return nil
}

// keyDetail handles keys while a detail view is open.
func (m Model) keyDetail(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	if p, ok := m.paneKey(k); ok {
		m.closeDetail()
		m.focusPane(p)
		return m, nil
	}
	if key.Matches(k, km.Back) {
		if n := len(m.stack); n > 0 {
			m.detail, m.stack = m.stack[n-1], m.stack[:n-1]
			return m, m.fetchDetail()
		}
		m.closeDetail()
		return m, nil
	}
	bodyH := m.bodyHeight()
	body := m.detail.body(m.ctx, m.view, m.ctx.width)
	switch {
	case key.Matches(k, km.Enter):
		if t, ok := body.selected(); ok && t.open.detail.kind != detailNone {
			return m.openDetail(t.open.detail, true)
		}
	case len(body.targets) > 0 && key.Matches(k, km.Up, km.Down):
		dir := 1
		if key.Matches(k, km.Up) {
			dir = -1
		}
		m.detail.move(body, dir, bodyH)
	default:
		m.detail.scroll(km, k, len(body.lines), bodyH)
		switch {
		case len(body.targets) == 0:
		case key.Matches(k, km.Top):
			m.detail.sel = -1
		case key.Matches(k, km.PageUp, km.PageDown, km.Bottom):
			m.detail.pickVisible(body, bodyH, key.Matches(k, km.Bottom))
		}
	}
	return m, nil
}

func (m *Model) closeDetail() {
	m.mode = modeNormal
	m.detail, m.stack = detailView{}, nil
	m.fixScroll()
}

func (m Model) keyHelp(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Quit):
		return m.quit(k)
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
		return m, m.fetch(0, false)
	case key.Matches(k, km.FilterMove):
		m.navigate(k)
		return m, nil
	}
	return m.updateInput(k)
}

func (m Model) updateInput(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if p := m.panes[m.focus]; m.input.Value() != p.typed() {
		p.setFilter(m.input.Value(), true)
		m.reapply(m.focus)
		// The filter runs here on the rows on screen at once, and in the
		// engine over the whole table for the next snapshot.
		cmd = tea.Batch(cmd, m.fetch(0, false))
	}
	return m, cmd
}

// replayOver says the pace keys do nothing now.
func (m *Model) replayOver() (Model, tea.Cmd) {
	m.setFlash("the replay has finished: pause, speed and step no longer apply", true)
	return *m, nil
}

// togglePause pauses the replay (Pacer) or holds the display (live).
func (m Model) togglePause() (Model, tea.Cmd) {
	if m.opts.Pacer != nil {
		if m.done {
			return m.replayOver()
		}
		paused := !m.paused
		m.paused, m.stepTo = paused, time.Time{}
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
	switch {
	case m.opts.Pacer == nil:
		m.setFlash("speed applies to replays (-r, --demo) only", true)
		return m, nil
	case m.done:
		return m.replayOver()
	}
	x := nextSpeed(m.speed, dir)
	m.speed = x
	return m, m.pacerCmd("replay at "+speedText(x), func(p *source.Pacer) { p.SetSpeed(x) })
}

// step lets one more second of event time through a paused replay. The
// pacer releases what falls before its limit, which moves by exactly one
// second a press from where the replay paused; the clock on screen is that
// limit, so it moves by one second too, however the events fall.
func (m Model) step() (Model, tea.Cmd) {
	switch {
	case m.opts.Pacer == nil:
		m.setFlash("stepping applies to replays (-r, --demo) only", true)
		return m, nil
	case m.done:
		return m.replayOver()
	case !m.paused:
		m.setFlash("pause first (space); then . steps one second of event time", true)
		return m, nil
	}
	if m.stepTo.IsZero() {
		m.stepTo = m.view.now()
	}
	m.stepTo = m.stepTo.Add(time.Second)
	return m, m.pacerCmd("stepped to "+clock(m.stepTo), func(p *source.Pacer) { p.Step(time.Second) })
}

// allow allows the selected host or origin (or an alert's subject, or a
// line of the suggested allowlist) for this run.
func (m Model) allow() (Model, tea.Cmd) {
	var t allowTarget
	switch {
	case m.mode == modeDetail:
		var ok bool
		if t, ok = m.detail.allowTarget(m.view, m.detail.body(m.ctx, m.view, m.ctx.width)); !ok {
			m.setFlash("a allows a host or an origin: select one here, or use panes 3 and 4", true)
			return m, nil
		}
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
	text := "allowed " + kind + " " + clean(value) + m.alsoAllowed(kind, value)
	if m.opts.SaveAllowlist == nil {
		text += " (this run only)"
	} else {
		text += " — w writes it to the config"
	}
	if m.mode == modeDetail && m.detail.kind == detailAlert && alertAllow(&m.detail.alert, false).value == value {
		m.detail.alert.Allowed = true // until the Backend says so too
	}
	return m, func() tea.Msg {
		if err := b.Allow(kind, value); err != nil {
			return actionMsg{text: "not allowed: " + clean(err.Error()), warn: true}
		}
		return actionMsg{text: text}
	}
}

// alsoAllowed says what else allowing a Host allows: a name without a port
// matches every port ("localhost" allows "localhost:8080" too), so the
// rows it also turns allowed are named rather than passed over in silence.
func (m *Model) alsoAllowed(kind, value string) string {
	if kind != "host" {
		return ""
	}
	name, port := detect.SplitHostPort(detect.NormalizeHost(value))
	if port != "" || strings.HasPrefix(name, "*.") {
		return ""
	}
	var also []string
	for _, h := range m.snap.Hosts {
		if n, p := detect.SplitHostPort(h.Value); n == name && p != "" && !h.Allowed {
			also = append(also, clean(h.Value))
		}
	}
	switch {
	case len(also) == 0:
		return " (on any port)"
	case len(also) > 3:
		also = append(also[:3], "…")
	}
	return " on any port, so also " + strings.Join(also, ", ")
}

// openSuggested opens the suggested allowlist.
func (m Model) openSuggested() (Model, tea.Cmd) {
	if m.opts.Proposal == nil {
		m.setFlash("no suggested allowlist in this run (rebindwatch --suggest-config writes one)", true)
		return m, nil
	}
	if m.mode == modeDetail && m.detail.kind == detailSuggest {
		return m, nil
	}
	return m.openDetail(detailView{kind: detailSuggest}, m.mode == modeDetail)
}

// adopt allows the suggested allowlist's proposed lines for this run.
func (m Model) adopt() (Model, tea.Cmd) {
	if m.mode != modeDetail || m.detail.kind != detailSuggest || !m.detail.loaded {
		m.setFlash("p shows the suggested allowlist; A there adopts it", true)
		return m, nil
	}
	hosts, origins := adoptable(m.view, &m.detail.proposal)
	if len(hosts)+len(origins) == 0 {
		m.setFlash("nothing to adopt: every proposed line is allowed already", false)
		return m, nil
	}
	b := m.opts.Backend
	text := "adopted " + additions(hosts, origins) + " for this run"
	if m.opts.SaveAllowlist != nil {
		text += " — w writes them to the config"
	}
	return m, func() tea.Msg {
		if n, err := allowAll(b, hosts, origins); err != nil {
			return actionMsg{text: text + "; " + plural(n, "value", "values") + " not allowed: " + clean(err.Error()), warn: true}
		}
		return actionMsg{text: text}
	}
}

// allowAll allows each value; it returns how many the backend refused and
// the first refusal's reason.
func allowAll(b Backend, hosts, origins []string) (refused int, first error) {
	allow := func(kind, v string) {
		if err := b.Allow(kind, v); err != nil {
			refused++
			if first == nil {
				first = err
			}
		}
	}
	for _, h := range hosts {
		allow("host", h)
	}
	for _, o := range origins {
		allow("origin", o)
	}
	return refused, first
}

// additions names what an allowlist change holds: "2 hosts and 1 origin".
func additions(hosts, origins []string) string {
	var parts []string
	if n := len(hosts); n > 0 {
		parts = append(parts, plural(n, "host", "hosts"))
	}
	if n := len(origins); n > 0 {
		parts = append(parts, plural(n, "origin", "origins"))
	}
	return strings.Join(parts, " and ")
}

// writeReport writes the incident report in a command: it reads the
// engine and writes a file, neither of which Update may do.
func (m Model) writeReport() (Model, tea.Cmd) {
	write := m.opts.WriteReport
	if write == nil {
		m.setFlash("no incident report in this run", true)
		return m, nil
	}
	m.setFlash("writing the incident report…", false)
	return m, func() tea.Msg {
		path, err := write()
		if err != nil {
			return actionMsg{text: "could not write the report: " + clean(err.Error()), warn: true}
		}
		return actionMsg{text: "report written to " + clean(path)}
	}
}
