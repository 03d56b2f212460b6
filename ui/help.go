package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpView is the `?` screen: every binding of the KeyMap (through
// bubbles/help, so it cannot drift from what Update matches), then what
// the symbols on screen mean.
type helpView struct {
	notes [][2]string // mode-specific notes: what space does here, whether w works
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
	for _, l := range legend() {
		out = append(out, hang(l[0], l[1], width)...)
	}
	out = append(out, "", st.title.Render("Detectors")+st.dim.Render(" (label, letter in FLAGS, what fires it)"))
	for _, d := range detInfos {
		out = append(out, hang(d.label+" "+d.letter, d.help, width)...)
	}
	if len(v.notes) > 0 {
		out = append(out, "")
		for _, n := range v.notes {
			out = append(out, hang(n[0], n[1], width)...)
		}
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

// legend explains the symbols and columns, one [label, text] a line.
func legend() [][2]string {
	var tags []string
	for _, d := range detInfos {
		if !slices.Contains(tags, d.tag) {
			tags = append(tags, d.tag)
		}
	}
	return [][2]string{
		{"severity", "■ CRIT ▲ HIGH ● MED · LOW: symbol and word, readable without colour"},
		{"incidents", "pane 1: one line per attack (alerts sharing a name, or a key and a client); DETECTORS are tags (" +
			strings.Join(tags, " ") + "), OUTCOME how the server answered, TIME when it opened, LAST its latest alert; " +
			"enter shows its alerts and evidence; v lists every alert"},
		{"FLAGS", "keys: a letter for each detector that fired on the key (see Detectors below)"},
		{"⚠ xn--", "a name that could pass for another (mixed scripts, Cyrillic or Greek letters that look Latin), shown as what it is: its punycode"},
		{"✗ host", "requests: a Host that is not allowed"},
		{"a…b.test", "a long name is cut in its middle: its domain and port stay"},
		{"(Referer)", "origins: seen only in Referers (check_referer), never in an Origin header"},
		{"ages", "relative to the clock at the top right: event time, or the wall clock for live sources"},
		{"↓ ↑", "the sorted column and its direction; s picks the column, S flips it (AGE↓: oldest first)"},
		{"N new ↑", "alerts that came while you were scrolled down; g jumps to them"},
		{"dim", "an alert on a host or origin allowed since"},
		{"⚑ chips", "the pins (f) and the range (m twice): every pane shows only the traffic seen with all of them; F clears, backspace drops the last"},
		{"+N? ≈", "a pane's answer under pins may be short (the engine keeps capped lists and the last requests): +N? rows could not be decided, ≈ the line under the table says why"},
		{"timeline", "requests per step over 1m, 10m, 1h or the whole run ({ }); under it, the letter of the detector that raised the most alerts in each step; ▸ the cursor ([ ]), underlined the range"},
		{"mouse", "click a tab, a pane, a row, a column title (sorts), the timeline (cursor); click a row twice to open it; the wheel scrolls (--no-mouse leaves the mouse to the terminal)"},
		{"e, C", "e writes this pane (every row under the pins) or the open evidence as JSON lines or CSV; C picks and orders this pane's columns"},
	}
}

// hang renders "label  text" with the text wrapped to width under itself.
func hang(label, text string, width int) []string {
	const lw = 14
	w := max(20, width-lw)
	lines := strings.Split(ansi.Wrap(text, w, " "), "\n")
	out := make([]string, len(lines))
	for i, l := range lines {
		if i == 0 {
			out[i] = fit(label, lw-1) + " " + l
		} else {
			out[i] = strings.Repeat(" ", lw) + l
		}
	}
	return out
}
