package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// Encapsulations the layer parser does not know, read here by hand: each
// function takes the bytes after an outer header and says what comes
// next, as the link type the decoder's loop (decode) starts from:
// Ethernet, raw IP (the version nibble decides), or one of the pseudo
// link types below for a header read by hand again (MPLS, PPPoE, GRE).
// None allocates. What a header promises is checked against the bytes
// there; a header that does not hold is encapMalformed, a well-formed one
// carrying what this package does not follow is encapUnsupported, and
// control traffic (GTP echo, PPP LCP, an AYIYA heartbeat) is encapNone.

// encapResult says what an encapsulation's header held.
type encapResult uint8

const (
	encapInner       encapResult = iota // a packet inside, to decode next
	encapNone                           // not an encapsulation, or one carrying no packet (control traffic)
	encapMalformed                      // the header does not hold together
	encapUnsupported                    // well formed, carrying a protocol not followed
)

// Pseudo link types for headers the decoder's loop reads by hand. They lie
// far above the LINKTYPE_ values pcap files use (0-300) and never reach a
// file or a Problem.
const (
	linkMPLS  layers.LinkType = 0xff00 + iota // an MPLS label stack (RFC 3032)
	linkPPPoE                                 // a PPPoE session header (RFC 2516), then PPP
	linkGRE                                   // a GRE header (GRE in UDP, RFC 8086)
)

// linkTypeNFLOG is LINKTYPE_NFLOG: Linux netfilter's log messages, what
// `tcpdump -i nflog` writes.
const linkTypeNFLOG layers.LinkType = 239

// linkRaw is where an inner IP packet starts: raw IP, the version nibble
// decides (parserFor).
const linkRaw = layers.LinkTypeRaw

// Ethernet types of the encapsulations read by hand.
const (
	etherMPLS          = 0x8847 // MPLS unicast
	etherMPLSMulticast = 0x8848
	etherPPPoESession  = 0x8864
	etherERSPAN        = 0x88be // ERSPAN type I and II (in GRE)
	etherERSPAN3       = 0x22eb // ERSPAN type III (in GRE)
	etherTEB           = 0x6558 // transparent Ethernet bridging: Ethernet inside
)

// UDP ports of the encapsulations followed.
const (
	vxlanPort     = 4789 // RFC 7348 §5
	teredoPort    = 3544 // RFC 4380
	gtpuPort      = 2152 // 3GPP TS 29.281
	greUDPPort    = 4754 // RFC 8086
	ayiyaPort     = 5072 // draft-massar-v6ops-ayiya
	geneveUDPPort = 6081 // RFC 8926
	vxlanGPEPort  = 4790 // draft-ietf-nvo3-vxlan-gpe
	mplsUDPPort   = 6635 // RFC 7510
)

// tunnelUDPPorts are the destination (or, for Teredo, AYIYA and GTP-U,
// either) ports that make a UDP datagram an encapsulation; the live
// filters keep them.
var tunnelUDPPorts = [...]uint16{vxlanPort, vxlanGPEPort, geneveUDPPort, greUDPPort, mplsUDPPort, gtpuPort, teredoPort, ayiyaPort}

// byEtherType says where a payload of Ethernet type t starts, for the
// types read by hand.
func byEtherType(t uint16, b []byte) ([]byte, layers.LinkType, encapResult) {
	switch t {
	case etherMPLS, etherMPLSMulticast:
		return b, linkMPLS, encapInner
	case etherPPPoESession:
		return b, linkPPPoE, encapInner
	case etherTEB:
		return b, layers.LinkTypeEthernet, encapInner
	case uint16(layers.EthernetTypeIPv4), uint16(layers.EthernetTypeIPv6):
		return b, linkRaw, encapInner
	}
	return nil, 0, encapUnsupported
}

// byNibble says where an IP packet whose type only its first nibble tells
// starts (MPLS, GTP-U, ERSPAN III): 4 or 6, else unsupported.
func byNibble(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) > 0 && (b[0]>>4 == 4 || b[0]>>4 == 6) {
		return b, linkRaw, encapInner
	}
	return nil, 0, encapUnsupported
}

// mpls pops an MPLS label stack (RFC 3032 §2.1: 4 bytes a label, the S
// bit ends it). An IPv4 or IPv6 explicit-null label at the bottom (0, 2)
// says the payload's type; otherwise the first nibble is guessed, as
// routers' and Wireshark's decoders do: 4 or 6 is IP, 0 a pseudowire
// control word (RFC 4385) before an Ethernet frame.
func mpls(b []byte) ([]byte, layers.LinkType, encapResult) {
	for {
		if len(b) < 4 {
			return nil, 0, encapMalformed
		}
		label := binary.BigEndian.Uint32(b) >> 12
		bottom := b[2]&0x01 != 0
		b = b[4:]
		if !bottom {
			continue
		}
		if len(b) == 0 {
			return nil, 0, encapMalformed
		}
		switch {
		case label == 0 && b[0]>>4 == 4, label == 2 && b[0]>>4 == 6:
			return b, linkRaw, encapInner
		case label == 0 || label == 2:
			return nil, 0, encapMalformed
		case b[0]>>4 == 4 || b[0]>>4 == 6:
			return b, linkRaw, encapInner
		case b[0]>>4 == 0 && len(b) >= 4+14:
			return b[4:], layers.LinkTypeEthernet, encapInner
		}
		return nil, 0, encapUnsupported
	}
}

// pppoe reads a PPPoE session header (RFC 2516 §4: version and type 1,
// code 0, a session id, the length) and the PPP protocol field after it
// (RFC 1661 §2, which may be compressed to one byte).
func pppoe(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 6+1 || b[0] != 0x11 || b[1] != 0 {
		return nil, 0, encapMalformed
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n > len(b)-6 {
		return nil, 0, encapMalformed
	}
	b = b[6 : 6+n]
	var proto uint16
	switch {
	case len(b) >= 1 && b[0]&0x01 != 0: // compressed: one odd byte
		proto, b = uint16(b[0]), b[1:]
	case len(b) >= 2:
		proto, b = binary.BigEndian.Uint16(b), b[2:]
	default:
		return nil, 0, encapMalformed
	}
	switch proto {
	case 0x0021, 0x0057: // IPv4, IPv6 (RFC 1332, RFC 5072)
		return b, linkRaw, encapInner
	}
	return nil, 0, encapNone // LCP, IPCP, authentication: the session's control
}

// nflog reads a LINKTYPE_NFLOG record: a 4-byte header (address family,
// version 0, resource id) and TLVs whose length and type are in the
// capturing host's byte order; the payload TLV (type 9) holds the packet
// from its network header on. The byte order is the one whose TLV lengths
// walk the record exactly.
func nflog(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 4 || b[1] != 0 {
		return nil, 0, encapMalformed
	}
	tlvs := b[4:]
	if p, ok := nflogPayload(tlvs, binary.LittleEndian); ok {
		return nflogInner(p)
	}
	if p, ok := nflogPayload(tlvs, binary.BigEndian); ok {
		return nflogInner(p)
	}
	return nil, 0, encapMalformed
}

// nflogPayload walks the TLVs; ok when they are well formed, with p the
// payload TLV's value (nil when there is none).
func nflogPayload(b []byte, order binary.ByteOrder) (p []byte, ok bool) {
	const nfulaPayload = 9
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, false
		}
		n := int(order.Uint16(b))
		typ := order.Uint16(b[2:]) & 0x3fff // without the netlink NESTED and BYTEORDER flags
		if n < 4 || n > len(b) {
			return nil, false
		}
		if typ == nfulaPayload && p == nil {
			p = b[4:n]
		}
		// Each TLV is padded to a multiple of 4 bytes; the last may not be.
		b = b[min((n+3)&^3, len(b)):]
	}
	return p, true
}

func nflogInner(p []byte) ([]byte, layers.LinkType, encapResult) {
	if p == nil {
		return nil, 0, encapNone // a message without the packet (copy mode "none")
	}
	return byNibble(p)
}

// udpEncap says whether a UDP datagram from port sp to port dp is an
// encapsulation, and where its inner packet starts.
func udpEncap(sp, dp uint16, b []byte) ([]byte, layers.LinkType, encapResult) {
	switch {
	case dp == vxlanPort:
		return vxlan(b)
	case dp == vxlanGPEPort:
		return vxlanGPE(b)
	case dp == geneveUDPPort:
		return geneve(b)
	case dp == greUDPPort:
		if len(b) < 4 {
			return nil, 0, encapMalformed
		}
		return b, linkGRE, encapInner
	case dp == mplsUDPPort:
		return b, linkMPLS, encapInner
	case dp == gtpuPort || sp == gtpuPort:
		return gtpu(b)
	case dp == teredoPort || sp == teredoPort:
		return teredo(b, true)
	case dp == ayiyaPort || sp == ayiyaPort:
		return ayiya(b)
	}
	// Teredo between a client and a relay or a peer runs on any ports:
	// taken only when the datagram is exactly one IPv6 packet to or from
	// a Teredo address, as Wireshark's heuristic does.
	return teredo(b, false)
}

// vxlan reads a VXLAN header (RFC 7348 §5): 8 bytes with the I flag (a
// valid VNI) set, then an Ethernet frame.
func vxlan(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 8+14 || b[0]&0x08 == 0 {
		return nil, 0, encapMalformed
	}
	return b[8:], layers.LinkTypeEthernet, encapInner
}

// vxlanGPE reads a VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe §3.1):
// version 0, and with the P flag a next protocol: 1 IPv4, 2 IPv6, 3
// Ethernet (4, NSH, and 5, MPLS, as named); without it, Ethernet as in
// VXLAN.
func vxlanGPE(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 8 || b[0]&0x30 != 0 {
		return nil, 0, encapMalformed
	}
	p := b[8:]
	if b[0]&0x04 == 0 {
		return p, layers.LinkTypeEthernet, encapInner
	}
	switch b[3] {
	case 1, 2:
		return p, linkRaw, encapInner
	case 3:
		return p, layers.LinkTypeEthernet, encapInner
	case 5:
		return p, linkMPLS, encapInner
	}
	return nil, 0, encapUnsupported
}

// geneve reads a Geneve header (RFC 8926 §3.4): version 0, the options'
// length in 4-byte words, and the payload's Ethernet type.
func geneve(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 8 || b[0]>>6 != 0 {
		return nil, 0, encapMalformed
	}
	n := 8 + int(b[0]&0x3f)*4
	if n > len(b) {
		return nil, 0, encapMalformed
	}
	return byEtherType(binary.BigEndian.Uint16(b[2:]), b[n:])
}

// gtpu reads a GTP-U header (3GPP TS 29.281 §5): version 1, protocol type
// GTP, a length counting the bytes after the first 8; with any of the E,
// S, PN flags 4 more bytes, and with E a chain of extension headers, each
// a length in 4-byte words and the next one's type in its last byte. A
// G-PDU (message type 255) carries the user's packet.
func gtpu(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 {
		return nil, 0, encapMalformed
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n > len(b)-8 {
		return nil, 0, encapMalformed
	}
	msg := b[1]
	flags := b[0]
	b = b[8 : 8+n]
	if flags&0x07 != 0 {
		if len(b) < 4 {
			return nil, 0, encapMalformed
		}
		next := b[3]
		b = b[4:]
		for flags&0x04 != 0 && next != 0 {
			if len(b) < 1 || b[0] == 0 || int(b[0])*4 > len(b) {
				return nil, 0, encapMalformed
			}
			n := int(b[0]) * 4
			next = b[n-1]
			b = b[n:]
		}
	}
	const gPDU = 255
	if msg != gPDU {
		return nil, 0, encapNone // echo, error indication, end marker
	}
	return byNibble(b)
}

// teredo reads the Teredo indicators a client, relay or server may put
// before the IPv6 packet (RFC 4380 §5.1.1: the authentication indicator,
// then the origin indication) and the packet. A bubble is an IPv6 packet
// with no payload (next header 59): nothing to follow. byPort says
// the datagram was on port 3544; without it the packet must fill the
// datagram exactly and one of its addresses be a Teredo address
// (2001::/32).
func teredo(b []byte, byPort bool) ([]byte, layers.LinkType, encapResult) {
	bad := encapMalformed
	if !byPort {
		bad = encapNone
	}
	if len(b) >= 2 && b[0] == 0 && b[1] == 1 { // authentication indicator
		if len(b) < 4 {
			return nil, 0, bad
		}
		n := 4 + int(b[2]) + int(b[3]) + 8 + 1 // id, value, nonce, confirmation
		if n > len(b) {
			return nil, 0, bad
		}
		b = b[n:]
	}
	if len(b) >= 2 && b[0] == 0 && b[1] == 0 { // origin indication
		if len(b) < 8 {
			return nil, 0, bad
		}
		b = b[8:]
	}
	if len(b) < 40 || b[0]>>4 != 6 {
		return nil, 0, bad
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if !byPort && (40+plen != len(b) || !isTeredoAddr(b[8:24]) && !isTeredoAddr(b[24:40])) {
		return nil, 0, encapNone
	}
	const noNextHeader = 59
	if plen == 0 && b[6] == noNextHeader {
		// A bubble (§2.8): it opens a NAT mapping and carries nothing.
		// Its zero payload length is not a jumbogram's, which the IPv6
		// decoder would take it for.
		return nil, 0, encapNone
	}
	return b, linkRaw, encapInner
}

// isTeredoAddr says whether a 16-byte address is in 2001::/32.
func isTeredoAddr(a []byte) bool {
	return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0
}

// ayiya reads an AYIYA header (draft-massar-v6ops-ayiya §5): the identity
// (2^IDLen bytes) and signature (4·SigLen bytes) lengths, an opcode and
// the next header. Opcode 1 (forward) carries an IPv6 (41) or IPv4 (4)
// packet; the rest (heartbeats, queries) is the tunnel's control.
func ayiya(b []byte) ([]byte, layers.LinkType, encapResult) {
	if len(b) < 8 {
		return nil, 0, encapMalformed
	}
	n := 8 + 1<<(b[0]>>4) + int(b[1]>>4)*4
	if n > len(b) {
		return nil, 0, encapMalformed
	}
	const opForward = 1
	if b[2]&0x0f != opForward {
		return nil, 0, encapNone
	}
	switch b[3] {
	case ipProtoIPv6, ipProtoIPIP:
		return b[n:], linkRaw, encapInner
	case 59: // no next header
		return nil, 0, encapNone
	}
	return nil, 0, encapUnsupported
}

// erspan reads what GRE with protocol 0x88be or 0x22eb carries (Cisco's
// ERSPAN, draft-foschiano-erspan): type I has no header (GRE without a
// sequence number); type II an 8-byte header of version 1; type III a
// 12-byte header of version 2, an 8-byte platform subheader when its O
// flag is set, and a frame type (0 Ethernet, 2 IP).
func erspan(proto uint16, seq bool, b []byte) ([]byte, layers.LinkType, encapResult) {
	if proto == etherERSPAN {
		if !seq {
			return b, layers.LinkTypeEthernet, encapInner // type I
		}
		if len(b) < 8 || b[0]>>4 != 1 {
			return nil, 0, encapMalformed
		}
		return b[8:], layers.LinkTypeEthernet, encapInner
	}
	if len(b) < 12 || b[0]>>4 != 2 {
		return nil, 0, encapMalformed
	}
	n := 12
	if b[11]&0x01 != 0 {
		n += 8
	}
	if n > len(b) {
		return nil, 0, encapMalformed
	}
	switch (b[10] >> 2) & 0x1f {
	case 0:
		return b[n:], layers.LinkTypeEthernet, encapInner
	case 2:
		return byNibble(b[n:])
	}
	return nil, 0, encapUnsupported
}
