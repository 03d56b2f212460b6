package logsrc

import (
	"bytes"
	"time"
)

// werkzeug (Flask's development server) writes, on stderr:
//
//	127.0.0.1 - - [26/Nov/2026 22:17:14] "GET /x HTTP/1.1" 200 -
//
// (werkzeug/serving.py, WSGIRequestHandler.log_request): the time is local
// and has no zone (Options.Location says which), nothing is escaped (the
// path is decoded to an IRI), and in a terminal the request is wrapped in
// ANSI colours by status. Its startup banner shares the stream.

var errBanner = &parseError{reason: "werkzeug banner", skip: true}

// newWerkzeugParser returns the parser for werkzeug's request line.
func newWerkzeugParser() *Parser {
	fields := []field{
		{name: "address", display: "the client address", kind: kRemoteAddr},
		{name: "time", display: "the time", kind: kTimeWerkzeug},
		{name: "request", display: "the request line", kind: kRequest},
		{name: "status", display: "the status", kind: kStatus},
		{name: "size", display: "the size", kind: kOpaque},
	}
	items := []item{
		{field: &fields[0]}, {lit: " - - ["}, {field: &fields[1]}, {lit: `] "`},
		{field: &fields[2]}, {lit: `" `}, {field: &fields[3]}, {lit: " "}, {field: &fields[4]},
	}
	p, err := assemble(nameWerkzeug, items, escNone, false)
	if err != nil {
		panic("logsrc: werkzeug format does not compile: " + err.Error())
	}
	p.werkzeug = true
	// The request is raw (a quote in the target stays a quote), but only the
	// status and the size follow it: the value ends at the last quote.
	p.fields[2].last, p.fields[2].litCount = true, 0
	return p
}

// werkzeugBanner reports whether line is one of the lines werkzeug and
// Flask print around the requests: " * Serving Flask app 'app'",
// " * Running on http://127.0.0.1:5000", " * Debugger PIN: ...",
// "Press CTRL+C to quit", "WARNING: This is a development server. ...",
// and the "code 400, message ..." line it writes before a bad request's
// own line. Colours may wrap them.
func werkzeugBanner(line []byte) bool {
	l := line
	for len(l) > 0 && l[0] == 0x1b { // a leading colour: \x1b[31m\x1b[1mWARNING...
		i := bytes.IndexByte(l, 'm')
		if i < 0 {
			break
		}
		l = l[i+1:]
	}
	switch {
	case bytes.HasPrefix(l, []byte(" * ")):
		return true
	case bytes.HasPrefix(l, []byte("Press CTRL+C to quit")):
		return true
	case bytes.HasPrefix(l, []byte("WARNING: This is a development server.")):
		return true
	}
	// 127.0.0.1 - - [26/Nov/2026 22:17:14] code 400, message Bad request version ('x')
	if i := bytes.Index(l, []byte("] code ")); i > 0 && i < 80 && bytes.Contains(l[i:], []byte(", message ")) {
		return bytes.Contains(l[:i], []byte(" - - ["))
	}
	return false
}

// stripANSI returns line without ANSI CSI sequences (ESC [ params final),
// copied into p.plain, or line itself when it has none.
func (p *Parser) stripANSI(line []byte) []byte {
	if bytes.IndexByte(line, 0x1b) < 0 {
		return line
	}
	p.plain = p.plain[:0]
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == 0x1b && i+1 < len(line) && line[i+1] == '[' {
			j := i + 2
			for j < len(line) && line[j] >= 0x20 && line[j] <= 0x3f { // parameter and intermediate bytes
				j++
			}
			if j < len(line) && line[j] >= 0x40 && line[j] <= 0x7e {
				i = j
				continue
			}
		}
		p.plain = append(p.plain, c)
	}
	return p.plain
}

// parseWerkzeugTime parses "26/Nov/2026 22:17:14" in loc
// (BaseHTTPRequestHandler.log_date_time_string).
func parseWerkzeugTime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) != len("02/Jan/2006 15:04:05") || b[2] != '/' || b[6] != '/' || b[11] != ' ' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, false
	}
	day, ok1 := num(b[0:2])
	year, ok2 := num(b[7:11])
	hour, ok3 := num(b[12:14])
	min, ok4 := num(b[15:17])
	sec, ok5 := num(b[18:20])
	month := monthNum(b[3:6])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month == 0 {
		return time.Time{}, false
	}
	return inLocation(year, month, day, hour, min, sec, 0, loc)
}

// inLocation converts a validated civil time in loc to an instant (UTC).
func inLocation(year, month, day, hour, min, sec, nsec int, loc *time.Location) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc).UTC(), true
}
