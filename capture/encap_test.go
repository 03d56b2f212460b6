package capture

// Encapsulations on synthetic frames: the headers below are built here,
// byte by byte from their specifications (or with gopacket's serialisation),
// not recorded. They cover what the recordings of testdata/capture cannot:
// AYIYA, GTP-U (no GTP-U endpoint runs here), GRE and MPLS in UDP (no fou
// module), PPPoE (no ppp module), ERSPAN type I, Teredo's indicators on
// port 3544 with a data packet, NFLOG written on a big-endian host, and
// every header that is wrong.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/keys"
)

// pcapOf writes frames of one link type as a pcap file, frame i at
// at[i] milliseconds (i without at).
func pcapOf(link layers.LinkType, frames [][]byte, at ...int) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	b.Write(h)
	for i, f := range frames {
		ms := i
		if at != nil {
			ms = at[i]
		}
		ts := synthEpoch.Add(time.Duration(ms) * time.Millisecond)
		r := make([]byte, 16)
		binary.LittleEndian.PutUint32(r[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(r[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(r[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(r[12:], uint32(len(f)))
		b.Write(r)
		b.Write(f)
	}
	return b.Bytes()
}

// serialize lays layers out with lengths and checksums fixed.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	outerSrc = net.IP{192, 0, 2, 1}
	outerDst = net.IP{192, 0, 2, 2}
	macA     = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB     = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

// overUDP is an Ethernet/IPv4/UDP frame from sport to dport carrying payload.
func overUDP(t testing.TB, sport, dport uint16, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: outerSrc, DstIP: outerDst}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload(payload))
}

// overGRE is an Ethernet/IPv4/GRE frame carrying payload.
func overGRE(t testing.TB, gre *layers.GRE, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolGRE, SrcIP: outerSrc, DstIP: outerDst}
	return serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}, ip, gre, gopacket.Payload(payload))
}

// overEthernet is an Ethernet frame of type et (after the VLAN tags given).
func overEthernet(et uint16, payload []byte, vlans ...uint16) []byte {
	f := append([]byte(nil), macB...)
	f = append(f, macA...)
	for _, v := range vlans {
		f = binary.BigEndian.AppendUint16(f, 0x8100)
		f = binary.BigEndian.AppendUint16(f, v)
	}
	f = binary.BigEndian.AppendUint16(f, et)
	return append(f, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// mplsLabel is one label stack entry (RFC 3032 §2.1), TTL 64.
func mplsLabel(label uint32, bottom bool) []byte {
	v := label<<12 | 64
	if bottom {
		v |= 1 << 8
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

// nflogRecord is a LINKTYPE_NFLOG record with its TLVs in order bo: a
// packet header TLV, a prefix, the payload, all padded to 4 bytes.
func nflogRecord(bo binary.AppendByteOrder, family byte, payload []byte) []byte {
	r := []byte{family, 0, 0, 5}
	tlv := func(typ uint16, v []byte) {
		r = bo.AppendUint16(r, uint16(4+len(v)))
		r = bo.AppendUint16(r, typ)
		r = append(r, v...)
		for len(r)%4 != 0 {
			r = append(r, 0)
		}
	}
	tlv(1, []byte{0x08, 0x00, 1, 0}) // NFULA_PACKET_HDR: hw protocol, hook
	tlv(10, []byte("rw\x00"))        // NFULA_PREFIX
	tlv(9, payload)                  // NFULA_PAYLOAD
	tlv(11, []byte{0, 0, 0, 0})      // NFULA_UID
	return r
}

// encapKinds are the encapsulations TestEncapsulations wraps a
// conversation in; v4only/v6only say which inner family they carry.
var encapKinds = []struct {
	kind           string
	v4only, v6only bool
}{
	{kind: "geneve_options"}, {kind: "geneve_ip"}, {kind: "gpe_ip"}, {kind: "gpe_eth"}, {kind: "gpe_mpls"},
	{kind: "gre_udp"}, {kind: "gre_udp_eth"}, {kind: "mpls_udp"},
	{kind: "gtpu"}, {kind: "gtpu_ext"}, {kind: "gtpu_frag", v4only: true},
	{kind: "teredo_origin", v6only: true}, {kind: "teredo_auth", v6only: true}, {kind: "teredo_heuristic", v6only: true},
	{kind: "ayiya"}, {kind: "pppoe"}, {kind: "pppoe_vlan"}, {kind: "pppoe_pfc"},
	{kind: "mpls_stack"}, {kind: "mpls_null"}, {kind: "mpls_pw"}, {kind: "mpls_vlan"},
	{kind: "erspan1"}, {kind: "erspan2"}, {kind: "erspan3_sub"}, {kind: "erspan3_ip"},
	{kind: "nflog_le"}, {kind: "nflog_be"},
}

// encapFrames wraps each packet of c in the named encapsulation; at[i]
// is the index of the packet frame i carries (a fragment's packet).
func encapFrames(t testing.TB, c *convo, kind string) (out [][]byte, link layers.LinkType, at []int) {
	t.Helper()
	link = layers.LinkTypeEthernet
	for pi, p := range c.pkts {
		ip := frame(t, p, linkSpec{link: layers.LinkTypeRaw})
		eth := frame(t, p, linkSpec{link: layers.LinkTypeEthernet})
		v6 := p.src.Addr().Is6()
		et, ipProto, family, ppp := uint16(0x0800), byte(4), byte(2), uint16(0x0021)
		if v6 {
			et, ipProto, family, ppp = 0x86dd, 41, 10, 0x0057
		}
		gpeNext := byte(1)
		if v6 {
			gpeNext = 2
		}
		var f []byte
		switch kind {
		case "geneve_options": // two option words, Ethernet inside
			f = overUDP(t, 50000, 6081, cat([]byte{0x02, 0, 0x65, 0x58, 0, 0, 42, 0}, []byte{0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd}, eth))
		case "geneve_ip":
			f = overUDP(t, 50000, 6081, cat([]byte{0, 0, byte(et >> 8), byte(et), 0, 0, 42, 0}, ip))
		case "gpe_ip":
			f = overUDP(t, 50000, 4790, cat([]byte{0x0c, 0, 0, gpeNext, 0, 0, 42, 0}, ip))
		case "gpe_eth":
			f = overUDP(t, 50000, 4790, cat([]byte{0x0c, 0, 0, 3, 0, 0, 42, 0}, eth))
		case "gpe_mpls":
			f = overUDP(t, 50000, 4790, cat([]byte{0x0c, 0, 0, 5, 0, 0, 42, 0}, mplsLabel(300, true), ip))
		case "gre_udp":
			f = overUDP(t, 50000, 4754, cat([]byte{0, 0, byte(et >> 8), byte(et)}, ip))
		case "gre_udp_eth": // with a key
			f = overUDP(t, 50000, 4754, cat([]byte{0x20, 0, 0x65, 0x58, 0, 0, 0, 9}, eth))
		case "mpls_udp":
			f = overUDP(t, 50000, 6635, cat(mplsLabel(17, false), mplsLabel(18, true), ip))
		case "gtpu":
			f = overUDP(t, 2152, 2152, cat([]byte{0x30, 0xff}, binary.BigEndian.AppendUint16(nil, uint16(len(ip))), []byte{0, 0, 0, 7}, ip))
		case "gtpu_ext", "gtpu_frag":
			// E and S: a sequence number, then two extension headers
			// (a PDU session container, then a UDP port one).
			ext := []byte{0x00, 0x2a, 0x00, 0x85, 1, 0x00, 0x09, 0x40, 1, 0x08, 0x68, 0x00}
			f = overUDP(t, 2152, 2152, cat([]byte{0x36, 0xff}, binary.BigEndian.AppendUint16(nil, uint16(len(ext)+len(ip))), []byte{0, 0, 0, 7}, ext, ip))
			if kind == "gtpu_frag" && len(f) > 14+20+100 {
				// The outer IPv4 packet in fragments of 64 bytes, last first.
				frags := fragment4(t, f[14:], 64)
				for i := len(frags) - 1; i >= 0; i-- {
					out = append(out, overEthernet(0x0800, frags[i]))
					at = append(at, pi)
				}
				continue
			}
		case "teredo_origin": // from the server's port, with an origin indication
			f = overUDP(t, 3544, 40000, cat([]byte{0, 0, 0xf0, 0x0f, 0x3f, 0xff, 0xfe, 0xfe}, ip))
		case "teredo_auth": // authentication then origin indication
			f = overUDP(t, 40000, 3544, cat([]byte{0, 1, 2, 3, 'i', 'd', 'a', 'u', 't'}, make([]byte, 8), []byte{0},
				[]byte{0, 0, 0xf0, 0x0f, 0x3f, 0xff, 0xfe, 0xfe}, ip))
		case "teredo_heuristic": // between two clients' ports
			f = overUDP(t, 40001, 50001, ip)
		case "ayiya":
			// Identity 2^4 bytes, signature 5·4 bytes, forward.
			f = overUDP(t, 40000, 5072, cat([]byte{0x41, 0x52, 0x11, ipProto, 0, 0, 0, 1}, make([]byte, 16+20), ip))
		case "pppoe", "pppoe_vlan", "pppoe_pfc":
			body := binary.BigEndian.AppendUint16(nil, ppp)
			if kind == "pppoe_pfc" {
				body = []byte{byte(ppp)}
			}
			body = append(body, ip...)
			hdr := cat([]byte{0x11, 0, 0x12, 0x34}, binary.BigEndian.AppendUint16(nil, uint16(len(body))))
			if kind == "pppoe_vlan" {
				f = overEthernet(0x8864, cat(hdr, body), 20)
			} else {
				f = overEthernet(0x8864, cat(hdr, body))
			}
		case "mpls_stack":
			f = overEthernet(0x8847, cat(mplsLabel(100, false), mplsLabel(200, false), mplsLabel(300, true), ip))
		case "mpls_null": // an explicit-null label says the family
			label := uint32(0)
			if v6 {
				label = 2
			}
			f = overEthernet(0x8847, cat(mplsLabel(label, true), ip))
		case "mpls_pw": // an Ethernet pseudowire with a control word
			f = overEthernet(0x8847, cat(mplsLabel(100, true), []byte{0, 0, 0, 1}, eth))
		case "mpls_vlan":
			f = overEthernet(0x8847, cat(mplsLabel(100, true), ip), 10, 11)
		case "erspan1":
			f = overGRE(t, &layers.GRE{Protocol: 0x88be}, eth)
		case "erspan2":
			f = overGRE(t, &layers.GRE{Protocol: 0x88be, SeqPresent: true, Seq: 1}, cat([]byte{0x10, 0x0a, 0x00, 0x07, 0, 0, 0, 3}, eth))
		case "erspan3_sub": // the O flag: an 8-byte platform subheader follows
			f = overGRE(t, &layers.GRE{Protocol: 0x22eb, SeqPresent: true, Seq: 1},
				cat([]byte{0x20, 0x0a, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 0x00, 0x01}, make([]byte, 8), eth))
		case "erspan3_ip": // frame type 2: an IP packet
			f = overGRE(t, &layers.GRE{Protocol: 0x22eb, SeqPresent: true, Seq: 1},
				cat([]byte{0x20, 0x0a, 0x00, 0x07, 1, 2, 3, 4, 0, 0, 2 << 2, 0x00}, ip))
		case "nflog_le", "nflog_be":
			var bo binary.AppendByteOrder = binary.LittleEndian
			if kind == "nflog_be" {
				bo = binary.BigEndian
			}
			f, link = nflogRecord(bo, family, ip), linkTypeNFLOG
		default:
			t.Fatalf("unknown kind %q", kind)
		}
		out = append(out, f)
		at = append(at, pi)
	}
	return out, link, at
}

// fragment4 cuts an IPv4 packet into fragments of at most size payload
// bytes (a multiple of 8), as a router would.
func fragment4(t testing.TB, ip []byte, size int) [][]byte {
	t.Helper()
	ihl := int(ip[0]&0x0f) * 4
	payload := ip[ihl:binary.BigEndian.Uint16(ip[2:])]
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := cat(ip[:ihl], payload[off:end])
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		fl := uint16(off / 8)
		if end < len(payload) {
			fl |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], fl)
		out = append(out, f)
	}
	return out
}

// Every encapsulation is followed to the HTTP inside: one request with
// the inner addresses, no encapsulation counted as malformed.
func TestEncapsulations(t *testing.T) {
	for _, k := range encapKinds {
		for _, v6 := range []bool{false, true} {
			if k.v4only && v6 || k.v6only && !v6 {
				continue
			}
			t.Run(fmt.Sprintf("%s/v6=%v", k.kind, v6), func(t *testing.T) {
				cli, srv := "10.1.2.3:40000", "10.1.2.4:8080"
				if v6 {
					cli, srv = "[2001:db8::3]:40000", "[2001:db8::4]:8080"
				}
				if k.kind == "teredo_heuristic" {
					cli, srv = "[2001:0:c633:6401::3]:40000", "[2001:0:c633:6402::4]:8080"
				}
				frames, link, at := encapFrames(t, simpleConvo(cli, srv), k.kind)
				r := readBytes(t, pcapOf(link, frames, at...), Options{})
				checkOne(t, r, cli, srv)
				for name, n := range r.counters {
					if strings.HasPrefix(name, "encap_") || name == "undecodable_packets" || strings.HasPrefix(name, "frag_") {
						t.Errorf("counter %s = %d", name, n)
					}
				}
			})
		}
	}
}

// A header that does not hold, or carries what is not followed, is
// counted; the packets around it are read.
func TestEncapsulationsBad(t *testing.T) {
	ip := frame(t, simpleConvo("10.1.2.3:40000", "10.1.2.4:8080").pkts[0], linkSpec{link: layers.LinkTypeRaw})
	cases := []struct {
		name    string
		frame   []byte
		link    layers.LinkType
		counter string
	}{
		{"geneve_version_1", overUDP(t, 1, 6081, cat([]byte{0x40, 0, 0x08, 0, 0, 0, 1, 0}, ip)), 1, "encap_malformed"},
		{"geneve_options_past_end", overUDP(t, 1, 6081, cat([]byte{0x3f, 0, 0x08, 0, 0, 0, 1, 0}, ip[:20])), 1, "encap_malformed"},
		{"geneve_unknown_type", overUDP(t, 1, 6081, cat([]byte{0, 0, 0x12, 0x34, 0, 0, 1, 0}, ip)), 1, "encap_unsupported"},
		{"gpe_nsh", overUDP(t, 1, 4790, cat([]byte{0x0c, 0, 0, 4, 0, 0, 1, 0}, ip)), 1, "encap_unsupported"},
		{"gpe_version_1", overUDP(t, 1, 4790, cat([]byte{0x1c, 0, 0, 1, 0, 0, 1, 0}, ip)), 1, "encap_malformed"},
		{"vxlan_no_vni", overUDP(t, 1, 4789, cat([]byte{0, 0, 0, 0, 0, 0, 1, 0}, overEthernet(0x0800, ip))), 1, "encap_malformed"},
		{"gtpu_length_past_end", overUDP(t, 2152, 2152, cat([]byte{0x30, 0xff, 0x7f, 0xff, 0, 0, 0, 1}, ip)), 1, "encap_malformed"},
		{"gtpu_version_2", overUDP(t, 2152, 2152, cat([]byte{0x50, 0xff, 0, 0, 0, 0, 0, 1})), 1, "encap_malformed"},
		{"gtpu_ext_zero_length", overUDP(t, 2152, 2152, cat([]byte{0x34, 0xff, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 0, 0, 0, 0})), 1, "encap_malformed"},
		{"gtpu_not_ip", overUDP(t, 2152, 2152, cat([]byte{0x30, 0xff, 0, 4, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef})), 1, "encap_unsupported"},
		{"teredo_port_not_ipv6", overUDP(t, 1, 3544, ip), 1, "encap_malformed"},
		{"ayiya_identity_past_end", overUDP(t, 1, 5072, []byte{0xf1, 0x52, 0x11, 41, 0, 0, 0, 1}), 1, "encap_malformed"},
		{"ayiya_not_ip", overUDP(t, 1, 5072, cat([]byte{0x01, 0x00, 0x11, 17, 0, 0, 0, 1, 0, 0}, ip)), 1, "encap_unsupported"},
		{"pppoe_version_2", overEthernet(0x8864, cat([]byte{0x21, 0, 0, 1, 0, 2, 0, 0x21}, ip)), 1, "encap_malformed"},
		{"pppoe_length_past_end", overEthernet(0x8864, cat([]byte{0x11, 0, 0, 1, 0xff, 0xff, 0, 0x21}, ip)), 1, "encap_malformed"},
		{"mpls_no_bottom", overEthernet(0x8847, cat(mplsLabel(1, false), mplsLabel(2, false))), 1, "encap_malformed"},
		{"mpls_not_ip", overEthernet(0x8847, cat(mplsLabel(1, true), []byte{0x90}, ip)), 1, "encap_unsupported"},
		{"mpls_null_wrong_family", overEthernet(0x8847, cat(mplsLabel(2, true), ip)), 1, "encap_malformed"},
		{"erspan2_version_2", overGRE(t, &layers.GRE{Protocol: 0x88be, SeqPresent: true}, cat(make([]byte, 8), ip)), 1, "encap_malformed"},
		{"erspan3_frame_type_5", overGRE(t, &layers.GRE{Protocol: 0x22eb, SeqPresent: true}, cat([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 << 2, 0}, ip)), 1, "encap_unsupported"},
		{"nflog_tlv_past_end", cat([]byte{2, 0, 0, 5, 0xff, 0x00, 9, 0}, ip), linkTypeNFLOG, "encap_malformed"},
		{"nflog_version_1", cat([]byte{2, 1, 0, 5}), linkTypeNFLOG, "encap_malformed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := readBytes(t, pcapOf(c.link, [][]byte{c.frame}), Options{})
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.counters[c.counter] != 1 || len(r.counters) != 1 {
				t.Fatalf("counters %v, want %s = 1 alone", r.counters, c.counter)
			}
		})
	}
	// Control traffic is nothing to count: GTP echo, PPP LCP, an AYIYA
	// heartbeat, an NFLOG message without the packet, a Teredo bubble.
	for name, f := range map[string][]byte{
		"gtp_echo":      overUDP(t, 2152, 2152, []byte{0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}),
		"ppp_lcp":       overEthernet(0x8864, []byte{0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 9, 1, 0, 4}),
		"ayiya_beat":    overUDP(t, 1, 5072, []byte{0x01, 0x00, 0x10, 59, 0, 0, 0, 1, 0, 0}),
		"teredo_bubble": overUDP(t, 1, 3544, cat([]byte{0x60, 0, 0, 0, 0, 0, 59, 64}, make([]byte, 32))),
	} {
		t.Run(name, func(t *testing.T) {
			r := readBytes(t, pcapOf(layers.LinkTypeEthernet, [][]byte{f}), Options{})
			if r.err != nil || len(r.counters) != 0 {
				t.Fatalf("err %v, counters %v", r.err, r.counters)
			}
		})
	}
	t.Run("nflog_without_payload", func(t *testing.T) {
		r := readBytes(t, pcapOf(linkTypeNFLOG, [][]byte{{2, 0, 0, 5, 8, 0, 1, 0, 8, 0, 1, 0}}), Options{})
		if r.err != nil || len(r.counters) != 0 {
			t.Fatalf("err %v, counters %v", r.err, r.counters)
		}
	})
}

// A capture cannot make the decoder follow encapsulations for ever: GRE
// in UDP in GRE in UDP ... is given up after maxEncap steps and counted.
func TestEncapsulationDepth(t *testing.T) {
	c := simpleConvo("10.1.2.3:40000", "10.1.2.4:8080")
	var frames [][]byte
	for _, p := range c.pkts {
		f := frame(t, p, linkSpec{link: layers.LinkTypeRaw})
		for range 2 * maxEncap {
			f = overUDP(t, 1, 4754, cat([]byte{0, 0, 0x08, 0}, f))[14:] // IPv4/UDP/GRE, then IPv4 again
		}
		frames = append(frames, overEthernet(0x0800, f))
	}
	r := readBytes(t, pcapOf(layers.LinkTypeEthernet, frames), Options{})
	if r.err != nil || len(r.reqs) != 0 || r.counters["encap_too_deep"] != uint64(len(frames)) {
		t.Fatalf("err %v, %d requests, counters %v", r.err, len(r.reqs), r.counters)
	}
	// Within the bound it is followed.
	frames = frames[:0]
	for _, p := range c.pkts {
		f := frame(t, p, linkSpec{link: layers.LinkTypeRaw})
		for range maxEncap - 1 {
			f = overUDP(t, 1, 4754, cat([]byte{0, 0, 0x08, 0}, f))[14:]
		}
		frames = append(frames, overEthernet(0x0800, f))
	}
	checkOne(t, readBytes(t, pcapOf(layers.LinkTypeEthernet, frames), Options{}), "10.1.2.3:40000", "10.1.2.4:8080")
}

// Decoding the encapsulations allocates nothing once warm.
func TestEncapsulationAllocs(t *testing.T) {
	var frames [][]byte
	var links []layers.LinkType
	for _, k := range encapKinds {
		cli, srv := "[2001:db8::3]:40000", "[2001:db8::4]:8080"
		if k.v4only {
			cli, srv = "10.1.2.3:40000", "10.1.2.4:8080"
		}
		if k.kind == "teredo_heuristic" {
			cli, srv = "[2001:0:c633:6401::3]:40000", "[2001:0:c633:6402::4]:8080"
		}
		f, l, _ := encapFrames(t, simpleConvo(cli, srv), k.kind)
		for range f {
			links = append(links, l)
		}
		frames = append(frames, f...)
	}
	opts := Options{Keys: keys.NewExtractor(keys.DefaultConfig())}.withDefaults()
	p := newTestPipeline(&opts, "allocs")
	defer p.tally()
	d := p.dec
	for i := range frames {
		d.decode(frames[i], links[i])
	}
	allocs := testing.AllocsPerRun(5, func() {
		for i := range frames {
			if r := d.decode(frames[i], links[i]); r != decodedTCP && r != decodedFragment {
				panic(fmt.Sprintf("frame %d: %v", i, r))
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding %d frames allocated %v times", len(frames), allocs)
	}
}
