package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// This file reads the server name (SNI, RFC 6066 §3) and the offered ALPN
// protocols (RFC 7301) of TLS ClientHellos, on every TCP port: over https a
// rebinding page reaches the server with its own name in SNI, where a Host
// header is encrypted.
//
// A ClientHello is the first thing a TLS client sends, so only a segment
// that starts with a handshake record holding a ClientHello is looked at,
// plus the segments that continue one (a hello with a post-quantum key
// share is larger than an Ethernet segment). This small in-order gatherer
// is all the reassembly it needs; connections on other ports are not given
// to the TCP assembler for it.

// Bounds.
const (
	// maxHelloBytes caps the records gathered for one ClientHello.
	maxHelloBytes = 32 << 10
	// maxHelloParts caps the ClientHellos being gathered at once (so at
	// most 8 MiB of gathered bytes).
	maxHelloParts = 256
	// helloPartWait is how long (packet time) a partial ClientHello waits
	// for its next segment.
	helloPartWait = 10 * time.Second
	// maxHelloSeen caps the connections remembered so that a retransmitted
	// ClientHello is not reported twice.
	maxHelloSeen = 4096
	// helloSeenKeep is how long a reported ClientHello is remembered.
	helloSeenKeep = 2 * time.Minute
	// maxALPN caps the ALPN protocols kept.
	maxALPN = 8
	// maxTLSQueue caps hellos waiting for the emitter.
	maxTLSQueue = 4096
	// maxTLSRecord is the largest record accepted: 2^14 plus the
	// expansion a protected record may carry (RFC 8446 §5.2).
	maxTLSRecord = 1<<14 + 256
)

// TLS constants (RFC 8446 §5.1, §4).
const (
	tlsRecordHandshake = 0x16
	tlsClientHello     = 1
	tlsExtServerName   = 0
	tlsExtALPN         = 16
	tlsSNIHostName     = 0
)

var (
	errHelloMore = errors.New("ClientHello continues in a later segment")
	errHelloBad  = errors.New("malformed TLS ClientHello")
	errHelloNot  = errors.New("not a ClientHello")
	errHelloBig  = errors.New("TLS ClientHello larger than 32 KiB")
)

// clientHello is what parseClientHello found; slices alias its input.
type clientHello struct {
	sni    []byte
	hasSNI bool
	alpn   [maxALPN][]byte
	nalpn  int
}

// helloKey names a connection direction.
type helloKey struct{ src, dst netip.AddrPort }

// helloPart is a ClientHello gathered over segments.
type helloPart struct {
	seq  uint32 // of its first byte
	next uint32 // the next segment's expected sequence number
	at   int64  // time of its first segment
	buf  []byte
}

// helloState is the pipeline's TLS side.
type helloState struct {
	parts   map[helloKey]*helloPart
	expire  int64 // packet time of the next sweep of parts
	seen    map[helloKey]helloSeen
	queue   []detect.TLSHello
	scratch []byte // a handshake message spread over records
	ch      clientHello
}

// helloSeen remembers a reported ClientHello.
type helloSeen struct {
	seq uint32
	at  int64
}

// looksLikeHello says whether b may start a TLS record with a ClientHello:
// a handshake record of version 3.x (SSL 3.0 to TLS 1.3 all say 3.x) whose
// handshake message is a ClientHello.
func looksLikeHello(b []byte) bool {
	return len(b) >= 6 && b[0] == tlsRecordHandshake && b[1] == 3 && b[2] <= 4 && b[5] == tlsClientHello
}

// tlsSegment looks at the decoded TCP segment (any port) for a ClientHello
// or the rest of one. cut says the capture cut the packet short.
func (p *pipeline) tlsSegment(ts time.Time, cut bool) {
	tcp := &p.dec.tcp
	payload := tcp.Payload
	h := &p.hello
	if len(payload) == 0 || (len(h.parts) == 0 && !looksLikeHello(payload)) {
		return
	}
	src, dst := p.dec.addrs()
	k := helloKey{src, dst}
	at := ts.UnixNano()
	if len(h.parts) > 0 && at >= h.expire {
		// Hellos whose rest never came (lost, or out of order) go.
		p.expireParts(at)
		h.expire = at + int64(helloPartWait)
	}
	if part, ok := h.parts[k]; ok {
		switch {
		case tcp.Seq == part.next && !cut:
			part.buf = append(part.buf, payload...)
			part.next += uint32(len(payload))
			p.helloTry(k, part.seq, part.at, part.buf, true)
			return
		case tcp.Seq == part.seq:
			// The first segment again (a retransmission): start over below.
			delete(h.parts, k)
		default:
			if at-part.at > int64(helloPartWait) {
				delete(h.parts, k)
			}
			if !looksLikeHello(payload) {
				return // out of order, or a segment of another stream
			}
		}
	}
	if !looksLikeHello(payload) {
		return
	}
	if s, ok := h.seen[k]; ok && s.seq == tcp.Seq {
		return // a retransmitted ClientHello
	}
	if cut {
		// The rest of the hello is in bytes the capture did not keep.
		return
	}
	p.helloTry(k, tcp.Seq, at, payload, false)
}

// helloTry parses the gathered bytes of a ClientHello; gathered says buf
// is a helloPart's own buffer.
func (p *pipeline) helloTry(k helloKey, seq uint32, at int64, buf []byte, gathered bool) {
	h := &p.hello
	err := parseClientHello(buf, &h.scratch, &h.ch)
	switch {
	case err == errHelloMore:
		if len(buf) >= maxHelloBytes {
			err = errHelloBig
			break
		}
		if gathered {
			return
		}
		if h.parts == nil {
			h.parts = make(map[helloKey]*helloPart)
		}
		if len(h.parts) >= maxHelloParts {
			p.expireParts(at)
			if len(h.parts) >= maxHelloParts {
				return // a flood of half hellos: the newest go unread
			}
		}
		h.parts[k] = &helloPart{seq: seq, next: seq + uint32(len(buf)), at: at, buf: append(make([]byte, 0, 2*len(buf)), buf...)}
		return
	case err == errHelloNot:
		if gathered {
			delete(h.parts, k)
		}
		return
	}
	if gathered {
		delete(h.parts, k)
	}
	if err != nil {
		p.rep.inc(cTLSMalformed)
		if p.rep.value(cTLSMalformed) <= 3 {
			p.rep.problem(k.src.String() + " > " + k.dst.String() + ": " + err.Error())
		}
		return
	}
	p.rep.inc(cTLSClientHellos)
	p.rememberHello(k, seq, at)
	if len(h.queue) >= maxTLSQueue {
		h.queue = h.queue[:copy(h.queue, h.queue[1:])]
	}
	th := detect.TLSHello{Time: time.Unix(0, at).UTC(), Source: p.source, Client: k.src, Server: k.dst}
	if h.ch.hasSNI {
		th.SNI = p.in.str(h.ch.sni)
	}
	if h.ch.nalpn > 0 {
		th.ALPN = make([]string, h.ch.nalpn)
		for i, a := range h.ch.alpn[:h.ch.nalpn] {
			th.ALPN[i] = p.in.str(a)
		}
	}
	h.queue = append(h.queue, th)
}

// rememberHello notes a reported ClientHello, so a retransmission of its
// segment is not reported again.
func (p *pipeline) rememberHello(k helloKey, seq uint32, at int64) {
	h := &p.hello
	if h.seen == nil {
		h.seen = make(map[helloKey]helloSeen)
	}
	if len(h.seen) >= maxHelloSeen {
		for key, s := range h.seen {
			if at-s.at > int64(helloSeenKeep) {
				delete(h.seen, key)
			}
		}
		if len(h.seen) >= maxHelloSeen {
			clear(h.seen)
		}
	}
	h.seen[k] = helloSeen{seq: seq, at: at}
}

// expireParts drops partial hellos that waited too long.
func (p *pipeline) expireParts(at int64) {
	for key, part := range p.hello.parts {
		if at-part.at > int64(helloPartWait) {
			delete(p.hello.parts, key)
		}
	}
}

// parseClientHello reads the ClientHello at the start of b, a client's
// first bytes: handshake records (RFC 8446 §5.1) whose fragments make up
// the handshake message (it may span records). scratch holds a message
// spread over records. It returns errHelloMore when b ends before the
// message does, errHelloNot when b is not a ClientHello at all.
func parseClientHello(b []byte, scratch *[]byte, ch *clientHello) error {
	*ch = clientHello{}
	var msg []byte // the handshake message: type, length, body
	need := -1     // its full length, once known
	joined := false
	for off := 0; need < 0 || len(msg) < need; {
		if off+5 > len(b) {
			return errHelloMore
		}
		if b[off] != tlsRecordHandshake || b[off+1] != 3 {
			if off == 0 {
				return errHelloNot
			}
			return errHelloBad // another record before the hello was complete
		}
		n := int(binary.BigEndian.Uint16(b[off+3:]))
		if n == 0 || n > maxTLSRecord {
			return errHelloBad
		}
		if off+5+n > len(b) {
			if need < 0 && len(msg)+len(b)-off-5 >= 4 {
				// Check the handshake header early, so a huge claimed
				// length is rejected before waiting for it.
				at := func(j int) int {
					if j < len(msg) {
						return int(msg[j])
					}
					return int(b[off+5+j-len(msg)])
				}
				if at(0) != tlsClientHello {
					return errHelloNot
				}
				if 4+(at(1)<<16|at(2)<<8|at(3)) > maxHelloBytes {
					return errHelloBig
				}
			}
			return errHelloMore
		}
		frag := b[off+5 : off+5+n]
		off += 5 + n
		if msg == nil && need < 0 {
			msg = frag
		} else {
			if !joined {
				*scratch = append((*scratch)[:0], msg...)
				joined = true
			}
			*scratch = append(*scratch, frag...)
			msg = *scratch
		}
		if need < 0 && len(msg) >= 4 {
			if msg[0] != tlsClientHello {
				return errHelloNot
			}
			need = 4 + (int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3]))
			if need > maxHelloBytes {
				return errHelloBig
			}
		}
	}
	return parseHelloBody(msg[4:need], ch)
}

// parseHelloBody reads a ClientHello body (RFC 8446 §4.1.2, RFC 5246
// §7.4.1.2): version, random, session id, cipher suites, compression
// methods, then the extensions, which may be absent in old hellos.
func parseHelloBody(b []byte, ch *clientHello) error {
	r := reader{b: b}
	r.skip(2 + 32)  // legacy_version, random
	r.vec8()        // legacy_session_id
	cs := r.vec16() // cipher_suites
	cm := r.vec8()  // legacy_compression_methods
	if r.bad || len(cs)%2 != 0 || len(cs) == 0 || len(cm) == 0 {
		return errHelloBad
	}
	if r.empty() {
		return nil // no extensions: no SNI (SSL 3.0-era hello)
	}
	exts := r.vec16()
	if r.bad || !r.empty() {
		return errHelloBad
	}
	var sawSNI, sawALPN bool
	e := reader{b: exts}
	for !e.empty() {
		typ := e.u16()
		data := e.vec16()
		if e.bad {
			return errHelloBad
		}
		switch {
		case typ == tlsExtServerName && !sawSNI:
			sawSNI = true
			if err := parseSNI(data, ch); err != nil {
				return err
			}
		case typ == tlsExtALPN && !sawALPN:
			sawALPN = true
			if err := parseALPN(data, ch); err != nil {
				return err
			}
		}
		// Others, GREASE (RFC 8701) included, are skipped.
	}
	return nil
}

// parseSNI reads a server_name extension (RFC 6066 §3): the first
// host_name entry is the server name.
func parseSNI(b []byte, ch *clientHello) error {
	if len(b) == 0 {
		return nil // a server's empty echo; a client never sends it, but it is harmless
	}
	r := reader{b: b}
	list := r.vec16()
	if r.bad || !r.empty() {
		return errHelloBad
	}
	l := reader{b: list}
	for !l.empty() {
		typ := l.u8()
		name := l.vec16()
		if l.bad {
			return errHelloBad
		}
		if typ == tlsSNIHostName && !ch.hasSNI {
			ch.sni, ch.hasSNI = name, true
		}
	}
	return nil
}

// parseALPN reads an application_layer_protocol_negotiation extension
// (RFC 7301 §3.1), keeping up to maxALPN protocols and leaving out GREASE
// values (RFC 8701 §2).
func parseALPN(b []byte, ch *clientHello) error {
	r := reader{b: b}
	list := r.vec16()
	if r.bad || !r.empty() {
		return errHelloBad
	}
	l := reader{b: list}
	for !l.empty() {
		name := l.vec8()
		if l.bad || len(name) == 0 {
			return errHelloBad
		}
		if len(name) == 2 && name[0] == name[1] && name[0]&0x0f == 0x0a {
			continue
		}
		if ch.nalpn < maxALPN {
			ch.alpn[ch.nalpn] = name
			ch.nalpn++
		}
	}
	return nil
}

// reader reads TLS presentation-language fields (RFC 8446 §3); after an
// overrun every read returns zero and bad is set.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) empty() bool { return len(r.b) == 0 }

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) skip(n int) { r.take(n) }

func (r *reader) u8() int {
	if v := r.take(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (r *reader) u16() int {
	if v := r.take(2); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *reader) vec8() []byte  { return r.take(r.u8()) }
func (r *reader) vec16() []byte { return r.take(r.u16()) }
