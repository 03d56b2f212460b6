package logsrc

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Zeek writes one log per protocol: http.log (requests), dns.log (DNS
// answers), ssl.log (ClientHellos' server names), as TSV whose header
// (#separator, #fields, #unset_field, ...) says what each column is, or as
// JSON lines (LogAscii::use_json=T) with the same field names. The "zeek"
// format reads both and tells the logs apart by #path, else by their
// fields. What each field means is Zeek's documentation:
// base/protocols/{http,dns,ssl}/main.zeek (HTTP::Info, DNS::Info, SSL::Info).

const nameZeek = "zeek"

// zeekLog is which of Zeek's logs a line belongs to.
type zeekLog uint8

const (
	zeekOther zeekLog = iota // conn.log, files.log, ...: skipped
	zeekHTTP
	zeekDNS
	zeekSSL
)

// colRole is what a column means outside the request fields.
type colRole uint8

const (
	roleNone colRole = iota
	roleTS           // Zeek ts: seconds since 1970
	roleOrigH
	roleOrigP
	roleRespH
	roleRespP
	roleQuery
	roleRcode
	roleQtype
	roleAnswers
	roleTTLs
	roleSNI
	roleDate // W3C date (UTC)
	roleTime // W3C time (UTC)
)

// zeekFields maps Zeek's field names to request kinds and roles.
var zeekFields = map[string]struct {
	kind fieldKind
	role colRole
}{
	"ts":          {kMsec, roleTS},
	"id.orig_h":   {kRemoteAddr, roleOrigH},
	"id.orig_p":   {kClientPort, roleOrigP},
	"id.resp_h":   {kServerAddr, roleRespH},
	"id.resp_p":   {kServerPort, roleRespP},
	"method":      {kMethod, roleNone},
	"host":        {kHTTPHost, roleNone},
	"uri":         {kRequestURI, roleNone},
	"referrer":    {kReferer, roleNone},
	"version":     {kHTTPVersion, roleNone},
	"user_agent":  {kUserAgent, roleNone},
	"origin":      {kOrigin, roleNone},
	"status_code": {kStatus, roleNone},
	"query":       {kOpaque, roleQuery},
	"rcode":       {kOpaque, roleRcode},
	"qtype_name":  {kOpaque, roleQtype},
	"answers":     {kOpaque, roleAnswers},
	"TTLs":        {kOpaque, roleTTLs},
	"server_name": {kOpaque, roleSNI},
}

// tsvFormat is what a TSV log's header said.
type tsvFormat struct {
	sep, setSep  byte
	unset, empty []byte
	log          zeekLog
	cols         []tsvCol
	keysFor      *keys.Extractor // the extractor logKey was decided for
	has          kinds
	w3c          bool
}

// tsvCol is one column.
type tsvCol struct {
	name   string
	kind   fieldKind
	role   colRole
	logKey bool // a key log field ([keys] log_fields: a script's api_key_suffix)
}

// newZeekParser reads Zeek's logs, TSV or JSON.
func newZeekParser() *Parser {
	p := &Parser{name: nameZeek, escape: escDefault, sensor: sensorZeek, has: 1 << kRequestURI}
	p.tsv = &tsvFormat{sep: '\t', setSep: ',', unset: []byte("-"), empty: []byte("(empty)")}
	p.blind = detect.BlindHost | detect.BlindOrigin | detect.BlindReferer // until a header or line says otherwise
	return p
}

var (
	errZeekNoHeader = &parseError{reason: "a Zeek TSV line before any #fields header line: its columns are unknown"}
	errZeekColumns  = &parseError{reason: "the line has more columns than its #fields header names"}
	errZeekTime     = &parseError{reason: "the ts value is not a time in seconds since 1970"}
	// Zeek logs an HTTP reply it could not pair with a request (a 400 to
	// garbage) with method and uri unset: no request to check.
	errZeekNoRequest = &parseError{reason: "an http.log entry without a request (method and uri unset)", skip: true, notHTTP: true}
	errZeekJSON      = &parseError{reason: "a Zeek JSON line without ts, or with none of http.log's, dns.log's or ssl.log's fields"}
)

// parseZeek reads one line of a Zeek log.
func (p *Parser) parseZeek(line []byte, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	if line[0] == '#' {
		return kindRequest, p.tsvDirective(line)
	}
	if looksJSON(line) {
		return p.zeekJSON(line, keys, r)
	}
	t := p.tsv
	if len(t.cols) == 0 {
		return kindRequest, errZeekNoHeader
	}
	if t.keysFor != keys {
		t.resolveKeys(keys)
	}
	var x lineVals
	x.bestRank = -1
	var z zeekVals
	i := 0
	for rest := line; ; i++ {
		v := rest
		next := bytes.IndexByte(rest, t.sep)
		if next >= 0 {
			v, rest = rest[:next], rest[next+1:]
		}
		if i >= len(t.cols) {
			if len(v) == 0 && (next < 0 || len(bytes.Trim(rest, string(t.sep))) == 0) {
				break // trailing separators (CloudFront's documented example has one)
			}
			return kindRequest, errZeekColumns
		}
		if bytes.Equal(v, t.unset) || bytes.Equal(v, t.empty) {
			v = nil
		}
		t.cols[i].put(v, &x, &z)
		if next < 0 {
			break
		}
	}
	if t.w3c {
		return kindRequest, p.w3cRequest(&x, &z, keys, r)
	}
	return p.zeekEvent(t.log, &x, &z, keys, r)
}

// zeekVals are a line's values for roles other than request fields.
type zeekVals struct {
	vals [roleTime + 1][]byte
	json bool // values are JSON (arrays as JSON, strings JSON-escaped)
}

// put records a column's value.
func (c *tsvCol) put(v []byte, x *lineVals, z *zeekVals) {
	if c.role != roleNone {
		z.vals[c.role] = v
	}
	switch {
	case c.kind != kOpaque:
		if !x.seen.has(c.kind) {
			x.vals[c.kind] = v
			x.seen |= 1 << c.kind
		}
	case c.logKey && !x.hasLog && !absent(v) && !redacted(v):
		x.logVal, x.hasLog = v, true
	}
}

func (t *tsvFormat) resolveKeys(k *keys.Extractor) {
	t.keysFor = k
	for i := range t.cols {
		c := &t.cols[i]
		c.logKey = k != nil && c.kind == kOpaque && c.role == roleNone && k.IsLogField(c.name)
	}
}

// tsvDirective reads a header line: Zeek's #separator, #set_separator,
// #empty_field, #unset_field, #path, #fields (others are skipped), or
// W3C's #Fields.
func (p *Parser) tsvDirective(line []byte) error {
	t := p.tsv
	if t.w3c {
		name, rest, _ := bytes.Cut(line[1:], []byte(":"))
		switch string(name) {
		case "Fields":
			p.setColumns(strings.Fields(string(rest)))
		case "Version", "Software", "Date", "Start-Date", "End-Date", "Remark":
		default:
			return errNotDirective
		}
		return errDirective
	}
	name, rest, _ := bytes.Cut(line[1:], []byte{t.sep})
	if bytes.HasPrefix(line, []byte("#separator ")) {
		name, rest = []byte("separator"), line[len("#separator "):]
	}
	switch string(name) {
	case "separator":
		if b, ok := zeekByte(rest); ok {
			t.sep = b
		}
	case "set_separator":
		if b, ok := zeekByte(rest); ok {
			t.setSep = b
		}
	case "empty_field":
		t.empty = bytes.Clone(rest)
	case "unset_field":
		t.unset = bytes.Clone(rest)
	case "path":
		switch string(rest) {
		case "http":
			t.log = zeekHTTP
		case "dns":
			t.log = zeekDNS
		case "ssl":
			t.log = zeekSSL
		default:
			t.log = zeekOther
		}
	case "fields":
		p.setColumns(strings.Split(string(rest), string(t.sep)))
	case "types", "open", "close":
	default:
		return errNotDirective
	}
	return errDirective
}

var errNotDirective = &parseError{reason: "a line starting with # that is not a header line of this format"}

// zeekByte reads a separator as Zeek writes it: "\x09" or the byte itself.
func zeekByte(v []byte) (byte, bool) {
	if len(v) == 4 && v[0] == '\\' && v[1] == 'x' {
		hi, ok1 := unhex(v[2])
		lo, ok2 := unhex(v[3])
		return hi<<4 | lo, ok1 && ok2
	}
	if len(v) == 1 {
		return v[0], true
	}
	return 0, false
}

// setColumns takes the column names of a #fields (#Fields) header.
func (p *Parser) setColumns(names []string) {
	t := p.tsv
	t.cols = t.cols[:0]
	t.has = 0
	t.keysFor = nil
	guess := zeekOther
	for _, n := range names {
		c := tsvCol{name: n, kind: kOpaque}
		if t.w3c {
			c.kind, c.role = w3cField(n)
		} else if f, ok := zeekFields[n]; ok {
			c.kind, c.role = f.kind, f.role
		}
		switch c.role {
		case roleQuery:
			guess = zeekDNS
		case roleSNI:
			if guess != zeekDNS {
				guess = zeekSSL
			}
		}
		if c.kind == kMethod {
			guess = zeekHTTP
		}
		t.has |= 1 << c.kind
		t.cols = append(t.cols, c)
	}
	if t.log == zeekOther {
		t.log = guess
	}
	p.has = t.has
	p.keyRole = nil
	p.setBlind()
}

// zeekEvent builds what a line of log l gave.
func (p *Parser) zeekEvent(l zeekLog, x *lineVals, z *zeekVals, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	switch l {
	case zeekHTTP:
		if absent(x.vals[kMethod]) && absent(x.vals[kRequestURI]) {
			return kindRequest, errZeekNoRequest
		}
		r.Blind = p.blind
		return kindRequest, p.build(x, keys, r)
	case zeekDNS:
		return p.zeekDNS(z)
	case zeekSSL:
		return p.zeekSSL(z)
	}
	return kindRequest, errNotRequestEvent
}

// zeekTime reads ts.
func zeekTime(v []byte) (time.Time, bool) {
	if len(v) == 0 {
		return time.Time{}, false
	}
	if v[0] == '"' { // JSON with LogAscii::json_timestamps = JSON::TS_ISO8601
		v = bytes.Trim(v, `"`)
		return parseISO(v)
	}
	return parseMsec(v)
}

// conn reads the connection's addresses.
func (p *Parser) conn(z *zeekVals) (client, server netip.AddrPort) {
	addr := func(h, port []byte) netip.AddrPort {
		h = bytes.Trim(h, `"`)
		a, ok := p.addr(h)
		if !ok {
			return netip.AddrPort{}
		}
		n, _ := parsePort(port)
		return netip.AddrPortFrom(a, uint16(n))
	}
	return addr(z.vals[roleOrigH], z.vals[roleOrigP]), addr(z.vals[roleRespH], z.vals[roleRespP])
}

// zeekDNS builds a DNS answer from a dns.log line (DNS::Info): query, rcode,
// answers (addresses and, for address queries, the CNAME targets), TTLs.
// A query Zeek saw no response to is skipped.
func (p *Parser) zeekDNS(z *zeekVals) (eventKind, error) {
	t, ok := zeekTime(z.vals[roleTS])
	if !ok {
		return kindRequest, errZeekTime
	}
	rcode, hasRcode := num(bytes.Trim(z.vals[roleRcode], `"`))
	if !hasRcode && len(z.vals[roleAnswers]) == 0 {
		return kindRequest, errNotRequestEvent
	}
	a := &p.ev.dns
	*a = detect.DNSAnswer{Time: t, Rcode: rcode}
	a.Client, a.Server = p.conn(z)
	a.Name = p.str(p.unescapeZeek(z.vals[roleQuery], z.json))
	qtype := string(bytes.Trim(z.vals[roleQtype], `"`))
	names := qtype == "A" || qtype == "AAAA" || qtype == "CNAME" || qtype == "ANY" || qtype == "" || qtype == "*"
	ttls := z.vals[roleTTLs]
	first := true
	p.eachItem(z.vals[roleAnswers], z.json, func(ans []byte) {
		ttl := p.nextItem(&ttls, z.json)
		if ip, ok := p.addr(ans); ok {
			a.Addrs = append(a.Addrs, ip)
			if s, ok := zeekSeconds(ttl); ok && (first || s < a.TTL) {
				a.TTL, first = s, false
			}
			return
		}
		if names && len(ans) > 0 && !bytes.ContainsAny(ans, " \t") {
			a.CNAMEs = append(a.CNAMEs, strings.TrimSuffix(string(ans), "."))
		}
	})
	return kindDNS, nil
}

// zeekSSL builds a ClientHello from an ssl.log line (SSL::Info server_name).
func (p *Parser) zeekSSL(z *zeekVals) (eventKind, error) {
	t, ok := zeekTime(z.vals[roleTS])
	if !ok {
		return kindRequest, errZeekTime
	}
	h := &p.ev.tls
	*h = detect.TLSHello{Time: t}
	h.Client, h.Server = p.conn(z)
	if v := z.vals[roleSNI]; !absent(v) {
		h.SNI = p.str(p.unescapeZeek(v, z.json))
	}
	return kindTLS, nil
}

// unescapeZeek undoes a value's escaping: JSON's in a JSON log (the value
// still quoted), Zeek's \xHH in TSV.
func (p *Parser) unescapeZeek(v []byte, json bool) []byte {
	if !json {
		return p.unescape(v)
	}
	v = bytes.TrimSuffix(bytes.TrimPrefix(v, []byte(`"`)), []byte(`"`))
	if bytes.IndexByte(v, '\\') < 0 {
		return v
	}
	start := len(p.buf)
	p.buf = unescapeJSON(p.buf, v)
	return p.buf[start:]
}

// eachItem calls f with each element of a container value: a JSON array's
// strings, or a TSV set separated by the set separator.
func (p *Parser) eachItem(v []byte, json bool, f func([]byte)) {
	for len(v) > 0 {
		item := p.nextItem(&v, json)
		if item != nil {
			f(item)
		}
	}
}

// nextItem takes the next element off a container value (nil when none).
func (p *Parser) nextItem(v *[]byte, json bool) []byte {
	b := *v
	if !json {
		if len(b) == 0 {
			return nil
		}
		item, rest, _ := bytes.Cut(b, []byte{p.tsv.setSep})
		*v = rest
		return p.unescape(item)
	}
	i := skipWS(b, 0)
	if i < len(b) && (b[i] == '[' || b[i] == ',') {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		*v = nil
		return nil
	}
	val, null, next, err := jsonValue(b, i)
	if err != nil {
		*v = nil
		return nil
	}
	*v = b[next:]
	if null {
		return []byte{}
	}
	return p.unescapeZeek(val, false) // a string's content: JSON-escaped
}

// zeekSeconds reads an interval ("3600.000000", or a JSON number).
func zeekSeconds(v []byte) (uint32, bool) {
	v = bytes.Trim(v, `"`)
	if i := bytes.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.ParseUint(string(v), 10, 32)
	return uint32(n), err == nil && len(v) > 0
}

// zeekJSON reads a line of a Zeek JSON log: a flat object whose keys are
// the TSV's field names ("id.orig_h").
func (p *Parser) zeekJSON(line []byte, keys *keys.Extractor, r *detect.Request) (eventKind, error) {
	var x lineVals
	x.bestRank = -1
	z := zeekVals{json: true}
	log := zeekOther
	var path []byte
	sawUID := false
	it := flatIter{line: line}
	for {
		key, raw, ok := it.next()
		if !ok {
			break
		}
		switch string(key) {
		case "_path":
			path = bytes.Trim(raw, `"`)
			continue
		case "uid":
			sawUID = true // conn.log, files.log, ...: Zeek's, not read
			continue
		}
		f, known := zeekFields[string(key)]
		if !known {
			if keys != nil && !x.hasLog && keys.IsLogField(string(key)) {
				if v, null, _, err := jsonValue(raw, 0); err == nil && !null && !absent(v) && !redacted(v) {
					x.logVal, x.hasLog = v, true
				}
			}
			continue
		}
		switch {
		case f.kind == kMethod:
			log = zeekHTTP
		case f.role == roleQuery:
			log = zeekDNS
		case f.role == roleSNI && log != zeekDNS:
			log = zeekSSL
		}
		if f.role != roleNone {
			z.vals[f.role] = raw
		}
		if f.kind != kOpaque && !x.seen.has(f.kind) {
			if v, null, _, err := jsonValue(raw, 0); err == nil && !null {
				x.vals[f.kind] = v
				x.seen |= 1 << f.kind
			}
		}
	}
	if it.err != nil {
		return kindRequest, it.err
	}
	switch string(path) {
	case "http":
		log = zeekHTTP
	case "dns":
		log = zeekDNS
	case "ssl":
		log = zeekSSL
	case "":
	default:
		log = zeekOther
	}
	ts := z.vals[roleTS]
	if ts == nil || log == zeekOther && path == nil && !sawUID {
		return kindRequest, errZeekJSON
	}
	if log != zeekHTTP {
		return p.zeekEvent(log, &x, &z, keys, r)
	}
	if absent(x.vals[kMethod]) && absent(x.vals[kRequestURI]) {
		return kindRequest, errZeekNoRequest
	}
	if ts[0] == '"' { // LogAscii::json_timestamps = JSON::TS_ISO8601
		x.seen = x.seen&^(1<<kMsec) | 1<<kTimeISO
		x.vals[kTimeISO] = x.vals[kMsec]
	}
	if err := p.build(&x, keys, r); err != nil {
		return kindRequest, err
	}
	// A JSON line names the fields it has: its blindness is its own.
	r.Blind = p.blind & detect.BlindKey
	if !x.seen.has(kHTTPHost) {
		r.Blind |= detect.BlindHost
	}
	if !x.seen.has(kOrigin) {
		r.Blind |= detect.BlindOrigin
	}
	if !x.seen.has(kReferer) {
		r.Blind |= detect.BlindReferer
	}
	return kindRequest, nil
}

// flatIter walks the keys of a flat JSON object line: each key with its
// raw value (a string still quoted, an array with its brackets).
type flatIter struct {
	line []byte
	i    int
	err  error
	done bool
}

func (it *flatIter) next() (key, raw []byte, ok bool) {
	if it.done {
		return nil, nil, false
	}
	line := it.line
	fail := func(err error) ([]byte, []byte, bool) {
		it.err, it.done = err, true
		return nil, nil, false
	}
	i := it.i
	if i == 0 {
		i = skipWS(line, 0)
		if i >= len(line) || line[i] != '{' {
			return fail(errNotJSON)
		}
		i = skipWS(line, i+1)
		if i < len(line) && line[i] == '}' {
			it.done = true
			return nil, nil, false
		}
	}
	if i >= len(line) || line[i] != '"' {
		return fail(errJSONSyntax)
	}
	kend, next, ok := scanString(line, i)
	if !ok {
		return fail(errJSONSyntax)
	}
	key = line[i+1 : kend]
	i = skipWS(line, next)
	if i >= len(line) || line[i] != ':' {
		return fail(errJSONSyntax)
	}
	i = skipWS(line, i+1)
	if i >= len(line) {
		return fail(errJSONSyntax)
	}
	end, err := skipValue(line, i)
	if err != nil {
		return fail(err)
	}
	raw = line[i:end]
	i = skipWS(line, end)
	switch {
	case i >= len(line):
		return fail(errJSONSyntax)
	case line[i] == ',':
		it.i = skipWS(line, i+1)
	case line[i] == '}':
		if skipWS(line, i+1) != len(line) {
			return fail(errJSONTrailing)
		}
		it.done = true
	default:
		return fail(errJSONSyntax)
	}
	return key, raw, true
}
