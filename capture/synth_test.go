package capture

// Synthetic packets, for the edge cases real software will not produce on
// demand: reordering, overlaps, loss, truncation, link types a Linux
// loopback capture does not use. Normal traffic is tested on the recordings
// in testdata/rec.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/rebindwatch/rebindwatch/detect"
)

// pkt is one TCP segment of a synthetic conversation.
type pkt struct {
	ts       time.Time
	src, dst netip.AddrPort
	seq, ack uint32
	syn, fin bool
	rst      bool
	ackFlag  bool
	payload  []byte
}

// convo builds the segments of one TCP connection, keeping sequence
// numbers, so tests can then drop, reorder or duplicate them.
type convo struct {
	cli, srv   netip.AddrPort
	cseq, sseq uint32
	t          time.Time
	step       time.Duration
	pkts       []pkt
}

var synthEpoch = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

func newConvo(cli, srv string, start time.Time) *convo {
	return &convo{
		cli: netip.MustParseAddrPort(cli), srv: netip.MustParseAddrPort(srv),
		cseq: 1000, sseq: 5000, t: start, step: time.Millisecond,
	}
}

func (c *convo) add(p pkt) *pkt {
	p.ts = c.t
	c.t = c.t.Add(c.step)
	c.pkts = append(c.pkts, p)
	return &c.pkts[len(c.pkts)-1]
}

func (c *convo) handshake() *convo {
	c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq, syn: true})
	c.add(pkt{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq + 1, syn: true, ackFlag: true})
	c.cseq++
	c.sseq++
	c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq, ackFlag: true})
	return c
}

// send sends data from the client or the server in segments of at most mss bytes.
func (c *convo) send(fromClient bool, data string, mss ...int) *convo {
	size := 1400
	if len(mss) > 0 {
		size = mss[0]
	}
	for len(data) > 0 {
		n := min(size, len(data))
		if fromClient {
			c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq, ackFlag: true, payload: []byte(data[:n])})
			c.cseq += uint32(n)
		} else {
			c.add(pkt{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq, ackFlag: true, payload: []byte(data[:n])})
			c.sseq += uint32(n)
		}
		data = data[n:]
	}
	return c
}

func (c *convo) req(data string, mss ...int) *convo  { return c.send(true, data, mss...) }
func (c *convo) resp(data string, mss ...int) *convo { return c.send(false, data, mss...) }

func (c *convo) close() *convo {
	c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq, fin: true, ackFlag: true})
	c.add(pkt{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq + 1, fin: true, ackFlag: true})
	c.cseq++
	c.sseq++
	c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq, ackFlag: true})
	return c
}

// linkSpec says how to frame packets.
type linkSpec struct {
	name string
	link layers.LinkType
	vlan int // Ethernet: 802.1Q tags (2 = QinQ)
	be   bool
	// tunnel wraps each packet in an Ethernet frame of a tunnel: "gre",
	// "gre_eth" (Ethernet over GRE), "ipip" (IPv4 or IPv6 in IPv4),
	// "in6" (IPv4 or IPv6 in IPv6), "vxlan", "vxlan6" (over IPv6).
	tunnel string
}

// frame serialises p for the link type.
func frame(t testing.TB, p pkt, ls linkSpec) []byte {
	t.Helper()
	if ls.tunnel != "" {
		return tunnelFrame(t, p, ls.tunnel)
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(p.src.Port()), DstPort: layers.TCPPort(p.dst.Port()),
		Seq: p.seq, Ack: p.ack, SYN: p.syn, FIN: p.fin, RST: p.rst, ACK: p.ackFlag, PSH: len(p.payload) > 0,
		Window: 65535,
	}
	var ip gopacket.SerializableLayer
	ethType := layers.EthernetTypeIPv4
	family := layers.ProtocolFamilyIPv4
	if p.src.Addr().Is6() {
		ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64,
			SrcIP: p.src.Addr().AsSlice(), DstIP: p.dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip, ethType, family = ip6, layers.EthernetTypeIPv6, layers.ProtocolFamilyIPv6Linux
	} else {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, Flags: layers.IPv4DontFragment,
			SrcIP: p.src.Addr().AsSlice(), DstIP: p.dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(p.payload)); err != nil {
		t.Fatal(err)
	}
	body := buf.Bytes()
	var head []byte
	switch ls.link {
	case layers.LinkTypeEthernet:
		ls2 := []gopacket.SerializableLayer{}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: ethType}
		ls2 = append(ls2, eth)
		if ls.vlan > 0 {
			eth.EthernetType = layers.EthernetTypeDot1Q
			if ls.vlan > 1 {
				eth.EthernetType = layers.EthernetTypeQinQ
			}
			for i := 0; i < ls.vlan; i++ {
				next := layers.EthernetTypeDot1Q
				if i == ls.vlan-1 {
					next = ethType
				}
				ls2 = append(ls2, &layers.Dot1Q{VLANIdentifier: uint16(100 + i), Type: next})
			}
		}
		hb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(hb, gopacket.SerializeOptions{}, append(ls2, gopacket.Payload(body))...); err != nil {
			t.Fatal(err)
		}
		return hb.Bytes()
	case layers.LinkTypeLinuxSLL:
		head = make([]byte, 16)
		binary.BigEndian.PutUint16(head[0:], 0) // to us
		binary.BigEndian.PutUint16(head[2:], 772)
		binary.BigEndian.PutUint16(head[4:], 6)
		binary.BigEndian.PutUint16(head[14:], uint16(ethType))
	case layers.LinkTypeLinuxSLL2:
		head = make([]byte, 20)
		binary.BigEndian.PutUint16(head[0:], uint16(ethType))
		binary.BigEndian.PutUint32(head[4:], 1)
		binary.BigEndian.PutUint16(head[8:], 772)
		head[10] = 0
		head[11] = 6
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		head = make([]byte, 4)
		if ls.be || ls.link == layers.LinkTypeLoop {
			binary.BigEndian.PutUint32(head, uint32(family))
		} else {
			binary.LittleEndian.PutUint32(head, uint32(family))
		}
	}
	return append(head, body...)
}

// pcapOpts selects a pcap file variant.
type pcapOpts struct {
	nano, be bool
	snaplen  int // cut frames to this many bytes (0 = keep)
}

// writePcap writes frames as a classic pcap file by hand, so every magic
// variant can be produced.
func writePcap(t testing.TB, pkts []pkt, ls linkSpec, o pcapOpts) []byte {
	t.Helper()
	var bo binary.ByteOrder = binary.LittleEndian
	if o.be {
		bo = binary.BigEndian
	}
	var b bytes.Buffer
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if o.nano {
		magic = 0xa1b23c4d
	}
	snap := uint32(262144)
	if o.snaplen > 0 {
		snap = uint32(o.snaplen)
	}
	bo.PutUint32(h[0:], magic)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], snap)
	bo.PutUint32(h[20:], uint32(ls.link))
	b.Write(h)
	for _, p := range pkts {
		data := frame(t, p, ls)
		orig := len(data)
		if o.snaplen > 0 && len(data) > o.snaplen {
			data = data[:o.snaplen]
		}
		r := make([]byte, 16)
		bo.PutUint32(r[0:], uint32(p.ts.Unix()))
		frac := uint32(p.ts.Nanosecond() / 1000)
		if o.nano {
			frac = uint32(p.ts.Nanosecond())
		}
		bo.PutUint32(r[4:], frac)
		bo.PutUint32(r[8:], uint32(len(data)))
		bo.PutUint32(r[12:], uint32(orig))
		b.Write(r)
		b.Write(data)
	}
	return b.Bytes()
}

// ngPkt is a packet on one of several pcapng interfaces.
type ngPkt struct {
	pkt
	iface int
}

func writePcapng(t testing.TB, ifaces []linkSpec, pkts []ngPkt) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&b, pcapgo.NgInterface{LinkType: ifaces[0].link, SnapLength: 262144}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, ls := range ifaces[1:] {
		if _, err := w.AddInterface(pcapgo.NgInterface{LinkType: ls.link, SnapLength: 262144}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pkts {
		data := frame(t, p.pkt, ifaces[p.iface])
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(data), Length: len(data), InterfaceIndex: p.iface}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// result is everything ReadFile sent.
type result struct {
	reqs     []detect.Request
	batches  []detect.Batch
	parse    uint64
	counters map[string]uint64
	problems []detect.Problem
	err      error
}

// readBytes writes data to a temp file and replays it with ReadFile.
func readBytes(t testing.TB, data []byte, opts Options) result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return readPath(t, path, opts)
}

func readPath(t testing.TB, path string, opts Options) result {
	t.Helper()
	if opts.Ports == nil && !opts.AnyPort {
		opts.Ports = []uint16{80, 8080, 8000, 5000}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := make(chan detect.Batch, 64)
	errc := make(chan error, 1)
	go func() { errc <- ReadFile(ctx, path, opts, out); close(out) }()
	var r result
	r.counters = map[string]uint64{}
	for b := range out {
		r.batches = append(r.batches, b)
		r.reqs = append(r.reqs, b.Requests...)
		r.parse += b.ParseErrors
		for k, v := range b.Counters {
			r.counters[k] += v
		}
		r.problems = append(r.problems, b.Problems...)
	}
	r.err = <-errc
	return r
}

func gopacketCI(ts time.Time, n int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: ts, CaptureLength: n, Length: n}
}

// tunnelFrame wraps p in an Ethernet frame of the named tunnel (see
// linkSpec.tunnel), between outer hosts 192.0.2.1 and 192.0.2.2 (or
// 2001:db8:ffff::1 and ::2).
func tunnelFrame(t testing.TB, p pkt, kind string) []byte {
	t.Helper()
	v6 := p.src.Addr().Is6()
	var inner []byte
	innerType := layers.EthernetTypeIPv4
	if v6 {
		innerType = layers.EthernetTypeIPv6
	}
	switch kind {
	case "gre_eth", "vxlan", "vxlan6":
		inner = frame(t, p, linkSpec{link: layers.LinkTypeEthernet})
	default:
		inner = frame(t, p, linkSpec{link: layers.LinkTypeRaw})
	}
	outer4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
	outer6 := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP("2001:db8:ffff::1"), DstIP: net.ParseIP("2001:db8:ffff::2")}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ipProto := layers.IPProtocolIPv4
	if v6 {
		ipProto = layers.IPProtocolIPv6
	}
	var ls []gopacket.SerializableLayer
	switch kind {
	case "gre":
		outer4.Protocol = layers.IPProtocolGRE
		ls = []gopacket.SerializableLayer{eth, outer4, &layers.GRE{Protocol: innerType}}
	case "gre_eth":
		outer4.Protocol = layers.IPProtocolGRE
		ls = []gopacket.SerializableLayer{eth, outer4, &layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}}
	case "ipip":
		outer4.Protocol = ipProto
		ls = []gopacket.SerializableLayer{eth, outer4}
	case "in6":
		outer6.NextHeader = ipProto
		eth.EthernetType = layers.EthernetTypeIPv6
		ls = []gopacket.SerializableLayer{eth, outer6}
	case "vxlan", "vxlan6":
		udp := &layers.UDP{SrcPort: 51000, DstPort: 4789}
		var outer gopacket.SerializableLayer = outer4
		outer4.Protocol = layers.IPProtocolUDP
		udp.SetNetworkLayerForChecksum(outer4)
		if kind == "vxlan6" {
			outer6.NextHeader = layers.IPProtocolUDP
			eth.EthernetType = layers.EthernetTypeIPv6
			udp.SetNetworkLayerForChecksum(outer6)
			outer = outer6
		}
		ls = []gopacket.SerializableLayer{eth, outer, udp, &layers.VXLAN{ValidIDFlag: true, VNI: 42}}
	default:
		t.Fatalf("unknown tunnel %q", kind)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, append(ls, gopacket.Payload(inner))...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
