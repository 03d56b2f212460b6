package capture

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
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
	keys := detect.NewKeyExtractor(detect.DefaultKeyConfig())
	head := []byte(benchHead)
	var h reqHead
	var fold []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		end, _ := headEnd(head, 0)
		if parseRequestHead(head[:end], &h, keys, &fold) != faultNone || !h.hasHost {
			b.Fatal("parse failed")
		}
	}
}

// BenchmarkStreamRequest is one keep-alive request and its response
// through a connection's parsers, including making the kept Request: the
// allocations are the strings the request keeps that were not seen before
// (here the target, which changes every time, is one).
func BenchmarkStreamRequest(b *testing.B) {
	opts := Options{Keys: detect.NewKeyExtractor(detect.DefaultKeyConfig())}.withDefaults()
	p := newPipeline(&opts, "bench")
	c := &conn{p: p, client: -1}
	c.addr[0], c.addr[1] = testClient, testServer
	c.setClient(0)
	c.h[0].syn, c.h[1].syn = true, true
	c.begin(0)
	c.begin(1)
	req := []byte(benchHead)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
	b.ReportAllocs()
	for b.Loop() {
		c.feed(0, req)
		c.feed(1, resp)
		x := p.pop()
		x.out = true
		p.release(x)
	}
}

// benchCapture is the recorded capture benchmarks and allocation tests
// replay: the largest one in testdata/rec.
func benchCapture(tb testing.TB) string {
	tb.Helper()
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

// BenchmarkReadFile replays a recorded capture, unpaced.
func BenchmarkReadFile(b *testing.B) {
	path := benchCapture(b)
	st, _ := os.Stat(path)
	opts := Options{Ports: recPorts, Keys: detect.NewKeyExtractor(detect.DefaultKeyConfig())}
	b.ReportAllocs()
	b.SetBytes(st.Size())
	var reqs int
	for b.Loop() {
		out := make(chan detect.Batch, 1024)
		done := make(chan int)
		go func() {
			n := 0
			for bt := range out {
				n += len(bt.Requests)
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
}

// frames reads every frame of a capture into memory.
func frames(tb testing.TB, path string) ([][]byte, []gopacket.CaptureInfo, []layers.LinkType) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	src, err := openCapture(f, path)
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
	opts := Options{Ports: recPorts, Keys: detect.NewKeyExtractor(detect.DefaultKeyConfig())}.withDefaults()
	var reqs, conns uint64
	allocs := testing.AllocsPerRun(3, func() {
		p := newPipeline(&opts, "pcap")
		for i := range data {
			p.packet(data[i], cis[i], links[i])
			for len(p.heap) > 0 {
				x := p.pop()
				x.out = true
				p.release(x)
				reqs++
			}
		}
		conns += p.streamCount
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
