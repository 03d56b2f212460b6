package logsrc

import (
	"bytes"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Parser turns lines of one log format into Requests. Like a KeyExtractor it
// keeps per-goroutine state (a scratch buffer, an intern table of repeated
// values, the auto-detection choice), so it is not safe for concurrent use:
// Compile one per source goroutine.
type Parser struct {
	name        string
	escape      escapeMode
	prefix      []byte
	fields      []field
	lenientTail bool             // built-in formats: text after the last literal is ignored (nginx "main" adds fields)
	has         uint32           // bit per fieldKind present
	blind       detect.Blindness // fields the format cannot show; BlindKey is set by resolveKeys
	errPrefix   error

	// auto: candidates are tried until one matches a line, then it is kept.
	auto       bool
	candidates []*Parser
	chosen     *Parser

	// Per-goroutine state.
	keys    *detect.KeyExtractor // the extractor keyRole was resolved for
	keyRole []int                // kHeader: HeaderRank; kOpaque: 0 when a key log field; else -1
	buf     []byte               // unescaped values of the current line
	intern  map[string]string
	addrs   map[string]netip.Addr // IPv6 client addresses seen
}

// Intern limits: values longer than maxIntern are not worth a lookup; the
// table is dropped when it reaches internCap entries, which bounds memory
// whatever the log holds.
const (
	maxIntern = 512
	internCap = 8192
	addrCap   = 4096
)

// parseError is why a line did not parse. Values are prebuilt where possible
// so that a flood of bad lines costs no allocation.
type parseError struct {
	reason  string
	notHTTP bool // the line has the format's shape; only its request line is not HTTP
}

func (e *parseError) Error() string { return e.reason }

var (
	errEmpty        = &parseError{reason: "empty line"}
	errNotHTTP      = &parseError{reason: "request line is not HTTP", notHTTP: true}
	errEmptyRequest = &parseError{reason: "request line is empty (the client sent no request)", notHTTP: true}
	errStatus       = &parseError{reason: "$status is not a number"}
	errTime         = [...]*parseError{
		kTimeLocal: {reason: "$time_local is not a time like 02/Jan/2006:15:04:05 -0700"},
		kTimeISO:   {reason: "$time_iso8601 is not a time like 2006-01-02T15:04:05+00:00"},
		kMsec:      {reason: "$msec is not a time like 1700000000.123"},
	}
)

// Format names the format the parser reads; for "auto" the one it chose,
// or "auto" while it has not seen a line it could read.
func (p *Parser) Format() string {
	if p.auto && p.chosen != nil {
		return p.chosen.name
	}
	return p.name
}

func newAutoParser() *Parser {
	combined, err1 := compileFormat(nameNginxCombined, combinedFormat, escDefault, true)
	common, err2 := compileFormat(nameCommon, commonFormat, escDefault, true)
	if err1 != nil || err2 != nil {
		panic("logsrc: built-in format does not compile") // a bug caught by any test
	}
	return &Parser{name: nameAuto, auto: true, candidates: []*Parser{combined, common}}
}

// Parse fills r from one line (without the newline). r is reset first, except
// r.Source. It allocates only the strings it keeps, and not even those when
// the value was seen recently. Parse does not modify line.
func (p *Parser) Parse(line []byte, keys *detect.KeyExtractor, r *detect.Request) error {
	if p.auto {
		return p.parseAuto(line, keys, r)
	}
	*r = detect.Request{Source: r.Source}
	if isBlank(line) {
		return errEmpty
	}
	if keys != p.keys || p.keyRole == nil {
		p.resolveKeys(keys)
	}
	r.Blind = p.blind
	if !bytes.HasPrefix(line, p.prefix) {
		return p.errPrefix
	}
	if cap(p.buf) > 64<<10 {
		p.buf = nil // a huge line once should not pin its buffer for good
	}
	p.buf = p.buf[:0]

	var vals [numKinds][]byte
	var seen uint32
	bestRank, hdrIdx := -1, -1
	var hdrVal, argVal, logVal []byte
	argIdx := -1
	pos := len(p.prefix)
	for i := range p.fields {
		f := &p.fields[i]
		var v []byte
		if len(f.lit) == 0 {
			v, pos = line[pos:], len(line)
		} else {
			var end int
			if i == len(p.fields)-1 && !p.lenientTail {
				if !bytes.HasSuffix(line[pos:], f.lit) {
					return f.errMissing
				}
				end = len(line) - len(f.lit)
			} else if end = p.findLit(line, pos, f); end < 0 {
				return f.errMissing
			}
			v, pos = line[pos:end], end+len(f.lit)
		}
		switch f.kind {
		case kOpaque:
			if p.keyRole[i] >= 0 && logVal == nil && !p.absent(v) {
				logVal = v
			}
		case kHeader:
			if rk := p.keyRole[i]; rk >= 0 && (bestRank < 0 || rk < bestRank) && !p.absent(v) {
				bestRank, hdrIdx, hdrVal = rk, i, v
			}
		case kArg:
			if argIdx < 0 && !p.absent(v) {
				argIdx, argVal = i, v
			}
		default:
			if seen&(1<<f.kind) == 0 { // a repeated variable: the first one counts
				vals[f.kind] = v
				seen |= 1 << f.kind
			}
		}
	}

	// Event time: the most precise clock the format has.
	for _, k := range [...]fieldKind{kMsec, kTimeISO, kTimeLocal} {
		if seen&(1<<k) == 0 {
			continue
		}
		var t time.Time
		var ok bool
		switch k {
		case kMsec:
			t, ok = parseMsec(vals[k])
		case kTimeISO:
			t, ok = parseISO(vals[k])
		default:
			t, ok = parseTimeLocal(vals[k])
		}
		if !ok {
			return errTime[k]
		}
		r.Time = t
		break
	}

	if seen&(1<<kStatus) != 0 {
		st, ok := parseStatus(vals[kStatus])
		if !ok {
			return errStatus
		}
		r.Status = st
	}

	// The request: $request, else its parts.
	var target []byte
	if seen&(1<<kRequest) != 0 {
		v := p.unescape(vals[kRequest])
		if len(v) == 0 {
			return errEmptyRequest
		}
		method, tgt, proto, ok := splitRequest(v)
		if !ok {
			return errNotHTTP
		}
		r.Method, r.Proto, target = p.method(method), p.proto(proto), tgt
	} else {
		if v := vals[kMethod]; !p.absent(v) {
			r.Method = p.method(p.unescape(v))
		}
		if v := vals[kProto]; !p.absent(v) {
			r.Proto = p.proto(p.unescape(v))
		}
		switch {
		case !p.absent(vals[kRequestURI]):
			target = p.unescape(vals[kRequestURI])
		case !p.absent(vals[kURI]):
			uri := p.unescape(vals[kURI])
			if args := vals[kArgs]; !p.absent(args) {
				args = p.unescape(args)
				start := len(p.buf)
				p.buf = append(p.buf, uri...)
				p.buf = append(p.buf, '?')
				p.buf = append(p.buf, args...)
				uri = p.buf[start:]
			}
			target = uri
		}
	}
	r.Target = p.str(target)

	// Host as sent, else nginx's normalised $host. $server_name is the server block's own
	// name, not what the client sent, so a format with only that is blind to Host.
	for _, k := range [...]fieldKind{kHTTPHost, kHost} {
		if seen&(1<<k) == 0 {
			continue
		}
		if v := vals[k]; !p.absent(v) {
			r.Host, r.HasHost = p.str(p.unescape(v)), true
		}
		break
	}
	if v := vals[kOrigin]; !p.absent(v) {
		r.Origin, r.HasOrigin = p.str(p.unescape(v)), true
	}
	if v := vals[kReferer]; !p.absent(v) {
		r.Referer = p.str(p.unescape(v))
	}
	if v := vals[kUserAgent]; !p.absent(v) {
		r.UserAgent = p.str(p.unescape(v))
	}
	if v := vals[kRemoteAddr]; !p.absent(v) {
		if a, ok := p.addr(v); ok {
			r.Client = netip.AddrPortFrom(a, 0)
		}
	}
	if v := vals[kServerAddr]; !p.absent(v) {
		if a, ok := p.addr(v); ok {
			port := 0
			if pv := vals[kServerPort]; len(pv) <= 5 {
				if port, _ = num(pv); port > 65535 {
					port = 0
				}
			}
			r.Server = netip.AddrPortFrom(a, uint16(port))
		}
	}

	// The key. A key log field (say $api_key_suffix from a map) comes first:
	// the operator chose it as the key's identity, and a suffix and a whole
	// key of the same key would otherwise count as two keys. Then a key
	// header (best rank), the target's query, a $arg_ of a key parameter.
	if keys != nil {
		fp, ok := "", false
		if logVal != nil {
			fp, ok = keys.FromValue(p.unescape(logVal))
		}
		if !ok && hdrIdx >= 0 {
			fp, ok = keys.FromHeader(p.fields[hdrIdx].header, p.unescape(hdrVal))
		}
		if !ok && len(target) > 0 {
			fp, ok = keys.FromTarget(target)
		}
		if !ok && argIdx >= 0 {
			start := len(p.buf)
			p.buf = append(p.buf, '?')
			p.buf = append(p.buf, p.fields[argIdx].header...)
			p.buf = append(p.buf, '=')
			p.buf = append(p.buf, argVal...)
			fp, ok = keys.FromTarget(p.buf[start:])
		}
		if ok {
			r.Key = fp
		}
	}
	return nil
}

// parseAuto tries the candidate formats until one reads a line: parses it,
// or matches its shape with a request line that is not HTTP.
func (p *Parser) parseAuto(line []byte, keys *detect.KeyExtractor, r *detect.Request) error {
	if p.chosen != nil {
		return p.chosen.Parse(line, keys, r)
	}
	if isBlank(line) {
		*r = detect.Request{Source: r.Source}
		return errEmpty
	}
	var first error
	for _, c := range p.candidates {
		err := c.Parse(line, keys, r)
		if pe, isPE := err.(*parseError); err == nil || (isPE && pe.notHTTP) {
			p.chosen = c
			return err
		}
		if first == nil {
			first = err
		}
	}
	return &parseError{reason: "no known log format reads this line (as " + nameNginxCombined + ": " + first.Error() + ")"}
}

// resolveKeys decides, once per extractor, which fields can carry a key.
func (p *Parser) resolveKeys(keys *detect.KeyExtractor) {
	p.keys = keys
	if p.keyRole == nil {
		p.keyRole = make([]int, len(p.fields))
	}
	// A key is visible when some field can carry one: a key header, the
	// request's query, a $arg_ parameter, a key log field.
	seesKey := keys != nil && p.has&(1<<kRequest|1<<kRequestURI|1<<kArgs|1<<kArg) != 0
	for i := range p.fields {
		f := &p.fields[i]
		p.keyRole[i] = -1
		if keys == nil {
			continue
		}
		switch f.kind {
		case kHeader:
			p.keyRole[i] = keys.HeaderRank(f.header)
		case kOpaque:
			if keys.IsLogField(f.name) {
				p.keyRole[i] = 0
			}
		}
		if p.keyRole[i] >= 0 {
			seesKey = true
		}
	}
	p.blind &^= detect.BlindKey
	if !seesKey {
		p.blind |= detect.BlindKey
	}
}

// findLit finds the literal that ends field f's value, from pos. Inside
// double quotes an escaped quote (\" in Apache and JSON logs) does not end it.
func (p *Parser) findLit(line []byte, pos int, f *field) int {
	from := pos
	for {
		i := bytes.Index(line[from:], f.lit)
		if i < 0 {
			return -1
		}
		at := from + i
		if !f.quoted || p.escape == escNone || !escaped(line, pos, at) {
			return at
		}
		from = at + 1
	}
}

// escaped reports whether line[at] is preceded, within the value starting at
// start, by an odd number of backslashes.
func escaped(line []byte, start, at int) bool {
	n := 0
	for i := at - 1; i >= start && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// absent reports whether a value stands for "not set": nginx logs "-" for a
// missing variable (and an empty string with escape=json).
func (p *Parser) absent(v []byte) bool {
	return len(v) == 0 || (len(v) == 1 && v[0] == '-')
}

// unescape undoes the log's escaping of a value. Without escapes it returns v
// itself; otherwise the result lives in p.buf until the next line.
func (p *Parser) unescape(v []byte) []byte {
	if p.escape == escNone || bytes.IndexByte(v, '\\') < 0 {
		return v
	}
	start := len(p.buf)
	if p.escape == escJSON {
		p.buf = unescapeJSON(p.buf, v)
	} else {
		p.buf = unescapeDefault(p.buf, v)
	}
	return p.buf[start:]
}

// unescapeDefault appends v with nginx's \xHH and Apache's \" \\ \n \r \t
// undone. Anything else after a backslash is kept as it is.
func unescapeDefault(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			dst = append(dst, c)
			continue
		}
		switch v[i+1] {
		case 'x', 'X':
			if i+3 < len(v) {
				h, ok1 := unhex(v[i+2])
				l, ok2 := unhex(v[i+3])
				if ok1 && ok2 {
					dst = append(dst, h<<4|l)
					i += 3
					continue
				}
			}
			dst = append(dst, c)
		case '"', '\\':
			dst = append(dst, v[i+1])
			i++
		case 'n':
			dst = append(dst, '\n')
			i++
		case 'r':
			dst = append(dst, '\r')
			i++
		case 't':
			dst = append(dst, '\t')
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unescapeJSON appends v with JSON string escapes undone (RFC 8259 §7).
// nginx's escape=json writes bytes >= 0x80 raw; they are kept as they are.
func unescapeJSON(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			dst = append(dst, c)
			continue
		}
		i++
		switch e := v[i]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(v[i+1:])
			if !ok {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if utf16IsHigh(r) {
				if i+6 < len(v) && v[i+1] == '\\' && v[i+2] == 'u' {
					if lo, ok := hex4(v[i+3:]); ok && utf16IsLow(lo) {
						r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
						i += 6
					}
				}
			}
			if r >= 0xd800 && r <= 0xdfff {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, '\\', e)
		}
	}
	return dst
}

func utf16IsHigh(r rune) bool { return r >= 0xd800 && r < 0xdc00 }
func utf16IsLow(r rune) bool  { return r >= 0xdc00 && r < 0xe000 }

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// splitRequest splits a request line (RFC 9112 §3: method SP request-target
// SP HTTP-version) at its first and last space, so a target with spaces in
// it (which nginx logs as received) stays whole. A line of two parts is
// HTTP/0.9. A method that is not a token means the line is not HTTP (TLS
// handshakes, scanners' binary probes).
func splitRequest(v []byte) (method, target, proto []byte, ok bool) {
	sp := bytes.IndexByte(v, ' ')
	if sp <= 0 || sp > 32 {
		return nil, nil, nil, false
	}
	method = v[:sp]
	for _, c := range method {
		if !isTchar(c) {
			return nil, nil, nil, false
		}
	}
	rest := bytes.TrimLeft(v[sp+1:], " ")
	if last := bytes.LastIndexByte(rest, ' '); last >= 0 {
		if pr := rest[last+1:]; bytes.HasPrefix(pr, []byte("HTTP/")) {
			target, proto = bytes.TrimRight(rest[:last], " "), pr
		} else {
			target = rest
		}
	} else {
		target, proto = rest, []byte("HTTP/0.9")
	}
	if len(target) == 0 {
		return nil, nil, nil, false
	}
	return method, target, proto, true
}

// isTchar reports whether c may appear in a token (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// method returns a constant string for the common methods.
func (p *Parser) method(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	}
	return p.str(b)
}

// proto returns a constant string for the common versions.
func (p *Parser) proto(b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	case "HTTP/2.0":
		return "HTTP/2.0"
	case "HTTP/0.9":
		return "HTTP/0.9"
	case "HTTP/3.0":
		return "HTTP/3.0"
	}
	return p.str(b)
}

// str returns b as a string, interned: a value seen recently costs no
// allocation, and repeated values share memory in the engine.
func (p *Parser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxIntern {
		return string(b)
	}
	if s, ok := p.intern[string(b)]; ok {
		return s
	}
	switch {
	case p.intern == nil:
		p.intern = make(map[string]string)
	case len(p.intern) >= internCap:
		clear(p.intern) // keeps the table's memory for the next round
	}
	s := string(b)
	p.intern[s] = s
	return s
}

// addr parses a client or server address: IPv4 by hand (no allocation),
// IPv6 through a small cache. "unix:" sockets and host names give false.
func (p *Parser) addr(v []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(v); ok {
		return a, true
	}
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		v = v[1 : len(v)-1]
	}
	if bytes.IndexByte(v, ':') < 0 || len(v) > 64 {
		return netip.Addr{}, false
	}
	if a, ok := p.addrs[string(v)]; ok {
		return a, a.IsValid()
	}
	a, err := netip.ParseAddr(string(v))
	if err != nil {
		a = netip.Addr{}
	}
	switch {
	case p.addrs == nil:
		p.addrs = make(map[string]netip.Addr)
	case len(p.addrs) >= addrCap:
		clear(p.addrs)
	}
	p.addrs[string(v)] = a
	return a, a.IsValid()
}

// parseIPv4 parses dotted-quad IPv4 without allocating.
func parseIPv4(v []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			ip[part] = byte(n)
			part++
			n, digits = 0, 0
			continue
		}
		c := v[i]
		if c < '0' || c > '9' || (digits > 0 && n == 0) { // no leading zeros
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseStatus reads a 3-digit status; "-" (Apache, no response) is 0.
func parseStatus(v []byte) (int, bool) {
	if len(v) == 1 && v[0] == '-' {
		return 0, true
	}
	if len(v) == 0 || len(v) > 3 {
		return 0, false
	}
	return num(v)
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
