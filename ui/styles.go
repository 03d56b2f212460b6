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

// styles holds every lipgloss style the dashboard uses. Colours are ANSI
// basic colours only so the dashboard reads on 16-colour terminals; with
// NoColor they are dropped and only bold, faint and reverse remain.
type styles struct {
	noColor bool

	title     paint
	bold      paint
	dim       paint
	colHeader paint
	selected  paint
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

func newStyles(noColor bool) styles {
	s := lipgloss.NewStyle()
	color := func(st lipgloss.Style, c color.Color) lipgloss.Style {
		if noColor {
			return st
		}
		return st.Foreground(c)
	}
	st := styles{noColor: noColor}
	st.title = newPaint(color(s.Bold(true), lipgloss.Cyan))
	st.bold = newPaint(s.Bold(true))
	st.dim = newPaint(s.Faint(true))
	st.colHeader = newPaint(color(s.Bold(true), lipgloss.BrightBlack))
	if noColor {
		st.colHeader = newPaint(s.Bold(true).Underline(true))
	}
	st.selected = newPaint(s.Reverse(true))
	st.tabActive = newPaint(s.Reverse(true).Bold(true))
	st.tabIdle = newPaint(color(s, lipgloss.BrightBlack))
	st.tabAlert = newPaint(color(s.Bold(true), lipgloss.Red))
	st.border = newPaint(color(s, lipgloss.BrightBlack))
	st.borderOn = newPaint(color(s.Bold(true), lipgloss.Cyan))
	st.paneTitle = newPaint(s.Bold(true))
	st.paneTitOn = newPaint(color(s.Bold(true), lipgloss.Cyan))
	st.spark = newPaint(color(s, lipgloss.Green))
	st.warn = newPaint(color(s.Bold(true), lipgloss.Yellow))
	st.bad = newPaint(color(s.Bold(true), lipgloss.Red))
	st.good = newPaint(color(s, lipgloss.Green))
	st.status = newPaint(s.Reverse(true).Bold(true))
	st.flash = newPaint(color(s.Bold(true), lipgloss.Yellow))
	st.helpKey = color(s.Bold(true), lipgloss.Cyan)
	st.helpDesc = s
	st.helpSep = color(s, lipgloss.BrightBlack)
	st.barFull = newPaint(color(s, lipgloss.Cyan))
	st.barEmpty = newPaint(color(s, lipgloss.BrightBlack))

	st.accents[acNone] = newPaint(s)
	st.accents[acCrit] = newPaint(color(s.Bold(true), lipgloss.BrightRed))
	st.accents[acHigh] = newPaint(color(s.Bold(true), lipgloss.Red))
	st.accents[acMedium] = newPaint(color(s, lipgloss.Yellow))
	st.accents[acLow] = newPaint(color(s, lipgloss.Blue))
	st.accents[acGood] = newPaint(color(s, lipgloss.Green))
	st.accents[acBad] = newPaint(color(s.Bold(true), lipgloss.Red))
	st.accents[acWarn] = newPaint(color(s, lipgloss.Yellow))
	st.accents[acKey] = newPaint(color(s, lipgloss.Magenta))
	st.accents[acMuted] = newPaint(color(s, lipgloss.BrightBlack))
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
