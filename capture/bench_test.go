package capture

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

const benchHead = "GET /v1/items?id=42&api_key=bravo HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Accept: application/json\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Origin: https://app.example.com\r\n" +
	"Referer: https://app.example.com/dashboard\r\n" +
	"X-API-Key: 0123456789abcdef\r\n" +
	"Cookie: session=abcdef0123456789; theme=dark\r\n" +
	"Connection: keep-alive\r\n\r\n"

// BenchmarkParseRequest is the request head parser alone: no allocation.
func BenchmarkParseRequest(b *testing.B) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	head := []byte(benchHead)
	var h reqHead
	var fold []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		end, _ := headEnd(head, 0)
		if _, f := parseRequestAt(head[:end], &h, kx, &fold); f != faultNone || !h.hasHost {
			b.Fatal("parse failed")
		}
	}
}

// BenchmarkStreamRequest is one keep-alive request and its response
// through a connection's parsers, including making the kept Request: the
// allocations are the strings the request keeps that were not seen before
// (here the target, which changes every time, is one).
func BenchmarkStreamRequest(b *testing.B) {
	opts := Options{Keys: keys.NewExtractor(keys.DefaultConfig())}.withDefaults()
	p := newTestPipeline(&opts, "bench")
	c := &conn{sh: p.http, client: -1}
	c.addr[0], c.addr[1] = testClient, testServer
	c.setClient(0)
	c.h[0].syn, c.h[1].syn = true, true
	c.begin(0)
	c.begin(1)
	req := []byte(benchHead)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	b.ReportAllocs()
	for b.Loop() {
		c.feed(0, req, 0)
		c.feed(1, resp, 0)
		p.m.release(p.ord.pop())
	}
}

// benchCapture is the recorded capture benchmarks and allocation tests
// replay: $CAPTURE_BENCH_FILE, else the largest one in testdata/rec.
func benchCapture(tb testing.TB) string {
	tb.Helper()
	if f := os.Getenv("CAPTURE_BENCH_FILE"); f != "" {
		return f // e.g. the bulk capture bench/capture.sh makes
	}
	var best string
	var size int64
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(recDir, pat))
		for _, f := range m {
			if st, err := os.Stat(f); err == nil && st.Size() > size {
				best, size = f, st.Size()
			}
		}
	}
	if best == "" {
		tb.Skip("no recordings in " + recDir)
	}
	return best
}

// benchPorts are the recordings' ports and bench/capture.sh's (18680).
var benchPorts = append(slices.Clone(recPorts), 18680)

// BenchmarkReadFile replays a recorded capture, unpaced, with one worker
// per core (-cpu sets them).
func BenchmarkReadFile(b *testing.B) {
	benchReadFile(b, 0)
}

// BenchmarkReadFileWorkers replays it with 1, 2 and 4 workers, whatever
// the cores.
func BenchmarkReadFileWorkers(b *testing.B) {
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchReadFile(b, n) })
	}
}

func benchReadFile(b *testing.B, workers int) {
	path := benchCapture(b)
	st, _ := os.Stat(path)
	opts := Options{Ports: benchPorts, Keys: keys.NewExtractor(keys.DefaultConfig()), Workers: workers}
	b.ReportAllocs()
	b.SetBytes(st.Size())
	var reqs int
	cpu0 := cpu()
	for b.Loop() {
		out := make(chan detect.Batch, 1024)
		done := make(chan int)
		go func() {
			n := 0
			for bt := range out {
				n += len(bt.Requests)
				bt.Recycle() // as the engine does: the source fills the array again
			}
			done <- n
		}()
		if err := ReadFile(context.Background(), path, opts, out); err != nil {
			b.Fatal(err)
		}
		close(out)
		reqs += <-done
	}
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
	// CPU time is steadier than wall time on a shared machine.
	if d := cpu() - cpu0; d > 0 {
		b.ReportMetric(float64(reqs)/d.Seconds(), "requests/cpu-s")
	}
}

// frames reads every frame of a capture into memory.
func frames(tb testing.TB, path string) ([][]byte, []gopacket.CaptureInfo, []layers.LinkType) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	src, err := openCapture(f, path, 0)
	if err != nil || src == nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	var data [][]byte
	var cis []gopacket.CaptureInfo
	var links []layers.LinkType
	for {
		d, ci, link, err := src.next()
		if err != nil {
			break
		}
		data = append(data, append([]byte(nil), d...))
		ci.AncillaryData = nil
		cis = append(cis, ci)
		links = append(links, link)
	}
	return data, cis, links
}

// BenchmarkDecode is the per-packet decoding path: no allocation.
func BenchmarkDecode(b *testing.B) {
	data, _, links := frames(b, benchCapture(b))
	d := newDecoder()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.decode(data[i], links[i])
		if i++; i == len(data) {
			i = 0
		}
	}
}

// Decoding a packet allocates nothing.
func TestDecodeAllocs(t *testing.T) {
	data, _, links := frames(t, benchCapture(t))
	d := newDecoder()
	for i := range data { // warm up: layers grow their option slices once
		d.decode(data[i], links[i])
	}
	allocs := testing.AllocsPerRun(5, func() {
		for i := range data {
			d.decode(data[i], links[i])
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding %d packets allocated %v times", len(data), allocs)
	}
}

// The whole packet path (decode, reassemble, parse, order) allocates only
// per connection and per request, never per packet.
func TestPacketPathAllocs(t *testing.T) {
	data, cis, links := frames(t, benchCapture(t))
	opts := Options{Ports: benchPorts, Keys: keys.NewExtractor(keys.DefaultConfig())}.withDefaults()
	var reqs, conns uint64
	allocs := testing.AllocsPerRun(3, func() {
		p := newTestPipeline(&opts, "pcap")
		open := p.asm.open
		p.asm.open = func(tcp *tcpHdr, src, dst netip.AddrPort) stream {
			conns++
			return open(tcp, src, dst)
		}
		for i := range data {
			p.packet(data[i], cis[i], links[i])
		}
		p.finish(nil)
		for _, b := range p.tally().batches {
			reqs += uint64(len(b.Requests))
		}
	})
	reqs, conns = reqs/4, conns/4 // AllocsPerRun runs the function once more to warm up
	perPacket := allocs / float64(len(data))
	t.Logf("%d packets, %d requests, %d connections: %.0f allocations (%.3f per packet)", len(data), reqs, conns, allocs, perPacket)
	// Per request: the target and values not seen before; per connection:
	// the stream, its buffers, the reassembly pool's growth. Allow 4 and 12.
	if budget := float64(4*reqs + 12*conns + 200); allocs > budget {
		t.Fatalf("%.0f allocations, budget %.0f", allocs, budget)
	}
}

// The fast decoding path agrees with the general one on every packet of
// the recordings, and on synthetic frames of every link type.
func TestDecodeFastMatchesGeneral(t *testing.T) {
	var all [][]byte
	var links []layers.LinkType
	for _, f := range append(recordings(t), captureFiles(t)...) {
		data, _, l := frames(t, f)
		all = append(all, data...)
		links = append(links, l...)
	}
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().req(getA).resp(resp200).close()
	c6 := newConvo("[2001:db8::3]:40000", "[2001:db8::4]:8080", synthEpoch).handshake().req(getA).resp(resp200).close()
	for _, ls := range []linkSpec{{link: layers.LinkTypeEthernet}, {link: layers.LinkTypeRaw}, {link: layers.LinkTypeIPv4}, {link: layers.LinkTypeEthernet, vlan: 1}} {
		for _, p := range append(slices.Clone(c.pkts), c6.pkts...) {
			if ls.link == layers.LinkTypeIPv4 && p.src.Addr().Is6() {
				continue
			}
			all = append(all, frame(t, p, ls))
			links = append(links, ls.link)
		}
	}
	fast, slow := newDecoder(), newDecoder()
	slow.slowOnly = true
	describe := func(d *decoder, r decodeResult) string {
		if r != decodedTCP {
			return fmt.Sprint(r)
		}
		s, dst := d.addrs()
		tc := &d.tcp
		return fmt.Sprintf("%v %v>%v seq=%d ack=%d f=%v%v%v%v%v off=%d win=%d payload=%q full=%d v6=%v layers=%v ip4=%d/%d/%d/%v ip6=%d/%d",
			r, s, dst, tc.Seq, tc.Ack, tc.SYN, tc.ACK, tc.FIN, tc.RST, tc.PSH, tc.DataOffset, tc.Window, tc.Payload, d.full, d.v6, d.decoded,
			d.ip4.IHL, d.ip4.Length, d.ip4.TTL, d.ip4.Flags, d.ip6.Length, d.ip6.HopLimit)
	}
	for i, data := range all {
		a := describe(fast, fast.decode(data, links[i]))
		b := describe(slow, slow.decode(data, links[i]))
		if a != b {
			t.Fatalf("packet %d: fast %s\n general %s", i, a, b)
		}
	}
	t.Logf("%d packets decoded alike", len(all))
}

// The parallel pipeline's own allocations (its batches and their logs,
// the shards' pools of pending requests) grow to their size and are
// reused, never made per packet: what three workers allocate beyond one
// is about the same for a recording replayed once and replayed ten times
// over (a per-packet allocation would add thousands). Batches of 16
// records let the pools fill early: a pending request goes back to its
// shard's pool with the batch that carries it back, so until every batch
// has gone round once the shards allocate one per request.
func TestParallelPathAllocs(t *testing.T) {
	data, cis, links := frames(t, benchCapture(t))
	span := cis[len(cis)-1].Timestamp.Sub(cis[0].Timestamp) + 2*idleTimeout
	repeated := func(k int) []byte {
		var b bytes.Buffer
		w := pcapgo.NewWriter(&b)
		if err := w.WriteFileHeader(65535, links[0]); err != nil {
			t.Fatal(err)
		}
		for c := range k {
			for i, ci := range cis {
				if links[i] != links[0] {
					t.Fatal("the recording mixes link types")
				}
				ci.Timestamp = ci.Timestamp.Add(time.Duration(c) * span)
				if err := w.WritePacket(ci, data[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		return b.Bytes()
	}
	opts := Options{Ports: benchPorts, Keys: keys.NewExtractor(keys.DefaultConfig())}
	extra := func(capture []byte) float64 {
		replay := func(workers int) float64 {
			opts.Workers, opts.batchRecs = workers, 16
			return testing.AllocsPerRun(3, func() {
				out := make(chan detect.Batch, 1024)
				done := make(chan struct{})
				go func() {
					for range out {
					}
					close(done)
				}()
				if err := readCapture(context.Background(), bytes.NewReader(capture), "test", int64(len(capture)), opts, out); err != nil {
					t.Error(err)
				}
				close(out)
				<-done
			})
		}
		return replay(3) - replay(1)
	}
	once, tenTimes := extra(repeated(1)), extra(repeated(10))
	t.Logf("three workers allocate %.0f more times than one on %d packets, %.0f more on ten times as many", once, len(data), tenTimes)
	if grown := tenTimes - once; grown > float64(len(data)) {
		t.Fatalf("the parallel path's extra allocations grew by %.0f over %d more packets", grown, 9*len(data))
	}
}
