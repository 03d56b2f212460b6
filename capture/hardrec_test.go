package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// hardDir holds the recordings of testdata/capture/record.sh: captures
// as responders get them (formats, link types, tunnels) and real TCP
// trouble (loss, reordering, retransmission, a capture started late).
var hardDir = "../testdata/capture"

func init() {
	if d := os.Getenv("CAPTURE_HARD_DIR"); d != "" {
		hardDir = d
	}
}

// captureFiles lists every capture in hardDir (none is not an error:
// callers that need them skip).
func captureFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, _ := filepath.Glob(filepath.Join(hardDir, pat))
		files = append(files, m...)
	}
	return files
}

// manifestLine is one request the recording clients sent.
type manifestLine struct{ conn, method, host, target string }

// readManifest reads a tools/client.py manifest.
func readManifest(t *testing.T, name string) []manifestLine {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(hardDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []manifestLine
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			t.Fatalf("%s: bad line %q", name, l)
		}
		out = append(out, manifestLine{f[0], f[1], f[2], f[3]})
	}
	return out
}

// hardSpec says what a recording in testdata/capture must give.
type hardSpec struct {
	file     string
	manifest string
	conns    string   // manifest connections the capture holds, by name prefix ("" = all)
	lost     []string // targets of requests the capture lost on purpose
	subset   bool     // the capture starts late: not every request is in it
	counters map[string]uint64
	atLeast  map[string]uint64 // counters that must reach a value
}

var fmtCounters = map[string]uint64{"absolute_form": 2, "absolute_form_host_mismatch": 2, "tunnels": 2}

var hardSpecs = []hardSpec{
	{file: "fmt_lo.pcap", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_lo_nano.pcap", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_lo.pcap.gz", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_lo.pcapng.gz", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_any_sll2.pcap", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_multi.pcapng", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_rawip.pcap", manifest: "fmt_manifest.tsv", counters: fmtCounters},
	{file: "fmt_rawip6.pcap", manifest: "fmt_manifest.tsv", conns: "v6-",
		counters: map[string]uint64{"absolute_form": 1, "absolute_form_host_mismatch": 1, "tunnels": 1}},
	// The segment holding a whole request was never captured: the
	// requests around it are read, its response answers nothing.
	{file: "tcp_gap_lo.pcap", manifest: "fmt_manifest.tsv", lost: []string{"v4-main /size/5000"},
		counters: map[string]uint64{"absolute_form": 2, "absolute_form_host_mismatch": 2, "tunnels": 2,
			"gaps": 1, "missing_bytes": 111, "unmatched_responses": 1}},
	// Real loss and reordering: every request, and no retransmission
	// mistaken for different data.
	{file: "tcp_lossy_server.pcap", manifest: "tcp_lossy_manifest.tsv", counters: map[string]uint64{}},
	{file: "tcp_lossy_client.pcap", manifest: "tcp_lossy_manifest.tsv", counters: map[string]uint64{}},
	{file: "tcp_midstream.pcap", manifest: "tcp_lossy_manifest.tsv", subset: true,
		counters: map[string]uint64{"midstream_streams": 3}},
	{file: "fmt_qinq.pcap", manifest: "tun_manifest.tsv", counters: map[string]uint64{}},
	{file: "tun_gre.pcap", manifest: "tun_manifest.tsv", counters: map[string]uint64{}},
	{file: "tun_ipip.pcap", manifest: "tun_manifest.tsv", counters: map[string]uint64{}},
	{file: "tun_vxlan.pcap", manifest: "tun_vxlan_manifest.tsv", counters: map[string]uint64{}},
	// record_encap.sh: link types, encapsulations, fragments.
	{file: "enc_nflog.pcap", manifest: "enc_nflog_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_vxlan_gpe.pcap", manifest: "enc_vxlan_gpe_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_geneve.pcap", manifest: "enc_geneve_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_gre_ovs.pcap", manifest: "enc_gre_ovs_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_erspan2.pcap", manifest: "enc_erspan2_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_erspan3.pcap", manifest: "enc_erspan3_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_mpls.pcap", manifest: "enc_mpls_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_mpls_vlan.pcap", manifest: "enc_mpls_vlan_manifest.tsv", counters: map[string]uint64{}},
	{file: "enc_teredo.pcap", manifest: "enc_teredo_manifest.tsv", counters: map[string]uint64{}},
	// Fragments from a real router and a real tunnel endpoint: every
	// datagram whole again, the two DNS answers (A over IPv4, AAAA over
	// IPv6, fragmented by the server) read.
	{file: "frag_router.pcap", manifest: "frag_router_manifest.tsv",
		counters: map[string]uint64{"dns_responses": 2, "ip_fragments": 39, "ip_reassembled": 14}},
	{file: "frag_vxlan.pcap", manifest: "frag_vxlan_manifest.tsv",
		counters: map[string]uint64{"ip_fragments": 28, "ip_reassembled": 14}},
}

// hardPorts are the server ports record.sh uses.
var hardPorts = []uint16{18651, 18652, 18660, 18661, 18662, 18670, 18671, 18672, 18673, 18674}

// TestHardRecordings replays each recording of testdata/capture and
// checks the requests against what the clients sent, and the counters.
func TestHardRecordings(t *testing.T) {
	if len(captureFiles(t)) == 0 {
		t.Skip("no recordings in " + hardDir + " (testdata/capture/record.sh makes them)")
	}
	kx := keys.NewExtractor(keys.DefaultConfig())
	seen := map[string]bool{}
	for _, sp := range hardSpecs {
		seen[sp.file] = true
		t.Run(sp.file, func(t *testing.T) {
			r := readPath(t, filepath.Join(hardDir, sp.file), Options{Ports: hardPorts, Keys: kx})
			if r.err != nil {
				t.Fatal(r.err)
			}
			want := map[string]int{}
			lost := map[string]bool{}
			for _, l := range sp.lost {
				lost[l] = true
			}
			for _, m := range readManifest(t, sp.manifest) {
				if !strings.HasPrefix(m.conn, sp.conns) || lost[m.conn+" "+m.target] {
					continue
				}
				target := m.target
				if red, ok := kx.AppendRedacted(nil, []byte(target)); ok {
					target = string(red)
				}
				want[m.method+" "+m.host+" "+target]++
			}
			got := map[string]int{}
			for _, q := range r.reqs {
				checkRequest(t, q)
				for _, f := range []string{q.Target, q.Host, q.Origin, q.Referer, q.UserAgent, q.URIHost, q.Key} {
					if strings.Contains(f, "rec-key-") {
						t.Fatalf("a raw key in a request field of %s %s", q.Method, sanitize.String(q.Target[:min(len(q.Target), 20)]))
					}
				}
				got[q.Method+" "+q.Host+" "+q.Target]++
				if q.Status == 0 && !strings.Contains(q.Target, "/upgrade") {
					t.Errorf("no status for %s %s", q.Method, q.Target)
				}
			}
			for k, n := range got {
				if want[k] < n {
					t.Errorf("read %d x %q, sent %d", n, k, want[k])
				}
			}
			if !sp.subset {
				for k, n := range want {
					if got[k] != n {
						t.Errorf("sent %d x %q, read %d", n, k, got[k])
					}
				}
			}
			if r.parse != 0 {
				t.Errorf("%d parse errors: %v", r.parse, r.problems)
			}
			for k, v := range r.counters {
				if w, ok := sp.counters[k]; ok && w != v || !ok && sp.atLeast[k] == 0 {
					t.Errorf("counter %s = %d, want %d (all: %v)", k, v, sp.counters[k], r.counters)
				}
			}
			for k, v := range sp.counters {
				if r.counters[k] != v {
					t.Errorf("counter %s = %d, want %d (all: %v)", k, r.counters[k], v, r.counters)
				}
			}
			for k, v := range sp.atLeast {
				if r.counters[k] < v {
					t.Errorf("counter %s = %d, want at least %d", k, r.counters[k], v)
				}
			}
			// any_port: the same requests without being told the ports.
			ra := readPath(t, filepath.Join(hardDir, sp.file), Options{AnyPort: true, Keys: kx})
			anyGot := map[string]int{}
			for _, q := range ra.reqs {
				anyGot[q.Client.String()+" "+q.Method+" "+q.Host+" "+q.Target]++
			}
			for _, q := range r.reqs {
				k := q.Client.String() + " " + q.Method + " " + q.Host + " " + q.Target
				if anyGot[k] == 0 {
					t.Errorf("with any_port, %q is missing", k)
				}
				anyGot[k]--
			}
			t.Logf("%d requests, counters %v", len(r.reqs), r.counters)
		})
	}
	for _, f := range captureFiles(t) {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no expectations in hardSpecs", filepath.Base(f))
		}
	}
}
