// Package sanitize makes strings from the wire or a log safe to draw or
// write: the one place rebindwatch's edges (the dashboard, JSON lines,
// stderr, reports, webhooks) escape what could drive a terminal or hide a
// look-alike.
package sanitize

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String makes a string from the wire or a log safe to show in a terminal
// or a one-line message: control characters (C0, DEL, C1), escape sequences,
// bidi controls, zero-width and other invisible format characters and
// invalid UTF-8 are replaced by visible escapes (\x1b, \u202e, \xff), so a
// look-alike Host cannot pass for an allowed one and no byte reaches the
// terminal as a command. Printable text is returned as is, without copying.
func String(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case Invisible(r):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			for n := len(h); n < 4; n++ {
				b.WriteByte('0')
			}
			b.WriteString(h)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Invisible reports whether r must never reach a terminal as itself: C1
// controls, format characters (Cf: bidi controls, zero-width joiners, BOM),
// line and paragraph separators, and non-characters.
func Invisible(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	case unicode.Is(unicode.Cf, r):
		return true
	case unicode.Is(unicode.Co, r): // private use: renders as anything
		return true
	}
	return false
}

// Bytes is String for a byte slice; it allocates the result.
func Bytes(b []byte) string { return String(string(b)) }

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
