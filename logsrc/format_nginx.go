package logsrc

import (
	"errors"
	"fmt"
	"strings"
)

// compileNginxSpec compiles what follows "nginx:".
func compileNginxSpec(spec string) (*Parser, error) {
	name, esc, format, err := parseDirective(findNginxDirective(spec))
	if err != nil {
		return nil, err
	}
	label := "nginx"
	if name != "" {
		label = "nginx:" + short(name) // a name with control bytes is shown escaped
	}
	return compileNginxFormat(label, format, esc, false)
}

// findNginxDirective returns, from a pasted config chunk that does not
// start with it, the log_format directive in it (up to its ';'); else spec.
func findNginxDirective(spec string) string {
	s := strings.TrimSpace(spec)
	if strings.HasPrefix(s, "log_format") {
		return spec
	}
	for off := 0; off < len(s); {
		nl := strings.IndexByte(s[off:], '\n')
		line := s[off:]
		if nl >= 0 {
			line = s[off : off+nl]
		}
		if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "log_format ") || strings.HasPrefix(t, "log_format\t") {
			start := off + len(line) - len(t)
			if _, rest, err := scanNginx(s[start:], 1, true); err == nil {
				return s[start : len(s)-len(rest)]
			}
			return s[start:]
		}
		if nl < 0 {
			break
		}
		off += nl + 1
	}
	return spec
}

// parseDirective extracts the format string from an nginx log_format spec.
// Accepted: the whole directive ("log_format name [escape=x] '..' '..';"),
// the quoted parts alone ("'..' '..'", optionally after escape=x), or the
// bare format string. A spec is bare unless it starts with log_format,
// escape= or a single quote, or it is one double-quoted string: a bare
// format may well start with "$request".
func parseDirective(spec string) (name string, esc escapeMode, format string, err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return "", 0, "", errors.New("the nginx log_format is empty")
	}
	first := s
	if i := strings.IndexAny(s, " \t\r\n"); i >= 0 {
		first = s[:i]
	}
	directive := first == "log_format"
	configLike := directive || strings.HasPrefix(s, "escape=") || s[0] == '\''
	toks, terr := tokenize(s)
	if !configLike && s[0] == '"' {
		// One double-quoted string is the format in quotes; several are more
		// likely a bare format whose lines quote their values.
		configLike = terr == nil && len(toks) == 1 && toks[0].quoted
	}
	if !configLike {
		return "", escDefault, s, nil
	}
	if terr != nil {
		return "", 0, "", terr
	}
	if directive {
		toks = toks[1:]
		if len(toks) == 0 || toks[0].quoted {
			return "", 0, "", errors.New("the log_format directive has no format name after \"log_format\"")
		}
		name = toks[0].text
		toks = toks[1:]
	}
	if len(toks) > 0 && !toks[0].quoted && strings.HasPrefix(toks[0].text, "escape=") {
		switch v := strings.TrimPrefix(toks[0].text, "escape="); v {
		case "default":
			esc = escDefault
		case "json":
			esc = escJSON
		case "none":
			esc = escNone
		default:
			return "", 0, "", fmt.Errorf("log_format has unknown escape=%q (want default, json or none)", short(v))
		}
		toks = toks[1:]
	}
	if len(toks) == 0 {
		return "", 0, "", errors.New("the log_format directive has no format string")
	}
	var b strings.Builder
	for _, t := range toks {
		if t.text == "escape=json" || t.text == "escape=default" || t.text == "escape=none" {
			return "", 0, "", fmt.Errorf("log_format has %s after the format string; it must come before it", t.text)
		}
		b.WriteString(t.text)
	}
	return name, esc, b.String(), nil
}

// token is one argument of an nginx directive.
type token struct {
	text   string
	quoted bool
	line   int // 1-based line of the config it starts on (ServerConfig)
}

// tokenize splits one directive's text the way nginx's config reader does:
// whitespace separates arguments, quotes group them (with \" \' \\ \n \r \t
// escapes), '#' starts a comment, and ';' ends the directive.
func tokenize(s string) ([]token, error) {
	toks, rest, err := scanNginx(s, 1, true)
	if err != nil {
		return nil, err
	}
	if r := strings.TrimSpace(rest); r != "" && r[0] != '#' {
		return nil, fmt.Errorf("log_format has text after its closing \";\": \"%s\"", short(r))
	}
	return toks, nil
}

// scanNginx reads tokens from s until a ';' (returned in rest, after it), a
// '{' or '}' (returned as their own unquoted tokens when stopAtSemi is
// false), or the end. Lines are counted from line.
func scanNginx(s string, line int, stopAtSemi bool) (toks []token, rest string, err error) {
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == ';':
			if stopAtSemi {
				return toks, s[i+1:], nil
			}
			toks = append(toks, token{text: ";", line: line})
			i++
		case (c == '{' || c == '}') && !stopAtSemi:
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			start := line
			j := i + 1
			closed := false
			for j < len(s) {
				d := s[j]
				if d == c {
					closed = true
					break
				}
				if d == '\n' {
					line++
				}
				if d == '\\' && j+1 < len(s) {
					switch e := s[j+1]; e {
					case '"', '\'', '\\':
						b.WriteByte(e)
						j += 2
						continue
					case 'n':
						b.WriteByte('\n')
						j += 2
						continue
					case 'r':
						b.WriteByte('\r')
						j += 2
						continue
					case 't':
						b.WriteByte('\t')
						j += 2
						continue
					}
				}
				b.WriteByte(d)
				j++
			}
			if !closed {
				return nil, "", fmt.Errorf("log_format has an unbalanced %c quote: the string starting at byte %d is never closed", c, i+1)
			}
			toks = append(toks, token{text: b.String(), quoted: true, line: start})
			i = j + 1
			if i < len(s) && !strings.ContainsRune(" \t\r\n;{}", rune(s[i])) {
				return nil, "", fmt.Errorf("log_format has text right after a closing %c quote at byte %d; separate the quoted parts with spaces", c, i+1)
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n;", rune(s[j])) && (stopAtSemi || (s[j] != '{' && s[j] != '}')) {
				j++
			}
			toks = append(toks, token{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, "", nil
}

// compileNginxFormat compiles a log_format string.
func compileNginxFormat(label, format string, esc escapeMode, lenient bool) (*Parser, error) {
	var items []item
	i := 0
	var lit []byte
	for i < len(format) {
		c := format[i]
		if c != '$' {
			lit = append(lit, c)
			i++
			continue
		}
		start := i
		i++
		var name string
		if i < len(format) && format[i] == '{' {
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("log_format has \"${\" without a closing \"}\" at byte %d", start+1)
			}
			name = format[i+1 : i+end]
			i += end + 1
			if name == "" || !isVarName(name) {
				return nil, fmt.Errorf("log_format has an invalid variable name %q at byte %d", short("${"+name+"}"), start+1)
			}
		} else {
			j := i
			for j < len(format) && isVarByte(format[j]) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("log_format has a \"$\" without a variable name at byte %d (write a literal dollar sign some other way)", start+1)
			}
			name = format[i:j]
			i = j
		}
		if len(lit) > 0 {
			items = append(items, item{lit: string(lit)})
			lit = lit[:0]
		}
		f := newNginxField(name)
		items = append(items, item{field: &f})
	}
	if len(lit) > 0 {
		items = append(items, item{lit: string(lit)})
	}
	return assemble(label, items, esc, lenient)
}

func isVarByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func isVarName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isVarByte(s[i]) {
			return false
		}
	}
	return true
}

var nginxKinds = map[string]fieldKind{
	"remote_addr":     kRemoteAddr,
	"remote_port":     kClientPort,
	"time_local":      kTimeLocal,
	"time_iso8601":    kTimeISO,
	"msec":            kMsec,
	"request":         kRequest,
	"request_method":  kMethod,
	"request_uri":     kRequestURI,
	"uri":             kURI,
	"document_uri":    kURI,
	"args":            kArgs,
	"query_string":    kArgs,
	"is_args":         kIsArgs,
	"server_protocol": kProto,
	"status":          kStatus,
	"http_host":       kHTTPHost,
	"host":            kHost,
	"server_name":     kServerName,
	"server_addr":     kServerAddr,
	"server_port":     kServerPort,
	"http_origin":     kOrigin,
	"http_referer":    kReferer,
	"http_user_agent": kUserAgent,
}

// newNginxField makes the field for variable name (without "$").
func newNginxField(name string) field {
	lower := strings.ToLower(name)
	f := field{name: name, display: "$" + name}
	if k, ok := nginxKinds[lower]; ok {
		f.kind = k
		return f
	}
	switch {
	case strings.HasPrefix(lower, "http_") && len(lower) > len("http_"):
		f.kind = kHeader
		f.header = []byte(strings.ReplaceAll(lower[len("http_"):], "_", "-"))
	case strings.HasPrefix(lower, "arg_") && len(lower) > len("arg_"):
		f.kind = kArg
		f.header = []byte(name[len("arg_"):])
	}
	return f
}
