package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/sanitize"
)

// FuzzReportEscapes puts one value in every field of a report: the parsed
// page is still made of the report's elements only, without handlers or
// links out, holds no byte a reader could not see, and shows the value.
func FuzzReportEscapes(f *testing.F) {
	for _, v := range terminal {
		f.Add(v)
	}
	for _, v := range []string{"<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "</title><b>", "</style>",
		"]]><!--", "&amp;&#60;", "javascript:x", "{{.}}", "\x00", "a\u2028b"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		b := hostileBackend(map[string]string{"v": v})
		page := render(t, b, Run{Title: v, Version: v, Final: true, ConfigPath: v, ConfigText: v,
			Command: Command{Args: []string{"rebindwatch", v}, Dir: v, Notes: []string{v}}})
		d := doc(t, page)
		checkInert(t, d)
		checkBytes(t, page)
		want := sanitize.String(v)
		if utf8.RuneCountInString(want) > 200 {
			want = string([]rune(want)[:200])
		}
		if !strings.Contains(text(d), want) {
			t.Errorf("%q is not shown as text", want)
		}
	})
}

// FuzzShellWord: a quoted word holds only what a reader can see (and
// newlines), and reads back as the word by the rules of XCU 2.2.2 and
// 2.6.3, as far as ShellWord uses them.
func FuzzShellWord(f *testing.F) {
	for _, tc := range shellCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ShellWord(s)
		if i, r := unseen(q); i >= 0 {
			t.Fatalf("ShellWord(%q) = %q holds %U at %d", s, q, r, i)
		}
		if got, ok := unquote(q); !ok || got != s {
			t.Fatalf("ShellWord(%q) = %q reads back as %q (ok %v)", s, q, got, ok)
		}
	})
}

// unquote reads a word made of plain characters, '...' runs, \' and
// "$(printf '\ooo...')" pieces: the forms ShellWord writes.
func unquote(q string) (string, bool) {
	var b strings.Builder
	const pf = `"$(printf '`
	for len(q) > 0 {
		switch {
		case strings.HasPrefix(q, pf):
			end := strings.Index(q[len(pf):], `')"`)
			if end < 0 {
				return "", false
			}
			oct := q[len(pf) : len(pf)+end]
			if len(oct)%4 != 0 {
				return "", false
			}
			for i := 0; i < len(oct); i += 4 {
				if oct[i] != '\\' {
					return "", false
				}
				n := 0
				for _, c := range oct[i+1 : i+4] {
					if c < '0' || c > '7' {
						return "", false
					}
					n = n*8 + int(c-'0')
				}
				b.WriteByte(byte(n))
			}
			q = q[len(pf)+end+3:]
		case q[0] == '\'':
			end := strings.IndexByte(q[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(q[1 : 1+end])
			q = q[end+2:]
		case strings.HasPrefix(q, `\'`):
			b.WriteByte('\'')
			q = q[2:]
		case plainShell(rune(q[0])):
			b.WriteByte(q[0])
			q = q[1:]
		default:
			return "", false
		}
	}
	return b.String(), true
}
