package report

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/sanitize"
)

// ShellLine joins args into one line a POSIX shell reads back as exactly
// those words.
func ShellLine(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = ShellWord(a)
	}
	return strings.Join(words, " ")
}

// ShellWord quotes s for a POSIX shell (XCU 2.2): as is when it holds only
// characters no shell treats specially, else in single quotes, a quote
// written '\”. A byte that a reader could not see as itself (a control
// character other than newline, a bidi or invisible rune, invalid UTF-8)
// is written as "$(printf '\ooo')" between quoted pieces: the line is
// still exact when pasted, and shows what it holds. A newline stays, in
// quotes, as itself: command substitution would drop it at the end.
func ShellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !plainShell(r) }) < 0 {
		return s
	}
	var b strings.Builder
	quoted := false
	quote := func(open bool) {
		if quoted != open {
			b.WriteByte('\'')
			quoted = open
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r != '\n' && (r < 0x20 || r == 0x7f), sanitize.Invisible(r), !unicode.IsPrint(r) && r != '\n' && r != ' ':
			quote(false)
			b.WriteString(`"$(printf '`)
			for _, c := range []byte(s[i : i+size]) {
				b.WriteByte('\\')
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + c>>3&7)
				b.WriteByte('0' + c&7)
			}
			b.WriteString(`')"`)
		case r == '\'':
			quote(false)
			b.WriteString(`\'`)
		default:
			quote(true)
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if b.Len() == 0 {
		return "''"
	}
	quote(false)
	return b.String()
}

// plainShell reports whether r needs no quoting anywhere in a word.
func plainShell(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("-_./,:@%+=", r)
}
