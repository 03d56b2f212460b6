package capture

import (
	"fmt"

	"github.com/rebindwatch/rebindwatch/detect"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tsharkRequests lists the HTTP requests tshark dissects in a capture,
// grouped by connection (client > server) in stream order. A frame that
// holds several pipelined requests gives one row whose fields hold every
// occurrence joined by the aggregator.
func tsharkRequests(t *testing.T, path string, ports []uint16) map[string][]string {
	t.Helper()
	const agg = "\x1e"
	args := []string{"-r", path, "-Y", "http.request", "-T", "fields", "-E", "aggregator=" + agg}
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,http", p))
	}
	for _, f := range []string{"tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
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
		if len(f) != 10 {
			t.Fatalf("tshark row %q", line)
		}
		src, dst := f[1]+f[2], f[4]+f[5]
		if f[2] != "" {
			src, dst = "["+src+"]", "["+dst+"]"
		}
		conn := src + ":" + f[3] + " > " + dst + ":" + f[6]
		methods, uris := strings.Split(f[7], agg), strings.Split(f[9], agg)
		// http.host has no occurrence for a request without Host, so hosts
		// line up with methods only when every request has one.
		hosts := strings.Split(f[8], agg)
		if len(hosts) != len(methods) {
			if len(methods) != 1 && f[8] != "" {
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

// TestAgainstTshark replays every recording and compares the requests
// with tshark's HTTP dissector: the same (method, host, target) multiset,
// and the same order within each connection.
func TestAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("SKIPPING THE TSHARK CROSS-CHECK: tshark is not installed (Debian: apt-get install tshark)")
	}
	files := recordings(t)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := tsharkRequests(t, path, recPorts)
			redactAll(want)
			keys := detect.NewKeyExtractor(detect.DefaultKeyConfig())
			r := readPath(t, path, Options{Ports: recPorts, Keys: keys})
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := map[string][]string{}
			for _, q := range r.reqs {
				conn := q.Client.String() + " > " + q.Server.String()
				got[conn] = append(got[conn], q.Method+" "+q.Host+" "+q.Target)
			}
			var all, wantAll []string
			for c, rs := range got {
				all = append(all, rs...)
				if w := want[c]; !slices.Equal(rs, w) {
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
			if !slices.Equal(all, wantAll) {
				t.Errorf("%d requests, tshark %d", len(all), len(wantAll))
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
	keys := detect.NewKeyExtractor(detect.DefaultKeyConfig())
	var buf []byte
	for c, rs := range m {
		for i, r := range rs {
			method, rest, _ := strings.Cut(r, " ")
			host, target, _ := strings.Cut(rest, " ")
			if red, ok := redactQuery(keys, []byte(target), &buf, new([]byte)); ok {
				rs[i] = method + " " + host + " " + string(red)
			}
		}
		m[c] = rs
	}
}
