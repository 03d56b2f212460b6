package ui

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/net/publicsuffix"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// hostText is a host-like value as drawn (a Host, an Origin, a TLS server
// name, a DNS name): a mark, the name, a note. Cut to a width, the name
// loses its middle, not its end, so the registrable domain and the port
// stay visible: cutting the end would show "https://app.example.test:8443"
// and "https://app.example.test.evil.net" both as "https://app.exampl…".
type hostText struct {
	mark string // "⚠ " before a look-alike, "✗ " before a foreign Host
	name string // sanitised
	note string // after the name: " (Referer)", " (dup Host)"
}

// lookMark marks a name shown by its punycode because it could pass for
// another one.
const lookMark = "⚠ "

// showHost prepares a raw host-like value: sanitised, and a look-alike
// (mixed scripts, Cyrillic or Greek letters that look Latin) shown as its
// ASCII form with a mark, since that form cannot pass for another name.
func showHost(raw string) hostText {
	if why, _ := lookAlike(raw); why != "" {
		return hostText{mark: lookMark, name: clean(asciiForm(raw))}
	}
	return hostText{name: clean(raw)}
}

// lookAlikeText explains a look-alike value for a detail line ("" when it is
// not one): why, what it passes for, and what it is.
func lookAlikeText(raw string) string {
	why, latin := lookAlike(raw)
	if why == "" {
		return ""
	}
	return lookMark + why + ": looks like " + clean(latin) + ", is " + clean(asciiForm(raw))
}

// maxName is longer than any host name (253 bytes) or origin a browser
// sends: a longer value is no name and is shown cut, not checked.
const maxName = 512

func lookAlike(raw string) (why, latin string) {
	if len(raw) > maxName {
		return "", raw
	}
	return sanitize.LookAlike(raw)
}

// asciiForm is a Host, an origin or a name with its host name in punycode
// (scheme, port and the rest kept).
func asciiForm(v string) string {
	prefix, rest := "", v
	if i := strings.Index(v, "://"); i >= 0 {
		prefix, rest = v[:i+3], v[i+3:]
	}
	name, _ := detect.SplitHostPort(rest)
	a, ok := sanitize.Punycode(name)
	if !ok {
		return v
	}
	return prefix + a + rest[len(name):]
}

func (h hostText) String() string { return h.mark + h.name + h.note }

// cut fits the text in w cells: whole when it fits; else the name cut in
// its middle between the mark and the note (the note goes first when it
// would leave the name too little room).
func (h hostText) cut(w int) string {
	if limit := 8*w + 64; len(h.name) > limit {
		// Far too long to fit: measure only its end, which is what is kept.
		i := len(h.name) - limit
		for i < len(h.name) && !utf8.RuneStart(h.name[i]) {
			i++
		}
		h.name = ellipsis + h.name[i:]
	}
	full := h.String()
	if width(full) <= w {
		return full
	}
	mw, nw := width(h.mark), width(h.note)
	if room := w - mw - nw; room < min(width(h.name), 12) {
		h.note, nw = "", 0
	}
	room := w - mw - nw
	if room < 3 {
		return cut(full, w)
	}
	return h.mark + elideHost(h.name, room) + h.note
}

// fit is cut padded to exactly w cells.
func (h hostText) fit(w int) string { return fit(h.cut(w), w) }

// elideHost cuts a sanitised host-like string to w cells in its middle,
// keeping its end: the registrable domain (public suffix plus one label)
// and what follows it (the port). When even that does not fit, it keeps as
// much of the end as fits.
func elideHost(s string, w int) string {
	sw := width(s)
	if sw <= w {
		return s
	}
	if w <= 1 {
		return cut(s, w)
	}
	tail := hostTail(s)
	head := s[:len(s)-len(tail)]
	room := w - width(tail) - 1
	if i := strings.Index(head, "://"); i >= 0 && room < i+6 {
		// Not room for the scheme and a few letters of the name: the
		// name, after an ellipsis that says something came before it.
		rest := s[i+3:]
		return ellipsis + ansi.TruncateLeft(rest, max(0, width(rest)-(w-1)), "")
	}
	if room < 1 {
		// Not a cell of the head left: as much of the end as fits. The
		// registrable domain comes before the first label: a name made
		// to start like another must not push its real domain out.
		return ellipsis + ansi.TruncateLeft(s, sw-(w-1), "")
	}
	return ansi.Truncate(head, room, "") + ellipsis + tail
}

// hostTail is the end of a host-like string that must stay visible: its
// registrable domain and port ("example.test:8443" of
// "https://app.example.test:8443"); an address or a one-label name whole.
func hostTail(s string) string {
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		rest = s[i+3:]
	}
	name, _ := detect.SplitHostPort(rest)
	after := rest[len(name):]
	lower := strings.ToLower(name)
	if len(lower) != len(name) || strings.HasPrefix(name, "[") || isNumericHost(name) {
		return name + after
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(lower)
	if err != nil || len(reg) > len(name) {
		return name + after
	}
	return name[len(name)-len(reg):] + after
}

// isNumericHost reports an IPv4-looking name: its last label is digits.
func isNumericHost(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return false
		}
	}
	return true
}
