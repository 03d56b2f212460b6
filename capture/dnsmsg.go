package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// This file parses DNS messages (RFC 1035 §4.1) with a small hand-written
// parser rather than gopacket's layers.DNS, which allocates every name and
// record: this one decodes names into one reused buffer, and the DNS side
// (dns.go) allocates only the strings and slices of an answer it keeps.

// Bounds of what one message may make us keep or do.
const (
	maxDNSRecords = 64  // answer records kept per message; later ones are skipped
	maxDNSCNAMEs  = 16  // CNAME chain length followed
	maxDNSName    = 255 // presentation bytes of a name (RFC 1035 §2.3.4, plus dots)
	maxDNSJumps   = 64  // compression pointers followed within one name
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
