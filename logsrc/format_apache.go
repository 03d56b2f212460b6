package logsrc

import (
	"errors"
	"fmt"
	"strings"
)

// Apache httpd's mod_log_config: a LogFormat string is literals and
// %[!][status,...][<>]{arg}X directives; values are escaped by
// ap_escape_logitem (\" \\ \n \t \xhh), which the default decoder reads.

// apacheNicknames are the LogFormat nicknames Debian's apache2.conf defines
// (and httpd's own default config, with %b for %O), so "CustomLog path
// combined" compiles without its LogFormat line.
var apacheNicknames = map[string]string{
	"common":         apacheCommonFormat,
	"combined":       apacheCombinedFormat,
	"vhost_combined": vhostCombinedFormat,
	"referer":        `%{Referer}i -> %U`,
	"agent":          `%{User-agent}i`,
}

// apacheCLF is TransferLog's format when no LogFormat without a nickname
// precedes it.
const apacheCLF = `%h %l %u %t "%r" %>s %b`

// compileApacheSpec compiles what follows "apache:": a bare LogFormat string
// (as it sits between the quotes in the config, \" included, or with the
// quotes) or LogFormat / CustomLog directives pasted from the config.
func compileApacheSpec(spec string) (*Parser, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return nil, errors.New("the Apache LogFormat is empty")
	}
	if hasApacheDirective(s) {
		label, format, err := apacheDirectiveFormat(s)
		if err != nil {
			return nil, err
		}
		return compileApacheFormat(label, format, false)
	}
	format := ""
	if args, err := apacheArgs(s); err == nil && len(args) == 1 && (s[0] == '"' || s[0] == '\'') {
		format = args[0]
	} else {
		format = configUnquote(s, '"')
	}
	return compileApacheFormat("apache", format, false)
}

// apacheDirectiveFormat finds the format of pasted directives: the last
// CustomLog's (its inline format or its nickname, looked up among the pasted
// LogFormat lines and the standard nicknames), else the last LogFormat's.
func apacheDirectiveFormat(s string) (label, format string, err error) {
	defs := map[string]string{}
	var lastFormat, lastNick, lastUnnamed string
	var custom []string
	for _, d := range apacheLines(s) {
		args, err := apacheArgs(d.text)
		if err != nil {
			return "", "", err
		}
		if len(args) == 0 {
			continue
		}
		switch strings.ToLower(args[0]) {
		case "logformat":
			if len(args) < 2 {
				return "", "", errors.New("LogFormat has no format string")
			}
			lastFormat, lastNick = args[1], ""
			if len(args) > 2 {
				lastNick = args[2]
				defs[args[2]] = args[1]
			} else {
				lastUnnamed = args[1]
			}
		case "customlog", "globallog":
			if len(args) < 3 {
				return "", "", fmt.Errorf("%s needs a file and a format or nickname", args[0])
			}
			custom = args
		case "transferlog":
			f := lastUnnamed
			if f == "" {
				f = apacheCLF
			}
			custom = []string{args[0], "", f}
		default:
			// Other directives pasted along (SetEnvIf, <VirtualHost>): not ours.
		}
	}
	if custom != nil {
		f := custom[2]
		if strings.IndexByte(f, '%') >= 0 {
			return "apache", f, nil
		}
		if d, ok := defs[f]; ok {
			return "apache:" + short(f), d, nil // a name shown as it is, escaped
		}
		if d, ok := apacheNicknames[f]; ok {
			return "apache:" + f, d, nil
		}
		return "", "", fmt.Errorf("CustomLog uses the nickname %q, which is not a standard one; paste its LogFormat line too", short(f))
	}
	if lastFormat == "" {
		return "", "", errors.New("no LogFormat or CustomLog directive found")
	}
	label = "apache"
	if lastNick != "" {
		label = "apache:" + short(lastNick)
	}
	return label, lastFormat, nil
}

// hasApacheDirective reports whether s has a line that is a LogFormat,
// CustomLog, GlobalLog or TransferLog directive (a pasted config chunk).
func hasApacheDirective(s string) bool {
	for _, l := range apacheLines(s) {
		switch strings.ToLower(firstWord(l.text)) {
		case "logformat", "customlog", "globallog", "transferlog":
			return true
		}
	}
	return false
}

// confLine is one logical line of an Apache config (continuations joined).
type confLine struct {
	text string
	line int
}

// apacheLines splits config text into logical lines: a trailing backslash
// continues a line, '#' at the start of a line comments it out.
func apacheLines(s string) []confLine {
	var out []confLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, "\r")
		if cur.Len() == 0 {
			start = i + 1
			t := strings.TrimSpace(l)
			if t == "" || t[0] == '#' {
				continue
			}
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(l[:len(l)-1])
			continue
		}
		cur.WriteString(l)
		out = append(out, confLine{text: strings.TrimSpace(cur.String()), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, confLine{text: strings.TrimSpace(cur.String()), line: start})
	}
	return out
}

// apacheArgs splits a directive line into arguments as ap_getword_conf
// does: white space separates them, '"' or '\” group them, and inside a
// group \<quote> and \\ stand for the character.
func apacheArgs(s string) ([]string, error) {
	var args []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return args, nil
		}
		if q := s[i]; q == '"' || q == '\'' {
			j := i + 1
			for j < len(s) && s[j] != q {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unbalanced %c quote in %q", q, short(s))
			}
			args = append(args, configUnquote(s[i+1:j], q))
			i = j + 1
			continue
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		args = append(args, configUnquote(s[i:j], 0))
		i = j
	}
}

// configUnquote undoes substring_conf's escapes: \\ and \<quote>.
func configUnquote(s string, quote byte) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || (quote != 0 && s[i+1] == quote)) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// compileApacheFormat compiles a LogFormat string (config quoting removed).
func compileApacheFormat(label, format string, lenient bool) (*Parser, error) {
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
		c := s[0]
		if c == '\\' && len(s) > 1 { // parse_log_misc_string
			switch s[1] {
			case '\\':
				lit.WriteByte('\\')
			case 'r':
				lit.WriteByte('\r')
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte('\\')
				s = s[1:]
				continue
			}
			s = s[2:]
			continue
		}
		if c != '%' {
			lit.WriteByte(c)
			s = s[1:]
			continue
		}
		start := format[len(format)-len(s):]
		if len(s) > 1 && s[1] == '%' {
			lit.WriteByte('%')
			s = s[2:]
			continue
		}
		d, rest, err := parseApacheDirective(s[1:])
		if err != nil {
			return nil, fmt.Errorf("LogFormat \"%s\": %w", short(format), err)
		}
		d.display = "%" + start[1:len(start)-len(rest)]
		s = rest
		flush()
		fs, err := apacheFields(d)
		if err != nil {
			return nil, fmt.Errorf("LogFormat \"%s\": %w", short(format), err)
		}
		items = append(items, fs...)
	}
	flush()
	return assemble(label, items, escDefault, lenient)
}

// apacheDirective is one parsed %-directive.
type apacheDirective struct {
	letter  string // "h", "t", "^ti"
	arg     string
	hasArg  bool
	orig    bool // '<'
	final   bool // '>'
	display string
}

const apacheLetters = "aAbBCDefhHiIklLmnopPqrRsStTuUvVXO"

// parseApacheDirective parses what follows '%' (parse_log_item).
func parseApacheDirective(s string) (apacheDirective, string, error) {
	var d apacheDirective
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '!' || c == ',' || (c >= '0' && c <= '9'):
			s = s[1:]
		case c == '<':
			d.orig, d.final = true, false
			s = s[1:]
		case c == '>':
			d.final, d.orig = true, false
			s = s[1:]
		case c == '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return d, "", errors.New(`"%{" without a closing "}"`)
			}
			d.arg, d.hasArg = s[1:end], true
			s = s[end+1:]
		case c == '^' && len(s) >= 3 && (s[1:3] == "ti" || s[1:3] == "to"):
			d.letter = s[:3]
			return d, s[3:], nil
		case strings.IndexByte(apacheLetters, c) >= 0:
			d.letter = s[:1]
			return d, s[1:], nil
		default:
			return d, "", fmt.Errorf("unrecognized LogFormat directive %%%s", short(s[:1]))
		}
	}
	return d, "", errors.New("the format ends inside a %-directive")
}

// apacheFields turns a directive into the items it writes: usually one
// field; %t writes its brackets itself.
func apacheFields(d apacheDirective) ([]item, error) {
	f := &field{name: d.letter, display: d.display}
	switch d.letter {
	case "a":
		f.kind = kRemoteAddr
		if d.arg == "c" {
			f.kind = kRemoteHost // the peer: a proxy when mod_remoteip rewrote %a
		}
	case "h":
		f.kind = kRemoteHost
	case "A":
		f.kind = kServerAddr
	case "H":
		f.kind = kProto
	case "m":
		f.kind = kMethod
	case "r":
		f.kind = kRequest
	case "U":
		f.kind = kURI
	case "q":
		f.kind = kQueryQ
	case "s":
		f.kind = kStatusOrig
		if d.final {
			f.kind = kStatus
		}
	case "v":
		f.kind = kServerName
	case "V":
		f.kind = kHost // UseCanonicalName Off (the default): the Host sent, without its port
	case "p":
		switch d.arg {
		case "", "canonical", "local":
			f.kind = kServerPort
		case "remote":
			f.kind = kClientPort
		}
	case "i":
		headerField(f, d.arg)
	case "e", "n", "C", "o":
		f.name = d.arg // %{API_KEY_SUFFIX}e: a key log field when Keys says so
	case "t":
		if !d.hasArg {
			f.kind = kTimeLocal
			return []item{{lit: "["}, {field: f}, {lit: "]"}}, nil
		}
		layout := d.arg
		switch {
		case strings.HasPrefix(layout, "begin:"):
			layout = layout[len("begin:"):]
		case strings.HasPrefix(layout, "end:"):
			layout, f.end = layout[len("end:"):], true
		}
		tf, err := compileStrftime(layout)
		if err != nil {
			return nil, err
		}
		f.kind, f.tf = kTimeFmt, tf
	}
	return []item{{field: f}}, nil
}

// headerField sets f for a request header named name (Apache %{name}i,
// gunicorn %({name}i)s): the ones a Request has, or a possible key header.
func headerField(f *field, name string) {
	lower := strings.ToLower(name)
	switch lower {
	case "host":
		f.kind = kHTTPHost
	case "origin":
		f.kind = kOrigin
	case "referer":
		f.kind = kReferer
	case "user-agent":
		f.kind = kUserAgent
	default:
		f.kind = kHeader
		f.header = []byte(lower)
	}
}
