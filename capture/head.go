package capture

import (
	"bytes"

	"github.com/rebindwatch/rebindwatch/keys"
)

// This file parses HTTP/1.x message heads as they appear on the wire
// (RFC 9112): start lines and field lines. It works on byte slices that
// alias the reassembled stream and allocates nothing: the caller makes
// strings only of what it keeps. Where a body ends is framing.go's job.

const (
	// maxHeadBytes caps a header block: start line, field lines and the empty
	// line that ends them. A larger one is counted and skipped.
	maxHeadBytes = 64 << 10
	// maxLineBytes caps a start line or chunk-size line kept while looking for
	// a message boundary.
	maxLineBytes = 8 << 10
	// maxKeyRanks is how many configured key headers a request is searched for.
	maxKeyRanks = 8
)

// reqHead is a parsed request head. Slices alias the parsed bytes, except
// folded values, which live in the parser's fold buffer.
type reqHead struct {
	method, target, proto []byte

	host      []byte
	hasHost   bool
	dupHost   bool
	origin    []byte
	hasOrigin bool
	referer   []byte
	userAgent []byte
	pna       bool   // a private network preflight: Access-Control-Request-Private-Network: true (or -Local-Network)
	malformed string // why the request line was read leniently (lenient.go); "" for a strict one

	// Key header values by rank (detect.KeyExtractor.HeaderRank); keyMask
	// says which ranks are present.
	keyName [maxKeyRanks][]byte
	keyVal  [maxKeyRanks][]byte
	keyMask uint32

	framing   framing
	badLines  int  // malformed field lines, ignored
	ambiguous bool // both Content-Length and Transfer-Encoding (RFC 9112 §6.3 item 3)
}

// respHead is a parsed response head.
type respHead struct {
	proto      []byte
	code       int
	pnaGranted bool // Access-Control-Allow-Private-Network: true (or -Local-Network)
	upgradeH2C bool // Upgrade: h2c (with a 101, the connection goes on in HTTP/2)
	framing    framing
	badLines   int
}

var sp = []byte(" ")

// tokenChars marks tchar (RFC 9110 §5.6.2).
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// validProto reports whether b is HTTP/1.x. Other versions are not HTTP/1
// framing and are not parsed (RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT).
func validProto(b []byte) bool {
	return len(b) == 8 && string(b[:7]) == "HTTP/1." && b[7] >= '0' && b[7] <= '9'
}

// validTarget rejects an empty request-target and control characters; it
// keeps anything else as sent, as a proxy log would (RFC 9112 §3.2).
func validTarget(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}

// parseRequestLine splits "METHOD SP request-target SP HTTP-version"
// (RFC 9112 §3) the way net/http does, with two Cuts on a single space.
// Any method token is accepted (RFC 9110 §9.1).
func parseRequestLine(line []byte) (method, target, proto []byte, ok bool) {
	method, rest, ok1 := bytes.Cut(line, sp)
	target, proto, ok2 := bytes.Cut(rest, sp)
	if !ok1 || !ok2 || !validToken(method) || !validTarget(target) || !validProto(proto) {
		return nil, nil, nil, false
	}
	return method, target, proto, true
}

// parseStatusLine splits "HTTP-version SP status-code SP [reason-phrase]"
// (RFC 9112 §4). Like net/http it accepts a missing reason phrase and the
// space before it.
func parseStatusLine(line []byte) (proto []byte, code int, ok bool) {
	proto, rest, ok1 := bytes.Cut(line, sp)
	if !ok1 || !validProto(proto) {
		return nil, 0, false
	}
	c, _, _ := bytes.Cut(rest, sp)
	if len(c) != 3 {
		return nil, 0, false
	}
	for _, d := range c {
		if d < '0' || d > '9' {
			return nil, 0, false
		}
		code = code*10 + int(d-'0')
	}
	if code < 100 {
		return nil, 0, false
	}
	return proto, code, true
}

// lineAt returns the line that starts at b[pos:], and where the next one
// starts; ok is false when the line is not terminated yet.
func lineAt(b []byte, pos int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(b[pos:], '\n')
	if i < 0 {
		return nil, pos, false
	}
	line = b[pos : pos+i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, pos + i + 1, true
}

// headEnd finds the empty line that ends the head at the start of b
// (RFC 9112 §2.1) and returns the head's length including it, or -1 when b
// does not hold the whole head yet. from is where the previous call stopped
// looking, so a head that arrives a few bytes at a time is scanned once;
// next is where to resume.
func headEnd(b []byte, from int) (end, next int) {
	i := from
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, i
		}
		k := i + j + 1 // start of the next line
		switch {
		case k < len(b) && b[k] == '\n':
			return k + 1, 0
		case k+1 < len(b) && b[k] == '\r' && b[k+1] == '\n':
			return k + 2, 0
		case k >= len(b), k+1 >= len(b) && b[k] == '\r':
			return -1, i + j // resume at this LF once more bytes arrive
		}
		i = k
	}
}

// trimOWS trims optional whitespace (SP, HTAB) from both ends (RFC 9110 §5.6.3).
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// eqFold compares a field name with a lower-case ASCII name.
func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// foldInto joins an obs-fold continuation to a field value with one SP
// (RFC 9112 §5.2). The joined value lives in *buf, which the caller resets
// per head; earlier joined values stay valid because buf only grows.
func foldInto(buf *[]byte, value, cont []byte) []byte {
	start := len(*buf)
	*buf = append(*buf, value...)
	*buf = append(*buf, ' ')
	*buf = append(*buf, cont...)
	return (*buf)[start:len(*buf):len(*buf)]
}

// headerLines walks the field lines of a head (after its start line),
// joining obs-fold continuations, and calls field for each complete field.
// It returns the number of malformed lines, which are ignored, and the
// bytes of rest up to and including the empty line that ends the head, or
// -1 when rest ends before that line (the head is not all there yet).
func headerLines(rest []byte, fold *[]byte, field func(name, value []byte)) (bad, used int) {
	var name, value []byte
	used = -1
	for off := 0; off < len(rest); {
		i := bytes.IndexByte(rest[off:], '\n')
		if i < 0 {
			break // an unterminated line: more bytes to come
		}
		line := rest[off : off+i]
		off += i + 1
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			used = off // the empty line that ends the head
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name == nil {
				// Whitespace-preceded line before the first field, or after
				// a bad one: consumed without processing (RFC 9112 §2.2).
				bad++
				continue
			}
			value = foldInto(fold, value, trimOWS(line))
			continue
		}
		if name != nil {
			field(name, value)
		}
		// The name is a token right up to the colon: no whitespace is
		// allowed between them (RFC 9112 §5.1). One pass finds and checks it.
		j := 0
		for j < len(line) && tokenChars[line[j]] {
			j++
		}
		if j == 0 || j == len(line) || line[j] != ':' {
			bad++
			name, value = nil, nil
			continue
		}
		name, value = line[:j], trimOWS(line[j+1:])
	}
	if name != nil {
		field(name, value)
	}
	return bad, used
}

// walkHead finds the head at the start of b: its start line, without the
// line end, and its field lines, which it hands to field. It returns the
// head's length, or -1 when b does not hold all of it yet; a NUL anywhere
// in the head is faultBinary.
func walkHead(b []byte, fold *[]byte, field func(name, value []byte)) (line []byte, end, bad int, f fault) {
	*fold = (*fold)[:0]
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, -1, 0, faultNone
	}
	bad, used := headerLines(b[i+1:], fold, field)
	if used < 0 {
		return nil, -1, 0, faultNone
	}
	end = i + 1 + used
	if bytes.IndexByte(b[:end], 0) >= 0 {
		return nil, end, bad, faultBinary
	}
	line = b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, end, bad, faultNone
}

// parseRequestAt parses the request head at the start of b: the request
// line and the field lines up to the empty line, which it finds (as
// headEnd does) in the same pass. It returns the head's length, or -1 when
// b does not hold all of it yet. It fails only when the request line is
// unusable; malformed field lines are counted in badLines. A request line
// the strict parse refuses is read leniently (lenient.go), and one without
// a version may end with its line. keys may be nil.
func parseRequestAt(b []byte, h *reqHead, keys *keys.Extractor, fold *[]byte) (int, fault) {
	h.reset()
	line, end, bad, f := walkHead(b, fold, func(name, value []byte) {
		h.field(name, value, keys)
	})
	if end < 0 {
		return h.http09Alone(b), faultNone
	}
	if f != faultNone {
		return end, f
	}
	h.badLines = bad
	m, t, p, ok := parseRequestLine(line)
	if ok {
		h.method, h.target, h.proto = m, t, p
		h.framing.http10 = p[7] == '0'
		return end, faultNone
	}
	l, ok := parseLenientLine(line)
	if !ok {
		return end, faultRequestLine
	}
	h.setLenient(&l)
	if l.http09 {
		return h.http09Headers(b, end), faultNone
	}
	h.framing.http10 = validProto(l.proto) && l.proto[7] == '0'
	return end, faultNone
}

// reset clears h for the next head. The key header arrays are left as
// they are: keyMask says which entries hold anything.
func (h *reqHead) reset() {
	h.method, h.target, h.proto = nil, nil, nil
	h.host, h.hasHost, h.dupHost = nil, false, false
	h.origin, h.hasOrigin, h.referer, h.userAgent = nil, false, nil, nil
	h.pna, h.keyMask, h.malformed = false, 0, ""
	h.framing, h.badLines, h.ambiguous = framing{}, 0, false
}

// field applies one request field.
func (h *reqHead) field(name, value []byte, keys *keys.Extractor) {
	switch len(name) {
	case 4:
		if eqFold(name, "host") {
			// A second Host is a 400 for a server (RFC 9112 §3.2) and a
			// sign of someone probing; keep the first, note the second.
			if h.hasHost {
				h.dupHost = true
			} else {
				h.host, h.hasHost = value, true
			}
		}
	case 6:
		if eqFold(name, "origin") && !h.hasOrigin {
			h.origin, h.hasOrigin = value, true
		}
	case 7:
		if eqFold(name, "referer") && h.referer == nil {
			h.referer = value
		}
	case 10:
		if eqFold(name, "user-agent") && h.userAgent == nil {
			h.userAgent = value
		}
	case 14:
		if eqFold(name, "content-length") {
			h.framing.contentLength(value)
		}
	case 17:
		if eqFold(name, "transfer-encoding") {
			h.framing.transferEncoding(value)
		}
	case 36:
		if eqFold(name, "access-control-request-local-network") {
			h.pna = h.pna || isTrue(value)
		}
	case 38:
		if eqFold(name, "access-control-request-private-network") {
			h.pna = h.pna || isTrue(value)
		}
	}
	if keys != nil {
		if r := keys.HeaderRank(name); r >= 0 && r < maxKeyRanks && h.keyMask&(1<<r) == 0 {
			h.keyName[r], h.keyVal[r] = name, value
			h.keyMask |= 1 << r
		}
	}
}

// hasTokenFold reports whether the comma-separated list v holds the
// lower-case token t, in any case (RFC 9110 §5.6.1 lists, §7.8 Upgrade).
func hasTokenFold(v []byte, t string) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte(","))
		if eqFold(trimOWS(item), t) {
			return true
		}
	}
	return false
}

// isTrue reports whether a Private Network Access header's value is
// "true": the only value the WICG draft defines, compared as browsers do,
// case-sensitively (Fetch's CORS checks compare header values byte for
// byte), so a server answering "True" has not granted anything.
func isTrue(value []byte) bool { return string(value) == "true" }

// parseResponseAt is parseRequestAt for a response head: the status line
// and its field lines, of which only the framing fields matter here.
func parseResponseAt(b []byte, h *respHead, fold *[]byte) (int, fault) {
	*h = respHead{}
	line, end, bad, f := walkHead(b, fold, func(name, value []byte) {
		switch {
		case len(name) == 14 && eqFold(name, "content-length"):
			h.framing.contentLength(value)
		case len(name) == 17 && eqFold(name, "transfer-encoding"):
			h.framing.transferEncoding(value)
		case len(name) == 7 && eqFold(name, "upgrade"):
			h.upgradeH2C = h.upgradeH2C || hasTokenFold(value, "h2c")
		case len(name) == 36 && eqFold(name, "access-control-allow-private-network"),
			len(name) == 34 && eqFold(name, "access-control-allow-local-network"):
			h.pnaGranted = h.pnaGranted || isTrue(value)
		}
	})
	if end < 0 || f != faultNone {
		return end, f
	}
	p, code, ok := parseStatusLine(line)
	if !ok {
		return end, faultStatusLine
	}
	h.proto, h.code = p, code
	h.framing.http10 = p[7] == '0'
	h.badLines = bad
	return end, faultNone
}
