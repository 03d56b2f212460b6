package capture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// This file is the pipeline's DNS side: it turns DNS responses into
// detect.DNSAnswer, over UDP and over TCP (two-byte length prefix, RFC 1035
// §4.2.2), on port 53 whatever [capture] ports says. The answers are what
// ties a request to a rebinding: the same name resolving first to a public
// address, then to a private one. The messages are parsed in dnsmsg.go.
//
// Hooks: a shard's worker hands it the UDP datagrams port 53 sends
// (message) and the TCP connections on port 53 (stream, for the
// assembler); the answers go to the sink, which hands them on at once
// (merge.go): they are not held for ordering as requests are, since an
// answer must reach the engine no later than the requests it steers.

// dnsPort is DNS's port.
const dnsPort = 53

// dnsSide parses DNS responses and hands on their answers. It is not safe
// for concurrent use.
type dnsSide struct {
	parser dnsParser
	out    sink
	source string // DNSAnswer.Source
	in     *strCache
	rep    *reporter
}

func newDNSSide(source string, in *strCache, rep *reporter, out sink) *dnsSide {
	return &dnsSide{source: source, in: in, rep: rep, out: out}
}

// message handles one DNS message sent by server to client at packet time
// at: a UDP datagram, or a message of a TCP stream.
func (s *dnsSide) message(msg []byte, at int64, client, server netip.AddrPort) {
	err := s.parser.parse(msg)
	switch {
	case err == errDNSIgnore:
		return
	case err != nil:
		s.rep.sampled(cDNSMalformed, server, client, err.Error())
		return
	}
	s.rep.inc(cDNSResponses)
	if !s.parser.wanted() {
		return
	}
	a := s.answer(at, client, server)
	s.out.dns(&a)
}

// answer builds the kept answer of the parsed message: the chain, the
// addresses of the names on it and their smallest TTL.
func (s *dnsSide) answer(at int64, client, server netip.AddrPort) detect.DNSAnswer {
	d := &s.parser
	d.follow()
	a := detect.DNSAnswer{
		Time:   time.Unix(0, at).UTC(),
		Source: s.source,
		Client: client,
		Server: server,
		Name:   s.in.String(d.bytes(d.qname)),
		Rcode:  d.rcode,
	}
	if d.nchain > 0 {
		a.CNAMEs = make([]string, d.nchain)
		for i, c := range d.chain[:d.nchain] {
			a.CNAMEs[i] = s.in.String(d.bytes(c))
		}
	}
	n := 0
	for i := range d.rrs {
		if d.rrs[i].addr.IsValid() && d.onChain(d.rrs[i].owner) {
			n++
		}
	}
	if n > 0 {
		a.Addrs = make([]netip.Addr, 0, n)
		for i := range d.rrs {
			rr := &d.rrs[i]
			if !rr.addr.IsValid() || !d.onChain(rr.owner) {
				continue
			}
			if len(a.Addrs) == 0 || rr.ttl < a.TTL {
				a.TTL = rr.ttl
			}
			a.Addrs = append(a.Addrs, rr.addr)
		}
	}
	return a
}

// stream makes the stream of a TCP connection on port 53, whose first
// segment went from src to dst.
func (s *dnsSide) stream(src, dst netip.AddrPort) *dnsStream {
	return &dnsStream{side: s, addr: [2]netip.AddrPort{src, dst}}
}

// dnsStream is DNS over one TCP connection: each direction carries
// messages behind a two-byte length. Only what port 53 sends (responses)
// is parsed.
type dnsStream struct {
	side *dnsSide
	addr [2]netip.AddrPort // addr[i] sends direction i
	buf  [2][]byte         // an unfinished message (with its length prefix) per direction
	dead [2]bool           // lost step (a gap): the rest of the direction is skipped
}

// segment takes reassembled bytes of the connection (assembler.go).
func (s *dnsStream) segment(seg *segment) {
	i := seg.dir
	if s.addr[i].Port() != dnsPort || s.dead[i] {
		return // queries, or a direction out of step
	}
	if seg.skip > 0 {
		// Message boundaries are lost with the bytes: the rest of the
		// direction cannot be framed.
		s.dead[i], s.buf[i] = true, nil
		return
	}
	data := seg.data
	for off := 0; off < len(data); {
		if len(s.buf[i]) == 0 && len(data)-off >= 2 {
			if n := int(binary.BigEndian.Uint16(data[off:])); off+2+n <= len(data) {
				off += 2 + n
				s.done(seg.at, data[off-n:off], i)
				continue
			}
		}
		// A message split across segments: gather it.
		b := s.buf[i]
		need := 2
		if len(b) >= 2 {
			need += int(binary.BigEndian.Uint16(b))
		}
		take := min(need-len(b), len(data)-off)
		b = append(b, data[off:off+take]...)
		off += take
		if len(b) >= 2 && len(b) == 2+int(binary.BigEndian.Uint16(b)) {
			s.done(seg.at, b[2:], i)
			b = b[:0]
		}
		s.buf[i] = b
	}
	if seg.end && len(s.buf[i]) > 0 {
		s.side.rep.countSampled(cDNSMalformed) // a message cut by the end of its connection
		s.buf[i] = nil
	}
}

// done handles a message from direction i whose last byte came at packet
// time at: the answer's time, when the client could use it.
func (s *dnsStream) done(at int64, msg []byte, i int) {
	s.side.message(msg, at, s.addr[1-i], s.addr[i])
}

// complete says the connection ended (assembler.go); a message it cut was
// counted with its last segment.
func (s *dnsStream) complete() {}
