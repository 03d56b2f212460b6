package capture

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decodeResult is what decoding one packet found.
type decodeResult uint8

const (
	decodedTCP      decodeResult = iota // a TCP segment over IPv4 or IPv6
	decodedOther                        // a well-formed packet that is not TCP (ARP, UDP, ...)
	decodedFragment                     // an IP fragment: not reassembled, counted
	decodedError                        // a malformed header
	decodedLinkType                     // a link type this package does not decode
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
	tcp     layers.TCP

	pEth, pSLL, pSLL2, pLoop, pIP4, pIP6 *gopacket.DecodingLayerParser

	decoded   []gopacket.LayerType
	truncated bool // a layer found fewer bytes than its header promised
	err       error
	v6        bool // the innermost network layer is IPv6

	// full is the length the TCP payload had on the wire, from the IP
	// header; more than len(tcp.Payload) when the capture cut the packet.
	full int
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 12)}
	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6,
		&d.ip6ext, &d.ip6frag, // after the skipper: fragments get their own decoder
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
func (d *decoder) decode(data []byte, link layers.LinkType) decodeResult {
	d.truncated, d.err, d.full = false, nil, 0
	p := d.parserFor(link, data)
	if p == nil {
		return decodedLinkType
	}
	err := p.DecodeLayers(data, &d.decoded)
	d.truncated = p.Truncated
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
			}
		case layers.LayerTypeIPv6:
			sawIP, d.v6 = true, true
		case layers.LayerTypeIPv6Fragment:
			if d.ip6frag.FragmentOffset != 0 || d.ip6frag.MoreFragments {
				frag = true
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

// flow returns the network flow of the decoded segment.
func (d *decoder) flow() gopacket.Flow {
	if d.v6 {
		return d.ip6.NetworkFlow()
	}
	return d.ip4.NetworkFlow()
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
