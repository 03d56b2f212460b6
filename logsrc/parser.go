package logsrc

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
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
	has         kinds            // the kinds of the fields
	blind       detect.Blindness // fields the format cannot show; BlindKey is set by resolveKeys
	errPrefix   error
	errKind     [numKinds]error // a value of this kind is malformed, naming its field
	werkzeug    bool            // werkzeug's line: banners are skipped, ANSI colours stripped
	json        *jsonFormat     // a JSON format: fields are the leaves of its tree
	headerMap   bool            // JSON: an object of request headers is read (Caddy, Traefik)
	loc         *time.Location  // for times without a zone; nil = time.Local
	sensor      sensorKind      // a format that reads its lines itself (Zeek, Suricata, W3C)
	absTarget   bool            // the request's target is an absolute URL a proxy built from the Host (AWS ALB)
	tsv         *tsvFormat      // Zeek's and W3C's TSV: the columns its header names
	simple      bool            // extractSimple reads the lines (setSimple)
	ev          events          // a line's DNS answer or ClientHello (sensors)

	// auto: candidates are tried until one matches a line, then it is kept.
	auto       bool
	candidates []*Parser
	chosen     *Parser

	// Per-goroutine state.
	keys      *keys.Extractor // the extractor keyRole was resolved for
	redactBuf []byte          // a target or Referer with its key values hidden
	keyRole   []int           // kHeader: HeaderRank; kOpaque: 0 when a key log field; else -1
	buf       []byte          // unescaped values of the current line
	plain     []byte          // werkzeug: the line without ANSI colours
	intern    *source.Interner
	targets   source.Arena          // targets seldom repeat: copied, not interned
	addrs     map[string]netip.Addr // IPv6 client addresses seen
	lastTime  timeMemo
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
	skip    bool // not a request and not an error (ErrNotRequest)
	quiet   bool // with skip: a header line, not even counted as skipped
}

func (e *parseError) Error() string { return e.reason }

// Is makes errors.Is(err, ErrNotRequest) true for skipped lines.
func (e *parseError) Is(target error) bool { return e.skip && target == ErrNotRequest }

var (
	errEmpty        = &parseError{reason: "empty line"}
	errNotHTTP      = &parseError{reason: "request line is not HTTP", notHTTP: true}
	errEmptyRequest = &parseError{reason: "request line is empty (the client sent no request)", notHTTP: true}
	errNoRequest    = &parseError{reason: "line has no request (no method and target)"}
	errBadOrigin    = &parseError{reason: "the Origin column is not an origin (scheme://host[:port] or null): the columns do not line up"}
	// kindProblem is what a malformed value of a kind is said to be.
	kindProblem = [...]string{
		kTimeLocal:    "is not a time like 02/Jan/2006:15:04:05 -0700",
		kTimeISO:      "is not a time like 2006-01-02T15:04:05+00:00",
		kMsec:         "is not a time like 1700000000.123",
		kTimeWerkzeug: "is not a time like 02/Jan/2006 15:04:05",
		kTimeAny:      "is not a time (RFC 3339, 02/Jan/2006:15:04:05 -0700 or seconds since 1970)",
		kTimeFmt:      "is not a time as its %{...}t says",
		kStatus:       "is not a number",
		kStatusOrig:   "is not a number",
		kServerPort:   "is not a port number",
		kClientPort:   "is not a port number",
	}
)

// setKindErrors prebuilds, for each kind of the format that can be
// malformed, the error naming the field (its first one).
func (p *Parser) setKindErrors() {
	for i := len(p.fields) - 1; i >= 0; i-- {
		f := &p.fields[i]
		if int(f.kind) < len(kindProblem) && kindProblem[f.kind] != "" {
			p.errKind[f.kind] = &parseError{reason: f.display + " " + kindProblem[f.kind]}
		}
	}
}

// kindErr is the error for a malformed value of kind k.
func (p *Parser) kindErr(k fieldKind) error {
	if e := p.errKind[k]; e != nil {
		return e
	}
	return &parseError{reason: "a value " + kindProblem[k]}
}

// forWorker returns a parser of the same (decided) format with state of
// its own, for another goroutine: the compiled format is only read while
// parsing, so it is shared.
func (p *Parser) forWorker() *Parser {
	src := p
	if p.auto {
		src = p.chosen
	}
	c := *src
	c.keys, c.redactBuf, c.keyRole, c.buf, c.plain, c.intern, c.addrs = nil, nil, nil, nil, nil, nil, nil
	c.targets = source.Arena{}
	c.auto, c.candidates, c.chosen = false, nil, nil
	return &c
}

// decided reports whether the parser knows its format (auto-detection has
// chosen, or there was none to do).
func (p *Parser) decided() bool { return !p.auto || p.chosen != nil }

// Format names the format the parser reads; for "auto" the one it chose,
// or "auto" while it has not seen a line it could read.
func (p *Parser) Format() string {
	if p.auto && p.chosen != nil {
		return p.chosen.name
	}
	return p.name
}

// SetLocation sets the zone of times a format writes without one
// (werkzeug's, an Apache %{...}t without %z, JSON times without an offset).
// nil means time.Local.
func (p *Parser) SetLocation(loc *time.Location) {
	p.loc = loc
	for _, c := range p.candidates {
		c.loc = loc
	}
}

func (p *Parser) location() *time.Location {
	if p.loc == nil {
		return time.Local
	}
	return p.loc
}

// lineVals is what a format's extraction found in one line: raw (still
// escaped) values by kind, and the key candidates. It lives on the stack.
type lineVals struct {
	seen kinds
	vals [numKinds][]byte
	prio [numKinds]uint8

	tfs [4]tfVal // kTimeFmt values
	ntf int

	bestRank int // key header: rank, name and value
	hdrName  []byte
	hdrVal   []byte
	argVal   []byte
	hasArg   bool
	logVal   []byte // key log field
	hasLog   bool
	kvField  *field // kKeyValue
	kvVal    []byte

	sawPrefixHeader bool // JSON: a header field under the format's prefix was present
	sawHeaders      bool // JSON: the header object was present
}

type tfVal struct {
	f *field
	v []byte
}

// Parse fills r from one line (without the newline). r is reset first, except
// r.Source. It allocates only the strings it keeps, and not even those when
// the value was seen recently. Parse does not modify line. A line the format
// knows is not a request (a banner) gives an error that Is ErrNotRequest.
func (p *Parser) Parse(line []byte, keys *keys.Extractor, r *detect.Request) error {
	if p.auto {
		return p.parseAuto(line, keys, r)
	}
	if p.sensor != sensorNone {
		kind, err := p.parseEvent(line, keys, r)
		if err == nil && kind != kindRequest {
			return errOtherEvent
		}
		return err
	}
	*r = detect.Request{Source: r.Source}
	if isBlank(line) {
		return errEmpty
	}
	if keys != p.keys || p.keyRole == nil {
		p.resolveKeys(keys)
	}
	r.Blind = p.blind
	if cap(p.buf) > 64<<10 {
		p.buf = nil // a huge line once should not pin its buffer for good
	}
	p.buf = p.buf[:0]
	var x lineVals
	x.bestRank = -1
	var err error
	if p.json != nil {
		err = p.extractJSON(line, &x)
		if err == nil && p.json.prefix != "" && !x.sawPrefixHeader {
			// Traefik drops headers by default: a line without any is
			// blind to Origin and Referer, not evidence of their absence.
			r.Blind |= detect.BlindOrigin | detect.BlindReferer
		}
		if err == nil && p.json.optionalHeaders && !x.sawHeaders {
			r.Blind |= detect.BlindOrigin
		}
	} else {
		if p.werkzeug {
			if werkzeugBanner(line) {
				return errBanner
			}
			line = p.stripANSI(line)
		}
		_, err = p.extractLiteral(line, &x)
	}
	if err != nil {
		return err
	}
	return p.build(&x, keys, r)
}

// extractLiteral splits a line by the format's literals and returns where
// it stopped reading (a lenient format may leave a tail).
func (p *Parser) extractLiteral(line []byte, x *lineVals) (int, error) {
	if p.simple {
		if pos, ok := p.extractSimple(line, x); ok {
			return pos, nil
		}
		*x = lineVals{bestRank: -1}
	}
	if !bytes.HasPrefix(line, p.prefix) {
		return 0, p.errPrefix
	}
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
					return 0, f.errMissing
				}
				end = len(line) - len(f.lit)
			} else if end = p.valueEnd(line, pos, f); end < 0 {
				return 0, f.errMissing
			}
			if f.litCount > 0 && bytes.Count(line[pos:], f.lit) > f.litCount {
				return 0, f.errAmbiguous
			}
			v, pos = line[pos:end], end+len(f.lit)
		}
		p.take(i, v, x)
	}
	return pos, nil
}

// extractSimple is extractLiteral for a format of plain fields (see
// setSimple), in one pass without its general cases: each value ends at the
// first byte of its literal, where the literal must then stand, unescaped.
// Where that does not hold it returns false, having taken some values, and
// the general path reads the line again: it finds the same values on a
// line this reads (a literal's first occurrence is found either way) and
// keeps its own errors for the lines this gives up on.
func (p *Parser) extractSimple(line []byte, x *lineVals) (int, bool) {
	if !bytes.HasPrefix(line, p.prefix) {
		return 0, false
	}
	pos := len(p.prefix)
	last := len(p.fields) - 1
	for i := range p.fields {
		f := &p.fields[i]
		lit := f.lit
		var end int
		switch {
		case len(lit) == 0:
			end = len(line)
		case i == last && !p.lenientTail:
			if !bytes.HasSuffix(line[pos:], lit) {
				return 0, false
			}
			end = len(line) - len(lit)
		case f.width > 0 && pos+f.width <= len(line) && bytes.HasPrefix(line[pos+f.width:], lit):
			end = pos + f.width
		default:
			k := bytes.IndexByte(line[pos:], lit[0])
			if k < 0 {
				return 0, false
			}
			end = pos + k
			if !restAt(line, end, lit) || f.quoted && end > pos && line[end-1] == '\\' {
				return 0, false
			}
		}
		p.take(i, line[pos:end], x)
		pos = end + len(lit)
	}
	return pos, true
}

// restAt reports whether lit, whose first byte is at line[at], stands
// there whole. Literals are a few bytes: a loop beats a call to compare.
func restAt(line []byte, at int, lit []byte) bool {
	if len(line)-at < len(lit) {
		return false
	}
	for j := 1; j < len(lit); j++ {
		if line[at+j] != lit[j] {
			return false
		}
	}
	return true
}

// setSimple decides whether extractSimple may read the format's lines: a
// text format whose values each end at the first occurrence of a literal
// (no werkzeug request read to its last literal, no raw values counted for
// ambiguity, no strftime times of varying width), in an escaping mode where
// a quote inside a quoted value is always escaped.
func (p *Parser) setSimple() {
	p.simple = false
	if p.json != nil || p.werkzeug || p.sensor != sensorNone || p.tsv != nil || p.escape == escNone {
		return
	}
	for i := range p.fields {
		f := &p.fields[i]
		if f.last || f.litCount > 0 || f.kind == kTimeFmt {
			return
		}
		switch f.kind {
		case kTimeLocal:
			f.width = len("02/Jan/2006:15:04:05 -0700")
		case kTimeWerkzeug:
			f.width = len("02/Jan/2006 15:04:05")
		}
	}
	p.simple = true
}

// take records the value of field i.
func (p *Parser) take(i int, v []byte, x *lineVals) {
	f := &p.fields[i]
	switch f.kind {
	case kOpaque:
		if p.keyRole[i] >= 0 && !x.hasLog && !absent(v) && !redacted(v) {
			x.logVal, x.hasLog = v, true
		}
	case kHeader:
		if rk := p.keyRole[i]; rk >= 0 && (x.bestRank < 0 || rk < x.bestRank) && !absent(v) && !redacted(v) {
			x.bestRank, x.hdrName, x.hdrVal = rk, f.header, v
		}
	case kArg:
		if p.keyRole[i] >= 0 && !x.hasArg && !absent(v) {
			x.argVal, x.hasArg = v, true
		}
	case kKeyValue:
		if x.kvField == nil && !absent(v) && !redacted(v) {
			x.kvField, x.kvVal = f, v
		}
	case kTimeFmt:
		if x.ntf < len(x.tfs) {
			x.tfs[x.ntf] = tfVal{f, v}
			x.ntf++
		}
	default:
		// A repeated kind: the first (or, in JSON, the preferred) counts.
		if !x.seen.has(f.kind) || f.prio < x.prio[f.kind] {
			x.vals[f.kind] = v
			x.prio[f.kind] = f.prio
			x.seen |= 1 << f.kind
		}
	}
}

// build turns extracted values into the Request.
func (p *Parser) build(x *lineVals, keys *keys.Extractor, r *detect.Request) error {
	if err := p.buildTime(x, r); err != nil {
		return err
	}
	switch {
	case x.seen.has(kStatus):
		st, ok := parseStatus(x.vals[kStatus])
		if !ok {
			return p.kindErr(kStatus)
		}
		r.Status = st
	case x.seen.has(kStatusOrig):
		st, ok := parseStatus(x.vals[kStatusOrig])
		if !ok {
			return p.kindErr(kStatusOrig)
		}
		r.Status = st
	}

	// The request: the request line, else its parts.
	var target, urlHost []byte
	if x.seen.has(kRequest) {
		v := p.unescape(x.vals[kRequest])
		if len(v) == 0 {
			return errEmptyRequest
		}
		method, tgt, proto, http09, ok := splitRequest(v)
		if !ok || string(method) == "-" { // AWS ALB logs "- - - " for what it could not parse
			return errNotHTTP
		}
		r.Method, r.Proto, target = p.method(method), p.proto(proto), tgt
		if http09 {
			r.Proto = "HTTP/0.9"
		}
		if p.absTarget {
			// A proxy's log: the target is the URL it built from the Host.
			if h, t, ok := p.splitURL(target); ok {
				urlHost, target = h, t
			}
		}
	} else {
		if v := x.vals[kMethod]; !absent(v) {
			r.Method = p.method(p.unescape(v))
		}
		if v := x.vals[kProto]; !absent(v) {
			r.Proto = p.proto(p.unescape(v))
		} else if v := x.vals[kHTTPVersion]; !absent(v) {
			r.Proto = p.httpVersion(v)
		}
		switch {
		case !absent(x.vals[kURL]):
			u := p.unescape(x.vals[kURL])
			if h, t, ok := p.splitURL(u); ok {
				urlHost, target = h, t
			} else {
				target = u
			}
		case !absent(x.vals[kRequestURI]):
			target = p.unescape(x.vals[kRequestURI])
		case !absent(x.vals[kURI]):
			uri := p.unescape(x.vals[kURI])
			q := x.vals[kArgs]
			sep := true
			if absent(q) {
				q, sep = x.vals[kQueryQ], false // Apache %q carries its own '?'
			}
			if !absent(q) {
				q = p.unescape(q)
				start := len(p.buf)
				p.buf = append(p.buf, uri...)
				if sep {
					p.buf = append(p.buf, '?')
				}
				p.buf = append(p.buf, q...)
				uri = p.buf[start:]
			}
			target = uri
		}
		if p.json != nil && (r.Method == "" || len(target) == 0) {
			return errNoRequest
		}
	}
	r.Target = p.targets.String(p.redact(target))

	// Host as sent, else the normalised one ($host, %V, Traefik's
	// RequestHost). A server's own name ($server_name, %v) is not what the
	// client sent, so a format with only that is blind to Host.
	// A Host column that says "-" means the client sent none: the
	// normalised one would only be the server's name then.
	for _, k := range [...]fieldKind{kHTTPHost, kHost} {
		if !x.seen.has(k) {
			continue
		}
		if v := x.vals[k]; !absent(v) {
			r.Host, r.HasHost = p.str(p.unescape(v)), true
		}
		break
	}
	if !r.HasHost && len(urlHost) > 0 {
		r.Host, r.HasHost = p.str(urlHost), true
	}
	if v := x.vals[kOrigin]; !absent(v) && !redacted(v) {
		v = p.unescape(v)
		if !originShaped(v) {
			// A column that is not an Origin means the line's columns
			// moved (a lost quote): what sits there may be anything, a
			// key included, so the line is not read as a request.
			return errBadOrigin
		}
		r.Origin, r.HasOrigin = p.str(v), true
	}
	if v := x.vals[kReferer]; !absent(v) && !redacted(v) {
		r.Referer = p.str(p.redact(p.unescape(v)))
	}
	if v := x.vals[kUserAgent]; !absent(v) && !redacted(v) {
		r.UserAgent = p.str(p.unescape(v))
	}
	if err := p.buildAddrs(x, r); err != nil {
		return err
	}

	// The key. A key log field (say $api_key_suffix from a map) comes first:
	// the operator chose it as the key's identity, and a suffix and a whole
	// key of the same key would otherwise count as two keys. Then a key
	// header (best rank), the target's query, a $arg_ of a key parameter.
	if keys != nil {
		fp, ok := "", false
		if x.hasLog {
			fp, ok = keys.FromValue(p.unescape(x.logVal))
		}
		if !ok && x.kvField != nil {
			if len(x.kvField.header) > 0 {
				fp, ok = keys.FromHeader(x.kvField.header, p.unescape(x.kvVal))
			} else {
				fp, ok = keys.FromValue(p.unescape(x.kvVal))
			}
		}
		if !ok && x.bestRank >= 0 {
			fp, ok = keys.FromHeader(x.hdrName, p.unescape(x.hdrVal))
		}
		if !ok && len(target) > 0 {
			fp, ok = keys.FromTarget(target)
		}
		if !ok && x.hasArg {
			fp, ok = keys.FromParam(p.unescape(x.argVal))
		}
		if ok {
			r.Key = fp
		}
	}
	return nil
}

// buildTime sets the event time from the most precise clock the line has.
func (p *Parser) buildTime(x *lineVals, r *detect.Request) error {
	var t time.Time
	var ok bool
	switch {
	case x.seen.has(kMsec):
		if t, ok = parseMsec(x.vals[kMsec]); !ok {
			return p.kindErr(kMsec)
		}
	case x.seen.has(kTimeAny):
		if t, ok = parseTimeAny(x.vals[kTimeAny], p.location()); !ok {
			return p.kindErr(kTimeAny)
		}
	case x.seen.has(kTimeISO):
		if t, ok = p.lastTime.parse(kTimeISO, x.vals[kTimeISO], parseISO); !ok {
			return p.kindErr(kTimeISO)
		}
	}
	if ok {
		r.Time = t
		return nil
	}
	frac := -1
	if x.ntf > 0 {
		var complete bool
		t, frac, complete, ok = p.mergeTimeFmt(x)
		if !ok {
			return p.kindErr(kTimeFmt)
		}
		if complete {
			r.Time = t
			return nil
		}
	}
	switch {
	case x.seen.has(kTimeLocal):
		if t, ok = p.lastTime.parse(kTimeLocal, x.vals[kTimeLocal], parseTimeLocal); !ok {
			return p.kindErr(kTimeLocal)
		}
	case x.seen.has(kTimeWerkzeug):
		if t, ok = parseWerkzeugTime(x.vals[kTimeWerkzeug], p.location()); !ok {
			return p.kindErr(kTimeWerkzeug)
		}
	default:
		if x.ntf > 0 {
			return p.kindErr(kTimeFmt) // pieces of a time, but no date and clock
		}
		return nil
	}
	if frac >= 0 && t.Nanosecond() == 0 {
		t = t.Add(time.Duration(frac)) // %t plus %{msec_frac}t
	}
	r.Time = t
	return nil
}

// buildAddrs sets the client and server addresses.
func (p *Parser) buildAddrs(x *lineVals, r *detect.Request) error {
	port := 0
	if v := x.vals[kClientPort]; !absent(v) {
		n, ok := parsePort(v)
		if !ok {
			return p.kindErr(kClientPort)
		}
		port = n
	}
	switch {
	case !absent(x.vals[kRemoteAddr]):
		if a, ok := p.addr(x.vals[kRemoteAddr]); ok {
			r.Client = netip.AddrPortFrom(a, uint16(port))
		}
	case !absent(x.vals[kRemoteHost]):
		if a, ok := p.addr(x.vals[kRemoteHost]); ok {
			r.Client = netip.AddrPortFrom(a, uint16(port))
		}
	}
	if v := x.vals[kClientAddrPort]; !r.Client.IsValid() && !absent(v) {
		if ap, ok := p.addrPort(v); ok {
			r.Client = ap
		}
	}
	sport := 0
	if v := x.vals[kServerPort]; !absent(v) {
		n, ok := parsePort(v)
		if !ok {
			return p.kindErr(kServerPort)
		}
		sport = n
	}
	if v := x.vals[kServerAddr]; !absent(v) {
		if a, ok := p.addr(v); ok {
			r.Server = netip.AddrPortFrom(a, uint16(sport))
		}
	}
	return nil
}

// resolveKeys decides, once per extractor, which fields can carry a key.
func (p *Parser) resolveKeys(keys *keys.Extractor) {
	p.keys = keys
	if p.keyRole == nil {
		p.keyRole = make([]int, len(p.fields))
	}
	// A key is visible when some field can carry one: a key header, the
	// request's query, a $arg_ parameter, a key log field, a header map.
	seesKey := keys != nil && (p.has&(1<<kRequest|1<<kRequestURI|1<<kURL|1<<kArgs|1<<kQueryQ|1<<kArg|1<<kKeyValue) != 0 || p.headerMap)
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
		case kArg:
			if keys.IsQueryParam(f.header) {
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

// valueEnd finds where field f's value ends. A time of a fixed layout is
// measured, not searched for: it may hold the very literal that ends it
// ($time_local followed by a space, Apache's "%{%d/%b/%Y %T}t").
func (p *Parser) valueEnd(line []byte, pos int, f *field) int {
	w := 0
	switch f.kind {
	case kTimeLocal:
		w = len("02/Jan/2006:15:04:05 -0700")
	case kTimeWerkzeug:
		w = len("02/Jan/2006 15:04:05")
	case kTimeFmt:
		w = f.tf.width(line[pos:])
	}
	if w > 0 && pos+w <= len(line) && bytes.HasPrefix(line[pos+w:], f.lit) {
		return pos + w
	}
	return p.findLit(line, pos, f)
}

// findLit finds the literal that ends field f's value, from pos. Inside
// double quotes an escaped quote (\" in Apache, gunicorn and JSON logs) does
// not end it; in formats that do not escape quotes at all the value ends at
// the literal's last occurrence.
func (p *Parser) findLit(line []byte, pos int, f *field) int {
	if f.last {
		i := bytes.LastIndex(line[pos:], f.lit)
		if i < 0 {
			return -1
		}
		return pos + i
	}
	from := pos
	for {
		i := bytes.Index(line[from:], f.lit)
		if i < 0 {
			return -1
		}
		at := from + i
		if !f.quoted || p.escape == escNone || !escaped(line, pos, at, p.escape) {
			return at
		}
		from = at + 1
	}
}

// escaped reports whether line[at] is escaped within the value starting at
// start: preceded by an odd number of backslashes, or, where backslashes
// are not escaped themselves (gunicorn), by any.
func escaped(line []byte, start, at int, esc escapeMode) bool {
	if esc == escQuote {
		return at > start && line[at-1] == '\\'
	}
	n := 0
	for i := at - 1; i >= start && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// absent reports whether a value stands for "not set": nginx and Apache log
// "-" for a missing variable (and an empty string with escape=json).
func absent(v []byte) bool {
	return len(v) == 0 || (len(v) == 1 && v[0] == '-')
}

// redacted reports whether a value was hidden by the server (Caddy, Traefik
// "redact"): it is no key and no Origin.
func redacted(v []byte) bool { return string(v) == keys.Redacted }

// originShaped reports whether v can be an Origin header's value (RFC 6454
// §7: "null" or scheme "://" host [":" port]), leniently: a trailing slash
// or path as some clients send, but no spaces or quotes.
func originShaped(v []byte) bool {
	if string(v) == "null" {
		return true
	}
	scheme, rest, ok := bytes.Cut(v, []byte("://"))
	if !ok || len(scheme) == 0 || len(rest) == 0 || bytes.ContainsAny(v, " \t\"'<>") {
		return false
	}
	for _, c := range scheme {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// redact hides the values of key parameters in a target or URL (keys.Redact)
// before it is kept; the result is only valid until the next call.
func (p *Parser) redact(u []byte) []byte {
	if p.keys == nil {
		return u
	}
	if out, ok := p.keys.AppendRedacted(p.redactBuf[:0], u); ok {
		p.redactBuf = out
		return out
	}
	return u
}

// unescape undoes the log's escaping of a value. Without escapes it returns v
// itself; otherwise the result lives in p.buf until the next line.
func (p *Parser) unescape(v []byte) []byte {
	if p.escape == escNone || bytes.IndexByte(v, '\\') < 0 {
		return v
	}
	start := len(p.buf)
	switch p.escape {
	case escJSON:
		p.buf = unescapeJSON(p.buf, v)
	case escQuote:
		p.buf = unescapeQuote(p.buf, v)
	default:
		p.buf = unescapeDefault(p.buf, v)
	}
	return p.buf[start:]
}
