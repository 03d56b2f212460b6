package logsrc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// The predefined formats. nginx's "combined" is built in (ngx_http_log_module);
// Apache's combined LogFormat, %h %l %u %t \"%r\" %>s %b \"%{Referer}i\"
// \"%{User-agent}i\", writes the same line shape, and "common" is either
// without the last two fields.
const (
	combinedFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
	commonFormat   = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`
)

// Format names as they appear in specs, notes and messages.
const (
	nameAuto           = "auto"
	nameNginxCombined  = "nginx-combined"
	nameApacheCombined = "apache-combined"
	nameCommon         = "common"
)

// ErrUnknownFormat is wrapped by the errors for a format spec that names no
// known format and for input whose first lines auto-detection cannot read:
// both are the user's to fix (a usage error, not a failure).
var ErrUnknownFormat = errors.New("unknown log format")

// formatHint is the list of --log-format values an error suggests.
const formatHint = "auto, nginx-combined, apache-combined, common or nginx:'<log_format>'"

// escapeMode is how variable values were escaped when the line was written.
type escapeMode uint8

const (
	// escDefault is nginx's default (\xHH for '"', '\\', bytes < 0x20 and
	// > 0x7e); Apache's \" \\ \n \t are accepted too, since nginx never writes
	// a raw backslash in this mode.
	escDefault escapeMode = iota
	escJSON               // nginx escape=json: \" \\ \n \r \t \b \f \uXXXX
	escNone               // nginx escape=none: values are raw
)

// Compile parses a format spec (as for Options.Format): "auto",
// "nginx-combined", "apache-combined", "common", or "nginx:" followed by an
// nginx log_format string, bare, in quotes, or as the whole directive
// ("log_format name [escape=...] '...' '...';", several lines allowed). The
// error is one sentence naming what is wrong.
func Compile(spec string) (*Parser, error) {
	s := strings.TrimSpace(spec)
	switch s {
	case "", nameAuto:
		return newAutoParser(), nil
	case nameNginxCombined, "combined":
		return compileFormat(nameNginxCombined, combinedFormat, escDefault, true)
	case nameApacheCombined:
		return compileFormat(nameApacheCombined, combinedFormat, escDefault, true)
	case nameCommon, "nginx-common", "apache-common":
		return compileFormat(nameCommon, commonFormat, escDefault, true)
	case "werkzeug", "caddy", "json":
		return nil, fmt.Errorf("log format %q is not supported yet; use %s", s, formatHint)
	}
	family, rest, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("%w %q; use %s", ErrUnknownFormat, s, formatHint)
	}
	switch family {
	case "nginx":
		return compileNginxSpec(rest)
	case "apache", "gunicorn":
		return nil, fmt.Errorf("log format family %q is not supported yet; use %s", family, formatHint)
	}
	return nil, fmt.Errorf("%w family %q in %q; use %s", ErrUnknownFormat, family, s, formatHint)
}

// compileNginxSpec compiles what follows "nginx:".
func compileNginxSpec(spec string) (*Parser, error) {
	name, esc, format, err := parseDirective(spec)
	if err != nil {
		return nil, err
	}
	label := "nginx"
	if name != "" {
		label = "nginx:" + detect.Sanitize(name)
	}
	return compileFormat(label, format, esc, false)
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
			return "", 0, "", fmt.Errorf("log_format has unknown escape=%q (want default, json or none)", v)
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
}

// tokenize splits directive text the way nginx's config reader does:
// whitespace separates arguments, quotes group them (with \" \' \\ \n \r \t
// escapes), '#' starts a comment, and ';' ends the directive.
func tokenize(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == ';':
			rest := strings.TrimSpace(s[i+1:])
			if rest != "" && rest[0] != '#' {
				return nil, fmt.Errorf("log_format has text after its closing \";\": \"%s\"", short(rest))
			}
			return toks, nil
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				d := s[j]
				if d == c {
					closed = true
					break
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
				return nil, fmt.Errorf("log_format has an unbalanced %c quote: the string starting at byte %d is never closed", c, i+1)
			}
			toks = append(toks, token{text: b.String(), quoted: true})
			i = j + 1
			if i < len(s) && !strings.ContainsRune(" \t\r\n;", rune(s[i])) {
				return nil, fmt.Errorf("log_format has text right after a closing %c quote at byte %d; separate the quoted parts with spaces", c, i+1)
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n;", rune(s[j])) {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// short cuts s for an error message and makes it printable (Go escapes,
// without the quotes around them: the messages add their own).
func short(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// compileFormat turns a log_format string into a Parser: a leading literal,
// then variables each followed by the literal that ends its value.
func compileFormat(label, format string, esc escapeMode, lenient bool) (*Parser, error) {
	p := &Parser{name: label, escape: esc, lenientTail: lenient}
	i := 0
	lit := []byte{}
	var prev *field
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
				return nil, fmt.Errorf("log_format has an invalid variable name %q at byte %d", "${"+name+"}", start+1)
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
		if prev == nil {
			p.prefix = lit
		} else {
			if len(lit) == 0 {
				return nil, fmt.Errorf("log_format has $%s and $%s with nothing between them, so their values cannot be told apart in a line", prev.name, name)
			}
			prev.lit = lit
		}
		lit = []byte{}
		p.fields = append(p.fields, newField(name))
		prev = &p.fields[len(p.fields)-1]
	}
	if prev == nil {
		return nil, fmt.Errorf("log_format \"%s\" has no variables, so its lines carry no request", short(format))
	}
	prev.lit = lit
	for i := range p.fields {
		f := &p.fields[i]
		f.quoted = f.lit != nil && len(f.lit) > 0 && f.lit[0] == '"'
		f.errMissing = &parseError{reason: "line ends before the text after $" + f.name}
		if len(f.lit) == 0 {
			f.errMissing = &parseError{reason: "line ends before $" + f.name}
		}
		p.has |= 1 << f.kind
	}
	if p.has&(1<<kHTTPHost|1<<kHost) == 0 {
		p.blind |= detect.BlindHost
	}
	if p.has&(1<<kOrigin) == 0 {
		p.blind |= detect.BlindOrigin
	}
	if p.has&(1<<kReferer) == 0 {
		p.blind |= detect.BlindReferer
	}
	p.errPrefix = &parseError{reason: fmt.Sprintf("line does not start with %q as %s says", string(p.prefix), label)}
	return p, nil
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

// fieldKind is what a variable's value means for a Request.
type fieldKind uint8

const (
	kOpaque fieldKind = iota // skipped, unless Keys.IsLogField names it
	kRemoteAddr
	kTimeLocal
	kTimeISO
	kMsec
	kRequest
	kMethod
	kRequestURI
	kURI
	kArgs
	kProto
	kStatus
	kHTTPHost
	kHost
	kServerName
	kServerAddr
	kServerPort
	kOrigin
	kReferer
	kUserAgent
	kHeader // another $http_<name>: a key header when Keys says so
	kArg    // $arg_<name>: a query parameter, a key when Keys says so
	numKinds
)

var kindByName = map[string]fieldKind{
	"remote_addr":     kRemoteAddr,
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

// field is one variable of a compiled format.
type field struct {
	name   string // as written, without "$" and braces
	kind   fieldKind
	header []byte // kHeader: the header name ("x-api-key"); kArg: the parameter name
	lit    []byte // the literal that ends the value; empty: the value runs to the end
	quoted bool   // the value sits in double quotes: escaped quotes inside do not end it

	errMissing error // prebuilt so that a bad line costs no allocation
}

func newField(name string) field {
	lower := strings.ToLower(name)
	f := field{name: name}
	if k, ok := kindByName[lower]; ok {
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
