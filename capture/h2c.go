package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"

	"golang.org/x/net/http2/hpack"
)

// This file parses HTTP/2 over cleartext TCP with prior knowledge (h2c,
// RFC 9113 §3.3): the client opens with the connection preface instead of
// an HTTP/1.1 request line. Frames (§4) are followed in both directions;
// header blocks (HEADERS, CONTINUATION, PUSH_PROMISE) go through one HPACK
// decoder per direction (RFC 7541: the dynamic table belongs to the
// connection direction). Each client stream becomes a detect.Request with
// :authority as its Host; the server's :status on the same stream is its
// status.
//
// Hooks: an HTTP/1 conn (conn.go) asks h2cOpening whether a direction's
// first bytes open h2c and, if so, hands the connection's segments to an
// h2Conn (segment) and tells it when the connection ends (complete).

// h2Preface is the client connection preface (RFC 9113 §3.4).
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// Frame types and flags (RFC 9113 §6).
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2PushPromise  = 0x5
	h2Continuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4
	h2FlagPadded     = 0x8
	h2FlagPriority   = 0x20

	h2SettingHeaderTableSize = 0x1
)

// Bounds.
const (
	// h2TableSize is the HPACK dynamic table size an encoder may use
	// without asking (RFC 7541 §4.2 and the SETTINGS default).
	h2TableSize = 4096
	// h2TableAllowed is the largest table size an encoder may switch to:
	// browsers announce 64 KiB. A peer that announced more raises it up to
	// maxH2Table. Announcements are applied at once, not on their ACK, so
	// a table resize is never refused for arriving in the other direction
	// a little before the SETTINGS that allowed it.
	h2TableAllowed = 64 << 10
	maxH2Table     = 1 << 20
	// maxH2Streams caps the requests of one connection awaiting :status.
	maxH2Streams = 256
	// maxH2Early caps statuses kept for requests not yet reassembled.
	maxH2Early = 16
)

// h2cOpening says whether b, the first bytes of a direction, open an h2c
// connection, and whether their sender is the client: a client preface,
// or (when the sender may be the server) a SETTINGS frame sent before the
// client's preface was reassembled.
func h2cOpening(b []byte, mayBeServer bool) (ok, byClient bool) {
	b = b[:min(len(b), len(h2Preface))]
	switch {
	case len(b) >= 16 && bytes.HasPrefix(b, h2Preface[:16]):
		// "PRI * HTTP/2.0\r\n": not HTTP/1, so the rest of the preface
		// is checked by the h2c parser, which reports a bad one.
		return true, true
	case mayBeServer && len(b) >= 9 && b[3] == h2Settings && b[4] == 0 &&
		binary.BigEndian.Uint32(b[5:])&0x7fffffff == 0 && (int(b[0])<<16|int(b[1])<<8|int(b[2]))%6 == 0:
		// An HTTP/1 status line cannot look like this.
		return true, false
	}
	return false, false
}

// h2Conn is one h2c connection.
type h2Conn struct {
	sh      *connShared
	addr    [2]netip.AddrPort // addr[i] sends direction i
	client  int               // index of the client's direction
	half    [2]h2Half
	streams map[uint32]*pending // requests awaiting :status
	early   map[uint32]int      // statuses that came before their request was reassembled
	last    uint32              // the highest stream that opened a request
	dead    bool
	name    []byte // scratch for a key header's name
	val     []byte // scratch for its value
}

// h2Half is one direction of an h2c connection.
type h2Half struct {
	preface int     // preface bytes still expected
	hdr     [9]byte // the frame header being read
	nhdr    int
	remain  int // payload bytes of the current frame still to come
	length  int
	ftype   byte
	flags   byte
	stream  uint32
	keep    bool   // the payload is gathered in buf (frames that are read)
	buf     []byte // the current frame's payload
	at      int64  // time of the current frame's first byte
	dec     *hpack.Decoder
	blk     h2Block
	scratch []byte
}

// h2Block is a header block being decoded (HEADERS or PUSH_PROMISE and
// their CONTINUATION frames, RFC 9113 §4.3).
type h2Block struct {
	open    bool
	stream  uint32
	promise bool
	at      int64
	size    int
	big     bool
	f       h2Fields
}

// h2Fields are the fields of a header block that make a request or a
// response. Values are hpack's strings, as sent.
type h2Fields struct {
	method, authority, path, host, origin, referer, ua string
	hasMethod, hasAuthority, hasHost, hasOrigin        bool
	hasReferer, hasUA, dupHost                         bool
	status                                             int
	keyName, keyVal                                    [maxKeyRanks]string
	keyMask                                            uint32
}

func newH2Conn(sh *connShared, addr [2]netip.AddrPort, client int) *h2Conn {
	h := &h2Conn{sh: sh, addr: addr, client: client}
	h.half[client].preface = len(h2Preface)
	for i := range h.half {
		d := hpack.NewDecoder(h2TableSize, func(f hpack.HeaderField) { h.field(i, f) })
		d.SetAllowedMaxDynamicTableSize(h2TableAllowed)
		d.SetMaxStringLength(maxHeadBytes)
		h.half[i].dec = d
	}
	return h
}

// fault reasons, as shown in a Problem; they never quote wire bytes.
const (
	h2BadPreface  = "HTTP/2 client preface expected (RFC 9113 section 3.4)"
	h2BadFrame    = "malformed HTTP/2 frame (RFC 9113 section 6)"
	h2Interleaved = "HTTP/2 header block interrupted by another frame (RFC 9113 section 6.10)"
	h2FrameTooBig = "HTTP/2 header frame larger than the stream buffer cap"
	h2HPACK       = "HPACK decoding failed (RFC 7541)"
	h2BlockTooBig = "HTTP/2 header block exceeds 64 KiB; its fields past the limit are ignored"
	h2NoMethod    = "HTTP/2 request without :method (RFC 9113 section 8.3.1)"
	h2GapGivesUp  = "bytes missing from an HTTP/2 connection: its frames and HPACK state are lost"
)

// problem records a Problem naming the connection and direction i.
func (h *h2Conn) problem(i int, why string) {
	h.sh.rep.flowProblem(h.addr[i], h.addr[1-i], why)
}

// fail gives up on the connection: frames and HPACK state are out of step.
func (h *h2Conn) fail(i int, why string, parseError bool) {
	if h.dead {
		return
	}
	h.dead = true
	if parseError {
		h.sh.rep.parseError()
	}
	h.problem(i, why)
	h.release()
	for j := range h.half {
		h.half[j] = h2Half{}
	}
}

// complete says the connection ended (conn.complete's hook): requests
// still waiting for a status are released without one.
func (h *h2Conn) complete() { h.release() }

// release lets every waiting request go without a status.
func (h *h2Conn) release() {
	for s, x := range h.streams {
		h.sh.out.settle(x)
		delete(h.streams, s)
	}
}

// segment parses reassembled bytes of a direction (conn.segment's hook).
func (h *h2Conn) segment(s *segment) {
	i := s.dir
	if h.dead {
		return
	}
	if s.skip > 0 {
		h.fail(i, h2GapGivesUp, false)
		return
	}
	if len(s.data) == 0 {
		return
	}
	hf := &h.half[i]
	data := s.data
	off := 0
	if hf.preface > 0 {
		n := min(hf.preface, len(data))
		at := len(h2Preface) - hf.preface
		if !bytes.Equal(data[:n], h2Preface[at:at+n]) {
			h.fail(i, h2BadPreface, true)
			return
		}
		hf.preface -= n
		off = n
	}
	for off < len(data) && !h.dead {
		if hf.nhdr < len(hf.hdr) {
			if hf.nhdr == 0 {
				hf.at = s.at
			}
			n := copy(hf.hdr[hf.nhdr:], data[off:])
			hf.nhdr += n
			off += n
			if hf.nhdr == len(hf.hdr) && !h.header(i) {
				return
			}
			continue
		}
		n := min(hf.remain, len(data)-off)
		if hf.keep {
			hf.buf = append(hf.buf, data[off:off+n]...)
		}
		off += n
		hf.remain -= n
		if hf.remain == 0 {
			h.frame(i)
		}
	}
}

// header handles a complete frame header; false means the connection
// was given up.
func (h *h2Conn) header(i int) bool {
	hf := &h.half[i]
	b := hf.hdr[:]
	hf.length = int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	hf.ftype, hf.flags = b[3], b[4]
	hf.stream = binary.BigEndian.Uint32(b[5:]) & 0x7fffffff
	hf.remain = hf.length
	hf.buf = hf.buf[:0]
	switch hf.ftype {
	case h2Headers, h2Continuation, h2PushPromise, h2Settings, h2RSTStream:
		hf.keep = true
	default:
		hf.keep = false
	}
	if hf.blk.open && (hf.ftype != h2Continuation || hf.stream != hf.blk.stream) ||
		!hf.blk.open && hf.ftype == h2Continuation {
		h.fail(i, h2Interleaved, true)
		return false
	}
	if hf.keep && hf.length > h.sh.maxBuf {
		h.fail(i, h2FrameTooBig, true)
		return false
	}
	if hf.remain == 0 {
		h.frame(i)
	}
	return !h.dead
}

// frame handles a complete frame of direction i.
func (h *h2Conn) frame(i int) {
	hf := &h.half[i]
	hf.nhdr = 0
	p := hf.buf
	switch hf.ftype {
	case h2Settings:
		if hf.stream != 0 || hf.flags&h2FlagAck != 0 && len(p) != 0 || len(p)%6 != 0 {
			h.fail(i, h2BadFrame, true)
			return
		}
		for ; len(p) >= 6; p = p[6:] {
			if binary.BigEndian.Uint16(p) == h2SettingHeaderTableSize {
				// What i's decoder accepts is what the peer announced.
				if v := binary.BigEndian.Uint32(p[2:]); v > h2TableAllowed {
					h.half[1-i].dec.SetAllowedMaxDynamicTableSize(min(v, maxH2Table))
				}
			}
		}
	case h2RSTStream:
		if x, ok := h.streams[hf.stream]; ok {
			h.sh.out.settle(x)
			delete(h.streams, hf.stream)
		}
	case h2Headers, h2PushPromise:
		if hf.stream == 0 || hf.ftype == h2PushPromise && i == h.client {
			h.fail(i, h2BadFrame, true)
			return
		}
		if hf.flags&h2FlagPadded != 0 {
			if len(p) < 1 || int(p[0]) >= len(p) {
				h.fail(i, h2BadFrame, true)
				return
			}
			p = p[1 : len(p)-int(p[0])]
		}
		skip := 0
		if hf.ftype == h2PushPromise {
			skip = 4 // promised stream id
		} else if hf.flags&h2FlagPriority != 0 {
			skip = 5 // stream dependency, weight
		}
		if len(p) < skip {
			h.fail(i, h2BadFrame, true)
			return
		}
		hf.blk = h2Block{open: true, stream: hf.stream, promise: hf.ftype == h2PushPromise, at: hf.at}
		h.block(i, p[skip:])
	case h2Continuation:
		h.block(i, p)
	}
}

// block decodes a header block fragment, and the block once the frame
// carrying it says END_HEADERS.
func (h *h2Conn) block(i int, frag []byte) {
	hf := &h.half[i]
	b := &hf.blk
	b.size += len(frag)
	if b.size > maxHeadBytes && !b.big {
		// Decoding goes on, to keep the dynamic table in step; the
		// fields past the limit are not looked at.
		b.big = true
		hf.dec.SetEmitEnabled(false)
		h.sh.rep.parseError()
		h.problem(i, h2BlockTooBig)
	}
	if _, err := hf.dec.Write(frag); err != nil {
		h.fail(i, h2HPACK, true)
		return
	}
	if hf.flags&h2FlagEndHeaders == 0 {
		return
	}
	err := hf.dec.Close()
	hf.dec.SetEmitEnabled(true)
	b.open = false
	if err != nil {
		h.fail(i, h2HPACK, true)
		return
	}
	switch {
	case b.promise:
		// A pushed request: the server's, not a client's; decoded only
		// to keep the table in step.
	case i == h.client:
		h.request(b)
	default:
		h.response(b)
	}
	b.f = h2Fields{}
}

// field is the HPACK decoder's emit function for direction i.
func (h *h2Conn) field(i int, f hpack.HeaderField) {
	hf := &h.half[i]
	fs := &hf.blk.f
	switch f.Name {
	case ":method":
		fs.method, fs.hasMethod = f.Value, true
	case ":authority":
		if fs.hasAuthority {
			fs.dupHost = true
		} else {
			fs.authority, fs.hasAuthority = f.Value, true
		}
	case ":path":
		if fs.path == "" {
			fs.path = f.Value
		}
	case ":status":
		if n, err := strconv.Atoi(f.Value); err == nil && len(f.Value) == 3 && n >= 100 {
			fs.status = n
		}
	case "host":
		if fs.hasHost {
			fs.dupHost = true
		} else {
			fs.host, fs.hasHost = f.Value, true
		}
	case "origin":
		if !fs.hasOrigin {
			fs.origin, fs.hasOrigin = f.Value, true
		}
	case "referer":
		if !fs.hasReferer {
			fs.referer, fs.hasReferer = f.Value, true
		}
	case "user-agent":
		if !fs.hasUA {
			fs.ua, fs.hasUA = f.Value, true
		}
	}
	if k := h.sh.req.keys; k != nil && i == h.client && len(f.Name) > 0 && f.Name[0] != ':' {
		hf.scratch = append(hf.scratch[:0], f.Name...)
		if r := k.HeaderRank(hf.scratch); r >= 0 && r < maxKeyRanks && fs.keyMask&(1<<r) == 0 {
			fs.keyName[r], fs.keyVal[r] = f.Name, f.Value
			fs.keyMask |= 1 << r
		}
	}
}

// bytesOf returns s as bytes in direction i's scratch buffer, valid until
// the next call.
func (h *h2Conn) bytesOf(i int, s string) []byte {
	hf := &h.half[i]
	hf.scratch = append(hf.scratch[:0], s...)
	return hf.scratch
}

// request makes a client header block that opens a stream into a request.
func (h *h2Conn) request(b *h2Block) {
	s := b.stream
	if s%2 == 0 || s <= h.last {
		return // trailers, or not a client-initiated stream
	}
	h.last = s
	sh, fs := h.sh, &b.f
	i := h.client
	if !fs.hasMethod || fs.method == "" {
		// An empty :method is no method token either (RFC 9110 §9.1).
		sh.rep.parseError()
		h.problem(i, h2NoMethod)
		return
	}
	x := sh.pool.get()
	r := &x.req
	bld := sh.req
	bld.begin(r, b.at, h.addr[i], h.addr[1-i], h.bytesOf(i, fs.method))
	// :authority is the Host of HTTP/2 (RFC 9113 §8.3.1).
	switch {
	case fs.hasAuthority:
		r.Host, r.HasHost = bld.in.gated(&bld.hosts, h.bytesOf(i, fs.authority)), true
		r.DupHost = fs.dupHost || fs.hasHost && h2HostDiffers(fs.authority, fs.host)
	case fs.hasHost:
		r.Host, r.HasHost, r.DupHost = bld.str(h.bytesOf(i, fs.host)), true, fs.dupHost
	}
	target := fs.path
	if r.Method == "CONNECT" && target == "" {
		target = fs.authority
	}
	r.Target = bld.redacted(h.bytesOf(i, target), false)
	r.Proto = "HTTP/2.0"
	if fs.hasOrigin {
		r.Origin, r.HasOrigin = bld.str(h.bytesOf(i, fs.origin)), true
	}
	if fs.hasReferer {
		r.Referer = bld.redacted(h.bytesOf(i, fs.referer), true)
	}
	if fs.hasUA {
		r.UserAgent = bld.str(h.bytesOf(i, fs.ua))
	}
	r.Key = bld.key(fs.keyMask, func(rank int) ([]byte, []byte) {
		h.name = append(h.name[:0], fs.keyName[rank]...)
		h.val = append(h.val[:0], fs.keyVal[rank]...)
		return h.name, h.val
	}, h.bytesOf(i, target))
	x.at = b.at
	x.head = r.Method == "HEAD"
	sh.rep.inc(cH2CStreams)
	if st, ok := h.early[s]; ok {
		r.Status, x.ready = st, true
		delete(h.early, s)
	} else {
		if h.streams == nil {
			h.streams = make(map[uint32]*pending)
		}
		if len(h.streams) >= maxH2Streams {
			h.dropOldest()
		}
		x.queued = true
		h.streams[s] = x
	}
	sh.out.push(x)
}

// upgraded takes x, the HTTP/1.1 request that an h2c upgrade answered,
// as stream 1 (RFC 7540 §3.2): its status is stream 1's :status.
func (h *h2Conn) upgraded(x *pending) {
	h.last = 1
	h.streams = map[uint32]*pending{1: x}
}

// dropOldest releases the lowest stream awaiting a response.
func (h *h2Conn) dropOldest() {
	var low uint32
	for s := range h.streams {
		if low == 0 || s < low {
			low = s
		}
	}
	x := h.streams[low]
	h.sh.out.settle(x)
	delete(h.streams, low)
	h.sh.rep.inc(cPipelineOverflow)
}

// response gives a server header block's final :status to its stream.
func (h *h2Conn) response(b *h2Block) {
	st := b.f.status
	if st < 200 {
		return // interim (1xx), or trailers without :status
	}
	x, ok := h.streams[b.stream]
	if !ok {
		if b.stream > h.last && b.stream%2 == 1 && len(h.early) < maxH2Early {
			if h.early == nil {
				h.early = make(map[uint32]int)
			}
			h.early[b.stream] = st
		}
		return
	}
	h.sh.out.answer(x, st, x.req.PNAGranted)
	delete(h.streams, b.stream)
}
