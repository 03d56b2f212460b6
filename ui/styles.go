package ui

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/rebindwatch/rebindwatch/detect"
)

// accent names a cell colour; panes say what a cell means, styles.go says
// how it looks, so NO_COLOR and the 16-colour palette are decided in one place.
type accent uint8

const (
	acNone accent = iota
	acCrit
	acHigh
	acMedium
	acLow
	acGood // allowed, healthy
	acBad  // foreign, fired
	acWarn
	acKey // key fingerprints
	acMuted
	nAccents
)

// styles holds every lipgloss style the dashboard uses. On a dark
// background the colours are ANSI basic colours, so the dashboard reads on
// 16-colour terminals; on a light one (detected with the terminal's
// background colour query) the ones that wash out on white (yellow, cyan,
// bright black) become darker 256-colour shades, which lipgloss brings
// down to the terminal's palette. With NoColor they are all dropped and
// only bold, faint, underline and reverse remain.
type styles struct {
	noColor bool
	dark    bool

	title     paint
	bold      paint
	dim       paint
	colHeader paint
	selected  paint
	inRange   paint // the timeline's pinned range
	tabActive paint
	tabIdle   paint
	tabAlert  paint
	border    paint
	borderOn  paint
	paneTitle paint
	paneTitOn paint
	spark     paint
	warn      paint
	bad       paint
	good      paint
	status    paint // PAUSED, DONE badges
	flash     paint
	barFull   paint
	barEmpty  paint

	// bubbles/help takes lipgloss styles.
	helpKey  lipgloss.Style
	helpDesc lipgloss.Style
	helpSep  lipgloss.Style

	accents [nAccents]paint
}

// paint is a style reduced to the escape codes around a single-line text.
// lipgloss.Style.Render re-derives them on every call (half of a frame's
// cost in the profile); every text we style is one line without tabs, so
// the codes can be computed once.
type paint struct{ pre, post string }

func newPaint(st lipgloss.Style) paint {
	const probe = "PROBE"
	r := st.Render(probe)
	i := strings.Index(r, probe)
	if i < 0 {
		// A style that rewrites its text (none of ours): no codes.
		return paint{}
	}
	return paint{pre: r[:i], post: r[i+len(probe):]}
}

// Render wraps s in the style's codes.
func (p paint) Render(s string) string {
	if p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

// palette is the colours for one background.
type palette struct {
	title, muted, warn, good, bad, crit, key, low color.Color
}

func paletteFor(dark bool) palette {
	if dark {
		return palette{title: lipgloss.Cyan, muted: lipgloss.BrightBlack, warn: lipgloss.Yellow, good: lipgloss.Green,
			bad: lipgloss.Red, crit: lipgloss.BrightRed, key: lipgloss.Magenta, low: lipgloss.Blue}
	}
	return palette{title: lipgloss.Color("25"), muted: lipgloss.Color("242"), warn: lipgloss.Color("130"),
		good: lipgloss.Color("28"), bad: lipgloss.Color("160"), crit: lipgloss.Color("124"), key: lipgloss.Color("90"),
		low: lipgloss.Color("25")}
}

func newStyles(noColor, dark bool) styles {
	s := lipgloss.NewStyle()
	pal := paletteFor(dark)
	color := func(st lipgloss.Style, c color.Color) lipgloss.Style {
		if noColor {
			return st
		}
		return st.Foreground(c)
	}
	st := styles{noColor: noColor, dark: dark}
	st.title = newPaint(color(s.Bold(true), pal.title))
	st.bold = newPaint(s.Bold(true))
	st.dim = newPaint(s.Faint(true))
	st.colHeader = newPaint(color(s.Bold(true), pal.muted))
	if noColor {
		st.colHeader = newPaint(s.Bold(true).Underline(true))
	}
	st.selected = newPaint(s.Reverse(true))
	st.inRange = newPaint(color(s.Underline(true), pal.title))
	st.tabActive = newPaint(s.Reverse(true).Bold(true))
	st.tabIdle = newPaint(color(s, pal.muted))
	st.tabAlert = newPaint(color(s.Bold(true), pal.bad))
	st.border = newPaint(color(s, pal.muted))
	st.borderOn = newPaint(color(s.Bold(true), pal.title))
	st.paneTitle = newPaint(s.Bold(true))
	st.paneTitOn = newPaint(color(s.Bold(true), pal.title))
	st.spark = newPaint(color(s, pal.good))
	st.warn = newPaint(color(s.Bold(true), pal.warn))
	st.bad = newPaint(color(s.Bold(true), pal.bad))
	st.good = newPaint(color(s, pal.good))
	st.status = newPaint(s.Reverse(true).Bold(true))
	st.flash = newPaint(color(s.Bold(true), pal.warn))
	st.helpKey = color(s.Bold(true), pal.title)
	st.helpDesc = s
	st.helpSep = color(s, pal.muted)
	st.barFull = newPaint(color(s, pal.title))
	st.barEmpty = newPaint(color(s, pal.muted))

	st.accents[acNone] = newPaint(s)
	st.accents[acCrit] = newPaint(color(s.Bold(true), pal.crit))
	st.accents[acHigh] = newPaint(color(s.Bold(true), pal.bad))
	st.accents[acMedium] = newPaint(color(s, pal.warn))
	st.accents[acLow] = newPaint(color(s, pal.low))
	st.accents[acGood] = newPaint(color(s, pal.good))
	st.accents[acBad] = newPaint(color(s.Bold(true), pal.bad))
	st.accents[acWarn] = newPaint(color(s, pal.warn))
	st.accents[acKey] = newPaint(color(s, pal.key))
	st.accents[acMuted] = newPaint(color(s, pal.muted))
	if noColor {
		// Without colour, severity still stands out by weight.
		st.accents[acCrit] = newPaint(s.Bold(true).Underline(true))
		st.accents[acHigh] = newPaint(s.Bold(true))
		st.accents[acMuted] = newPaint(s.Faint(true))
	}
	return st
}

// sevAccent maps a severity to its colour.
func sevAccent(s detect.Severity) accent {
	switch s {
	case detect.SeverityCritical:
		return acCrit
	case detect.SeverityHigh:
		return acHigh
	case detect.SeverityMedium:
		return acMedium
	}
	return acLow
}

// sevLabel is a severity as symbol plus word, so it reads without colour.
func sevLabel(s detect.Severity) string {
	switch s {
	case detect.SeverityCritical:
		return "■ CRIT"
	case detect.SeverityHigh:
		return "▲ HIGH"
	case detect.SeverityMedium:
		return "● MED"
	case detect.SeverityLow:
		return "· LOW"
	}
	return "? " + s.String()
}
