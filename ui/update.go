package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// onKey dispatches a key press by mode.
func (m Model) onKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
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
		m.helpV.offset = 0
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
func (m Model) keyNormal(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	km := &m.ctx.keys
	if p, ok := m.paneKey(k); ok {
		m.focusPane(p)
		return m, nil
	}
	switch {
	case key.Matches(k, km.Up, km.Down, km.PageUp, km.PageDown, km.Top, km.Bottom):
		m.navigate(k)
	case key.Matches(k, km.Enter):
		return m.enter()
	case key.Matches(k, km.Back):
		if t := m.table(m.focus); t.filter != "" {
			t.filter = ""
			m.reapplyPane(m.focus)
			m.setFlash(m.paneName(m.focus)+" filter cleared", false)
		}
	case key.Matches(k, km.Filter):
		m.mode = modeFilter
		m.input.SetValue(m.table(m.focus).filter)
		m.input.CursorEnd()
		return m, m.input.Focus()
	case key.Matches(k, km.Sort, km.SortReverse):
		m.sort(key.Matches(k, km.SortReverse))
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
	m.alerts.markSeen(m.snap.Alerts, m.shown(paneAlerts))
}

// navigate moves the focused table's cursor.
func (m *Model) navigate(k tea.KeyPressMsg) {
	km := &m.ctx.keys
	p := m.focus
	t := m.table(p)
	h := m.paneRects()[p].h - 1
	page := max(1, h-1)
	switch {
	case key.Matches(k, km.Up):
		t.move(-1, h)
	case key.Matches(k, km.Down):
		t.move(1, h)
	case key.Matches(k, km.PageUp):
		t.move(-page, h)
	case key.Matches(k, km.PageDown):
		t.move(page, h)
	case key.Matches(k, km.Top):
		t.cursor = 0
		t.clamp(h)
	case key.Matches(k, km.Bottom):
		t.cursor = t.n - 1
		t.clamp(h)
	}
	if t.n > 0 {
		t.selID = m.idAt(p)(t.cursor)
	}
	if p == paneAlerts {
		m.alerts.markSeen(m.snap.Alerts, m.shown(paneAlerts))
	}
}

// scroll moves a scrollable view (detail, help) by a key.
func (m *Model) scroll(k tea.KeyPressMsg, off *int, maxOff, page int) bool {
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Up):
		*off--
	case key.Matches(k, km.Down):
		*off++
	case key.Matches(k, km.PageUp):
		*off -= page
	case key.Matches(k, km.PageDown):
		*off += page
	case key.Matches(k, km.Top):
		*off = 0
	case key.Matches(k, km.Bottom):
		*off = maxOff
	default:
		return false
	}
	*off = max(0, min(maxOff, *off))
	return true
}

// enter drills down from the focused pane.
func (m Model) enter() (tea.Model, tea.Cmd) {
	switch m.focus {
	case paneAlerts:
		a, ok := m.alerts.selected()
		if !ok {
			return m, nil
		}
		a.Evidence = nil
		m.openDetail(detailView{kind: detailAlert, alert: a, canAct: allowKindOf(a.Detector) != "" && !a.Allowed})
		return m, m.fetchDetail()
	case paneKeys:
		k, ok := m.keysP.selected()
		if !ok {
			return m, nil
		}
		m.openDetail(detailView{kind: detailKey, key: detect.KeyDetail{Key: k.Key, Stat: k}})
		return m, m.fetchDetail()
	case paneHosts, paneOrigins:
		p := &m.hosts
		if m.focus == paneOrigins {
			p = &m.origins
		}
		v, ok := p.selected()
		if !ok {
			return m, nil
		}
		// A value's drill-down is the recent requests that carried it.
		m.requests.t.filter = clean(v.Value)
		m.requests.t.cursor = 0
		m.focusPane(paneRequests)
		m.reapplyPane(paneRequests)
		m.setFlash("recent requests with "+p.kind+" "+clean(v.Value)+" — esc clears the filter", false)
		return m, nil
	default:
		r, ok := m.requests.selected()
		if !ok {
			return m, nil
		}
		m.openDetail(detailView{kind: detailRequest, req: r, loaded: true})
		return m, nil
	}
}

func (m *Model) openDetail(d detailView) {
	d.ctx = m.ctx
	m.detail = d
	m.mode = modeDetail
}

// fetchDetail asks the Backend for the open detail's data.
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
func (m Model) keyDetail(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	km := &m.ctx.keys
	if p, ok := m.paneKey(k); ok {
		m.mode = modeNormal
		m.focusPane(p)
		return m, nil
	}
	if key.Matches(k, km.Back) {
		m.mode = modeNormal
		m.detail = detailView{ctx: m.ctx}
		m.fixScroll()
		m.alerts.markSeen(m.snap.Alerts, m.shown(paneAlerts))
		return m, nil
	}
	bodyH := m.bodyHeight()
	m.scroll(k, &m.detail.offset, m.detail.maxOffset(m.ctx.width, bodyH), max(1, bodyH-1))
	return m, nil
}

func (m Model) keyHelp(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	km := &m.ctx.keys
	switch {
	case key.Matches(k, km.Quit):
		return m, tea.Quit
	case key.Matches(k, km.Help, km.Back):
		m.mode = m.back
		m.alerts.markSeen(m.snap.Alerts, m.shown(paneAlerts))
		return m, nil
	}
	bodyH := m.bodyHeight()
	m.scroll(k, &m.helpV.offset, m.helpV.maxOffset(m.ctx.width, bodyH), max(1, bodyH-1))
	return m, nil
}

// keyFilter feeds the filter input; the filter applies as it is typed.
func (m Model) keyFilter(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	km := &m.ctx.keys
	switch {
	case k.String() == "ctrl+c":
		return m, tea.Quit
	case k.String() == "enter":
		m.mode = modeNormal
		m.input.Blur()
		return m, nil
	case key.Matches(k, km.Back):
		m.mode = modeNormal
		m.input.Blur()
		m.input.SetValue("")
		m.table(m.focus).filter = ""
		m.reapplyPane(m.focus)
		return m, nil
	case k.String() == "up" || k.String() == "down" || k.String() == "pgup" || k.String() == "pgdown":
		m.navigate(k)
		return m, nil
	}
	return m.updateInput(k)
}

func (m Model) updateInput(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != m.table(m.focus).filter {
		t := m.table(m.focus)
		t.filter = v
		t.cursor = 0
		m.reapplyPane(m.focus)
	}
	return m, cmd
}

// sort picks the focused table's next sort column, or flips the order.
func (m *Model) sort(reverse bool) {
	p := m.focus
	t := m.table(p)
	if reverse {
		t.desc = !t.desc
		if t.sortCol < 0 {
			// The natural order is newest first; reversing it means sorting
			// by time, oldest first.
			t.sortCol, t.desc = timeCol(p), false
		}
	} else {
		n, natural, desc := sortInfo(p)
		next := t.sortCol + 1
		if next >= n {
			next = 0
			if natural {
				next = -1
			}
		}
		t.sortCol = next
		t.desc = next >= 0 && desc(next)
	}
	m.reapplyPane(p)
	cols := paneCols(p)
	if t.sortCol < 0 {
		m.setFlash(m.paneName(p)+": newest first", false)
		return
	}
	dir := "ascending"
	if t.desc {
		dir = "descending"
	}
	m.setFlash(m.paneName(p)+" sorted by "+strings.ToLower(cols[t.sortCol].title)+", "+dir, false)
}

// sortInfo: how many columns a pane sorts by, whether it has a natural
// (newest first) order, and which columns start descending.
func sortInfo(p paneID) (n int, natural bool, desc func(int) bool) {
	switch p {
	case paneAlerts:
		return len(alertCols()), true, func(c int) bool { return c == 0 || c == 5 || c == 6 }
	case paneKeys:
		return len(keyCols()), false, keyColDesc
	case paneHosts, paneOrigins:
		return len(valueCols("host")), false, valueColDesc
	}
	return len(requestCols()), true, requestColDesc
}

func timeCol(p paneID) int {
	switch p {
	case paneAlerts:
		return 6
	case paneKeys:
		return 7
	case paneHosts, paneOrigins:
		return 4
	}
	return 0
}

func paneCols(p paneID) []column {
	switch p {
	case paneAlerts:
		return alertCols()
	case paneKeys:
		return keyCols()
	case paneHosts:
		return valueCols("host")
	case paneOrigins:
		return valueCols("origin")
	}
	return requestCols()
}

// togglePause pauses the replay (Pacer) or holds the display (live).
func (m Model) togglePause() (tea.Model, tea.Cmd) {
	if m.opts.Pacer != nil {
		paused := !m.paused
		m.paused = paused
		text := "replay resumed"
		if paused {
			text = "replay paused — . steps one second, space resumes"
		}
		return m, m.pacerCmd(text, func(p *detect.Pacer) { p.SetPaused(paused) })
	}
	if m.held {
		m.held = false
		if m.latest.Requests > 0 || !m.latest.EventTime.IsZero() {
			m.apply(m.latest)
		}
		m.latest = detect.Snapshot{}
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
func (m *Model) pacerCmd(text string, op func(p *detect.Pacer)) tea.Cmd {
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

func (m Model) changeSpeed(dir int) (tea.Model, tea.Cmd) {
	if m.opts.Pacer == nil {
		m.setFlash("speed applies to replays (-r, --demo) only", true)
		return m, nil
	}
	x := nextSpeed(m.speed, dir)
	m.speed = x
	return m, m.pacerCmd("replay at "+speedText(x), func(p *detect.Pacer) { p.SetSpeed(x) })
}

func (m Model) step() (tea.Model, tea.Cmd) {
	switch {
	case m.opts.Pacer == nil:
		m.setFlash("stepping applies to replays (-r, --demo) only", true)
		return m, nil
	case !m.paused:
		m.setFlash("pause first (space); then . steps one second of event time", true)
		return m, nil
	}
	return m, m.pacerCmd("stepped 1 s of event time", func(p *detect.Pacer) { p.Step(time.Second) })
}

// allow allows the selected host or origin (or an alert's subject) for
// this run.
func (m Model) allow() (tea.Model, tea.Cmd) {
	var kind, value string
	var already bool
	switch {
	case m.mode == modeDetail && m.detail.kind == detailAlert:
		a := m.detail.alert
		kind, value, already = allowKindOf(a.Detector), a.Subject, a.Allowed
	case m.mode == modeDetail:
		m.setFlash("a allows a host or an origin: open a host/origin alert or use panes 3 and 4", true)
		return m, nil
	case m.focus == paneHosts || m.focus == paneOrigins:
		p := &m.hosts
		if m.focus == paneOrigins {
			p = &m.origins
		}
		v, ok := p.selected()
		if !ok {
			return m, nil
		}
		kind, value, already = p.kind, v.Value, v.Allowed
	case m.focus == paneAlerts:
		a, ok := m.alerts.selected()
		if !ok {
			return m, nil
		}
		kind, value, already = allowKindOf(a.Detector), a.Subject, a.Allowed
	}
	switch {
	case kind == "":
		m.setFlash("a allows a host or an origin: select one in panes 3 or 4, or a host/origin alert", true)
		return m, nil
	case already:
		m.setFlash(kind+" "+clean(value)+" is already allowed", false)
		return m, nil
	}
	b := m.opts.Backend
	shown := clean(value)
	if m.mode == modeDetail {
		m.detail.alert.Allowed, m.detail.canAct = true, false
	}
	hint := " — w writes it to the config"
	if m.opts.SaveAllowlist == nil {
		hint = " (this run only)"
	}
	return m, func() tea.Msg {
		b.Allow(kind, value)
		return actionMsg{text: "allowed " + kind + " " + shown + hint}
	}
}

// startWrite asks before writing the allowlist additions.
func (m Model) startWrite() (tea.Model, tea.Cmd) {
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

func (m Model) keyConfirm(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if k.String() == "ctrl+c" {
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
