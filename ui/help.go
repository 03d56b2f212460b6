package ui

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// helpView is the `?` screen: every binding of the KeyMap (through
// bubbles/help, so it cannot drift from what Update matches), then what
// the symbols on screen mean.
type helpView struct {
	notes []string // mode-specific notes: what space does here, whether w works
	scrollView
}

func newHelpModel(st *styles) help.Model {
	h := help.New()
	h.Styles = help.Styles{
		Ellipsis:       st.helpSep,
		ShortKey:       st.helpKey,
		ShortDesc:      st.helpDesc,
		ShortSeparator: st.helpSep,
		FullKey:        st.helpKey,
		FullDesc:       st.helpDesc,
		FullSeparator:  st.helpSep,
	}
	h.ShortSeparator = " · "
	h.FullSeparator = "   "
	return h
}

// lines packs the key groups into as few rows of columns as the width
// allows, then adds the legend.
func (v *helpView) lines(c *viewCtx, width int) []string {
	st := &c.st
	var out []string
	groups := c.keys.FullHelp()
	hm := c.help // width 0: the packing below decides what fits
	var rowGroups [][]key.Binding
	flush := func() {
		if len(rowGroups) == 0 {
			return
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, strings.Split(hm.FullHelpView(rowGroups), "\n")...)
		rowGroups = nil
	}
	for _, g := range groups {
		try := append(append([][]key.Binding(nil), rowGroups...), g)
		if len(rowGroups) > 0 && lipgloss.Width(hm.FullHelpView(try)) > width {
			flush()
		}
		rowGroups = append(rowGroups, g)
	}
	flush()
	out = append(out, "", st.title.Render("Reading the screen"))
	legend := []string{
		"severity  ■ CRIT ▲ HIGH ● MED · LOW: symbol and word, readable without colour",
	}
	legend = append(legend, flagLegend(width)...)
	legend = append(legend,
		"ages      relative to the event clock (top right), not to wall time",
		"↓ ↑       the sorted column and its direction; s picks the column, S flips it",
		"N new ↑   alerts that came while you were scrolled down; g jumps to them",
		"dim       an alert on a host or origin you allowed during this run",
	)
	out = append(out, legend...)
	if len(v.notes) > 0 {
		out = append(out, "")
		out = append(out, v.notes...)
	}
	return out
}

// hint is the footer while the help is open, for a body of n lines.
func (v *helpView) hint(n, height int) (left, right string) {
	if pos := v.position(n, height); pos != "" {
		return "? or esc closes the help · ↑↓ scroll", pos
	}
	return "? or esc closes the help", ""
}

// flagLegend explains the FLAGS column's letters, wrapped to width.
func flagLegend(w int) []string {
	words := map[string]string{
		detect.DetUnexpectedHost: "foreign Host", detect.DetHostServed: "Host answered",
		detect.DetForeignOrigin: "Origin", detect.DetKeyBurst: "burst", detect.DetKeySpread: "spread",
		detect.DetDNSPrivateAnswer: "private DNS", detect.DetDNSRebind: "DNS rebind",
		detect.DetUnexpectedSNI: "TLS name",
	}
	const indent = "          "
	lines := []string{"flags    "}
	for _, d := range detect.Detectors {
		word, ok := words[d]
		if !ok {
			word = d
		}
		item := " " + detLetter(d) + " " + word
		if cur := lines[len(lines)-1]; w > 0 && len(cur) > len(indent) && width(cur+item) > w {
			lines = append(lines, indent[:len(indent)-1])
		}
		lines[len(lines)-1] += item
	}
	return lines
}
