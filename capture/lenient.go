package capture

import "bytes"

// This file reads request lines that are not textbook HTTP/1.x but that a
// server would still answer (nginx and Apache answer `GET /path` as HTTP/0.9)
// and that Zeek logs as requests: a missing or malformed version, a missing
// space before HTTP/, extra whitespace, a missing target. Each is a request
// with a reason (detect.Request.Malformed). It runs only where the strict
// parse (parseRequestLine) failed, at a message boundary; resynchronising
// after garbage still looks for strict lines only, so a body or binary data
// never turns into requests.

// Reasons a request line was taken leniently: detect.Request.Malformed.
const (
	malformedNoVersion   = "no_version"              // METHOD target: HTTP/0.9
	malformedGluedProto  = "no_space_before_version" // METHOD /pathHTTP/1.1: HTTP/0.9 too, for servers and Zeek
	malformedNoTarget    = "no_target"               // METHOD HTTP/1.1
	malformedBadVersion  = "bad_version"             // HTTP/1.x, HTTP/2.0, http/1.1
	malformedSpaceTarget = "space_in_target"         // METHOD /a b HTTP/1.1
	malformedAfterProto  = "text_after_version"      // METHOD / HTTP/1.1 junk
	malformedWhitespace  = "whitespace"              // several SP, or HTAB, between the parts (RFC 9112 §3 allows a recipient to accept it)
)

// proto09 is the version of a request line without one (HTTP/0.9).
var proto09 = []byte("HTTP/0.9")

// minMethod09 is the shortest method of a line without a version: Zeek's
// rule (HTTP/0.9 only had GET), which keeps two-word text lines such as an
// SMTP "HI x" from becoming requests.
const minMethod09 = 3

// lenientLine is a request line the strict parse refused, as the lenient
// parse reads it.
type lenientLine struct {
	method, target, proto []byte
	why                   string
	http09                bool // no version: HTTP/0.9, whose request has no header section
}

// parseLenientLine reads line as a request line, leniently: a method token,
// whitespace, then a target and a version in any of the shapes above. ok is
// false for what is not a request line at all: a line with control bytes
// (binary data; HTAB aside), one that does not open with a method token
// followed by whitespace, one with nothing after the method.
func parseLenientLine(line []byte) (l lenientLine, ok bool) {
	if _, _, _, strict := parseRequestLine(line); strict {
		return l, false // "0 HTTP/ HTTP/1.0" is a target named HTTP/, not a missing one
	}
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return l, false
		}
	}
	m := 0
	for m < len(line) && tokenChars[line[m]] {
		m++
	}
	if m == 0 || m > maxMethodLen || m == len(line) || !isWS(line[m]) {
		return l, false
	}
	l.method = line[:m]
	rest := trimWS(line[m:])
	if len(rest) == 0 {
		return l, false
	}
	single := singleSpaced(line)
	// The version is the first word that starts with HTTP/ (any case).
	start, ver := -1, []byte(nil)
	for i := 0; i < len(rest); {
		j := i
		for j < len(rest) && !isWS(rest[j]) {
			j++
		}
		if hasPrefixFold(rest[i:j], "http/") {
			start, ver = i, rest[i:j]
			break
		}
		for j < len(rest) && isWS(rest[j]) {
			j++
		}
		i = j
	}
	if start >= 0 && string(l.method) == "PRI" && string(ver) == "HTTP/2.0" {
		return l, false // HTTP/2's connection preface (RFC 9113 §3.4), not a request
	}
	switch {
	case start == 0:
		l.proto, l.why = ver, malformedNoTarget
	case start > 0:
		l.target, l.proto = trimWS(rest[:start]), ver
		after := trimWS(rest[start+len(ver):])
		switch {
		case !validProto(ver):
			l.why = malformedBadVersion
		case bytes.ContainsAny(l.target, " \t"):
			l.why = malformedSpaceTarget
		case len(after) > 0:
			l.why = malformedAfterProto
		case !single:
			l.why = malformedWhitespace
		default:
			return l, false // strict would have taken it
		}
	default:
		// No version: HTTP/0.9, as nginx, Apache and Zeek read it. A
		// version glued to the target is part of the target for them too.
		if m < minMethod09 || !looksLikeTarget(rest, l.method) {
			return l, false
		}
		l.target, l.proto, l.http09, l.why = rest, proto09, true, malformedNoVersion
		if gluedVersion(rest) {
			l.why = malformedGluedProto
		}
	}
	if len(l.proto) > maxProtoLen {
		l.proto = l.proto[:maxProtoLen] // a version is short; keep what identifies it
	}
	return l, true
}

// looksLikeTarget says whether t, the rest of a line without a version, is
// a request-target (RFC 9112 §3.2): origin-form, absolute-form, asterisk,
// or for CONNECT an authority. Zeek takes any word; asking for a target's
// shape keeps a line of text ("hello there") from becoming a request.
func looksLikeTarget(t []byte, method []byte) bool {
	switch {
	case t[0] == '/', t[0] == '*' && len(t) == 1:
		return true
	case string(method) == "CONNECT":
		return bytes.IndexByte(t, ':') > 0
	}
	i := bytes.Index(t, []byte("://"))
	return i > 0 && validToken(t[:i])
}

// maxProtoLen bounds a malformed version kept as sent.
const maxProtoLen = 16

func isWS(c byte) bool { return c == ' ' || c == '\t' }

func trimWS(b []byte) []byte { return trimOWS(b) }

// singleSpaced reports whether line's words are separated by single SPs.
func singleSpaced(line []byte) bool {
	return bytes.IndexByte(line, '\t') < 0 && !bytes.Contains(line, []byte("  ")) &&
		len(line) > 0 && line[0] != ' ' && line[len(line)-1] != ' '
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix p,
// in any case.
func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && eqFold(b[:len(p)], p)
}

// gluedVersion reports whether target ends in HTTP/d.d with no space before
// it (GET /pathHTTP/1.1).
func gluedVersion(target []byte) bool {
	n := len(target)
	return n > 8 && validProto(target[n-8:])
}

// looksLikeField says whether b starts with a header field line (a token
// then a colon), so that a line without a version is not ended before the
// header section that came with it.
func looksLikeField(b []byte) sniff {
	for i, c := range b {
		switch {
		case c == ':':
			if i == 0 {
				return sniffNo
			}
			return sniffYes
		case !tokenChars[c]:
			return sniffNo
		}
	}
	return sniffNeedMore
}

// http09Alone reads a head that is not all there yet but whose first line
// is a request line without a version (HTTP/0.9) with nothing after it, or
// with something after it that is not a header field: such a request has
// no header section (RFC 1945 §4.1; nginx and Apache answer it at once),
// so it ends with its line. It returns the request's length, or -1 when the
// head must wait for more bytes (a strict line, or field lines following).
func (h *reqHead) http09Alone(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1
	}
	line := b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if _, _, _, ok := parseRequestLine(line); ok {
		return -1
	}
	l, ok := parseLenientLine(line)
	if !ok || !l.http09 {
		return -1
	}
	if rest := b[i+1:]; len(rest) > 0 && looksLikeField(rest) != sniffNo {
		return -1
	}
	h.reset() // field lines the walk took from what follows are not this request's
	h.setLenient(&l)
	return i + 1
}

// http09Headers decides where a request without a version, whose head b
// (of length end) is all there, ends: with its header section when field
// lines follow its line (Zeek reads them), else with its line, so that a
// request line after it stays a request of its own. It returns the length.
func (h *reqHead) http09Headers(b []byte, end int) int {
	i := bytes.IndexByte(b, '\n')
	if looksLikeField(b[i+1:end]) == sniffYes {
		return end
	}
	l := lenientLine{method: h.method, target: h.target, proto: h.proto, why: h.malformed, http09: true}
	h.reset()
	h.setLenient(&l)
	return i + 1
}

// setLenient sets h's request line from a lenient parse. A request without
// a version has no body: servers answer it as HTTP/0.9 without reading one.
func (h *reqHead) setLenient(l *lenientLine) {
	h.method, h.target, h.proto, h.malformed = l.method, l.target, l.proto, l.why
	if l.http09 {
		h.framing, h.ambiguous = framing{}, false
	}
}
