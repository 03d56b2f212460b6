package logsrc

import (
	"errors"
	"fmt"
	"strings"
)

// gunicorn's access_log_format is a Python %-format over a dict of atoms
// (gunicorn/glogging.py, Logger.atoms): %(h)s, %({header}i)s and so on.
// SafeAtoms escapes '"' as \" in every string value and nothing else, and
// gives "-" for an atom that is not there.

// compileGunicornSpec compiles what follows "gunicorn:": the bare format, the
// config line (access_log_format = '...', Python string syntax, adjacent
// strings and parentheses allowed) or the command-line option
// (--access-logformat '...' or --access-logformat='...').
func compileGunicornSpec(spec string) (*Parser, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, errors.New("the gunicorn access_log_format is empty")
	}
	s = findGunicornSetting(s)
	format := s
	switch w := firstWord(s); w {
	case "access_log_format":
		rest := strings.TrimSpace(s[len(w):])
		if !strings.HasPrefix(rest, "=") {
			return nil, errors.New("access_log_format has no '=' after it")
		}
		f, err := pythonString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return nil, fmt.Errorf("access_log_format: %w", err)
		}
		format = f
	case "--access-logformat":
		rest := strings.TrimSpace(strings.TrimPrefix(s[len(w):], "="))
		f, err := shellWord(rest)
		if err != nil {
			return nil, fmt.Errorf("--access-logformat: %w", err)
		}
		format = f
	default:
		if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
			if f, err := pythonString(s); err == nil {
				format = f
			}
		}
	}
	return compileGunicornFormat("gunicorn", format)
}

// findGunicornSetting returns, from a pasted gunicorn.conf.py that does not
// start with it, its access_log_format statement (to the closing
// parenthesis when the value spans lines); else s.
func findGunicornSetting(s string) string {
	if strings.HasPrefix(s, "access_log_format") || strings.HasPrefix(s, "--") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "access_log_format") || !strings.Contains(l, "=") {
			continue
		}
		stmt := l
		if strings.Count(l, "(") > strings.Count(l, ")") {
			for _, more := range lines[i+1:] {
				stmt += "\n" + more
				if strings.Contains(more, ")") {
					break
				}
			}
		}
		return stmt
	}
	return s
}

// pythonString reads Python string literals: one or more, adjacent or in
// parentheses, with an r prefix or not, in single, double or triple quotes,
// and a comment after them.
func pythonString(s string) (string, error) {
	s = strings.TrimSpace(s)
	paren := strings.HasPrefix(s, "(")
	if paren {
		s = s[1:]
	}
	var b strings.Builder
	n := 0
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if paren && strings.HasPrefix(s, ")") {
			s, paren = s[1:], false
			break
		}
		if s == "" || s[0] == '#' {
			break
		}
		raw := false
		for len(s) > 1 && strings.IndexByte("rRuUbB", s[0]) >= 0 && s[1] != '=' {
			if s[0] == 'r' || s[0] == 'R' {
				raw = true
			}
			s = s[1:]
		}
		if s[0] != '\'' && s[0] != '"' {
			return "", fmt.Errorf("want a quoted string, have %q", short(s))
		}
		q := s[:1]
		if strings.HasPrefix(s, q+q+q) {
			q = q + q + q
		}
		s = s[len(q):]
		closed := false
		for len(s) > 0 {
			if strings.HasPrefix(s, q) {
				s = s[len(q):]
				closed = true
				break
			}
			c := s[0]
			if c == '\\' && len(s) > 1 {
				if raw {
					b.WriteByte(c)
					b.WriteByte(s[1])
					s = s[2:]
					continue
				}
				switch e := s[1]; e {
				case '\\', '\'', '"':
					b.WriteByte(e)
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '\n':
				default:
					b.WriteByte('\\')
					b.WriteByte(e)
				}
				s = s[2:]
				continue
			}
			b.WriteByte(c)
			s = s[1:]
		}
		if !closed {
			return "", errors.New("unterminated string")
		}
		n++
	}
	if paren {
		return "", errors.New("unbalanced parenthesis")
	}
	if s = strings.TrimSpace(s); s != "" && s[0] != '#' {
		return "", fmt.Errorf("text after the string: %q", short(s))
	}
	if n == 0 {
		return "", errors.New("no string")
	}
	return b.String(), nil
}

// shellWord reads one shell word: single-quoted (literal), double-quoted
// (\" \\ \$ \` escapes) or bare.
func shellWord(s string) (string, error) {
	if s == "" {
		return "", errors.New("no format after the option")
	}
	switch s[0] {
	case '\'':
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", errors.New("unbalanced ' quote")
		}
		return s[1 : 1+end], nil
	case '"':
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			if c == '"' {
				return b.String(), nil
			}
			if c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
				i++
				c = s[i]
			}
			b.WriteByte(c)
		}
		return "", errors.New("unbalanced \" quote")
	}
	return s, nil
}

// compileGunicornFormat compiles an access_log_format string.
func compileGunicornFormat(label, format string) (*Parser, error) {
	var items []item
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			items = append(items, item{lit: lit.String()})
			lit.Reset()
		}
	}
	s := format
	for len(s) > 0 {
		if s[0] != '%' {
			lit.WriteByte(s[0])
			s = s[1:]
			continue
		}
		if len(s) > 1 && s[1] == '%' {
			lit.WriteByte('%')
			s = s[2:]
			continue
		}
		if len(s) < 2 || s[1] != '(' {
			return nil, fmt.Errorf("access_log_format has %q; gunicorn formats name every value, as %%(h)s", short(s[:min(len(s), 2)]))
		}
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return nil, errors.New(`access_log_format has "%(" without a closing ")"`)
		}
		atom := s[2:end]
		rest := s[end+1:]
		// The conversion: optional flags and width, then s, r, a, d or i.
		j := 0
		for j < len(rest) && strings.IndexByte("#0- +0123456789.", rest[j]) >= 0 {
			j++
		}
		if j >= len(rest) || strings.IndexByte("sradi", rest[j]) < 0 {
			return nil, fmt.Errorf("access_log_format has %%(%s) without a conversion such as s", short(atom))
		}
		display := s[:end+1+j+1]
		s = rest[j+1:]
		flush()
		f := gunicornField(atom, display)
		if atom == "t" {
			items = append(items, item{lit: "["}, item{field: f}, item{lit: "]"})
			continue
		}
		items = append(items, item{field: f})
	}
	flush()
	return assemble(label, items, escQuote, false)
}

// gunicornField makes the field for an atom.
func gunicornField(atom, display string) *field {
	f := &field{name: atom, display: display}
	if len(atom) > 2 && atom[0] == '{' {
		if end := strings.LastIndexByte(atom, '}'); end > 0 && end == len(atom)-2 {
			name := atom[1:end]
			switch atom[end+1] {
			case 'i':
				headerField(f, name)
			case 'e':
				f.name = name // %({api_key_suffix}e)s: a key log field when Keys says so
			}
			return f
		}
	}
	switch atom {
	case "h":
		f.kind = kRemoteAddr
	case "t":
		f.kind = kTimeLocal // [26/Nov/2026:22:17:14 +0000]: the brackets are literals around it
	case "r":
		f.kind = kRequest
	case "s":
		f.kind = kStatus
	case "m":
		f.kind = kMethod
	case "U":
		f.kind = kURI
	case "q":
		f.kind = kArgs
	case "H":
		f.kind = kProto
	case "f":
		f.kind = kReferer
	case "a":
		f.kind = kUserAgent
	}
	return f
}
