package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// rebindDir holds the recordings made by testdata/rebind/record.sh.
const rebindDir = "../testdata/rebind"

// rebindFile returns a recording's path, skipping the test when it is missing.
func rebindFile(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(rebindDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skip("no " + p + " (testdata/rebind/record.sh makes it)")
	}
	return p
}

// recordedPayloads returns the payloads of a recording's packets that
// match keep, decoded with gopacket's full (allocating) decoder: an
// independent view of the same bytes.
func recordedPayloads(t testing.TB, name string, keep func(gopacket.Packet) []byte) [][]byte {
	t.Helper()
	f, err := os.Open(rebindFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		pk := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if b := keep(pk); b != nil {
			out = append(out, b)
		}
	}
	return out
}

// recordedDNS returns the DNS responses of rebind.pcap: the UDP ones, then
// the one that came over TCP (its segments joined, length prefix removed).
func recordedDNS(t testing.TB) [][]byte {
	var tcpMsg []byte
	msgs := recordedPayloads(t, "rebind.pcap", func(pk gopacket.Packet) []byte {
		if u, ok := pk.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && u.SrcPort == 53 {
			return u.Payload
		}
		if tc, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && tc.SrcPort == 53 {
			tcpMsg = append(tcpMsg, tc.Payload...)
		}
		return nil
	})
	if len(tcpMsg) < 2 {
		t.Fatal("rebind.pcap holds no DNS over TCP")
	}
	return append(msgs, tcpMsg[2:])
}

// dnsMsg builds a DNS message by hand, for hostile cases.
type dnsMsg struct{ b []byte }

func newDNSMsg(flags uint16, qd, an int) *dnsMsg {
	b := binary.BigEndian.AppendUint16(nil, 0x1234)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, uint16(qd))
	b = binary.BigEndian.AppendUint16(b, uint16(an))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, 0)
	return &dnsMsg{b}
}

func (m *dnsMsg) name(n string) *dnsMsg {
	for _, l := range strings.Split(n, ".") {
		m.b = append(m.b, byte(len(l)))
		m.b = append(m.b, l...)
	}
	m.b = append(m.b, 0)
	return m
}

func (m *dnsMsg) raw(b ...byte) *dnsMsg { m.b = append(m.b, b...); return m }

func (m *dnsMsg) u16(v int) *dnsMsg { m.b = binary.BigEndian.AppendUint16(m.b, uint16(v)); return m }

func (m *dnsMsg) u32(v uint32) *dnsMsg { m.b = binary.BigEndian.AppendUint32(m.b, v); return m }

// question appends a question for name.
func (m *dnsMsg) question(name string, typ int) *dnsMsg { return m.name(name).u16(typ).u16(1) }

// a appends an A record whose owner is a pointer to offset 12 (the question name).
func (m *dnsMsg) a(ip string, ttl uint32) *dnsMsg {
	a := netip.MustParseAddr(ip).As4()
	return m.raw(0xc0, 12).u16(dnsTypeA).u16(1).u32(ttl).u16(4).raw(a[:]...)
}

const respFlags = 0x8180 // QR, RD, RA, NOERROR

// dnsWant is what a parsed message should give.
type dnsWant struct {
	err    error
	name   string
	cnames []string
	addrs  []string
	ttl    uint32
	rcode  int
	nrrs   int // -1: do not check
}

func TestParseDNS(t *testing.T) {
	real := recordedDNS(t)
	if len(real) != 6 {
		t.Fatalf("rebind.pcap: %d DNS responses, want 6", len(real))
	}
	many := newDNSMsg(respFlags, 1, 1000).question("many.rebind.test", dnsTypeA)
	for i := 0; i < 1000; i++ {
		many.a(fmt.Sprintf("10.0.%d.%d", i/256, i%256), uint32(1000-i))
	}
	long := newDNSMsg(respFlags, 1, 0)
	for i := 0; i < 5; i++ {
		long.raw(63).raw(bytes.Repeat([]byte{'a'}, 63)...)
	}
	long.raw(0).u16(1).u16(1)
	cnameLoop := newDNSMsg(respFlags, 1, 2).question("a.test", dnsTypeA).
		raw(0xc0, 12).u16(dnsTypeCNAME).u16(1).u32(60).u16(4).raw(1, 'b', 0xc0, 14). // a.test CNAME b.test
		raw(0xc0, 0x24).u16(dnsTypeCNAME).u16(1).u32(60).u16(2).raw(0xc0, 12)        // b.test CNAME a.test
	poisoned := newDNSMsg(respFlags, 1, 2).question("bank.test", dnsTypeA).
		name("other.test").u16(dnsTypeA).u16(1).u32(60).u16(4).raw(10, 0, 0, 1).
		a("93.184.216.34", 300)

	cases := []struct {
		name string
		msg  []byte
		want dnsWant
	}{
		// Real responses of testdata/rebind/record.sh's DNS server.
		{"real_cname_chain", real[0], dnsWant{name: "www.rebind.test", cnames: []string{"edge.rebind.test", "cdn.rebind.test"}, addrs: []string{"93.184.216.34", "93.184.216.35"}, ttl: 60, nrrs: 4}},
		{"real_nxdomain", real[1], dnsWant{name: "missing.rebind.test", rcode: 3, nrrs: 0}},
		{"real_public", real[2], dnsWant{name: "attacker.rebind.test", addrs: []string{"93.184.216.34"}, ttl: 1, nrrs: 1}},
		{"real_rebound", real[4], dnsWant{name: "attacker.rebind.test", addrs: []string{"127.0.0.1"}, ttl: 1, nrrs: 1}},
		{"real_aaaa_over_tcp", real[5], dnsWant{name: "www.rebind.test", cnames: []string{"edge.rebind.test", "cdn.rebind.test"}, addrs: []string{"2606:2800:220:1:248:1893:25c8:1946"}, ttl: 90, nrrs: 3}},
		// Not answers: ignored, not malformed.
		{"query", newDNSMsg(0x0100, 1, 0).question("a.test", 1).b, dnsWant{err: errDNSIgnore}},
		{"no_question", newDNSMsg(respFlags, 0, 0).b, dnsWant{err: errDNSIgnore}},
		{"opcode_notify", newDNSMsg(0x8000|4<<11, 1, 0).question("a.test", 6).b, dnsWant{err: errDNSIgnore}},
		// Hostile.
		{"empty", nil, dnsWant{err: errDNSShort}},
		{"header_only_claims_question", newDNSMsg(respFlags, 1, 0).b, dnsWant{err: errDNSShort}},
		{"question_cut", newDNSMsg(respFlags, 1, 0).name("a.test").raw(0).b, dnsWant{err: errDNSShort}},
		{"label_past_end", newDNSMsg(respFlags, 1, 0).raw(40, 'a').b, dnsWant{err: errDNSShort}},
		{"pointer_to_itself", newDNSMsg(respFlags, 1, 0).raw(0xc0, 12).u16(1).u16(1).b, dnsWant{err: errDNSPointer}},
		{"pointer_forward", newDNSMsg(respFlags, 1, 0).raw(0xc0, 14, 0).u16(1).u16(1).b, dnsWant{err: errDNSPointer}},
		{"pointer_loop", newDNSMsg(respFlags, 1, 1).question("a.test", 1).raw(0xc0, 0x1c, 0xc0, 0x1a).b, dnsWant{err: errDNSPointer}},
		{"pointer_cut", newDNSMsg(respFlags, 1, 0).raw(0xc0).b, dnsWant{err: errDNSShort}},
		{"extended_label", newDNSMsg(respFlags, 1, 0).raw(0x41, 0).u16(1).u16(1).b, dnsWant{err: errDNSName}},
		{"name_too_long", long.b, dnsWant{err: errDNSName}},
		{"answers_claimed_not_sent", newDNSMsg(respFlags, 1, 3).question("a.test", 1).a("1.2.3.4", 5).b, dnsWant{err: errDNSShort}},
		{"rdlength_overrun", newDNSMsg(respFlags, 1, 1).question("a.test", 1).raw(0xc0, 12).u16(1).u16(1).u32(5).u16(400).raw(1, 2, 3, 4).b, dnsWant{err: errDNSRDLength}},
		{"a_of_five_bytes", newDNSMsg(respFlags, 1, 1).question("a.test", 1).raw(0xc0, 12).u16(1).u16(1).u32(5).u16(5).raw(1, 2, 3, 4, 5).b, dnsWant{err: errDNSAddrShape}},
		{"cname_overruns_rdata", newDNSMsg(respFlags, 1, 1).question("a.test", 1).raw(0xc0, 12).u16(5).u16(1).u32(5).u16(2).raw(3, 'a', 'b', 'c', 0).b, dnsWant{err: errDNSShort}},
		{"too_many_answers", many.b, dnsWant{name: "many.rebind.test", nrrs: maxDNSRecords, ttl: 1000 - maxDNSRecords + 1, addrs: nil}},
		{"cname_loop", cnameLoop.b, dnsWant{name: "a.test", cnames: slices.Repeat([]string{"b.test", "a.test"}, maxDNSCNAMEs/2), nrrs: 2}},
		{"off_chain_record_ignored", poisoned.b, dnsWant{name: "bank.test", addrs: []string{"93.184.216.34"}, ttl: 300, nrrs: 2}},
		{"upper_case_and_negative_ttl", newDNSMsg(respFlags, 1, 1).question("ReBiNd.TEST", 1).a("127.0.0.1", 0x80000005).b, dnsWant{name: "rebind.test", addrs: []string{"127.0.0.1"}, ttl: 0, nrrs: 1}},
		{"class_chaos_skipped", newDNSMsg(respFlags, 1, 1).question("a.test", 1).raw(0xc0, 12).u16(1).u16(3).u32(5).u16(4).raw(1, 2, 3, 4).b, dnsWant{name: "a.test", nrrs: 0}},
	}
	opts := Options{}.withDefaults()
	p := newTestPipeline(&opts, "test")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &p.dns.parser
			err := d.parse(tc.msg)
			if err != tc.want.err {
				t.Fatalf("err %v, want %v", err, tc.want.err)
			}
			if err != nil {
				return
			}
			if tc.want.nrrs >= 0 && len(d.rrs) != tc.want.nrrs {
				t.Errorf("%d records kept, want %d", len(d.rrs), tc.want.nrrs)
			}
			a := p.dns.answer(0, testClient, testServer)
			var addrs []string
			for _, ip := range a.Addrs {
				addrs = append(addrs, ip.String())
			}
			if tc.name == "too_many_answers" {
				// The question's own records, capped: 64 addresses.
				if len(addrs) != maxDNSRecords || a.TTL != tc.want.ttl {
					t.Fatalf("%d addresses, TTL %d", len(addrs), a.TTL)
				}
				addrs = nil
			}
			if a.Name != tc.want.name || !slices.Equal(a.CNAMEs, tc.want.cnames) || !slices.Equal(addrs, tc.want.addrs) ||
				a.Rcode != tc.want.rcode || (tc.want.addrs != nil && a.TTL != tc.want.ttl) {
				t.Errorf("got %q %q %q ttl %d rcode %d, want %+v", a.Name, a.CNAMEs, addrs, a.TTL, a.Rcode, tc.want)
			}
		})
	}
}

// TestParseDNSAllocs: parsing allocates nothing once the buffers are warm.
func TestParseDNSAllocs(t *testing.T) {
	msg := recordedDNS(t)[0]
	var d dnsParser
	_ = d.parse(msg)
	if n := testing.AllocsPerRun(100, func() { _ = d.parse(msg); d.follow() }); n != 0 {
		t.Errorf("%v allocations per message", n)
	}
}

// udpFrame builds an Ethernet frame of a UDP datagram.
func udpFrame(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.SerializableLayer
	if src.Addr().Is6() {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolUDP, HopLimit: 64, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		_ = udp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		_ = udp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// timedFrame is an Ethernet frame at a time.
type timedFrame struct {
	ts   time.Time
	data []byte
}

// writeFrames writes Ethernet frames as a pcap file.
func writeFrames(t testing.TB, frames []timedFrame) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(f.data), Length: len(f.data)}, f.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// tcpFrames turns a synthetic conversation into timed Ethernet frames.
func tcpFrames(t testing.TB, c *convo) []timedFrame {
	var out []timedFrame
	for _, p := range c.pkts {
		out = append(out, timedFrame{p.ts, frame(t, p, linkSpec{link: layers.LinkTypeEthernet})})
	}
	return out
}

// readFrames replays frames through readCapture, synchronously.
func readFrames(t testing.TB, frames []timedFrame, opts Options) result {
	t.Helper()
	slices.SortStableFunc(frames, func(a, b timedFrame) int { return a.ts.Compare(b.ts) })
	data := writeFrames(t, frames)
	if opts.Ports == nil {
		opts.Ports = []uint16{80, 8080}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan detect.Batch, 1<<14)
	err := readCapture(ctx, bytes.NewReader(data), "test", int64(len(data)), opts, out)
	close(out)
	r := result{err: err, counters: map[string]uint64{}}
	for b := range out {
		r.batches = append(r.batches, b)
		r.reqs = append(r.reqs, b.Requests...)
		r.parse += b.ParseErrors
		for k, v := range b.Counters {
			r.counters[k] += v
		}
		r.problems = append(r.problems, b.Problems...)
	}
	return r
}

func dnsOf(r result) []detect.DNSAnswer {
	var out []detect.DNSAnswer
	for _, b := range r.batches {
		out = append(out, b.DNS...)
	}
	return out
}

func dnsSummary(a detect.DNSAnswer) string {
	return fmt.Sprintf("%s>%s %s %v %v ttl=%d rcode=%d", a.Server, a.Client, a.Name, a.CNAMEs, a.Addrs, a.TTL, a.Rcode)
}

// DNS in synthetic packets: UDP over IPv4 and IPv6, TCP with messages split
// and joined every way, on ports outside [capture] ports.
func TestDNSPackets(t *testing.T) {
	cli := netip.MustParseAddrPort("10.0.0.7:40000")
	srv := netip.MustParseAddrPort("10.0.0.53:53")
	cli6 := netip.MustParseAddrPort("[fd00::7]:40001")
	srv6 := netip.MustParseAddrPort("[fd00::53]:53")
	msg := func(name, ip string) []byte {
		return newDNSMsg(respFlags, 1, 1).question(name, dnsTypeA).a(ip, 30).b
	}
	framed := func(m []byte) string { return string(binary.BigEndian.AppendUint16(nil, uint16(len(m)))) + string(m) }
	t0 := synthEpoch
	t.Run("udp", func(t *testing.T) {
		r := readFrames(t, []timedFrame{
			{t0, udpFrame(t, cli, srv, newDNSMsg(0x0100, 1, 0).question("q.test", 1).b)}, // the query: ignored
			{t0.Add(time.Millisecond), udpFrame(t, srv, cli, msg("v4.test", "10.1.1.1"))},
			{t0.Add(2 * time.Millisecond), udpFrame(t, srv6, cli6, msg("v6.test", "192.168.1.1"))},
			{t0.Add(3 * time.Millisecond), udpFrame(t, srv, cli, []byte{1, 2, 3})},                                          // malformed
			{t0.Add(4 * time.Millisecond), udpFrame(t, netip.MustParseAddrPort("10.0.0.9:5353"), cli, msg("x", "1.1.1.1"))}, // not port 53
		}, Options{})
		got := dnsOf(r)
		if len(got) != 2 || dnsSummary(got[0]) != "10.0.0.53:53>10.0.0.7:40000 v4.test [] [10.1.1.1] ttl=30 rcode=0" ||
			dnsSummary(got[1]) != "[fd00::53]:53>[fd00::7]:40001 v6.test [] [192.168.1.1] ttl=30 rcode=0" {
			t.Fatalf("answers %v", got)
		}
		if !got[0].Time.Equal(t0.Add(time.Millisecond)) || got[0].Source != "pcap" {
			t.Errorf("time %v source %q", got[0].Time, got[0].Source)
		}
		if r.counters["dns_responses"] != 2 || r.counters["dns_malformed"] != 1 || len(r.problems) != 1 {
			t.Errorf("counters %v problems %v", r.counters, r.problems)
		}
	})
	m1, m2, m3 := msg("one.test", "10.0.0.1"), msg("two.test", "10.0.0.2"), msg("three.test", "10.0.0.3")
	all := framed(m1) + framed(m2) + framed(m3)
	for _, tc := range []struct {
		name string
		mss  int
	}{{"one_segment", 1400}, {"prefix_alone", 2}, {"byte_by_byte", 1}, {"odd_sizes", 7}, {"straddling", len(framed(m1)) + 5}} {
		t.Run("tcp_"+tc.name, func(t *testing.T) {
			c := newConvo("10.0.0.7:40002", "10.0.0.53:53", t0).handshake().
				req(framed(newDNSMsg(0x0100, 1, 0).question("q.test", 1).b)).resp(all, tc.mss).close()
			r := readFrames(t, tcpFrames(t, c), Options{})
			got := dnsOf(r)
			var names []string
			for _, a := range got {
				names = append(names, a.Name)
			}
			if !slices.Equal(names, []string{"one.test", "two.test", "three.test"}) || r.counters["dns_malformed"] != 0 {
				t.Fatalf("names %q counters %v", names, r.counters)
			}
			if got[0].Client.String() != "10.0.0.7:40002" || got[0].Server.String() != "10.0.0.53:53" {
				t.Errorf("endpoints %v %v", got[0].Client, got[0].Server)
			}
			if len(r.reqs) != 0 || r.counters["non_http_streams"] != 0 {
				t.Errorf("DNS connection parsed as HTTP: %v %v", r.reqs, r.counters)
			}
		})
	}
	t.Run("tcp_gap_stops_the_direction", func(t *testing.T) {
		c := newConvo("10.0.0.7:40003", "10.0.0.53:53", t0).handshake().resp(framed(m1)+framed(m2)+framed(m3), len(framed(m1))).close()
		c.pkts = slices.Delete(c.pkts, 4, 5) // the second message
		r := readFrames(t, tcpFrames(t, c), Options{})
		if got := dnsOf(r); len(got) != 1 || got[0].Name != "one.test" {
			t.Fatalf("answers %v", got)
		}
	})
	t.Run("tcp_cut_by_close", func(t *testing.T) {
		c := newConvo("10.0.0.7:40004", "10.0.0.53:53", t0).handshake().resp(framed(m1)[:10]).close()
		r := readFrames(t, tcpFrames(t, c), Options{})
		if len(dnsOf(r)) != 0 || r.counters["dns_malformed"] != 1 {
			t.Fatalf("answers %v counters %v", dnsOf(r), r.counters)
		}
	})
	t.Run("tcp_zero_length_message", func(t *testing.T) {
		c := newConvo("10.0.0.7:40005", "10.0.0.53:53", t0).handshake().resp("\x00\x00" + framed(m1)).close()
		r := readFrames(t, tcpFrames(t, c), Options{})
		if got := dnsOf(r); len(got) != 1 || r.counters["dns_malformed"] != 1 {
			t.Fatalf("answers %v counters %v", got, r.counters)
		}
	})
}

// DNS answers are not held behind requests: an answer reaches the engine
// in the same batch as, or before, a request that came after it, even
// while that request waits for its response.
func TestDNSBeforeLaterRequests(t *testing.T) {
	t0 := synthEpoch
	cli := netip.MustParseAddrPort("10.0.0.7:40000")
	srv := netip.MustParseAddrPort("10.0.0.53:53")
	frames := []timedFrame{{t0, udpFrame(t, srv, cli, newDNSMsg(respFlags, 1, 1).question("evil.test", 1).a("127.0.0.1", 1).b)}}
	c := newConvo("10.0.0.7:51234", "127.0.0.1:8080", t0.Add(time.Millisecond)).handshake().
		req("GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n")
	frames = append(frames, tcpFrames(t, c)...)
	// A late packet, long after: the request has waited its responseWait.
	frames = append(frames, timedFrame{t0.Add(10 * time.Second), udpFrame(t, srv, cli, newDNSMsg(respFlags, 1, 1).question("late.test", 1).a("10.0.0.1", 1).b)})
	r := readFrames(t, frames, Options{BatchSize: 1})
	var order []string
	for _, b := range r.batches {
		for _, d := range b.DNS {
			order = append(order, "dns "+d.Name)
		}
		for _, q := range b.Requests {
			order = append(order, "req "+q.Host)
		}
	}
	if !slices.Equal(order, []string{"dns evil.test", "dns late.test", "req evil.test"}) &&
		!slices.Equal(order, []string{"dns evil.test", "req evil.test", "dns late.test"}) {
		t.Fatalf("order %q", order)
	}
	if order[0] != "dns evil.test" {
		t.Fatalf("the answer did not come first: %q", order)
	}
}

// The rebinding recording end to end: every DNS answer, in time order, and
// the request the rebound name steered, with its status.
func TestRebindRecording(t *testing.T) {
	r := readPath(t, rebindFile(t, "rebind.pcap"), Options{Ports: []uint16{8080}})
	if r.err != nil || r.parse != 0 || len(r.problems) != 0 {
		t.Fatalf("err %v parse %d problems %v", r.err, r.parse, r.problems)
	}
	if fmt.Sprint(r.counters) != "map[dns_responses:6]" {
		t.Errorf("counters %v", r.counters)
	}
	got := dnsOf(r)
	var lines []string
	for i, a := range got {
		lines = append(lines, dnsSummary(a))
		if i > 0 && a.Time.Before(got[i-1].Time) {
			t.Errorf("answer %d out of time order", i)
		}
		if a.Source != "pcap" || a.Name != sanitize.String(a.Name) || a.Private || a.Flipped || a.Internal {
			t.Errorf("answer %d: %+v", i, a)
		}
	}
	// Client ports are the recording's; compare without them.
	for i := range lines {
		_, after, _ := strings.Cut(lines[i], ">")
		_, after, _ = strings.Cut(after, " ")
		lines[i] = after
	}
	want := []string{
		"www.rebind.test [edge.rebind.test cdn.rebind.test] [93.184.216.34 93.184.216.35] ttl=60 rcode=0",
		"www.rebind.test [edge.rebind.test cdn.rebind.test] [2606:2800:220:1:248:1893:25c8:1946] ttl=90 rcode=0",
		"missing.rebind.test [] [] ttl=0 rcode=3",
		"attacker.rebind.test [] [93.184.216.34] ttl=1 rcode=0",
		"attacker.rebind.test [] [93.184.216.34] ttl=1 rcode=0",
		"attacker.rebind.test [] [127.0.0.1] ttl=1 rcode=0",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("answers\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(r.reqs) != 1 {
		t.Fatalf("%d requests", len(r.reqs))
	}
	q := r.reqs[0]
	if q.Host != "attacker.rebind.test:8080" || q.Status != 200 || q.Server.String() != "127.0.0.1:8080" || q.Client.Addr().String() != "127.0.0.66" {
		t.Errorf("request %+v", q)
	}
	if last := got[len(got)-1]; !last.Time.Before(q.Time) || last.Client.Addr() != q.Client.Addr() {
		t.Errorf("the rebound answer (%v) should precede the request (%v) from the same client", last.Time, q.Time)
	}
}

// collector is an engine sink that keeps alerts.
type collector struct{ alerts []detect.Alert }

func (c *collector) Request(*detect.Request) error { return nil }
func (c *collector) Alert(a *detect.Alert) error {
	c.alerts = append(c.alerts, *a)
	return nil
}

// rebindConfig mirrors testdata/rebind/rebindwatch.toml.
func rebindConfig() detect.Config {
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.rebind.test"}
	cfg.AllowedOrigins = []string{"https://app.rebind.test"}
	return cfg
}

// expectedAlert is one line of testdata/rebind/expected_*.jsonl.
type expectedAlert struct {
	Detector string `json:"detector"`
	Subject  string `json:"subject"`
	Outcome  string `json:"outcome,omitempty"`
	Status   int    `json:"status,omitempty"`
	DNS      int    `json:"dns,omitempty"` // DNS answers attached as evidence
}

// The recordings through the engine raise exactly the expected alerts: the
// rebinding chain (dns_private_answer and dns_rebind with the DNS evidence),
// served versus blocked, h2c and TLS SNI.
func TestRecordingsRaiseExpectedAlerts(t *testing.T) {
	for _, tc := range []struct{ pcap, want string }{
		{"rebind.pcap", "expected_alerts.jsonl"},
		{"served.pcap", "expected_alerts_served.jsonl"},
		{"blocked.pcap", "expected_alerts_blocked.jsonl"},
		{"h2c.pcap", "expected_alerts_h2c.jsonl"},
		{"tls.pcap", "expected_alerts_tls.jsonl"},
	} {
		t.Run(tc.pcap, func(t *testing.T) {
			r := readPath(t, rebindFile(t, tc.pcap), Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig())})
			if r.err != nil {
				t.Fatal(r.err)
			}
			sink := &collector{}
			e, err := detect.NewEngine(rebindConfig(), sink)
			if err != nil {
				t.Fatal(err)
			}
			for i := range r.batches {
				if err := e.Observe(&r.batches[i]); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, a := range sink.alerts {
				x := expectedAlert{Detector: a.Detector, Subject: a.Subject, Outcome: a.Outcome, Status: a.Status, DNS: len(a.DNS)}
				b, _ := json.Marshal(x)
				got = append(got, string(b))
			}
			raw, err := os.ReadFile(filepath.Join(rebindDir, tc.want))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
				var x expectedAlert
				if err := json.Unmarshal([]byte(line), &x); err != nil {
					t.Fatalf("%s: %v", tc.want, err)
				}
				b, _ := json.Marshal(x)
				want = append(want, string(b))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, a := range sink.alerts {
				if a.Detector == detect.DetDNSRebind && (a.Severity != detect.SeverityCritical || len(a.DNS) == 0 || a.DNS[len(a.DNS)-1].Addrs[0].String() != "127.0.0.1") {
					t.Errorf("dns_rebind without its DNS evidence: %+v", a)
				}
			}
		})
	}
}

// FuzzParseDNS: no message may panic, loop or keep more than the caps; a
// parsed one gives a sanitised answer.
func FuzzParseDNS(f *testing.F) {
	for _, m := range recordedDNS(f) {
		f.Add(m)
	}
	f.Add(newDNSMsg(respFlags, 1, 0).raw(0xc0, 12).u16(1).u16(1).b)
	f.Add(newDNSMsg(respFlags, 1, 2).question("a.test", 1).raw(0xc0, 12).u16(5).u16(1).u32(60).u16(2).raw(0xc0, 12).a("127.0.0.1", 1).b)
	opts := Options{}.withDefaults()
	p := newTestPipeline(&opts, "fuzz")
	f.Fuzz(func(t *testing.T, msg []byte) {
		d := &p.dns.parser
		if err := d.parse(msg); err != nil {
			return
		}
		if len(d.rrs) > maxDNSRecords {
			t.Fatalf("%d records kept", len(d.rrs))
		}
		a := p.dns.answer(0, testClient, testServer)
		if len(a.Name) > maxDNSName || len(a.CNAMEs) > maxDNSCNAMEs || len(a.Addrs) > maxDNSRecords {
			t.Fatalf("answer beyond caps: %d %d %d", len(a.Name), len(a.CNAMEs), len(a.Addrs))
		}
	})
}

func BenchmarkParseDNS(b *testing.B) {
	msg := recordedDNS(b)[0]
	var d dnsParser
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := d.parse(msg); err != nil {
			b.Fatal(err)
		}
		d.follow()
	}
}

// FuzzReadRebindCaptures mutates the recordings of testdata/rebind whole:
// DNS over UDP and TCP, ClientHellos gathered over segments and h2c go
// through the pipeline's hooks. Nothing may panic or hang, and whatever
// comes out is well formed and within its caps. Run it with -fuzzminimizetime=50x:
// minimising each new kilobytes-long input by default stalls the workers.
func FuzzReadRebindCaptures(f *testing.F) {
	for _, name := range []string{"rebind.pcap", "h2c.pcap", "tls.pcap", "served.pcap"} {
		b, err := os.ReadFile(filepath.Join(rebindDir, name))
		if err != nil {
			f.Skip("no " + name)
		}
		f.Add(b)
	}
	opts := Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig()), MaxStreams: 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out := make(chan detect.Batch, 4096)
		err := readCapture(ctx, bytes.NewReader(data), "fuzz", int64(len(data)), opts, out)
		close(out)
		if ctx.Err() != nil {
			t.Fatalf("replay did not finish: %v", err)
		}
		for b := range out {
			for _, r := range b.Requests {
				if r.Proto == "HTTP/2.0" {
					checkH2Request(t, r)
				} else {
					checkRequest(t, r)
				}
			}
			for _, a := range b.DNS {
				if len(a.Name) > maxDNSName || len(a.CNAMEs) > maxDNSCNAMEs {
					t.Fatalf("answer beyond caps: %+v", a)
				}
			}
			for _, h := range b.TLS {
				if len(h.ALPN) > maxALPN {
					t.Fatalf("bad hello %+v", h)
				}
			}
		}
	})
}
