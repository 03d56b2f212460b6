package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decodeResult is what decoding one packet found.
type decodeResult uint8

const (
	decodedTCP              decodeResult = iota // a TCP segment over IPv4 or IPv6
	decodedOther                                // a well-formed packet that is not TCP (ARP, UDP, ...)
	decodedFragment                             // an IP fragment, held until its datagram is whole
	decodedError                                // a malformed header
	decodedLinkType                             // a link type this package does not decode
	decodedEncapMalformed                       // an encapsulation whose header does not hold (encap.go)
	decodedEncapUnsupported                     // an encapsulation carrying a protocol not followed
	decodedTooDeep                              // encapsulations nested deeper than maxEncap
)

// Link types some systems write for raw IP instead of LINKTYPE_RAW (101):
// DLT_RAW is 12 on most BSDs and 14 on OpenBSD.
const (
	linkTypeRawBSD     layers.LinkType = 12
	linkTypeRawOpenBSD layers.LinkType = 14
)

// decoder turns link-layer frames into TCP segments without allocating:
// the layers are allocated once and shared by one DecodingLayerParser per
// first layer, the decoded slice is reused (gopacket's statsassembly).
// It is not safe for concurrent use.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q // 802.1Q and 802.1ad (QinQ): the same struct decodes each tag
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	ip6frag layers.IPv6Fragment
	gre     layers.GRE
	tcp     layers.TCP

	pEth, pSLL, pSLL2, pLoop, pIP4, pIP6, pGRE *gopacket.DecodingLayerParser

	// frags reassembles IP fragments (defrag.go); nil: fragments are
	// only reported. now is the packet time the pipeline is at.
	frags *defragmenter
	now   int64
	frag  fragment // the fragment decodeOne found

	decoded   []gopacket.LayerType
	slowOnly  bool // tests: always take the general path
	truncated bool // a layer found fewer bytes than its header promised
	err       error
	v6        bool // the innermost network layer is IPv6

	// full is the length the TCP payload had on the wire, from the IP
	// header; more than len(tcp.Payload) when the capture cut the packet.
	full int
	pad  []byte // padCut's copy of a cut payload
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 12)}
	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6,
		&d.ip6ext, &d.ip6frag, // after the skipper: fragments get their own decoder
		&d.gre, // GRE, and IP-in-IP (4, 41) through the IP layers themselves
		&d.tcp,
	}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, all...)
		// Stop quietly at layers we do not decode (UDP, ARP, the TCP
		// payload); the decoded slice says how far we got.
		p.IgnoreUnsupported = true
		return p
	}
	d.pEth = mk(layers.LayerTypeEthernet)
	d.pSLL = mk(layers.LayerTypeLinuxSLL)
	d.pSLL2 = mk(layers.LayerTypeLinuxSLL2)
	d.pLoop = mk(layers.LayerTypeLoopback)
	d.pIP4 = mk(layers.LayerTypeIPv4)
	d.pIP6 = mk(layers.LayerTypeIPv6)
	d.pGRE = mk(layers.LayerTypeGRE)
	return d
}

// parserFor returns the parser that starts at link's first layer.
func (d *decoder) parserFor(link layers.LinkType, data []byte) *gopacket.DecodingLayerParser {
	switch link {
	case layers.LinkTypeEthernet:
		return d.pEth
	case layers.LinkTypeLinuxSLL:
		return d.pSLL
	case layers.LinkTypeLinuxSLL2:
		return d.pSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.pLoop
	case layers.LinkTypeIPv4:
		return d.pIP4
	case layers.LinkTypeIPv6:
		return d.pIP6
	case linkGRE:
		return d.pGRE
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD:
		// Raw IP: the version nibble says which.
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				return d.pIP4
			case 6:
				return d.pIP6
			}
		}
		return d.pIP4 // fails to decode and is counted
	}
	return nil
}

// decode decodes one frame. On decodedTCP, d.tcp holds the segment and
// flow/addrs give its endpoints.
//
// Encapsulations are followed to the innermost packet, one step at a
// time: the layer parser follows GRE (IPv4, IPv6 or Ethernet inside),
// IP-in-IP and IPv6-in-IPv4 (protocols 4 and 41) and VLAN tags; where it
// stops, the header it stopped at says what comes next (encap.go: MPLS,
// PPPoE, ERSPAN, and the UDP ones: VXLAN, VXLAN-GPE, Geneve, GRE in UDP,
// MPLS in UDP, GTP-U, Teredo, AYIYA), and an IP fragment that completes
// its datagram gives the whole datagram (defrag.go). The layers then hold
// the inner packet; the outer one is forgotten. A capture cannot make it
// go on for ever: every step consumes a header, and after maxEncap steps
// the packet is given up (decodedTooDeep).
func (d *decoder) decode(data []byte, link layers.LinkType) decodeResult {
	d.truncated, d.err, d.full = false, nil, 0
	d.decoded = d.decoded[:0]
	for depth := 0; ; depth++ {
		if depth > maxEncap {
			return decodedTooDeep
		}
		var er encapResult
		switch link {
		case linkMPLS:
			data, link, er = mpls(data)
		case linkPPPoE:
			data, link, er = pppoe(data)
		case linkTypeNFLOG:
			data, link, er = nflog(data)
		default:
			r := d.decodeOne(data, link)
			switch {
			case r == decodedFragment && d.frags != nil:
				whole, ok := d.frags.add(&d.frag, d.now, d.truncated)
				if !ok {
					return r
				}
				data, link, er = whole, linkRaw, encapInner
			case r == decodedOther:
				data, link, er = d.inner()
			default:
				return r
			}
		}
		switch er {
		case encapNone:
			return decodedOther
		case encapMalformed:
			return decodedEncapMalformed
		case encapUnsupported:
			return decodedEncapUnsupported
		}
	}
}

// maxEncap bounds the encapsulations one packet is followed into; real
// traffic nests two or three (GTP-U in a fragmented outer IPv4 packet, an
// ERSPAN copy of a VXLAN frame).
const maxEncap = 8

// inner looks at the header the layer parser stopped at and says where
// the packet it carries starts, if it is an encapsulation read by hand.
func (d *decoder) inner() ([]byte, layers.LinkType, encapResult) {
	if len(d.decoded) == 0 {
		return nil, 0, encapNone
	}
	var t uint16
	var payload []byte
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeEthernet:
		t, payload = uint16(d.eth.EthernetType), d.eth.Payload
	case layers.LayerTypeDot1Q:
		t, payload = uint16(d.dot1q.Type), d.dot1q.Payload
	case layers.LayerTypeLinuxSLL:
		t, payload = uint16(d.sll.EthernetType), d.sll.Payload
	case layers.LayerTypeLinuxSLL2:
		t, payload = uint16(d.sll2.ProtocolType), d.sll2.Payload
	case layers.LayerTypeGRE:
		switch t, payload = uint16(d.gre.Protocol), d.gre.Payload; t {
		case etherERSPAN, etherERSPAN3:
			return erspan(t, d.gre.SeqPresent, payload)
		}
	default:
		src, dst, payload, ok := d.udp()
		if !ok || src.Port() == dnsPort || dst.Port() == dnsPort {
			return nil, 0, encapNone
		}
		return udpEncap(src.Port(), dst.Port(), payload)
	}
	switch t {
	case etherMPLS, etherMPLSMulticast, etherPPPoESession:
		return byEtherType(t, payload)
	}
	return nil, 0, encapNone
}

// decodeOne decodes one frame with the layer parser, stopping where it
// stops: at the TCP payload, or at a layer it does not know.
func (d *decoder) decodeOne(data []byte, link layers.LinkType) decodeResult {
	d.err, d.full = nil, 0
	if !d.slowOnly && d.decodeFast(data, link) {
		return decodedTCP
	}
	p := d.parserFor(link, data)
	if p == nil {
		return decodedLinkType
	}
	err := p.DecodeLayers(data, &d.decoded)
	d.truncated = d.truncated || p.Truncated
	if err != nil {
		d.err = err
		return decodedError
	}
	var sawIP, frag, tcp bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			sawIP, d.v6 = true, false
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				frag = true
				d.fragment4()
			}
		case layers.LayerTypeIPv6:
			sawIP, d.v6 = true, true
		case layers.LayerTypeIPv6Fragment:
			if d.ip6frag.FragmentOffset != 0 || d.ip6frag.MoreFragments {
				frag = true
				d.fragment6()
			}
		case layers.LayerTypeTCP:
			tcp = true
		}
	}
	switch {
	case frag:
		return decodedFragment
	case !tcp || !sawIP:
		return decodedOther
	}
	d.full = d.fullPayload(len(data))
	return decodedTCP
}

// fragment4 describes the IPv4 fragment in d.ip4 in d.frag.
func (d *decoder) fragment4() {
	f, h := &d.frag, &d.ip4
	f.key = fragKey{id: uint32(h.Id), proto: uint8(h.Protocol)}
	copy(f.key.src[:], h.SrcIP)
	copy(f.key.dst[:], h.DstIP)
	f.off, f.more = int(h.FragOffset)*8, h.Flags&layers.IPv4MoreFragments != 0
	f.payload, f.hdr = h.Payload, h.Contents
}

// fragment6 describes the IPv6 fragment in d.ip6frag in d.frag.
func (d *decoder) fragment6() {
	f, h := &d.frag, &d.ip6frag
	f.key = fragKey{id: h.Identification, v6: true}
	copy(f.key.src[:], d.ip6.SrcIP)
	copy(f.key.dst[:], d.ip6.DstIP)
	f.off, f.more = int(h.FragmentOffset)*8, h.MoreFragments
	f.payload, f.next, f.hdr = h.Payload, uint8(h.NextHeader), nil
}

// decodeFast handles the frames nearly every capture is made of, without
// the generality of the layer parser: Ethernet without a VLAN tag, or raw
// IP, then IPv4 (not a fragment) or IPv6 without extension headers, then
// TCP, all of it captured. It fills the same layers and d.decoded as the
// general path and says false for anything else, which then goes the
// general way (and is decoded again from the start).
func (d *decoder) decodeFast(data []byte, link layers.LinkType) bool {
	ip := data
	eth := false
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return false
		}
		if t := binary.BigEndian.Uint16(data[12:]); t != uint16(layers.EthernetTypeIPv4) && t != uint16(layers.EthernetTypeIPv6) {
			return false
		}
		ip, eth = data[14:], true
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
	default:
		return false
	}
	if len(ip) < 40 {
		return false
	}
	var l3 gopacket.LayerType
	switch ip[0] >> 4 {
	case 4:
		// TCP, and neither More Fragments nor an offset (RFC 791).
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != byte(layers.IPProtocolTCP) || ip[6]&0x3f != 0 || ip[7] != 0 ||
			ihl < 20 || total < ihl+20 || total > len(ip) {
			return false
		}
		d.setIPv4(ip, ihl, total)
		d.v6, l3 = false, layers.LayerTypeIPv4
		ip = d.ip4.Payload
	case 6:
		// TCP right after the fixed header (RFC 8200), with room for its
		// own fixed header.
		n := 40 + int(binary.BigEndian.Uint16(ip[4:]))
		if ip[6] != byte(layers.IPProtocolTCP) || n < 40+20 || n > len(ip) {
			return false
		}
		d.setIPv6(ip, n)
		d.v6, l3 = true, layers.LayerTypeIPv6
		ip = d.ip6.Payload
	default:
		return false
	}
	// TCP (RFC 9293 §3.1): the options are left unparsed.
	off := int(ip[12]>>4) * 4
	if off < 20 || off > len(ip) {
		return false
	}
	d.setTCP(ip, off)
	d.decoded = d.decoded[:0]
	if eth {
		d.decoded = append(d.decoded, layers.LayerTypeEthernet)
	}
	d.decoded = append(d.decoded, l3, layers.LayerTypeTCP)
	d.full = len(d.tcp.Payload) // nothing was cut
	return true
}

// setIPv4 fills d.ip4 from a checked header (ihl and total within ip).
func (d *decoder) setIPv4(ip []byte, ihl, total int) {
	h := &d.ip4
	h.Version, h.IHL, h.TOS = 4, ip[0]&0x0f, ip[1]
	h.Length, h.Id = uint16(total), binary.BigEndian.Uint16(ip[4:])
	h.Flags = layers.IPv4Flag(ip[6] >> 5)
	h.FragOffset = binary.BigEndian.Uint16(ip[6:]) & 0x1fff
	h.TTL, h.Protocol = ip[8], layers.IPProtocol(ip[9])
	h.Checksum = binary.BigEndian.Uint16(ip[10:])
	h.SrcIP, h.DstIP = ip[12:16:16], ip[16:20:20]
	h.Options, h.Padding = h.Options[:0], nil
	h.Contents, h.Payload = ip[:ihl:ihl], ip[ihl:total:total]
}

// setIPv6 fills d.ip6 from a fixed header with no extension header; n is
// the packet's length, within ip.
func (d *decoder) setIPv6(ip []byte, n int) {
	h := &d.ip6
	h.Version, h.TrafficClass = 6, ip[0]<<4|ip[1]>>4
	h.FlowLabel = binary.BigEndian.Uint32(ip[0:]) & 0x000fffff
	h.Length, h.NextHeader, h.HopLimit = uint16(n-40), layers.IPProtocol(ip[6]), ip[7]
	h.SrcIP, h.DstIP = ip[8:24:24], ip[24:40:40]
	h.HopByHop = nil
	h.Contents, h.Payload = ip[:40:40], ip[40:n:n]
}

// setTCP fills d.tcp from a segment whose data offset off is within b.
func (d *decoder) setTCP(b []byte, off int) {
	t := &d.tcp
	t.SrcPort, t.DstPort = layers.TCPPort(binary.BigEndian.Uint16(b)), layers.TCPPort(binary.BigEndian.Uint16(b[2:]))
	t.Seq, t.Ack = binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
	t.DataOffset = b[12] >> 4
	f := b[13]
	t.FIN, t.SYN, t.RST, t.PSH = f&0x01 != 0, f&0x02 != 0, f&0x04 != 0, f&0x08 != 0
	t.ACK, t.URG, t.ECE, t.CWR, t.NS = f&0x10 != 0, f&0x20 != 0, f&0x40 != 0, f&0x80 != 0, b[12]&0x01 != 0
	t.Window, t.Checksum, t.Urgent = binary.BigEndian.Uint16(b[14:]), binary.BigEndian.Uint16(b[16:]), binary.BigEndian.Uint16(b[18:])
	t.Options, t.Padding = t.Options[:0], nil
	t.Contents, t.Payload = b[:off:off], b[off:]
}

// ipWhole says whether the last frame decoded had an IP layer: its length
// field was then checked against the bytes captured (d.truncated).
func (d *decoder) ipWhole() bool {
	for _, t := range d.decoded {
		if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			return true
		}
	}
	return false
}

// fullPayload computes the TCP payload length the IP header announced. The
// payload slice runs to the end of the captured bytes when the packet was
// cut, so offsets in data give where the IP packet and the payload start.
func (d *decoder) fullPayload(n int) int {
	payloadAt := n - len(d.tcp.Payload)
	var ipAt, total int
	if d.v6 {
		ipAt = n - len(d.ip6.Contents) - len(d.ip6.Payload)
		if d.ip6.HopByHop != nil {
			ipAt -= d.ip6.HopByHop.ActualLength // stripped from Payload by the IPv6 layer
		}
		total = 40 + int(d.ip6.Length)
		if d.ip6.Length == 0 {
			return len(d.tcp.Payload) // jumbogram: trust what we have
		}
	} else {
		ipAt = n - len(d.ip4.Contents) - len(d.ip4.Payload)
		total = int(d.ip4.Length)
	}
	full := ipAt + total - payloadAt
	if full < len(d.tcp.Payload) || full > 1<<16 {
		return len(d.tcp.Payload)
	}
	return full
}

// addrs returns the segment's source and destination, without allocating.
func (d *decoder) addrs() (src, dst netip.AddrPort) {
	var s, t netip.Addr
	if d.v6 && len(d.ip6.SrcIP) == 16 && len(d.ip6.DstIP) == 16 {
		s = netip.AddrFrom16([16]byte(d.ip6.SrcIP))
		t = netip.AddrFrom16([16]byte(d.ip6.DstIP))
	} else if !d.v6 && len(d.ip4.SrcIP) == 4 && len(d.ip4.DstIP) == 4 {
		s = netip.AddrFrom4([4]byte(d.ip4.SrcIP))
		t = netip.AddrFrom4([4]byte(d.ip4.DstIP))
	}
	return netip.AddrPortFrom(s, uint16(d.tcp.SrcPort)), netip.AddrPortFrom(t, uint16(d.tcp.DstPort))
}

// padCut stands NULs in for the bytes of the TCP payload that the capture
// cut off (full > len(tcp.Payload)): tcp.Payload becomes a copy of full
// bytes. It returns how many bytes it added.
func (d *decoder) padCut() int {
	t := &d.tcp
	n := len(t.Payload)
	if d.full <= n {
		return 0
	}
	if cap(d.pad) < d.full {
		d.pad = make([]byte, d.full)
	}
	pad := d.pad[:d.full]
	copy(pad, t.Payload)
	clear(pad[n:])
	t.Payload = pad
	return d.full - n
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
