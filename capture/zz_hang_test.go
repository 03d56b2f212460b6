package capture

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
)

func TestZZHang(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").
		resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").close()
	seeds := [][]byte{}
	for _, f := range []string{"normal.pcap", "short_any_sll.pcap", "short_any_sll2.pcap", "short_lo_nano.pcap"} {
		b, _ := os.ReadFile(recDir + "/" + f)
		seeds = append(seeds, b)
	}
	for _, ls := range []linkSpec{{link: layers.LinkTypeEthernet, vlan: 2}, {link: layers.LinkTypeNull}, {link: layers.LinkTypeLinuxSLL2}} {
		seeds = append(seeds, writePcap(t, c.pkts, ls, pcapOpts{}))
	}
	opts := Options{Ports: []uint16{80}, Keys: detect.NewKeyExtractor(detect.DefaultKeyConfig()), MaxStreams: 16}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5000; i++ {
		data := append([]byte(nil), seeds[rng.Intn(len(seeds))]...)
		for k := rng.Intn(8) + 1; k > 0; k-- {
			switch rng.Intn(4) {
			case 0, 1:
				data[rng.Intn(len(data))] = byte(rng.Intn(256))
			case 2:
				i := rng.Intn(len(data))
				j := min(len(data), i+rng.Intn(64))
				data = append(data[:i], data[j:]...)
			case 3:
				i := rng.Intn(len(data))
				ins := make([]byte, rng.Intn(16))
				rng.Read(ins)
				data = append(data[:i], append(ins, data[i:]...)...)
			}
			if len(data) < 30 { break }
		}
		done := make(chan struct{})
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				os.WriteFile("/tmp/capdev/hang.bin", data, 0o644)
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				os.WriteFile("/tmp/capdev/hang.txt", buf[:n], 0o644)
				os.Exit(3)
			}
		}()
		out := make(chan detect.Batch, 1024)
		go func() { for range out {} }()
		readCapture(context.Background(), bytes.NewReader(data), "fuzz", int64(len(data)), opts, out)
		close(out)
		close(done)
	}
}
