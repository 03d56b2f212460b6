package capture

import (
	"net/netip"
)

// This file is the HTTP/1 connection state machine: the stream the
// assembler hands each connection's bytes to (unless it is DNS, dns.go).
// Each direction walks message by message, head (head.go) and body
// (framing.go), resynchronising after what it cannot parse (resync.go);
// the heads become requests and responses (exchange.go). A connection that
// opens with HTTP/2's preface is handed to the h2c parser (h2c.go).

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

// connShared is what the HTTP connections of a pipeline (of one shard of
// it) share: where their requests go, limits, and scratch for the one head
// being parsed at a time. It is not safe for concurrent use.
type connShared struct {
	rep     *reporter
	out     sink         // where requests and their statuses go (merge.go)
	pool    *pendingPool // the requests' recycled holders
	req     *reqBuilder
	ports   *portSet // Options.Ports: roles are guessed from them
	maxBuf  int      // bytes buffered per direction (MaxStreamBuffer)
	headCap int      // the longest head taken
	rh      reqHead
	rsp     respHead
	fold    []byte
	free    []*conn // completed connections, for newConn
}

// maxFreeHTTP is how many completed connections a connShared keeps for
// new ones.
const maxFreeHTTP = 1024

// conn is one TCP connection's stream (assembler.go): it parses HTTP/1.x
// in both directions and pairs responses with requests in order.
type conn struct {
	sh        *connShared
	h         [2]half           // h[0] carries what the first packet's sender sent
	addr      [2]netip.AddrPort // addr[i] sends h[i]
	client    int               // index of the client's half, -1 while unknown
	byPort    bool              // a port in Ports: HTTP by configuration
	firm      bool              // roles known from the SYN or a parsed message, not guessed from ports
	ignore    bool
	midstream bool
	fifo      []*pending // requests awaiting a response, oldest first
	orphans   []orphan
	h2        *h2Conn // h2c.go: the connection speaks HTTP/2 instead (prior knowledge, or after an h2c upgrade)
}

// newConn starts a connection at its first segment, sent from src to dst.
// The roles are known from a SYN, else guessed from the ports.
func newConn(sh *connShared, tcp *tcpHdr, src, dst netip.AddrPort) *conn {
	var c *conn
	if n := len(sh.free); n > 0 {
		// A completed connection (complete): the assembler calls nothing
		// on it after that. Its queue's array is kept, emptied.
		c, sh.free = sh.free[n-1], sh.free[:n-1]
		*c = conn{sh: sh, client: -1, fifo: c.fifo[:0]}
	} else {
		c = &conn{sh: sh, client: -1}
	}
	c.addr[0], c.addr[1] = src, dst
	sp, dp := src.Port(), dst.Port()
	ports := sh.ports
	c.byPort = ports.has(sp) || ports.has(dp)
	switch {
	case tcp.SYN && !tcp.ACK:
		c.setClient(0)
		c.firm = true
	case tcp.SYN && tcp.ACK:
		c.setClient(1)
		c.firm = true
	case ports.has(dp) && !ports.has(sp):
		c.setClient(0)
	case ports.has(sp) && !ports.has(dp):
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
	if c.h2 != nil || c.startH2C(s) {
		c.h2.segment(s)
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
	if c.h2 != nil {
		c.h2.complete()
	}
	c.endHalf(0)
	c.endHalf(1)
	c.unanswered()
	c.sh.rep.add(cUnmatchedResponses, uint64(len(c.orphans)))
	c.orphans = nil
	if sh := c.sh; len(sh.free) < maxFreeHTTP {
		sh.free = append(sh.free, c)
	}
}

// startH2C hands the connection to the h2c parser when direction i opens
// it the HTTP/2 way (h2c.go): a client preface, or a server's SETTINGS.
func (c *conn) startH2C(s *segment) bool {
	i := s.dir
	if len(s.data) == 0 || c.h[i].begun || c.ignore {
		return false
	}
	ok, byClient := h2cOpening(s.data, c.h[i].role != roleClient)
	if !ok {
		return false
	}
	client := i
	if !byClient {
		client = 1 - i
	}
	c.h2 = newH2Conn(c.sh, c.addr, client)
	return true
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
		c.sh.rep.inc(cMidstreamStreams)
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
			h.endBody() // body.go
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
	maxBuf := c.sh.maxBuf
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
			c.sh.rep.add(cStreamBytesCapped, uint64(len(h.buf)))
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
// it consumed; it stops early only when it needs more data to go on. Each
// state's step takes w from pos and says where the next one starts, and
// whether to go on.
func (c *conn) parse(i int, w []byte) int {
	h := &c.h[i]
	pos, more := 0, true
	for more && pos < len(w) {
		switch h.st {
		case stIgnore, stUntilClose:
			return len(w)
		case stBody, stChunkData:
			pos = h.skipBody(w, pos) // body.go
		case stChunkEnd:
			pos, more = c.chunkEnd(i, w, pos)
		case stChunkSize:
			pos, more = c.chunkSize(i, w, pos)
		case stTrailer:
			pos, more = c.trailer(i, w, pos)
		case stStart:
			pos, more = c.head(i, w, pos)
		case stResync:
			pos, more = c.resync(i, w, pos)
		}
	}
	return pos
}

// head takes the message head at w[pos:] (RFC 9112 §2.1), once it is all
// there, as a request or a response by direction i's role.
func (c *conn) head(i int, w []byte, pos int) (int, bool) {
	h := &c.h[i]
	// Empty lines before a start line are ignored (RFC 9112 §2.2).
	for pos < len(w) && (w[pos] == '\r' || w[pos] == '\n') {
		pos++
	}
	if pos == len(w) {
		return pos, false
	}
	if h.role == roleServer && c.awaits09() && looksLikeResponse(w[pos:]) == sniffNo {
		c.response09(i)
		return len(w), false
	}
	if h.fresh && !c.looksHTTP(i, w[pos:]) {
		if c.ignore {
			return len(w), false
		}
		return pos, false // too few bytes to tell
	}
	// Most heads arrive whole: the first look parses the head in the pass
	// that finds its end. A head still arriving is then followed by
	// headEnd, which resumes where it stopped, and parsed once it is all
	// there.
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
			if len(w)-pos > c.sh.headCap {
				h.scan = 0
				c.fault(i, faultHeadTooLarge, false)
				return pos, true
			}
			h.scan = next
			return pos, false
		}
	}
	h.scan = 0
	if end > c.sh.headCap {
		c.fault(i, faultHeadTooLarge, false)
		return pos, true
	}
	if !parsed {
		_, f = c.parseHead(i, w[pos:pos+end])
	}
	// A message cannot start before the one before it on this direction,
	// even when reassembly put a late packet first.
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
	if c.h2 != nil {
		// The response switched to h2c: what follows it is HTTP/2.
		c.h2.segment(&segment{data: w[pos:], at: c.timeAt(h, pos), dir: i})
		return len(w), false
	}
	return pos, true
}

// awaits09 reports whether the oldest request waiting for a response has
// no version (HTTP/0.9, lenient.go), so its response may be a bare body.
func (c *conn) awaits09() bool {
	return len(c.fifo) > 0 && c.fifo[0].req.Proto == "HTTP/0.9"
}

// response09 takes what server direction i sends next as the HTTP/0.9
// response of the oldest waiting request: a body without a status line or
// header fields, which ends when the server closes (RFC 1945 §6: the
// Simple-Response). The request goes without a status, as Zeek logs it.
func (c *conn) response09(i int) {
	x := c.fifo[0]
	c.fifo = c.fifo[:copy(c.fifo, c.fifo[1:])]
	c.sh.out.settle(x)
	h := &c.h[i]
	h.st, h.fresh = stUntilClose, false
	c.firm = true
}

// resync looks for the next start line in w[pos:] (resync.go) and settles
// the roles by it when they were only guessed. Bytes of a connection
// whose roles are unknown are not looked at forever.
func (c *conn) resync(i int, w []byte, pos int) (int, bool) {
	h := &c.h[i]
	want := h.want
	if !c.firm {
		// Roles guessed from ports (or unknown): whoever sends a request
		// line is the client.
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
				return len(w), false
			}
		}
		return np, false
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
	return pos, true
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
			c.sh.rep.inc(cTLSStreams) // https on a port configured for http
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
	c.sh.rep.inc(cNonHTTPStreams)
	c.stopParsing()
}

// stopParsing skips the rest of both directions, which carry something
// other than HTTP/1 from here on, and releases the waiting requests.
func (c *conn) stopParsing() {
	for i := range c.h {
		c.h[i].st, c.h[i].buf = stIgnore, nil
	}
	c.unanswered()
}

// fault counts a parse error, records a Problem and makes direction i look
// for the next start line; lineStart says whether the byte where the
// search begins starts a line.
func (c *conn) fault(i int, f fault, lineStart bool) {
	c.sh.rep.parseError()
	c.problem(i, f)
	h := &c.h[i]
	h.st, h.lineStart, h.scan = stResync, lineStart, 0
}

// problem records a Problem naming the connection and direction.
func (c *conn) problem(i int, f fault) {
	c.sh.rep.flowProblem(c.addr[i], c.addr[1-i], f.String())
}

// parseHead parses the head at the start of b into sh.rh or sh.rsp, by
// direction i's role, and returns its length (-1: not all there yet).
func (c *conn) parseHead(i int, b []byte) (int, fault) {
	sh := c.sh
	if c.h[i].role == roleClient {
		return parseRequestAt(b, &sh.rh, sh.req.keys, &sh.fold)
	}
	return parseResponseAt(b, &sh.rsp, &sh.fold)
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
					c.sh.rep.inc(cIncompleteMessages)
					break
				}
			}
		case stBody, stChunkSize, stChunkData, stChunkEnd, stTrailer:
			c.sh.rep.inc(cIncompleteMessages)
		}
	}
	h.buf = nil
	if h.role == roleServer {
		c.unanswered()
	}
}
