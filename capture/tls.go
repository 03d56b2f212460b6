package capture

import (
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// This file is the pipeline's TLS side: it reads the server name and the
// offered ALPN protocols of TLS ClientHellos (clienthello.go), on every TCP
// port: over https a rebinding page reaches the server with its own name
// in SNI, where a Host header is encrypted.
//
// A ClientHello is the first thing a TLS client sends, so only a segment
// that starts with a handshake record holding a ClientHello is looked at,
// plus the segments that continue one (a hello with a post-quantum key
// share is larger than an Ethernet segment). This small in-order gatherer
// is all the reassembly it needs; connections on other ports are not given
// to the TCP assembler for it.
//
// Hooks: the pipeline's front (front.go) asks whether a segment is of
// interest (wants) and hands it over (segment); the hellos go to the sink
// at once (merge.go). It runs in the front, before packets are spread
// over shards, so its caps and clocks are the whole capture's.

// Gathering bounds.
const (
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
)

// helloKey names a connection direction.
type helloKey struct{ src, dst netip.AddrPort }

// helloPart is a ClientHello gathered over segments.
type helloPart struct {
	seq   uint32 // of its first byte
	next  uint32 // the next segment's expected sequence number
	at    int64  // time of its first segment
	buf   []byte
	later []helloPiece // segments that overtook one before them, until it comes
}

// helloPiece is a segment of a ClientHello that arrived before the one
// before it.
type helloPiece struct {
	seq  uint32
	data []byte
}

// maxHelloLater caps the segments a ClientHello keeps while one before
// them is missing.
const maxHelloLater = 16

// opening is a connection whose client SYN was seen and whose first data
// byte has not come yet. Segments after that byte are kept meanwhile: when
// a reordering network delivers a ClientHello's first segment last, the
// segments before it no longer look like anything, and only these tell
// the rest of the hello.
type opening struct {
	first uint32 // the sequence number of the first data byte
	at    int64  // packet time of the SYN
	early []helloPiece
}

// maxOpenings caps the connections watched for their first byte (a SYN
// flood fills it; then new ones are not watched, as before).
const maxOpenings = 4096

// helloSeen remembers a reported ClientHello.
type helloSeen struct {
	seq uint32
	at  int64
}

// tlsSide gathers and parses ClientHellos and hands them on. It is not
// safe for concurrent use.
type tlsSide struct {
	parts   map[helloKey]*helloPart
	opening map[helloKey]*opening // connections whose first data byte has not come yet
	expire  int64                 // packet time of the next sweep of parts
	seen    map[helloKey]helloSeen
	out     sink
	scratch []byte // a handshake message spread over records
	ch      clientHello
	source  string // TLSHello.Source
	in      *strCache
	rep     *reporter
}

func newTLSSide(source string, in *strCache, rep *reporter, out sink) *tlsSide {
	return &tlsSide{source: source, in: in, rep: rep, out: out}
}

// wants says whether a TCP segment with this payload may start or continue
// a ClientHello; only those are handed to segment.
func (s *tlsSide) wants(payload []byte) bool {
	return len(payload) > 0 && (len(s.parts) > 0 || len(s.opening) > 0 || looksLikeHello(payload))
}

// segment looks at a TCP segment sent from src to dst at packet time at
// (any port) for a ClientHello or the rest of one. cut says the capture
// cut the packet short.
func (s *tlsSide) segment(src, dst netip.AddrPort, seq uint32, payload []byte, at int64, cut bool) {
	k := helloKey{src, dst}
	if (len(s.parts) > 0 || len(s.opening) > 0) && at >= s.expire {
		// Hellos whose rest never came (lost, or out of order) go, and
		// connections whose first byte never came.
		s.expireParts(at)
		s.expire = at + int64(helloPartWait)
	}
	var early []helloPiece
	if o, ok := s.opening[k]; ok {
		if seq != o.first {
			if !cut && !looksLikeHello(payload) {
				o.keep(seq, payload)
				return
			}
		} else {
			delete(s.opening, k)
			early = o.early
		}
	}
	if part, ok := s.parts[k]; ok {
		switch {
		case seq == part.next && !cut:
			part.buf = append(part.buf, payload...)
			part.next += uint32(len(payload))
			part.takeLater()
			s.try(k, part.seq, part.at, part.buf, true)
			return
		case !cut && part.holdLater(seq, payload):
			return // it overtook a segment before it: kept until that one comes
		case seq == part.seq:
			// The first segment again (a retransmission): start over below.
			delete(s.parts, k)
		default:
			if at-part.at > int64(helloPartWait) {
				delete(s.parts, k)
			}
			if !looksLikeHello(payload) {
				return // out of order, or a segment of another stream
			}
		}
	}
	if !looksLikeHello(payload) {
		return
	}
	if h, ok := s.seen[k]; ok && h.seq == seq {
		return // a retransmitted ClientHello
	}
	if cut {
		// The rest of the hello is in bytes the capture did not keep.
		return
	}
	s.try(k, seq, at, payload, false)
	if part := s.parts[k]; part != nil && len(early) > 0 {
		// The first segment came last: the rest was kept while it was
		// awaited.
		part.later = append(part.later, early...)
		part.takeLater()
		s.try(k, part.seq, part.at, part.buf, true)
	}
}

// opened notes a client's SYN (sequence number isn: its data starts at
// isn+1) on a connection that may carry TLS.
func (s *tlsSide) opened(src, dst netip.AddrPort, isn uint32, at int64) {
	if s.opening == nil {
		s.opening = make(map[helloKey]*opening)
	}
	if len(s.opening) >= maxOpenings {
		s.expireParts(at)
		if len(s.opening) >= maxOpenings {
			return
		}
	}
	s.opening[helloKey{src, dst}] = &opening{first: isn + 1, at: at}
}

// keep holds a segment that came before the connection's first byte,
// within a ClientHello's size bound.
func (o *opening) keep(seq uint32, data []byte) {
	ahead := int32(seq - o.first)
	if ahead <= 0 || len(o.early) >= maxHelloLater || int(ahead)+len(data) > maxHelloBytes {
		return
	}
	o.early = append(o.early, helloPiece{seq: seq, data: append([]byte(nil), data...)})
}

// holdLater keeps a segment that starts after the next one expected
// (it overtook one before it), within the hello's size bound; it reports
// whether it kept it.
func (p *helloPart) holdLater(seq uint32, data []byte) bool {
	ahead := int32(seq - p.next)
	if ahead <= 0 || len(p.later) >= maxHelloLater || int(seq-p.seq)+len(data) > maxHelloBytes {
		return false
	}
	p.later = append(p.later, helloPiece{seq: seq, data: append([]byte(nil), data...)})
	return true
}

// takeLater appends the kept segments that now follow on, in order.
func (p *helloPart) takeLater() {
	for found := true; found; {
		found = false
		for i, pc := range p.later {
			end := pc.seq + uint32(len(pc.data))
			if int32(pc.seq-p.next) > 0 || int32(end-p.next) <= 0 {
				continue // still ahead, or nothing new
			}
			p.buf = append(p.buf, pc.data[p.next-pc.seq:]...)
			p.next = end
			p.later = append(p.later[:i], p.later[i+1:]...)
			found = true
			break
		}
	}
	// What the gathered bytes now cover is of no more use.
	n := 0
	for _, pc := range p.later {
		if int32(pc.seq+uint32(len(pc.data))-p.next) > 0 {
			p.later[n] = pc
			n++
		}
	}
	p.later = p.later[:n]
}

// try parses the gathered bytes of a ClientHello; gathered says buf is a
// helloPart's own buffer.
func (s *tlsSide) try(k helloKey, seq uint32, at int64, buf []byte, gathered bool) {
	err := parseClientHello(buf, &s.scratch, &s.ch)
	switch {
	case err == errHelloMore:
		if len(buf) >= maxHelloBytes {
			err = errHelloBig
			break
		}
		if gathered {
			return
		}
		if s.parts == nil {
			s.parts = make(map[helloKey]*helloPart)
		}
		if len(s.parts) >= maxHelloParts {
			s.expireParts(at)
			if len(s.parts) >= maxHelloParts {
				return // a flood of half hellos: the newest go unread
			}
		}
		s.parts[k] = &helloPart{seq: seq, next: seq + uint32(len(buf)), at: at, buf: append(make([]byte, 0, 2*len(buf)), buf...)}
		return
	case err == errHelloNot:
		if gathered {
			delete(s.parts, k)
		}
		return
	}
	if gathered {
		delete(s.parts, k)
	}
	if err != nil {
		s.rep.sampled(cTLSMalformed, k.src, k.dst, err.Error())
		return
	}
	s.rep.inc(cTLSClientHellos)
	s.remember(k, seq, at)
	h := s.hello(k, at)
	s.out.tls(&h)
}

// hello makes the kept TLSHello of the ClientHello just parsed.
func (s *tlsSide) hello(k helloKey, at int64) detect.TLSHello {
	th := detect.TLSHello{Time: time.Unix(0, at).UTC(), Source: s.source, Client: k.src, Server: k.dst}
	if s.ch.hasSNI {
		th.SNI = s.in.String(s.ch.sni)
	}
	if s.ch.nalpn > 0 {
		th.ALPN = make([]string, s.ch.nalpn)
		for i, a := range s.ch.alpn[:s.ch.nalpn] {
			th.ALPN[i] = s.in.String(a)
		}
	}
	return th
}

// remember notes a reported ClientHello, so a retransmission of its
// segment is not reported again.
func (s *tlsSide) remember(k helloKey, seq uint32, at int64) {
	if s.seen == nil {
		s.seen = make(map[helloKey]helloSeen)
	}
	if len(s.seen) >= maxHelloSeen {
		for key, h := range s.seen {
			if at-h.at > int64(helloSeenKeep) {
				delete(s.seen, key)
			}
		}
		if len(s.seen) >= maxHelloSeen {
			clear(s.seen)
		}
	}
	s.seen[k] = helloSeen{seq: seq, at: at}
}

// expireParts drops partial hellos that waited too long.
func (s *tlsSide) expireParts(at int64) {
	for key, part := range s.parts {
		if at-part.at > int64(helloPartWait) {
			delete(s.parts, key)
		}
	}
	for key, o := range s.opening {
		if at-o.at > int64(helloPartWait) {
			delete(s.opening, key)
		}
	}
}
