package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
)

// This file turns DNS responses into detect.DNSAnswer: over UDP and over
// TCP (two-byte length prefix, RFC 1035 §4.2.2), on port 53 whatever
// [capture] ports says. The answers are what ties a request to a rebinding:
// the same name resolving first to a public address, then to a private one.
//
// The parser is a small hand-written one (RFC 1035 §4.1) rather than
// gopacket's layers.DNS, which allocates every name and record: this one
// decodes names into one reused buffer and allocates only the strings and
// slices of an answer it keeps.

// dnsPort is DNS's port.
const dnsPort = 53

// Bounds of what one message may make us keep or do.
const (
	maxDNSRecords = 64  // answer records kept per message; later ones are skipped
	maxDNSCNAMEs  = 16  // CNAME chain length followed
	maxDNSName    = 255 // presentation bytes of a name (RFC 1035 §2.3.4, plus dots)
	maxDNSJumps   = 64  // compression pointers followed within one name
	maxDNSQueue   = 4096
)

// DNS types and classes (RFC 1035 §3.2.2, RFC 3596).
const (
	dnsTypeA     = 1
	dnsTypeCNAME = 5
	dnsTypeAAAA  = 28
	dnsTypeANY   = 255
	dnsClassIN   = 1
)

// Why a message is not turned into an answer. errDNSIgnore marks messages
// that are well formed but of no interest (queries, other opcodes, no
// question); the others are malformed.
var (
	errDNSIgnore    = errors.New("not a DNS response to a query")
	errDNSShort     = errors.New("DNS message ends inside a field")
	errDNSName      = errors.New("bad DNS name")
	errDNSPointer   = errors.New("bad DNS compression pointer")
	errDNSRDLength  = errors.New("DNS record data overruns the message")
	errDNSAddrShape = errors.New("DNS address record of the wrong length")
)

// span is a name in dnsParser.names.
type span struct{ off, end uint16 }

// dnsRR is one answer record the parser kept.
type dnsRR struct {
	owner  span
	typ    uint16
	ttl    uint32
	addr   netip.Addr // A, AAAA
	target span       // CNAME
}

// dnsParser parses DNS messages into reused buffers; it is not safe for
// concurrent use.
type dnsParser struct {
	names  []byte // decoded names, lower-case, dotted, back to back
	qname  span
	qtype  uint16
	rcode  int
	rrs    []dnsRR
	chain  [maxDNSCNAMEs]span
	nchain int
}

// parse parses one message. It returns errDNSIgnore for what is not a
// response to a standard query.
func (d *dnsParser) parse(msg []byte) error {
	d.names, d.rrs, d.nchain = d.names[:0], d.rrs[:0], 0
	if len(msg) < 12 {
		return errDNSShort
	}
	flags := binary.BigEndian.Uint16(msg[2:])
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	if flags&0x8000 == 0 || flags>>11&0xf != 0 || qd == 0 {
		return errDNSIgnore // a query, not opcode QUERY, or no question to name
	}
	d.rcode = int(flags & 0xf)
	off := 12
	for i := 0; i < qd; i++ {
		name, next, err := d.name(msg, off)
		if err != nil {
			return err
		}
		if next+4 > len(msg) {
			return errDNSShort
		}
		if i == 0 {
			d.qname = name
			d.qtype = binary.BigEndian.Uint16(msg[next:])
		} else {
			d.names = d.names[:name.off] // only the first question is kept
		}
		off = next + 4
	}
	for i := 0; i < an; i++ {
		mark := len(d.names)
		owner, next, err := d.name(msg, off)
		if err != nil {
			return err
		}
		if next+10 > len(msg) {
			return errDNSShort
		}
		typ := binary.BigEndian.Uint16(msg[next:])
		class := binary.BigEndian.Uint16(msg[next+2:])
		ttl := binary.BigEndian.Uint32(msg[next+4:])
		rdl := int(binary.BigEndian.Uint16(msg[next+8:]))
		rd := next + 10
		if rd+rdl > len(msg) {
			return errDNSRDLength
		}
		off = rd + rdl
		if ttl&0x80000000 != 0 {
			ttl = 0 // RFC 2181 §8: a TTL with the top bit set is read as zero
		}
		rr := dnsRR{owner: owner, typ: typ, ttl: ttl}
		keep := class == dnsClassIN && len(d.rrs) < maxDNSRecords
		switch {
		case !keep:
		case typ == dnsTypeA:
			if rdl != 4 {
				return errDNSAddrShape
			}
			rr.addr = netip.AddrFrom4([4]byte(msg[rd : rd+4]))
		case typ == dnsTypeAAAA:
			if rdl != 16 {
				return errDNSAddrShape
			}
			rr.addr = netip.AddrFrom16([16]byte(msg[rd : rd+16]))
		case typ == dnsTypeCNAME:
			t, end, err := d.name(msg[:rd+rdl], rd)
			if err != nil {
				return err
			}
			if end != rd+rdl {
				return errDNSRDLength
			}
			rr.target = t
		default:
			keep = false
		}
		if !keep {
			d.names = d.names[:mark]
			continue
		}
		d.rrs = append(d.rrs, rr)
	}
	// The authority and additional sections are not read: an answer is
	// what the answer section says (glue there is not what the client uses).
	return nil
}

// name decodes the name at msg[off:] into d.names, lower-cased, labels
// joined by dots, no trailing dot ("" for the root). Compression pointers
// (RFC 1035 §4.1.4) must point backwards, which rules out loops; their
// number is capped too. It returns the span and the offset after the name
// as it appears at off.
func (d *dnsParser) name(msg []byte, off int) (span, int, error) {
	start := len(d.names)
	next := -1
	jumps := 0
	for {
		if off >= len(msg) {
			return span{}, 0, errDNSShort
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				return span{uint16(start), uint16(len(d.names))}, next, nil
			}
			if off+1+c > len(msg) {
				return span{}, 0, errDNSShort
			}
			if len(d.names)-start+c+1 > maxDNSName {
				return span{}, 0, errDNSName
			}
			if len(d.names) > start {
				d.names = append(d.names, '.')
			}
			for _, b := range msg[off+1 : off+1+c] {
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				d.names = append(d.names, b)
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(msg) {
				return span{}, 0, errDNSShort
			}
			ptr := int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			if ptr >= off || jumps >= maxDNSJumps {
				return span{}, 0, errDNSPointer
			}
			jumps++
			if next < 0 {
				next = off + 2
			}
			off = ptr
		default:
			return span{}, 0, errDNSName // 0x40, 0x80: extended label types (RFC 6891 §5) are obsolete
		}
	}
}

func (d *dnsParser) bytes(s span) []byte { return d.names[s.off:s.end] }

func (d *dnsParser) same(a, b span) bool { return string(d.bytes(a)) == string(d.bytes(b)) }

// follow follows the CNAME chain from the question name.
func (d *dnsParser) follow() {
	cur := d.qname
	d.nchain = 0
	for d.nchain < maxDNSCNAMEs {
		found := false
		for i := range d.rrs {
			if d.rrs[i].typ == dnsTypeCNAME && d.same(d.rrs[i].owner, cur) {
				cur = d.rrs[i].target
				d.chain[d.nchain] = cur
				d.nchain++
				found = true
				break
			}
		}
		if !found {
			return
		}
	}
}

// onChain says whether s is the question name or a name of its chain.
func (d *dnsParser) onChain(s span) bool {
	if d.same(s, d.qname) {
		return true
	}
	for _, c := range d.chain[:d.nchain] {
		if d.same(s, c) {
			return true
		}
	}
	return false
}

// wanted says whether the question asks for addresses, the only answers
// the engine uses; answers to MX, TXT, HTTPS... are counted, not sent.
func (d *dnsParser) wanted() bool {
	switch d.qtype {
	case dnsTypeA, dnsTypeAAAA, dnsTypeCNAME, dnsTypeANY:
		return true
	}
	return false
}

// answer builds the kept answer of the parsed message: the chain, the
// addresses of the names on it and their smallest TTL.
func (d *dnsParser) answer(p *pipeline, at int64, client, server netip.AddrPort) detect.DNSAnswer {
	d.follow()
	a := detect.DNSAnswer{
		Time:   time.Unix(0, at).UTC(),
		Source: p.source,
		Client: client,
		Server: server,
		Name:   p.in.str(d.bytes(d.qname)),
		Rcode:  d.rcode,
	}
	if d.nchain > 0 {
		a.CNAMEs = make([]string, d.nchain)
		for i, c := range d.chain[:d.nchain] {
			a.CNAMEs[i] = p.in.str(d.bytes(c))
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

// dnsState is the pipeline's DNS side: the parser and the answers waiting
// for the emitter.
type dnsState struct {
	parser dnsParser
	queue  []detect.DNSAnswer
}

// dnsMessage handles one DNS message sent by server to client at time at.
func (p *pipeline) dnsMessage(msg []byte, at int64, client, server netip.AddrPort) {
	d := &p.dns.parser
	err := d.parse(msg)
	switch {
	case err == errDNSIgnore:
		return
	case err != nil:
		p.rep.inc(cDNSMalformed)
		if p.rep.value(cDNSMalformed) <= 3 {
			p.rep.problem(server.String() + " > " + client.String() + ": " + err.Error())
		}
		return
	}
	p.rep.inc(cDNSResponses)
	if !d.wanted() {
		return
	}
	if len(p.dns.queue) >= maxDNSQueue {
		// Only when nothing drains (a caller that never calls drain).
		p.dns.queue = p.dns.queue[:copy(p.dns.queue, p.dns.queue[1:])]
		p.rep.inc(cDNSDropped)
	}
	p.dns.queue = append(p.dns.queue, d.answer(p, at, client, server))
}

// udp handles a packet that decoded as neither TCP nor an error: a UDP
// datagram from port 53 is a DNS response. A datagram the capture cut
// short is left alone (truncated_packets counts it).
func (p *pipeline) udp(ci time.Time, cut bool) {
	src, dst, payload, ok := p.dec.udp()
	if !ok || src.Port() != dnsPort || cut {
		return
	}
	p.dnsMessage(payload, ci.UnixNano(), dst, src)
}

// udp returns the UDP datagram of the decoded packet, if it is one. The
// decoder stops at the layer after IP (UDP is not among its layers), so the
// eight-byte UDP header (RFC 768) is read here.
func (d *decoder) udp() (src, dst netip.AddrPort, payload []byte, ok bool) {
	if len(d.decoded) == 0 {
		return src, dst, nil, false
	}
	var proto layers.IPProtocol
	switch last := d.decoded[len(d.decoded)-1]; last {
	case layers.LayerTypeIPv4:
		if d.v6 {
			return src, dst, nil, false
		}
		proto, payload = d.ip4.Protocol, d.ip4.Payload
	case layers.LayerTypeIPv6:
		proto, payload = d.ip6.NextHeader, d.ip6.Payload
		if d.ip6.HopByHop != nil {
			proto = d.ip6.HopByHop.NextHeader
		}
	case layers.LayerTypeIPv6Fragment:
		proto, payload = d.ip6frag.NextHeader, d.ip6frag.Payload // an atomic fragment (RFC 6946)
	default:
		if layers.LayerClassIPv6Extension.Contains(last) {
			proto, payload = d.ip6ext.NextHeader, d.ip6ext.Payload
		} else {
			return src, dst, nil, false
		}
	}
	if proto != layers.IPProtocolUDP || len(payload) < 8 {
		return src, dst, nil, false
	}
	n := int(binary.BigEndian.Uint16(payload[4:]))
	if n < 8 || n > len(payload) {
		return src, dst, nil, false
	}
	sp, dp := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
	var s, t netip.Addr
	if d.v6 && len(d.ip6.SrcIP) == 16 && len(d.ip6.DstIP) == 16 {
		s, t = netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP))
	} else if !d.v6 && len(d.ip4.SrcIP) == 4 && len(d.ip4.DstIP) == 4 {
		s, t = netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
	} else {
		return src, dst, nil, false
	}
	return netip.AddrPortFrom(s, sp), netip.AddrPortFrom(t, dp), payload[8:n], true
}

// dnsStream is DNS over one TCP connection: each direction carries
// messages behind a two-byte length. Only what port 53 sends (responses)
// is parsed.
type dnsStream struct {
	buf  [2][]byte // an unfinished message (with its length prefix) per direction
	dead [2]bool   // lost step (a gap): the rest of the direction is skipped
}

// dnsTCP handles reassembled bytes of a DNS connection.
func (c *conn) dnsTCP(s *dnsStream, seg *segment) {
	i := seg.dir
	if c.addr[i].Port() != dnsPort || s.dead[i] {
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
				c.dnsDone(seg.at, data[off-n:off], i)
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
			c.dnsDone(seg.at, b[2:], i)
			b = b[:0]
		}
		s.buf[i] = b
	}
	if seg.end && len(s.buf[i]) > 0 {
		c.p.rep.inc(cDNSMalformed) // a message cut by the end of its connection
		s.buf[i] = nil
	}
}

// dnsDone handles a message from direction i whose last byte came at
// packet time at: the answer's time, when the client could use it.
func (c *conn) dnsDone(at int64, msg []byte, i int) {
	c.p.dnsMessage(msg, at, c.addr[1-i], c.addr[i])
}

// drainSide hands the emitter the DNS answers and TLS ClientHellos parsed
// so far. They are not held for ordering as requests are: an answer must
// reach the engine no later than the requests it steers.
func (p *pipeline) drainSide() {
	for i := range p.dns.queue {
		p.e.DNS(p.dns.queue[i])
	}
	clear(p.dns.queue)
	p.dns.queue = p.dns.queue[:0]
	for i := range p.hello.queue {
		p.e.TLS(p.hello.queue[i])
	}
	clear(p.hello.queue)
	p.hello.queue = p.hello.queue[:0]
}
