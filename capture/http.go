package capture

import (
	"bytes"

	"github.com/rebindwatch/rebindwatch/keys"
)

// This file parses HTTP/1.x message heads as they appear on the wire
// (RFC 9112). It works on byte slices that alias the reassembled stream and
// allocates nothing: the caller makes strings only of what it keeps.

const (
	// maxHeadBytes caps a header block: start line, field lines and the empty
	// line that ends them. A larger one is counted and skipped.
	maxHeadBytes = 64 << 10
	// maxLineBytes caps a start line or chunk-size line kept while looking for
	// a message boundary.
	maxLineBytes = 8 << 10
	// maxKeyRanks is how many configured key headers a request is searched for.
	maxKeyRanks = 8
	// maxMethodLen bounds a method token when sniffing a stream's first bytes.
	maxMethodLen = 32
)

// fault names what was wrong with a message. Its text is shown as a Problem,
// so it never quotes wire bytes (they may hold an API key).
type fault uint8

const (
	faultNone         fault = iota
	faultRequestLine        // not METHOD SP request-target SP HTTP/1.x
	faultStatusLine         // not HTTP/1.x SP 3DIGIT [SP reason]
	faultFieldLine          // a field line without a colon, or with an invalid name
	faultHeadTooLarge       // header block beyond maxHeadBytes
	faultFraming            // Content-Length or Transfer-Encoding unusable
	faultChunk              // bad chunk-size line or missing CRLF after chunk data
	faultTrailer            // trailer section beyond maxHeadBytes
	faultBinary             // NUL in a header block (truncated packet padding or not HTTP)
	faultBufferCap          // an unfinished element outgrew the stream buffer
)

var faultText = [...]string{
	faultNone:         "no fault",
	faultRequestLine:  "request line is not METHOD SP request-target SP HTTP/1.x (RFC 9112 section 3)",
	faultStatusLine:   "status line is not HTTP/1.x SP status-code (RFC 9112 section 4)",
	faultFieldLine:    "malformed header field line ignored (RFC 9112 section 5)",
	faultHeadTooLarge: "header block exceeds 64 KiB; skipped to the next message",
	faultFraming:      "unusable Content-Length or Transfer-Encoding (RFC 9112 section 6.3); skipped to the next message",
	faultChunk:        "malformed chunked body (RFC 9112 section 7.1); skipped to the next message",
	faultTrailer:      "trailer section exceeds 64 KiB; skipped to the next message",
	faultBinary:       "NUL byte in a header block (truncated packet or not HTTP); skipped to the next message",
	faultBufferCap:    "unfinished message outgrew the stream buffer cap; skipped to the next message",
}

func (f fault) String() string {
	if int(f) < len(faultText) {
		return faultText[f]
	}
	return "unknown fault"
}

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
	proto    []byte
	code     int
	framing  framing
	badLines int
}

// framing is what Content-Length and Transfer-Encoding say about a body.
type framing struct {
	http10  bool
	clSeen  bool
	clBad   bool  // invalid or conflicting Content-Length values
	length  int64 // valid when clSeen && !clBad
	teSeen  bool
	chunked bool // chunked is the final transfer coding
	teBad   bool // chunked applied other than last, or more than once
}

var (
	sp    = []byte(" ")
	comma = []byte(",")
	semi  = []byte(";")
)

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

// parseDigits parses 1*DIGIT without overflow.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// contentLength records one Content-Length field. A list of identical
// values ("5, 5") is one value (RFC 9110 §8.6); anything else that is not
// 1*DIGIT, or differs from an earlier value, makes the framing unusable:
// that is how request smuggling starts (RFC 9112 §6.3 item 5).
func (f *framing) contentLength(v []byte) {
	for len(v) > 0 || !f.clSeen {
		var part []byte
		part, v, _ = bytes.Cut(v, comma)
		n, ok := parseDigits(trimOWS(part))
		switch {
		case !ok:
			f.clBad = true
		case f.clSeen && n != f.length:
			f.clBad = true
		}
		f.clSeen, f.length = true, n
		if f.clBad {
			return
		}
	}
}

// transferEncoding records one Transfer-Encoding field. chunked must be the
// final coding and appear once (RFC 9112 §6.1); codings of later fields
// follow those of earlier ones.
func (f *framing) transferEncoding(v []byte) {
	f.teSeen = true
	for len(v) > 0 {
		var c []byte
		c, v, _ = bytes.Cut(v, comma)
		c = trimOWS(c)
		if len(c) == 0 {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		if f.chunked {
			f.teBad = true // a coding after chunked
		}
		f.chunked = eqFold(c, "chunked")
	}
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

// parseRequestAt parses the request head at the start of b: the request
// line and the field lines up to the empty line, which it finds (as
// headEnd does) in the same pass. It returns the head's length, or -1 when
// b does not hold all of it yet. It fails only when the request line is
// unusable; malformed field lines are counted in badLines. keys may be nil.
func parseRequestAt(b []byte, h *reqHead, keys *keys.Extractor, fold *[]byte) (int, fault) {
	h.reset()
	*fold = (*fold)[:0]
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1, faultNone
	}
	bad, used := headerLines(b[i+1:], fold, func(name, value []byte) {
		h.field(name, value, keys)
	})
	if used < 0 {
		return -1, faultNone
	}
	end := i + 1 + used
	if bytes.IndexByte(b[:end], 0) >= 0 {
		return end, faultBinary
	}
	line := b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	m, t, p, ok := parseRequestLine(line)
	if !ok {
		return end, faultRequestLine
	}
	h.method, h.target, h.proto = m, t, p
	h.framing.http10 = p[7] == '0'
	h.badLines = bad
	return end, faultNone
}

// reset clears h for the next head. The key header arrays are left as
// they are: keyMask says which entries hold anything.
func (h *reqHead) reset() {
	h.method, h.target, h.proto = nil, nil, nil
	h.host, h.hasHost, h.dupHost = nil, false, false
	h.origin, h.hasOrigin, h.referer, h.userAgent = nil, false, nil, nil
	h.keyMask = 0
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
	}
	if keys != nil {
		if r := keys.HeaderRank(name); r >= 0 && r < maxKeyRanks && h.keyMask&(1<<r) == 0 {
			h.keyName[r], h.keyVal[r] = name, value
			h.keyMask |= 1 << r
		}
	}
}

// bodyKind is how a message's body is delimited.
type bodyKind uint8

const (
	bodyNone   bodyKind = iota // no body: the next message follows the head
	bodyLength                 // Content-Length bytes
	bodyChunked
	bodyClose  // until the connection closes (responses only)
	bodyBroken // framing unusable: find the next message by scanning
)

// requestBody decides a request's body (RFC 9112 §6.3 items 3-6): chunked
// wins over Content-Length; any other transfer coding, or one sent by an
// HTTP/1.0 client (§6.1), makes the framing unusable; no framing fields
// means no body.
func (h *reqHead) requestBody() (bodyKind, int64) {
	f := &h.framing
	if f.teSeen {
		h.ambiguous = f.clSeen
		if f.http10 || !f.chunked || f.teBad {
			return bodyBroken, 0
		}
		return bodyChunked, 0
	}
	if f.clSeen {
		if f.clBad {
			return bodyBroken, 0
		}
		if f.length > 0 {
			return bodyLength, f.length
		}
	}
	return bodyNone, 0
}

// parseResponseAt is parseRequestAt for a response head: the status line
// and its field lines, of which only the framing fields matter here.
func parseResponseAt(b []byte, h *respHead, fold *[]byte) (int, fault) {
	*h = respHead{}
	*fold = (*fold)[:0]
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return -1, faultNone
	}
	bad, used := headerLines(b[i+1:], fold, func(name, value []byte) {
		switch {
		case len(name) == 14 && eqFold(name, "content-length"):
			h.framing.contentLength(value)
		case len(name) == 17 && eqFold(name, "transfer-encoding"):
			h.framing.transferEncoding(value)
		}
	})
	if used < 0 {
		return -1, faultNone
	}
	end := i + 1 + used
	if bytes.IndexByte(b[:end], 0) >= 0 {
		return end, faultBinary
	}
	line := b[:i]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
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

// responseBody decides a response's body (RFC 9112 §6.3): none for HEAD,
// 1xx, 204 and 304; chunked when it is the final coding, else until close;
// Content-Length; else until close.
func (h *respHead) responseBody(head bool) (bodyKind, int64) {
	f := &h.framing
	switch {
	case head, h.code < 200, h.code == 204, h.code == 304:
		return bodyNone, 0
	case f.teSeen:
		if f.chunked && !f.teBad && !f.http10 {
			return bodyChunked, 0
		}
		return bodyClose, 0
	case f.clSeen:
		if f.clBad {
			return bodyBroken, 0
		}
		if f.length > 0 {
			return bodyLength, f.length
		}
		return bodyNone, 0
	}
	return bodyClose, 0
}

// parseChunkSize parses a chunk-size line: 1*HEXDIG, then chunk extensions
// which are ignored (RFC 9112 §7.1, §7.1.1, BWS before ';' allowed).
func parseChunkSize(line []byte) (int64, bool) {
	size, _, _ := bytes.Cut(line, semi)
	size = trimOWS(size)
	if len(size) == 0 || len(size) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range size {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// sniff is what the first bytes of a stream direction look like.
type sniff uint8

const (
	sniffNeedMore sniff = iota
	sniffYes
	sniffNo
)

// looksLikeRequest says whether b can start a request line: a method token
// then SP then a target. It decides as soon as it can, so a TLS ClientHello
// or an SSH banner is rejected on its first bytes.
func looksLikeRequest(b []byte) sniff {
	for i, c := range b {
		switch {
		case c == ' ':
			if i == 0 {
				return sniffNo
			}
			if i+1 == len(b) {
				return sniffNeedMore
			}
			if b[i+1] <= ' ' || b[i+1] == 0x7f {
				return sniffNo
			}
			return sniffYes
		case !tokenChars[c], i >= maxMethodLen:
			return sniffNo
		}
	}
	return sniffNeedMore
}

// looksLikeResponse says whether b can start a status line.
func looksLikeResponse(b []byte) sniff {
	const p = "HTTP/1."
	n := min(len(b), len(p))
	if string(b[:n]) != p[:n] {
		return sniffNo
	}
	if n < len(p) {
		return sniffNeedMore
	}
	return sniffYes
}

// startKind is the kind of start line a scan looks for.
type startKind uint8

const (
	wantRequest  startKind = 1 << iota // request line: client side
	wantResponse                       // status line: server side
)

// findStart looks for the first line of b that is a complete start line of
// a wanted kind, for resynchronising after a gap or an error. A line may
// begin at b[0] only when lineStart says so; after that, after each LF, and
// after a run of NULs (the padding that stands for bytes a truncated packet
// lost). It returns the line's offset and kind, or -1 and the offset from
// which b must be kept because an unfinished start line may begin there
// (len(b) when nothing needs keeping).
func findStart(b []byte, lineStart bool, want startKind) (at int, kind startKind, keep int) {
	p := 0
	if !lineStart {
		// The first candidate is after the first LF, or after the last NUL
		// before it.
		end := bytes.IndexByte(b, '\n')
		lim := end
		if end < 0 {
			lim = len(b)
		}
		switch z := bytes.LastIndexByte(b[:lim], 0); {
		case z >= 0:
			p = z + 1
		case end < 0:
			return -1, 0, len(b)
		default:
			p = end + 1
		}
	}
	for p <= len(b) {
		i := bytes.IndexByte(b[p:], '\n')
		if i < 0 {
			// Unfinished last line: keep it if a start line could begin
			// there (after any NUL padding).
			tail := b[p:]
			if z := bytes.LastIndexByte(tail, 0); z >= 0 {
				p += z + 1
				tail = b[p:]
			}
			if len(tail) <= maxLineBytes && couldStart(tail, want) {
				return -1, 0, p
			}
			return -1, 0, len(b)
		}
		line := b[p : p+i]
		start := p
		if z := bytes.LastIndexByte(line, 0); z >= 0 {
			start += z + 1
			line = line[z+1:]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if k := startLineKind(line, want); k != 0 {
			return start, k, 0
		}
		p += i + 1
	}
	return -1, 0, len(b)
}

// startLineKind says which wanted kind of start line line is, or 0. The
// cheap fixed-position checks come first so scanning a body costs little.
func startLineKind(line []byte, want startKind) startKind {
	if want&wantRequest != 0 && len(line) > 10 && bytes.HasPrefix(line[len(line)-9:], []byte(" HTTP/1.")) {
		if _, _, _, ok := parseRequestLine(line); ok {
			return wantRequest
		}
	}
	if want&wantResponse != 0 && bytes.HasPrefix(line, []byte("HTTP/1.")) {
		if _, _, ok := parseStatusLine(line); ok {
			return wantResponse
		}
	}
	return 0
}

// couldStart says whether an unfinished line may become a wanted start line.
func couldStart(b []byte, want startKind) bool {
	if len(b) == 0 {
		return true
	}
	return (want&wantRequest != 0 && looksLikeRequest(b) != sniffNo) ||
		(want&wantResponse != 0 && looksLikeResponse(b) != sniffNo)
}

// absoluteAuthority returns the authority of an absolute-form
// request-target ("http://user@api.example.com:8080/x" gives
// "api.example.com:8080", RFC 9112 §3.2.2, RFC 3986 §3.2) and its scheme.
// The userinfo is dropped: it is not part of the host a server checks.
func absoluteAuthority(target []byte) (auth, scheme []byte, ok bool) {
	i := bytes.Index(target, []byte("://"))
	if i <= 0 || !validScheme(target[:i]) {
		return nil, nil, false
	}
	scheme, rest := target[:i], target[i+3:]
	if end := bytes.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if at := bytes.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	return rest, scheme, true
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
func validScheme(b []byte) bool {
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(b) > 0
}

// sameAuthority says whether a URI authority and a Host header name the
// same host and port: case-insensitive, a trailing dot ignored, the
// scheme's default port (http 80, https 443) the same as none.
func sameAuthority(auth, host, scheme []byte) bool {
	a, ap := splitAuthority(auth)
	h, hp := splitAuthority(host)
	def := ""
	switch {
	case eqFold(scheme, "http"), eqFold(scheme, "ws"):
		def = "80"
	case eqFold(scheme, "https"), eqFold(scheme, "wss"):
		def = "443"
	}
	if string(ap) == def {
		ap = nil
	}
	if string(hp) == def {
		hp = nil
	}
	return bytes.EqualFold(a, h) && bytes.Equal(ap, hp)
}

// splitAuthority splits host[:port] (IPv6 literals in brackets) and drops
// a trailing dot from the host.
func splitAuthority(b []byte) (host, port []byte) {
	host = b
	if i := bytes.LastIndexByte(b, ':'); i >= 0 && bytes.IndexByte(b[i:], ']') < 0 {
		host, port = b[:i], b[i+1:]
	}
	if n := len(host); n > 1 && host[n-1] == '.' {
		host = host[:n-1]
	}
	return host, port
}
