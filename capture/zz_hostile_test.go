package capture

// Hostile load on the capture path: a capture with far more open TCP
// connections than [capture] max_streams, none of them ever closed. Real
// software will not produce 200,000 half-finished connections on demand,
// so the capture is synthetic (gopacket layers written with pcapgo).
//
//	go test ./capture -run HostileStreams -v                          # 30k connections, max_streams 10k (CI)
//	REBINDWATCH_MEMTEST=1 go test ./capture -run HostileStreams -v    # 200k at the default 100k

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// hostileStreamsHeapCap bounds the live heap while the capture is read.
// Measured (amd64, Go 1.26): 215 to 290 MiB peak heap in use, garbage
// included, at 200k connections with the default cap of 100k streams, of
// which about 55 MiB live (the connections and their pending requests).
const hostileStreamsHeapCap = 512 << 20

// writeOpenConnections writes a pcap of n TCP connections to 10.9.0.1:8080,
// 10,000 new ones a second of packet time: SYN, SYN-ACK, ACK and one
// request each, never a FIN, RST or response. Every lost-th connection's
// request loses its first segment (the capture missed it), so its rest
// waits in reassembly as out-of-order data. It returns the number of
// complete requests written.
func writeOpenConnections(t testing.TB, path string, n, lost int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP}
	tcp := &layers.TCP{Window: 65535}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	srv := net.IPv4(10, 9, 0, 1).To4()
	start := time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
	write := func(ts time.Time, cli net.IP, cport uint16, fromClient bool, seq, ack uint32, syn, ackf bool, payload []byte) {
		if fromClient {
			ip.SrcIP, ip.DstIP = cli, srv
			tcp.SrcPort, tcp.DstPort = layers.TCPPort(cport), 8080
		} else {
			ip.SrcIP, ip.DstIP = srv, cli
			tcp.SrcPort, tcp.DstPort = 8080, layers.TCPPort(cport)
		}
		tcp.Seq, tcp.Ack, tcp.SYN, tcp.ACK, tcp.PSH = seq, ack, syn, ackf, len(payload) > 0
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		if err := gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	complete := 0
	step := 100 * time.Microsecond
	for i := 0; i < n; i++ {
		ts := start.Add(time.Duration(i) * step)
		cli := net.IPv4(10, byte(10+i>>16), byte(i>>8), byte(i)).To4()
		cport := uint16(1024 + i%60000)
		const cseq, sseq = 1000, 9000
		write(ts, cli, cport, true, cseq, 0, true, false, nil)
		write(ts.Add(10*time.Microsecond), cli, cport, false, sseq, cseq+1, true, true, nil)
		write(ts.Add(20*time.Microsecond), cli, cport, true, cseq+1, sseq+1, false, true, nil)
		req := []byte(fmt.Sprintf("GET /v1/items/%d HTTP/1.1\r\nHost: h%d.api.example.com\r\nX-API-Key: k%d\r\nUser-Agent: flood/1.0\r\n\r\n", i, i, i))
		if lost > 0 && i%lost == 0 {
			// Only the second half arrives: a gap the assembler holds.
			half := len(req) / 2
			write(ts.Add(30*time.Microsecond), cli, cport, true, cseq+1+uint32(half), sseq+1, false, true, req[half:])
			continue
		}
		write(ts.Add(30*time.Microsecond), cli, cport, true, cseq+1, sseq+1, false, true, req)
		complete++
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return complete
}

// heapSampler samples the heap in use until stopped, for the peak.
type heapSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func sampleHeap(every time.Duration) *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tk := time.NewTicker(every)
		defer tk.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			s.peak = max(s.peak, m.HeapInuse)
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) done() uint64 {
	close(s.stop)
	s.wg.Wait()
	return s.peak
}

// TestHostileStreamsNeverClosed: 200,000 connections that never close, at
// the default max_streams (100,000): the heap stays bounded, evictions are
// counted in streams_evicted, and every complete request is reported.
func TestHostileStreamsNeverClosed(t *testing.T) {
	n, lost, maxStreams := 30_000, 50, 10_000
	if os.Getenv("REBINDWATCH_MEMTEST") != "" {
		n, maxStreams = 200_000, 0 // 0: the default, 100k
	}
	path := filepath.Join(t.TempDir(), "open.pcap")
	t0 := time.Now()
	complete := writeOpenConnections(t, path, n, lost)
	st, _ := os.Stat(path)
	t.Logf("wrote %d connections (%d complete requests), %.1f MB, in %v", n, complete, float64(st.Size())/1e6, time.Since(t0).Round(time.Millisecond))

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	sampler := sampleHeap(20 * time.Millisecond)
	out := make(chan detect.Batch, 16)
	var reqs, evicted, missing, parseErrs uint64
	var problems []detect.Problem
	consumed := make(chan struct{})
	hosts := map[string]bool{}
	go func() {
		defer close(consumed)
		for b := range out {
			reqs += uint64(len(b.Requests))
			for _, r := range b.Requests {
				if !strings.HasSuffix(r.Host, ".api.example.com") || r.Key == "" || len(r.Key) != keys.FingerprintLen {
					problems = append(problems, detect.Problem{Text: fmt.Sprintf("bad request %+v", r)})
				}
				if len(hosts) < 10 {
					hosts[r.Host] = true
				}
			}
			evicted += b.Counters["streams_evicted"]
			missing += b.Counters["missing_bytes"]
			parseErrs += b.ParseErrors
		}
	}()
	t0 = time.Now()
	opts := Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig()), MaxStreams: maxStreams}
	err := ReadFile(context.Background(), path, opts, out)
	close(out)
	<-consumed
	elapsed := time.Since(t0)
	peak := sampler.done()
	if err != nil {
		t.Fatal(err)
	}
	growth := peak - min(peak, base.HeapInuse)
	t.Logf("read in %v: %d requests, streams_evicted %d, missing_bytes %d, parse_errors %d; peak heap in use %.1f MiB over a base of %.1f MiB (cap %d MiB)",
		elapsed.Round(time.Millisecond), reqs, evicted, missing, parseErrs, float64(growth)/(1<<20), float64(base.HeapInuse)/(1<<20), hostileStreamsHeapCap>>20)
	if growth > hostileStreamsHeapCap {
		t.Errorf("heap grew %d MiB, over the %d MiB cap", growth>>20, hostileStreamsHeapCap>>20)
	}
	if reqs != uint64(complete) {
		t.Errorf("%d requests reported, want every complete one: %d", reqs, complete)
	}
	cap := maxStreams
	if cap == 0 {
		cap = DefaultMaxStreams
	}
	if evicted < uint64(n-cap-cap/16) {
		t.Errorf("streams_evicted = %d, want at least %d (%d connections, cap %d)", evicted, n-cap-cap/16, n, cap)
	}
	if lost > 0 && missing == 0 {
		t.Errorf("connections whose first segment was lost must show in missing_bytes")
	}
	if len(problems) > 0 {
		t.Errorf("%d malformed requests, first: %v", len(problems), problems[0].Text)
	}
}
