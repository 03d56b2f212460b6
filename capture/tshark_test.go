package capture

import (
	"fmt"

	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/keys"
)

// tsharkRequests lists the HTTP requests tshark dissects in a capture,
// grouped by connection (client > server) in stream order. A frame that
// holds several pipelined requests gives one row whose fields hold every
// occurrence joined by the aggregator.
func tsharkRequests(t *testing.T, path string, ports []uint16) map[string][]string {
	t.Helper()
	const agg = "\x1e"
	// Out-of-order segments are reassembled (off by default in tshark 4.0),
	// as the recordings of lossy networks need.
	// Teredo between clients runs on any UDP port: tshark's heuristic
	// for it is off by default, ours is always on (encap.go).
	args := []string{"-r", path, "-o", "tcp.reassemble_out_of_order:TRUE", "--enable-heuristic", "teredo_udp",
		"-Y", "http.request", "-T", "fields", "-E", "aggregator=" + agg}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,http", p))
	}
	// The Source and Destination columns show the innermost addresses,
	// those of the HTTP connection inside a tunnel.
	for _, f := range []string{"tcp.stream", "_ws.col.Source", "tcp.srcport", "_ws.col.Destination", "tcp.dstport",
		"http.request.method", "http.host", "http.request.uri"} {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		// A cut file makes tshark exit 2 after printing what it read.
		t.Fatalf("tshark %s: %v", path, err)
	}
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			t.Fatalf("tshark row %q", line)
		}
		src, dst := f[1], f[3]
		if strings.Contains(src, ":") {
			src, dst = "["+src+"]", "["+dst+"]"
		}
		conn := src + ":" + f[2] + " > " + dst + ":" + f[4]
		methods, uris := strings.Split(f[5], agg), strings.Split(f[7], agg)
		// http.host has no occurrence for a request without Host, so hosts
		// line up with methods only when every request has one; a lone
		// request with two Host headers keeps the first, as we do.
		hosts := strings.Split(f[6], agg)
		if len(methods) == 1 && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		if len(hosts) != len(methods) {
			if len(methods) != 1 && f[6] != "" {
				t.Fatalf("cannot pair hosts with requests in %q", line)
			}
			hosts = make([]string, len(methods))
		}
		for i := range methods {
			got[conn] = append(got[conn], methods[i]+" "+hosts[i]+" "+uris[i])
		}
	}
	return got
}

// tsharkPorts are every recording's server ports.
var tsharkPorts = append(slices.Clone(recPorts), hardPorts...)

// tsharkDiffers lists recordings on which tshark is known to read less
// than the capture holds, with why; they are compared one way only (every
// request tshark reads, we read too).
var tsharkDiffers = map[string]string{
	// A segment never captured: tshark's reassembly waits for it and
	// reads nothing more of that connection; we skip the gap once the
	// server acknowledges past it and read on.
	"tcp_gap_lo.pcap": "a segment was never captured",
}

// TestAgainstTshark replays every recording (testdata/rec and
// testdata/capture) and compares the requests with tshark's HTTP
// dissector: the same (method, host, target) multiset, and the same
// order within each connection.
func TestAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("SKIPPING THE TSHARK CROSS-CHECK: tshark is not installed (Debian: apt-get install tshark)")
	}
	files := append(recordings(t), captureFiles(t)...)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel() // tshark takes a second or two to start
			want := tsharkRequests(t, path, tsharkPorts)
			redactAll(want)
			kx := keys.NewExtractor(keys.DefaultConfig())
			r := readPath(t, path, Options{Ports: tsharkPorts, Keys: kx})
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := map[string][]string{}
			for _, q := range r.reqs {
				conn := q.Client.String() + " > " + q.Server.String()
				got[conn] = append(got[conn], q.Method+" "+q.Host+" "+q.Target)
			}
			var all, wantAll []string
			why, oneWay := tsharkDiffers[filepath.Base(path)]
			for c, rs := range got {
				all = append(all, rs...)
				w := want[c]
				if oneWay && subsequence(w, rs) {
					continue // tshark misses some requests; the rest agree, in order
				}
				if !slices.Equal(rs, w) {
					t.Errorf("connection %s:\n ours   %q\n tshark %q", c, rs, w)
				}
			}
			for c, rs := range want {
				wantAll = append(wantAll, rs...)
				if _, ok := got[c]; !ok {
					t.Errorf("connection %s: tshark has %q, we have nothing", c, rs)
				}
			}
			slices.Sort(all)
			slices.Sort(wantAll)
			if !slices.Equal(all, wantAll) && !oneWay {
				t.Errorf("%d requests, tshark %d", len(all), len(wantAll))
			}
			if oneWay {
				t.Logf("tshark reads %d of our %d requests (%s)", len(wantAll), len(all), why)
			}
			t.Logf("%d requests on %d connections, as tshark", len(all), len(got))
			if len(all) == 0 {
				t.Error("no requests at all")
			}
		})
	}
}

// redactAll redacts key query values in tshark's targets as we do.
func redactAll(m map[string][]string) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	var buf []byte
	for c, rs := range m {
		for i, r := range rs {
			method, rest, _ := strings.Cut(r, " ")
			host, target, _ := strings.Cut(rest, " ")
			if red, ok := kx.AppendRedacted(buf[:0], []byte(target)); ok {
				rs[i] = method + " " + host + " " + string(red)
			}
		}
		m[c] = rs
	}
}

// subsequence says whether a's elements appear in b in order.
func subsequence(a, b []string) bool {
	for _, x := range b {
		if len(a) > 0 && a[0] == x {
			a = a[1:]
		}
	}
	return len(a) == 0
}
