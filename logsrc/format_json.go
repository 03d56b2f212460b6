package logsrc

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// JSON access logs (Caddy, Traefik, nginx escape=json templates, anything
// else given a field mapping) are read by a small scanner that walks each
// line once: it descends only into the objects the mapping names, skips
// every other value without decoding it, and keeps the wanted values as
// slices of the line (still JSON-escaped; unescaped only when kept). Nothing
// is unmarshalled into maps.

// JSONMapping says where a JSON access log keeps each field: a dotted path
// of object keys ("request.host"), matched case-insensitively; "[0]" after a
// key takes the first element of an array, as does any array value. Empty
// paths are fields the log does not have (the Request is blind to them).
// Time may be RFC 3339, 02/Jan/2006:15:04:05 -0700, or a number of seconds
// (with a fraction), milliseconds, microseconds or nanoseconds since 1970.
// Key is key material (a key, a key suffix, or an Authorization value when
// its last key is "authorization"); it wins over key headers and the query.
type JSONMapping struct {
	Host, Origin, Referer, UserAgent, Client, Time, Method, Target, Proto, Status, Key string

	// Request is a field holding the whole request line ("GET /x HTTP/1.1"),
	// an alternative to Method, Target and Proto.
	Request string
	// Headers is an object of request headers (name: value or [value, ...]):
	// Origin, Referer, User-Agent, Host and the key headers are read from it.
	Headers string
}

// jsonFormat is the tree of object keys a JSON format reads.
type jsonFormat struct {
	root   *jsonNode
	prefix string // top-level keys with this prefix are request headers (Traefik "request_")
	// optionalHeaders: the header object is there only when the operator
	// added it (Cloudflare's custom fields): a line without it is blind to
	// Origin.
	optionalHeaders bool
}

type jsonNode struct {
	children []jsonChild
	index    map[string]int // lower-cased name -> child, for nodes with many
	headers  bool           // every key of this object is a request header name
	mark     uint8          // set in lineVals.marks when the object is entered
}

type jsonChild struct {
	name string // as mapped; compared case-insensitively
	node *jsonNode
	leaf int // index+1 into Parser.fields; 0: none
	mark uint8
}

func (n *jsonNode) find(key []byte) *jsonChild {
	if n.index != nil {
		var low [64]byte
		if len(key) > len(low) {
			return nil
		}
		for i, c := range key {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[i] = c
		}
		if i, ok := n.index[string(low[:len(key)])]; ok {
			return &n.children[i]
		}
		return nil
	}
	for i := range n.children {
		if len(n.children[i].name) == len(key) && foldEq(key, n.children[i].name) {
			return &n.children[i]
		}
	}
	return nil
}

// buildIndex gives nodes with many keys a map from lower-cased key to
// child, so that a line's every key is one lookup.
func (n *jsonNode) buildIndex() {
	if len(n.children) > 4 {
		n.index = make(map[string]int, len(n.children))
		for i, c := range n.children {
			n.index[strings.ToLower(c.name)] = i
		}
	}
	for _, c := range n.children {
		if c.node != nil {
			c.node.buildIndex()
		}
	}
}

func foldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if x != y {
			if 'A' <= x && x <= 'Z' {
				x += 'a' - 'A'
			}
			if 'A' <= y && y <= 'Z' {
				y += 'a' - 'A'
			}
			if x != y {
				return false
			}
		}
	}
	return true
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) > len(prefix) && foldEq(b[:len(prefix)], prefix)
}

// jsonLeaf is one mapped path.
type jsonLeaf struct {
	path string
	kind fieldKind
}

// Marks: the Caddy access entry's "request" object, and the keys every
// Caddy log entry has.
const (
	markRequest uint8 = 1 << iota
	markLogEntry
)

var errNotAccess = &parseError{reason: "log entry is not an access log entry", skip: true}

// buildJSON compiles leaves (alternatives for one kind are preferred in
// order) and header objects into a Parser.
func buildJSON(label string, leaves []jsonLeaf, headerPaths []string, prefix string) (*Parser, error) {
	p := &Parser{name: label, escape: escJSON, json: &jsonFormat{root: &jsonNode{}, prefix: prefix}}
	prio := map[fieldKind]uint8{}
	for _, l := range leaves {
		segs, err := splitJSONPath(l.path)
		if err != nil {
			return nil, err
		}
		n := p.json.root
		for _, s := range segs[:len(segs)-1] {
			n = n.child(s).ensureNode()
		}
		c := n.child(segs[len(segs)-1])
		if c.leaf != 0 {
			continue // the same path twice: the first mapping wins
		}
		f := field{name: l.path, display: l.path, kind: l.kind, prio: prio[l.kind]}
		prio[l.kind]++
		if l.kind == kKeyValue && strings.EqualFold(segs[len(segs)-1], "authorization") ||
			l.kind == kKeyValue && strings.EqualFold(segs[len(segs)-1], "http_authorization") {
			f.header = []byte("authorization")
		}
		p.fields = append(p.fields, f)
		c.leaf = len(p.fields)
		p.has |= 1 << l.kind
	}
	for _, h := range headerPaths {
		segs, err := splitJSONPath(h)
		if err != nil {
			return nil, err
		}
		n := p.json.root
		for _, s := range segs {
			n = n.child(s).ensureNode()
		}
		n.headers = true
		p.headerMap = true
	}
	if prefix != "" {
		p.headerMap = true
	}
	if p.has&(1<<kRequest|1<<kRequestURI|1<<kURI|1<<kURL) == 0 {
		return nil, errors.New("the JSON mapping has no request: map target (and method) or request")
	}
	if p.has&(1<<kRequest) == 0 && p.has&(1<<kMethod) == 0 {
		return nil, errors.New("the JSON mapping has a target but no method: map method too, or request")
	}
	p.json.root.buildIndex()
	p.setBlind()
	p.setKindErrors()
	return p, nil
}

func (n *jsonNode) child(name string) *jsonChild {
	for i := range n.children {
		if strings.EqualFold(n.children[i].name, name) {
			return &n.children[i]
		}
	}
	n.children = append(n.children, jsonChild{name: name})
	return &n.children[len(n.children)-1]
}

func (c *jsonChild) ensureNode() *jsonNode {
	if c.node == nil {
		c.node = &jsonNode{}
	}
	return c.node
}

// splitJSONPath splits "request.headers.Origin[0]" into its keys.
func splitJSONPath(path string) ([]string, error) {
	if path == "" {
		return nil, errors.New("empty JSON path")
	}
	segs := strings.Split(path, ".")
	for i, s := range segs {
		s = strings.TrimSpace(strings.TrimSuffix(s, "[0]"))
		if s == "" || strings.ContainsAny(s, "[]") {
			return nil, fmt.Errorf("JSON path %q: want keys separated by dots, optionally ending in [0]", short(path))
		}
		segs[i] = s
	}
	return segs, nil
}

// newCaddyParser reads Caddy's JSON access log (http.log.access): ts (float
// seconds), status, and the request object: remote_ip, remote_port,
// client_ip (Caddy 2.7+, the client behind trusted proxies), proto, method,
// host, uri, headers (arrays). Caddy drops or redacts Authorization and
// Cookie values ([] in 2.6, ["REDACTED"] later); those carry no key.
func newCaddyParser() *Parser {
	p, err := buildJSON(nameCaddy, []jsonLeaf{
		{"ts", kTimeAny},
		{"status", kStatus},
		{"request.client_ip", kRemoteAddr},
		{"request.remote_ip", kRemoteAddr},
		{"request.remote_port", kClientPort},
		{"request.remote_addr", kClientAddrPort},
		{"request.proto", kProto},
		{"request.method", kMethod},
		{"request.host", kHTTPHost},
		{"request.uri", kRequestURI},
	}, []string{"request.headers"}, "")
	if err != nil {
		panic("logsrc: caddy format does not compile: " + err.Error())
	}
	p.json.root.child("request").mark = markRequest
	p.json.root.child("msg").mark = markLogEntry
	p.json.root.child("logger").mark = markLogEntry
	p.json.root.buildIndex() // again: msg and logger are new keys
	return p
}

// newTraefikParser reads Traefik's JSON access log
// (https://doc.traefik.io/traefik/observability/access-logs/): StartUTC,
// ClientHost, ClientAddr, ClientPort, RequestAddr (the Host header),
// RequestHost, RequestMethod, RequestPath, RequestProtocol,
// DownstreamStatus, and request headers as request_<Name> fields when
// accessLog.fields.headers keeps them (the default drops them all: such a
// line is blind to Origin and Referer; "redact" writes REDACTED).
func newTraefikParser() *Parser {
	p, err := buildJSON(nameTraefik, []jsonLeaf{
		{"StartUTC", kTimeAny},
		{"StartLocal", kTimeAny},
		{"time", kTimeAny},
		{"ClientHost", kRemoteAddr},
		{"ClientPort", kClientPort},
		{"ClientAddr", kClientAddrPort},
		{"RequestAddr", kHTTPHost},
		{"RequestHost", kHost},
		{"RequestMethod", kMethod},
		{"RequestPath", kRequestURI},
		{"RequestProtocol", kProto},
		{"DownstreamStatus", kStatus},
		{"OriginStatus", kStatusOrig},
	}, nil, "request_")
	if err != nil {
		panic("logsrc: traefik format does not compile: " + err.Error())
	}
	return p
}

// genericKeys are the key names an nginx escape=json template or another
// JSON logger commonly uses, preferred in this order.
var genericKeys = []struct {
	kind  fieldKind
	names []string
}{
	{kTimeAny, []string{"time_iso8601", "time", "timestamp", "@timestamp", "ts", "datetime", "date", "time_local", "msec"}},
	{kRemoteAddr, []string{"remote_addr", "remote_ip", "client_ip", "clientip", "client", "ip", "remote"}},
	{kClientPort, []string{"remote_port", "client_port"}},
	{kRequest, []string{"request", "request_line"}},
	{kMethod, []string{"request_method", "method", "verb"}},
	{kRequestURI, []string{"request_uri", "uri", "url", "path", "target"}},
	{kProto, []string{"server_protocol", "protocol", "proto", "http_version"}},
	{kStatus, []string{"status", "status_code", "response_status", "code"}},
	{kHTTPHost, []string{"http_host", "host", "request_host", "server_host"}},
	{kOrigin, []string{"http_origin", "origin"}},
	{kReferer, []string{"http_referer", "referer", "referrer"}},
	{kUserAgent, []string{"http_user_agent", "user_agent", "useragent", "ua", "agent"}},
	{kKeyValue, []string{"api_key_suffix", "key_suffix", "http_x_api_key", "x_api_key", "api_key", "apikey", "key", "http_authorization"}},
}

// newGenericJSONParser reads JSON lines by the common key names above.
func newGenericJSONParser() *Parser {
	var leaves []jsonLeaf
	for _, g := range genericKeys {
		for _, n := range g.names {
			leaves = append(leaves, jsonLeaf{n, g.kind})
		}
	}
	p, err := buildJSON(nameJSON, leaves, []string{"headers"}, "")
	if err != nil {
		panic("logsrc: json format does not compile: " + err.Error())
	}
	p.headerMap = false // "headers" is optional here: do not claim to see Origin through it
	p.setBlind()
	p.errKind[kTimeAny] = &parseError{reason: "the time value " + kindProblem[kTimeAny]}
	p.errKind[kStatus] = &parseError{reason: "the status value " + kindProblem[kStatus]}
	p.errKind[kClientPort] = &parseError{reason: "the client port value " + kindProblem[kClientPort]}
	return p
}

// CompileJSON returns a Parser for JSON lines laid out as m says. The error
// is one sentence naming what is wrong.
func CompileJSON(m JSONMapping) (*Parser, error) {
	var leaves []jsonLeaf
	for _, l := range []jsonLeaf{
		{m.Time, kTimeAny}, {m.Client, kClientAddrPort}, {m.Request, kRequest}, {m.Method, kMethod},
		{m.Target, kRequestURI}, {m.Proto, kProto}, {m.Status, kStatus}, {m.Host, kHTTPHost},
		{m.Origin, kOrigin}, {m.Referer, kReferer}, {m.UserAgent, kUserAgent}, {m.Key, kKeyValue},
	} {
		if strings.TrimSpace(l.path) != "" {
			leaves = append(leaves, jsonLeaf{strings.TrimSpace(l.path), l.kind})
		}
	}
	var headers []string
	if h := strings.TrimSpace(m.Headers); h != "" {
		headers = append(headers, h)
	}
	return buildJSON(nameJSON, leaves, headers, "")
}

// Spec returns m as the "json:" spec Compile (and so Options.Format)
// accepts, for a mapping that came from a config file. Paths may not hold
// ',' or '='.
func (m JSONMapping) Spec() string {
	var parts []string
	for _, kv := range [...][2]string{
		{"host", m.Host}, {"origin", m.Origin}, {"referer", m.Referer}, {"user_agent", m.UserAgent},
		{"client", m.Client}, {"time", m.Time}, {"method", m.Method}, {"target", m.Target}, {"proto", m.Proto},
		{"status", m.Status}, {"key", m.Key}, {"request", m.Request}, {"headers", m.Headers},
	} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			parts = append(parts, kv[0]+"="+v)
		}
	}
	return "json:" + strings.Join(parts, ",")
}

// jsonSpecKeys are the names a "json:" spec may map, with their aliases.
var jsonSpecKeys = map[string]string{
	"host": "host", "origin": "origin", "referer": "referer", "referrer": "referer",
	"user_agent": "user_agent", "useragent": "user_agent", "user-agent": "user_agent", "ua": "user_agent",
	"client": "client", "ip": "client", "remote_addr": "client", "time": "time", "ts": "time", "timestamp": "time",
	"method": "method", "target": "target", "uri": "target", "path": "target", "url": "target",
	"proto": "proto", "protocol": "proto", "status": "status", "key": "key", "request": "request", "headers": "headers",
}

// compileJSONSpec compiles what follows "json:": name=path pairs separated
// by commas, e.g. host=request.host,origin=request.headers.Origin[0],time=ts.
// An empty mapping means the common key names (as "json").
func compileJSONSpec(spec string) (*Parser, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return newGenericJSONParser(), nil
	}
	var m JSONMapping
	slots := map[string]*string{
		"host": &m.Host, "origin": &m.Origin, "referer": &m.Referer, "user_agent": &m.UserAgent,
		"client": &m.Client, "time": &m.Time, "method": &m.Method, "target": &m.Target, "proto": &m.Proto,
		"status": &m.Status, "key": &m.Key, "request": &m.Request, "headers": &m.Headers,
	}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return nil, fmt.Errorf("json mapping %q: want name=path", short(pair))
		}
		name, known := jsonSpecKeys[k]
		if !known {
			names := make([]string, 0, len(slots))
			for n := range slots {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("json mapping has unknown name %q (want one of %s)", short(k), strings.Join(names, ", "))
		}
		*slots[name] = v
	}
	return CompileJSON(m)
}

// extractJSON scans one JSON object line.
func (p *Parser) extractJSON(line []byte, x *lineVals) error {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errNotJSON
	}
	var marks uint8
	end, err := p.scanObject(line, i, p.json.root, x, &marks)
	if err != nil {
		return err
	}
	if skipWS(line, end) != len(line) {
		return errJSONTrailing
	}
	if marks&markLogEntry != 0 && marks&markRequest == 0 && p.name == nameCaddy {
		return errNotAccess
	}
	return nil
}

var (
	errNotJSON      = &parseError{reason: "line is not a JSON object"}
	errJSONSyntax   = &parseError{reason: "line is not valid JSON"}
	errJSONTrailing = &parseError{reason: "line has text after its JSON object"}
)

// scanObject scans the object at line[i] ('{'), reading the keys node maps,
// and returns the position after it.
func (p *Parser) scanObject(line []byte, i int, node *jsonNode, x *lineVals, marks *uint8) (int, error) {
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return 0, errJSONSyntax
		}
		kend, next, ok := scanString(line, i)
		if !ok {
			return 0, errJSONSyntax
		}
		key := line[i+1 : kend]
		i = skipWS(line, next)
		if i >= len(line) || line[i] != ':' {
			return 0, errJSONSyntax
		}
		i = skipWS(line, i+1)
		if i >= len(line) {
			return 0, errJSONSyntax
		}
		var c *jsonChild
		if bytes.IndexByte(key, '\\') < 0 { // an escaped key matches nothing
			c = node.find(key)
		}
		var err error
		switch {
		case c != nil && c.node != nil && line[i] == '{':
			*marks |= c.mark
			if c.node.headers {
				x.sawHeaders = true
			}
			i, err = p.scanObject(line, i, c.node, x, marks)
		case c != nil && c.leaf > 0:
			*marks |= c.mark
			var v []byte
			var null bool
			v, null, i, err = jsonValue(line, i)
			if err == nil && !null {
				p.take(c.leaf-1, v, x)
			}
		case c == nil && node.headers && bytes.IndexByte(key, '\\') < 0:
			var v []byte
			var null bool
			v, null, i, err = jsonValue(line, i)
			if err == nil && !null {
				p.takeHeader(key, v, x)
			}
		case c == nil && node == p.json.root && p.json.prefix != "" && hasPrefixFold(key, p.json.prefix):
			x.sawPrefixHeader = true
			var v []byte
			var null bool
			v, null, i, err = jsonValue(line, i)
			if err == nil && !null {
				p.takeHeader(key[len(p.json.prefix):], v, x)
			}
		default:
			if c != nil {
				*marks |= c.mark
			}
			i, err = skipValue(line, i)
		}
		if err != nil {
			return 0, err
		}
		i = skipWS(line, i)
		if i >= len(line) {
			return 0, errJSONSyntax
		}
		switch line[i] {
		case ',':
			i = skipWS(line, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errJSONSyntax
		}
	}
}

// Header values are preferred less than mapped fields of the same kind.
const headerPrio = 200

// takeHeader records a request header found in a header object.
func (p *Parser) takeHeader(name, v []byte, x *lineVals) {
	if absent(v) || redacted(v) {
		return
	}
	var k fieldKind
	switch {
	case foldEq(name, "origin"):
		k = kOrigin
	case foldEq(name, "referer"):
		k = kReferer
	case foldEq(name, "user-agent"):
		k = kUserAgent
	case foldEq(name, "host"):
		k = kHTTPHost
	default:
		if p.keys != nil {
			if rk := p.keys.HeaderRank(name); rk >= 0 && (x.bestRank < 0 || rk < x.bestRank) {
				x.bestRank, x.hdrName, x.hdrVal = rk, name, v
			}
		}
		return
	}
	if !x.seen.has(k) || headerPrio < x.prio[k] {
		x.vals[k], x.prio[k] = v, headerPrio
		x.seen |= 1 << k
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanString scans the string starting at b[i] ('"') and returns the index
// of its closing quote and the position after it.
func scanString(b []byte, i int) (end, next int, ok bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, 0, false
		}
		q := j + k
		n := 0
		for m := q - 1; m > i && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return q, q + 1, true
		}
		j = q + 1
	}
}

// jsonValue reads a scalar value at b[i]: a string's content (escaped), a
// number or literal as written, an array's first element; an object gives
// nil. null is reported as such.
func jsonValue(b []byte, i int) (v []byte, null bool, next int, err error) {
	switch b[i] {
	case '"':
		end, nx, ok := scanString(b, i)
		if !ok {
			return nil, false, 0, errJSONSyntax
		}
		return b[i+1 : end], false, nx, nil
	case '[':
		nx, err := skipValue(b, i)
		if err != nil {
			return nil, false, 0, err
		}
		j := skipWS(b, i+1)
		if j >= len(b) || b[j] == ']' || b[j] == '[' || b[j] == '{' {
			return nil, true, nx, nil
		}
		v, null, _, err = jsonValue(b, j)
		return v, null, nx, err
	case '{':
		nx, err := skipValue(b, i)
		return nil, true, nx, err
	}
	nx, err := skipValue(b, i)
	if err != nil {
		return nil, false, 0, err
	}
	v = b[i:nx]
	return v, string(v) == "null", nx, nil
}

// skipValue returns the position after the value at b[i].
func skipValue(b []byte, i int) (int, error) {
	switch b[i] {
	case '"':
		_, nx, ok := scanString(b, i)
		if !ok {
			return 0, errJSONSyntax
		}
		return nx, nil
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, nx, ok := scanString(b, j)
				if !ok {
					return 0, errJSONSyntax
				}
				j = nx - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errJSONSyntax
	case '}', ']', ',', ':':
		return 0, errJSONSyntax
	}
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		j++
	}
	return j, nil
}
