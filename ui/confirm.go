package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Questions: a y/n question in the footer before anything that writes a
// file, drops what is on screen or leaves work unsaved. Yes acts; No, esc
// or any other key is the default and does not.

type askKind uint8

const (
	askWrite         askKind = iota + 1 // write this run's allowlist additions
	askWriteProposal                    // allow and write the suggested allowlist
	askClear                            // clear the alert list
	askQuit                             // quit with allowlist additions not written
	askColumns                          // save a pane's columns to the config
	askFormat                           // read a log again with the format its auto-detection proposed
)

// question is the y/n question asked: what it decides, the values it
// writes, and the mode to go back to.
type question struct {
	kind           askKind
	hosts, origins []string
	pane           string   // askColumns: the pane, and its columns
	cols           []string //
	source, format string   // askFormat
	back           mode
}

func (m *Model) askQ(q question) {
	q.back = m.mode
	m.ask, m.mode = q, modeConfirm
}

// startWrite asks before writing allowlist additions: the suggested lines
// from the Suggested view, else this run's additions not yet written.
func (m Model) startWrite() (Model, tea.Cmd) {
	if m.opts.SaveAllowlist == nil {
		m.setFlash("writing the allowlist is not available (no config file); allowed values last for this run", true)
		return m, nil
	}
	if m.mode == modeDetail && m.detail.kind == detailSuggest && m.detail.loaded {
		hosts, origins := m.proposedToWrite()
		if len(hosts)+len(origins) == 0 {
			m.setFlash("nothing proposed to write yet", false)
			return m, nil
		}
		m.askQ(question{kind: askWriteProposal, hosts: hosts, origins: origins})
		return m, nil
	}
	hosts, origins := m.unsaved()
	if len(hosts)+len(origins) == 0 {
		m.setFlash("no allowlist changes to write (a allows a host or origin; p proposes an allowlist)", false)
		return m, nil
	}
	m.askQ(question{kind: askWrite, hosts: hosts, origins: origins})
	return m, nil
}

// proposedToWrite are the suggested lines the config does not have yet as
// far as this run knows: those not allowed, and those allowed during this
// run but not written.
func (m *Model) proposedToWrite() (hosts, origins []string) {
	uh, uo := m.unsaved()
	for _, r := range proposalRows(m.view, "host", m.detail.proposal.Hosts) {
		if r.Proposed && (!r.allowed || slices.Contains(uh, r.Value)) {
			hosts = append(hosts, r.Value)
		}
	}
	for _, r := range proposalRows(m.view, "origin", m.detail.proposal.Origins) {
		if r.Proposed && (!r.allowed || slices.Contains(uo, r.Value)) {
			origins = append(origins, r.Value)
		}
	}
	return hosts, origins
}

// startClear asks before clearing the alert list.
func (m Model) startClear() (Model, tea.Cmd) {
	if len(m.snap.Alerts) == 0 {
		m.setFlash("no alerts to clear", false)
		return m, nil
	}
	m.askQ(question{kind: askClear})
	return m, nil
}

// quit quits, asking first when allowlist additions could still be written.
func (m Model) quit(k tea.KeyPressMsg) (Model, tea.Cmd) {
	hosts, origins := m.unsaved()
	if key.Matches(k, m.ctx.keys.Interrupt) || m.opts.SaveAllowlist == nil || len(hosts)+len(origins) == 0 {
		return m, tea.Quit
	}
	m.askQ(question{kind: askQuit, hosts: hosts, origins: origins})
	return m, nil
}

// keyConfirm answers the question.
func (m Model) keyConfirm(k tea.KeyPressMsg) (Model, tea.Cmd) {
	km := &m.ctx.keys
	if key.Matches(k, km.Interrupt) {
		return m, tea.Quit
	}
	q := m.ask
	m.ask, m.mode = question{}, q.back
	yes := key.Matches(k, km.Yes) || q.kind == askQuit && key.Matches(k, km.Quit)
	if !yes {
		m.setFlash(map[askKind]string{askWrite: "allowlist not written", askWriteProposal: "allowlist not written",
			askClear: "alerts kept", askQuit: "not quitting — w writes the allowlist",
			askColumns: "columns kept for this run only", askFormat: "format unchanged"}[q.kind], false)
		return m, nil
	}
	b := m.opts.Backend
	switch q.kind {
	case askQuit:
		return m, tea.Quit
	case askColumns:
		save, path, pane, cols := m.opts.SaveColumns, m.opts.AllowlistPath, q.pane, q.cols
		return m, func() tea.Msg {
			written, err := save(path, pane, cols)
			return columnsMsg{path: written, pane: pane, err: err}
		}
	case askFormat:
		use, src, format := m.opts.UseFormat, q.source, q.format
		return m, tea.Sequence(func() tea.Msg {
			use(src, format)
			return nil
		}, tea.Quit)
	case askClear:
		// Event time: the engine cleared what it had seen, whatever the
		// wall clock of a live view says.
		m.clearedAt = m.snap.EventTime
		return m, func() tea.Msg {
			b.ClearAlerts()
			return actionMsg{text: "alerts cleared (the header keeps the counts per detector)"}
		}
	}
	save, path, hosts, origins := m.opts.SaveAllowlist, m.opts.AllowlistPath, q.hosts, q.origins
	adopt := q.kind == askWriteProposal
	return m, func() tea.Msg {
		if adopt {
			allowAll(b, hosts, origins)
		}
		written, err := save(path, hosts, origins)
		return saveMsg{path: written, hosts: hosts, origins: origins, err: err}
	}
}

// confirmText is the question in at most w cells, naming the file it
// writes: the first of its wordings, longest first, that fits.
func (m *Model) confirmText(w int) string {
	q := &m.ask
	path := clean(m.opts.AllowlistPath)
	what := additions(q.hosts, q.origins)
	var texts []string
	switch q.kind {
	case askWrite:
		texts = []string{"Add " + what + " to the allowlist in " + path + "? [y/N]", "Write " + what + " to " + path + "? [y/N]"}
	case askWriteProposal:
		texts = []string{"Allow and add the suggested " + what + " to the allowlist in " + path + "? [y/N]",
			"Allow and write " + what + " to " + path + "? [y/N]", "Write " + what + " to " + path + "? [y/N]"}
	case askClear:
		texts = []string{"Clear the alert list (" + plural(len(m.snap.Alerts), "alert", "alerts") + " and their incidents)? " +
			"The header keeps the counts. [y/N]", "Clear the alert list? [y/N]"}
	case askQuit:
		texts = []string{what + " allowed this run " + isAre(len(q.hosts)+len(q.origins)) + " not in " + path + ": quit anyway? [y/N] (w writes)",
			"Not in " + path + ": " + what + ". Quit? [y/N]"}
	case askColumns:
		texts = []string{"Save the columns of " + q.pane + " to [ui] columns in " + path + "? [y/N]",
			"Save " + q.pane + " columns to " + path + "? [y/N]"}
	case askFormat:
		name := clean(sourceName(q.source))
		texts = []string{"Read " + name + " again from its start with --log-format " + clean(q.format) +
			"? The dashboard starts over. [y/N]", "Read " + name + " again with the proposed format (starts over)? [y/N]"}
	}
	for _, t := range texts {
		if width(t) <= w {
			return t
		}
	}
	// Not even the shortest fits: keep the file's name and the answer.
	t := texts[len(texts)-1]
	return ellipsis + ansi.TruncateLeft(t, width(t)-(w-1), "")
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
