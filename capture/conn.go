package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
)

// sniffLimit is how many bytes of a connection whose roles are unknown (no
// SYN seen, no port in Ports) are scanned for a start line before it is
// declared not HTTP.
const sniffLimit = 64 << 10

// role is which end of an HTTP exchange a direction of a connection carries.
type role uint8

const (
	roleUnknown role = iota
	roleClient       // requests
	roleServer       // responses
)

// hstate is where a direction's parser is in its message stream.
type hstate uint8

const (
	stStart      hstate = iota // at a message boundary: start line and fields next
	stBody                     // skipping remain bytes of a Content-Length body
	stChunkSize                // a chunk-size line next
	stChunkData                // skipping remain bytes of chunk data
	stChunkEnd                 // the CRLF after chunk data next
	stTrailer                  // trailer field lines up to the empty line
	stUntilClose               // a response body that ends with the connection
	stResync                   // looking for the next start line (gap, error, mid-connection start)
	stIgnore                   // not HTTP (any more)
)

// half is one direction of a connection.
type half struct {
	role      role
	want      startKind // the start lines this direction carries
	st        hstate
	remain    int64  // bytes left in a body or chunk
	buf       []byte // an unfinished element (head, line) carried to the next data
	bufAt     int64  // packet time of buf[0]
	scan      int    // headEnd resume offset within the unfinished head
	lineStart bool   // stResync: the next byte begins a line
	begun     bool   // data seen
	syn       bool   // SYN seen: the first byte is a message boundary
	fresh     bool   // SYN-started and nothing parsed yet: must look like HTTP
	closed    bool
	sniffed   int   // bytes scanned while roles were unknown
	trailer   int   // trailer bytes so far
	lastAt    int64 // time of the last message head

	// The data being parsed, for timing: offsets below winOld are in buf
	// (time bufAt), the rest are new bytes of time dataAt.
	winOld int
	dataAt int64
}

// orphan is a response that arrived before any request it could answer
// was reassembled.
type orphan struct {
	at   int64
	code int
}

// conn is one TCP connection's stream (assembler.go): it parses HTTP/1.x
// in both directions and pairs responses with requests in order.
type conn struct {
	p         *pipeline
	h         [2]half           // h[0] carries what the first packet's sender sent
	addr      [2]netip.AddrPort // addr[i] sends h[i]
	client    int               // index of the client's half, -1 while unknown
	byPort    bool              // a port in Ports: HTTP by configuration
	firm      bool              // roles known from the SYN or a parsed message, not guessed from ports
	ignore    bool
	midstream bool
	fifo      []*pending // requests awaiting a response, oldest first
	orphans   []orphan
	alt       *altConn // h2c.go: DNS over TCP or HTTP/2 prior knowledge instead of HTTP/1.x
}

// newConn starts a connection at its first segment, sent from src to dst.
// The roles are known from a SYN, else guessed from the ports.
func newConn(p *pipeline, tcp *layers.TCP, src, dst netip.AddrPort) *conn {
	c := &conn{p: p, client: -1}
	c.addr[0], c.addr[1] = src, dst
	sp, dp := src.Port(), dst.Port()
	c.byPort = p.ports.has(sp) || p.ports.has(dp)
	switch {
	case tcp.SYN && !tcp.ACK:
		c.setClient(0)
		c.firm = true
	case tcp.SYN && tcp.ACK:
		c.setClient(1)
		c.firm = true
	case p.ports.has(dp) && !p.ports.has(sp):
		c.setClient(0)
	case p.ports.has(sp) && !p.ports.has(dp):
		c.setClient(1)
	}
	return c
}

func (c *conn) setClient(i int) {
	c.client = i
	c.h[i].want = wantRequest
	c.h[1-i].want = wantResponse
	c.h[i].role = roleClient
	c.h[1-i].role = roleServer
}

// segment takes the next piece of a direction's stream (after s.skip
// bytes the capture never saw). The bytes are only valid during the call:
// parsing copies what it must carry over into half.buf.
func (c *conn) segment(s *segment) {
	i := s.dir
	h := &c.h[i]
	if s.start {
		h.syn = true
	}
	if c.altSG(s) { // h2c.go
		return
	}
	if !c.ignore && (len(s.data) > 0 || s.skip > 0) {
		if !h.begun {
			c.begin(i)
		}
		if s.skip > 0 {
			c.gap(i, int64(s.skip), s.at)
		}
		if len(s.data) > 0 && !c.ignore {
			c.feed(i, s.data, s.at)
		}
	}
	if s.end {
		c.endHalf(i)
	}
}

// complete says both directions ended: FIN, RST, idle flush, eviction or
// end of capture. Requests still waiting for a response are released
// without a status.
func (c *conn) complete() {
	c.altDone() // h2c.go
	c.endHalf(0)
	c.endHalf(1)
	c.unanswered()
	c.p.rep.add(cUnmatchedResponses, uint64(len(c.orphans)))
	c.orphans = nil
}

// begin sets up a direction on its first data.
func (c *conn) begin(i int) {
	h := &c.h[i]
	h.begun = true
	if h.syn && h.role != roleUnknown {
		h.st, h.fresh = stStart, true
		return
	}
	// Joined mid-connection: the first byte captured often starts a
	// message (a segment boundary), so try there first.
	h.st, h.lineStart = stResync, true
	if !c.midstream {
		c.midstream = true
		c.p.rep.inc(cMidstreamStreams)
	}
}

// gap handles skip bytes the capture never saw, before bytes of time at.
func (c *conn) gap(i int, skip int64, at int64) {
	h := &c.h[i]
	switch h.st {
	case stBody, stChunkData:
		if h.remain > skip {
			h.remain -= skip // the gap fell inside a body: still in step
			return
		}
		if h.remain == skip {
			h.remain = 0
			if h.st == stBody {
				h.st = stStart
			} else {
				h.st = stChunkEnd
			}
			return
		}
	case stUntilClose, stIgnore:
		return
	}
	h.buf, h.scan = h.buf[:0], 0
	h.st, h.lineStart = stResync, true
	if h.role == roleServer {
		// The gap may hold responses: requests sent before it may have
		// lost theirs, and must not take a later one.
		c.dropBefore(at)
	}
}

// feed parses data of packet time at, carrying an unfinished element
// over in h.buf.
func (c *conn) feed(i int, data []byte, at int64) {
	h := &c.h[i]
	h.dataAt = at
	maxBuf := c.p.maxBuf
	if h.st == stResync && len(h.buf) == 0 {
		// A segment boundary often is a message boundary: a server writes
		// each response head anew. Let a start line begin here.
		h.lineStart = true
	}
	for len(data) > 0 && !c.ignore {
		if len(h.buf) == 0 {
			h.winOld = 0
			n := c.parse(i, data)
			if n == len(data) || c.ignore {
				return
			}
			h.bufAt = c.timeAt(h, n)
			data = data[n:]
			take := min(len(data), maxBuf)
			h.buf = append(h.buf[:0], data[:take]...)
			data = data[take:]
			continue
		}
		old := len(h.buf)
		take := min(len(data), maxBuf-old, max(old, 4096))
		h.buf = append(h.buf, data[:take]...)
		h.winOld = old
		data = data[take:]
		n := c.parse(i, h.buf)
		switch {
		case c.ignore:
			h.buf = h.buf[:0]
		case n == len(h.buf):
			h.buf = h.buf[:0]
		case n > 0:
			h.bufAt = c.timeAt(h, n)
			h.buf = h.buf[:copy(h.buf, h.buf[n:])]
		case len(h.buf) >= maxBuf:
			// An unfinished element outgrew the cap (only with a cap below
			// the header block limit): drop it and look for the next message.
			c.p.rep.add(cStreamBytesCapped, uint64(len(h.buf)))
			h.buf = h.buf[:0]
			c.fault(i, faultBufferCap, false)
		}
	}
}

// timeAt returns the packet time of byte i of the data being parsed.
func (c *conn) timeAt(h *half, i int) int64 {
	if i < h.winOld {
		return h.bufAt
	}
	return h.dataAt
}

// parse runs direction i's state machine over w and returns how many bytes
// it consumed; it stops early only when it needs more data to go on.
func (c *conn) parse(i int, w []byte) int {
	h := &c.h[i]
	pos := 0
	for pos < len(w) {
		switch h.st {
		case stIgnore, stUntilClose:
			return len(w)
		case stBody, stChunkData:
			n := int(min(int64(len(w)-pos), h.remain))
			pos += n
			h.remain -= int64(n)
			if h.remain == 0 {
				if h.st == stBody {
					h.st = stStart
				} else {
					h.st = stChunkEnd
				}
			}
		case stChunkEnd:
			// CRLF after chunk data (RFC 9112 §7.1); a bare LF is accepted.
			switch {
			case w[pos] == '\n':
				pos++
				h.st = stChunkSize
			case w[pos] == '\r' && pos+1 == len(w):
				return pos
			case w[pos] == '\r' && w[pos+1] == '\n':
				pos += 2
				h.st = stChunkSize
			default:
				c.fault(i, faultChunk, false)
			}
		case stChunkSize:
			line, next, ok := lineAt(w, pos)
			if !ok {
				if len(w)-pos > maxLineBytes {
					c.fault(i, faultChunk, false)
					continue
				}
				return pos
			}
			n, ok := parseChunkSize(line)
			if !ok {
				c.fault(i, faultChunk, false)
				continue
			}
			pos = next
			if n == 0 {
				h.st, h.trailer = stTrailer, 0
			} else {
				h.st, h.remain = stChunkData, n
			}
		case stTrailer:
			// Trailer fields are skipped up to the empty line (RFC 9112 §7.1.2).
			line, next, ok := lineAt(w, pos)
			if !ok {
				if h.trailer+len(w)-pos > maxHeadBytes {
					c.fault(i, faultTrailer, false)
					continue
				}
				return pos
			}
			h.trailer += next - pos
			pos = next
			if len(line) == 0 {
				h.st = stStart
			} else if h.trailer > maxHeadBytes {
				c.fault(i, faultTrailer, true)
			}
		case stStart:
			// Empty lines before a start line are ignored (RFC 9112 §2.2).
			for pos < len(w) && (w[pos] == '\r' || w[pos] == '\n') {
				pos++
			}
			if pos == len(w) {
				return pos
			}
			if h.fresh && !c.looksHTTP(i, w[pos:]) {
				if c.ignore {
					return len(w)
				}
				return pos // too few bytes to tell
			}
			// Most heads arrive whole: the first look parses the head in
			// the pass that finds its end. A head still arriving is then
			// followed by headEnd, which resumes where it stopped, and
			// parsed once it is all there.
			end, parsed := -1, false
			var f fault
			if h.scan == 0 {
				end, f = c.parseHead(i, w[pos:])
				parsed = end >= 0
			}
			if !parsed {
				var next int
				end, next = headEnd(w[pos:], h.scan)
				if end < 0 {
					if len(w)-pos > c.p.headCap {
						h.scan = 0
						c.fault(i, faultHeadTooLarge, false)
						continue
					}
					h.scan = next
					return pos
				}
			}
			h.scan = 0
			if end > c.p.headCap {
				c.fault(i, faultHeadTooLarge, false)
				continue
			}
			if !parsed {
				_, f = c.parseHead(i, w[pos:pos+end])
			}
			// A message cannot start before the one before it on this
			// direction, even when reassembly put a late packet first.
			at := max(c.timeAt(h, pos), h.lastAt)
			h.lastAt = at
			var ok bool
			if h.role == roleClient {
				ok = c.request(i, f, at)
			} else {
				ok = c.response(i, f, at)
			}
			if ok {
				pos += end
			}
		case stResync:
			want := h.want
			if !c.firm {
				// Roles guessed from ports (or unknown): whoever sends a
				// request line is the client.
				want = wantRequest | wantResponse
			}
			at, kind, keep := findStart(w[pos:], h.lineStart, want)
			if at < 0 {
				np := pos + keep
				h.lineStart = (np == pos && h.lineStart) || (np > 0 && (w[np-1] == '\n' || w[np-1] == 0))
				if h.role == roleUnknown {
					h.sniffed += np - pos
					if !c.byPort && h.sniffed+c.h[1-i].sniffed > sniffLimit {
						c.notHTTP()
						return len(w)
					}
				}
				return np
			}
			pos += at
			if !c.firm {
				client := i
				if kind == wantResponse {
					client = 1 - i
				}
				if client != c.client {
					c.setClient(client)
				}
				c.firm = true
			}
			h.st, h.lineStart = stStart, false
		}
	}
	return pos
}

// looksHTTP checks the first bytes of a SYN-started direction: a client
// must open with a request line and a server with a status line, or the
// connection is another protocol (TLS, SSH, ...) and is ignored. It
// returns true when b looks right; false with c.ignore unset means too
// few bytes to tell.
func (c *conn) looksHTTP(i int, b []byte) bool {
	h := &c.h[i]
	s := looksLikeRequest(b)
	if h.role == roleServer {
		s = looksLikeResponse(b)
	}
	switch s {
	case sniffYes:
		h.fresh = false
		return true
	case sniffNo:
		if h.role == roleClient && len(b) >= 2 && b[0] == tlsRecordHandshake && b[1] == 3 {
			c.p.rep.inc(cTLSStreams) // https on a port configured for http
		}
		c.notHTTP()
	}
	return false
}

// notHTTP gives up on the connection.
func (c *conn) notHTTP() {
	if c.ignore {
		return
	}
	c.ignore = true
	c.p.rep.inc(cNonHTTPStreams)
	for i := range c.h {
		c.h[i].st, c.h[i].buf = stIgnore, nil
	}
	c.unanswered()
}

// fault counts a parse error, records a Problem and makes direction i look
// for the next start line; lineStart says whether the byte where the
// search begins starts a line.
func (c *conn) fault(i int, f fault, lineStart bool) {
	p := c.p
	p.rep.parseError()
	c.problem(i, f)
	h := &c.h[i]
	h.st, h.lineStart, h.scan = stResync, lineStart, 0
}

// problem records a Problem naming the connection and direction.
func (c *conn) problem(i int, f fault) {
	c.p.rep.flowProblem(c.addr[i], c.addr[1-i], f.String())
}

// parseHead parses the head at the start of b into p.rh or p.rsp, by
// direction i's role, and returns its length (-1: not all there yet).
func (c *conn) parseHead(i int, b []byte) (int, fault) {
	p := c.p
	if c.h[i].role == roleClient {
		return parseRequestAt(b, &p.rh, p.keys, &p.fold)
	}
	return parseResponseAt(b, &p.rsp, &p.fold)
}

// request handles a request head parsed into p.rh with fault f. It
// returns false when the head is not a request (the direction is then
// resynchronising).
func (c *conn) request(i int, f fault, at int64) bool {
	p := c.p
	rh := &p.rh
	if f != faultNone {
		c.fault(i, f, false)
		return false
	}
	if rh.badLines > 0 {
		p.rep.parseError()
		c.problem(i, faultFieldLine)
	}
	c.firm = true
	x := p.ord.newPending()
	r := &x.req
	r.Time = time.Unix(0, at).UTC()
	r.Source = p.source
	r.Client, r.Server = c.addr[i], c.addr[1-i]
	r.Method = detect.KnownMethod(rh.method)
	if r.Method == "" {
		r.Method = p.in.str(rh.method)
	}
	r.Host, r.HasHost, r.DupHost = p.in.str(rh.host), rh.hasHost, rh.dupHost
	if auth, scheme, ok := absoluteAuthority(rh.target); ok {
		// The URI's authority is the host a server uses (RFC 9112 §3.2.2);
		// a Host header that names another is its own signal.
		r.URIHost = p.in.str(auth)
		p.rep.inc(cAbsoluteForm)
		if rh.hasHost && !sameAuthority(auth, rh.host, scheme) {
			p.rep.inc(cAbsoluteFormHostMismatch)
		}
	}
	r.Target = c.redacted(rh.target, false)
	r.Proto = internProto(rh.proto)
	r.Origin, r.HasOrigin = p.in.str(rh.origin), rh.hasOrigin
	r.Referer = c.redacted(rh.referer, true)
	r.UserAgent = p.in.str(rh.userAgent)
	r.Key = c.key(rh)
	x.at = at
	x.head = r.Method == "HEAD"
	c.expect(x)
	p.ord.push(x)

	kind, n := rh.requestBody()
	if rh.ambiguous {
		p.rep.inc(cAmbiguousFraming)
	}
	h := &c.h[i]
	switch kind {
	case bodyLength:
		h.st, h.remain = stBody, n
	case bodyChunked:
		h.st = stChunkSize
	case bodyBroken:
		c.fault(i, faultFraming, true)
	default:
		h.st = stStart
	}
	return true
}

// redacted returns a target or URL as a kept string with the values of
// key query parameters replaced (keys.Redacted), so no raw key reaches an
// output.
func (c *conn) redacted(b []byte, intern bool) string {
	p := c.p
	if p.keys != nil {
		var ok bool
		if p.redactOut, ok = p.keys.AppendRedacted(p.redactOut[:0], b); ok {
			return string(p.redactOut)
		}
	}
	if intern {
		return p.in.str(b)
	}
	return string(b)
}

// key returns the request's key fingerprint: from the key header of lowest
// rank that yields one, else from the target's query.
func (c *conn) key(rh *reqHead) string {
	k := c.p.keys
	if k == nil {
		return ""
	}
	for r := 0; r < maxKeyRanks && rh.keyMask>>r != 0; r++ {
		if rh.keyMask&(1<<r) != 0 {
			if fp, ok := k.FromHeader(rh.keyName[r], rh.keyVal[r]); ok {
				return fp
			}
		}
	}
	if fp, ok := k.FromTarget(rh.target); ok {
		return fp
	}
	return ""
}

// expect queues a request for its response, or answers it at once with a
// response that was reassembled before it.
func (c *conn) expect(x *pending) {
	p := c.p
	n := 0
	for n < len(c.orphans) && c.orphans[n].at < x.at {
		n++ // earlier than the request: they answered something we missed
	}
	if n > 0 {
		p.rep.add(cUnmatchedResponses, uint64(n))
		c.orphans = c.orphans[:copy(c.orphans, c.orphans[n:])]
	}
	if len(c.orphans) > 0 {
		x.req.Status, x.ready = c.orphans[0].code, true
		c.orphans = c.orphans[:copy(c.orphans, c.orphans[1:])]
		return
	}
	if c.client >= 0 && c.h[1-c.client].closed {
		x.ready = true // the server has finished sending
		return
	}
	if len(c.fifo) >= maxFIFO {
		old := c.fifo[0]
		c.fifo = c.fifo[:copy(c.fifo, c.fifo[1:])]
		p.ord.settle(old)
		p.rep.inc(cPipelineOverflow)
	}
	x.queued = true
	c.fifo = append(c.fifo, x)
}

// response handles a response head parsed into p.rsp with fault f.
func (c *conn) response(i int, f fault, at int64) bool {
	p := c.p
	rs := &p.rsp
	if f != faultNone {
		c.fault(i, f, false)
		return false
	}
	if rs.badLines > 0 {
		p.rep.parseError()
		c.problem(i, faultFieldLine)
	}
	c.firm = true
	h := &c.h[i]
	code := rs.code
	if code < 200 && code != 101 {
		// Interim (100 Continue, 103 Early Hints): the request still
		// waits for its final response (RFC 9110 §15.2).
		h.st = stStart
		return true
	}
	x := c.answer(at)
	headReq, connect := false, false
	if x != nil {
		if !x.out {
			x.req.Status = code
		}
		headReq, connect = x.head, x.req.Method == "CONNECT"
		p.ord.settle(x)
	}
	if code == 101 || (connect && code/100 == 2) {
		// The connection now carries another protocol (RFC 9110 §15.2.2,
		// §9.3.6): stop parsing both directions.
		p.rep.inc(cTunnels)
		for j := range c.h {
			c.h[j].st, c.h[j].buf = stIgnore, nil
		}
		c.unanswered()
		return true
	}
	kind, n := rs.responseBody(headReq)
	switch kind {
	case bodyLength:
		h.st, h.remain = stBody, n
	case bodyChunked:
		h.st = stChunkSize
	case bodyClose:
		h.st = stUntilClose
	case bodyBroken:
		c.fault(i, faultFraming, true)
	default:
		h.st = stStart
	}
	return true
}

// answer takes the request a final response at time at answers: the
// oldest waiting one, unless the response is older than it (it answers a
// request sent before the capture or lost in a gap). With nothing waiting,
// the response is kept briefly in case its request is still being
// reassembled.
func (c *conn) answer(at int64) *pending {
	if len(c.fifo) == 0 {
		if len(c.orphans) < maxOrphans {
			c.orphans = append(c.orphans, orphan{at: at, code: c.p.rsp.code})
		} else {
			c.p.rep.inc(cUnmatchedResponses)
		}
		return nil
	}
	x := c.fifo[0]
	if x.at > at {
		c.p.rep.inc(cUnmatchedResponses)
		return nil
	}
	c.fifo = c.fifo[:copy(c.fifo, c.fifo[1:])]
	return x
}

// dropBefore releases, without a status, the waiting requests sent before at.
func (c *conn) dropBefore(at int64) {
	n := 0
	for n < len(c.fifo) && c.fifo[n].at < at {
		x := c.fifo[n]
		c.p.ord.settle(x)
		n++
	}
	c.fifo = c.fifo[:copy(c.fifo, c.fifo[n:])]
}

// unanswered releases every waiting request without a status.
func (c *conn) unanswered() {
	for _, x := range c.fifo {
		c.p.ord.settle(x)
	}
	clear(c.fifo)
	c.fifo = c.fifo[:0]
}

// endHalf handles the end of direction i (FIN, RST or close by flush).
func (c *conn) endHalf(i int) {
	h := &c.h[i]
	if h.closed {
		return
	}
	h.closed = true
	if !c.ignore {
		switch h.st {
		case stStart:
			for _, b := range h.buf {
				if b != '\r' && b != '\n' {
					c.p.rep.inc(cIncompleteMessages)
					break
				}
			}
		case stBody, stChunkSize, stChunkData, stChunkEnd, stTrailer:
			c.p.rep.inc(cIncompleteMessages)
		}
	}
	h.buf = nil
	if h.role == roleServer {
		c.unanswered()
	}
}

func internProto(b []byte) string {
	switch string(b) {
	case "HTTP/1.1":
		return "HTTP/1.1"
	case "HTTP/1.0":
		return "HTTP/1.0"
	}
	return string(b) // validProto: HTTP/1.x, printable
}
