package ui

import tea "charm.land/bubbletea/v2"

// A log whose lines carry more columns than the format auto-detection
// chose reads them (nginx's "main" and every extended format read as
// combined) leaves the detectors that need those columns blind. When the
// extra columns look like a Host, an Origin and a key, the source proposes
// a format that reads them (detect.SourceStatus.Proposed); L, after a y/n
// question, has the program read the log again from its start with it (a
// new run: Options.UseFormat), since what was read without those columns
// cannot be corrected in place.

// formatProposal is the first source that proposes a log format.
func (m *Model) formatProposal() (source, format string, ok bool) {
	for _, s := range m.snap.Sources {
		if s.Proposed != "" {
			return s.Name, s.Proposed, true
		}
	}
	return "", "", false
}

// startUseFormat asks before reading the log again with the proposed format.
func (m Model) startUseFormat() (Model, tea.Cmd) {
	src, f, ok := m.formatProposal()
	switch {
	case !ok:
		m.setFlash("no log proposes a format (L uses the one auto-detection proposes when a log has columns it cannot read)", false)
		return m, nil
	case m.opts.UseFormat == nil:
		m.setFlash("not in this run (--state or -o keep what was read): run again with --log-format '"+clean(f)+"'", true)
		return m, nil
	}
	m.askQ(question{kind: askFormat, source: src, format: f})
	return m, nil
}

// formatLine is the header's line about a proposed format, in w cells
// (the longest wording that fits; 0: any).
func (h *header) formatLine(w int) string {
	for _, s := range h.view.Sources {
		if s.Proposed == "" {
			continue
		}
		name := cut(clean(sourceName(s.Name)), 30)
		do := " — L reads it with the proposed format"
		if !h.canUseFormat {
			do = " — its note says the --log-format that reads them"
		}
		texts := []string{"⚠ " + name + " has columns its format does not read (Host, Origin, key?)" + do,
			"⚠ " + name + " has columns its format does not read" + do,
			"⚠ " + name + ": unread columns" + do}
		for _, t := range texts {
			if w <= 0 || width(t) <= w {
				return t
			}
		}
		return texts[len(texts)-1]
	}
	return ""
}
