package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// recDir holds the shared recordings made by testdata/record.sh;
// CAPTURE_REC_DIR points the tests elsewhere.
var recDir = "../testdata/rec"

func init() {
	if d := os.Getenv("CAPTURE_REC_DIR"); d != "" {
		recDir = d
	}
}

// recPorts are the server ports the recordings use, with the default
// [capture] ports.
var recPorts = []uint16{80, 8080, 8000, 5000}

// recordings lists every capture in recDir.
func recordings(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(recDir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no recordings in " + recDir + " (testdata/record.sh makes them)")
	}
	return files
}

// summaryNoTime is a request without its time, for comparing captures of
// the same traffic.
func summaryNoTime(r detect.Request) string {
	return fmt.Sprintf("%s>%s %s %q %q %s %q %q %q %s %d %v %v", r.Client, r.Server, r.Method, r.Host, r.Target, r.Proto,
		r.Origin, r.Referer, r.UserAgent, r.Key, r.Status, r.HasHost, r.DupHost)
}

// TestRecordings checks the recordings against what record.sh sent
// (testdata/rec/README.md).
func TestRecordings(t *testing.T) {
	files := recordings(t)
	raw, err := os.ReadFile(filepath.Join(recDir, "keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rawKeys := strings.Fields(string(raw))
	kx := keys.NewExtractor(keys.DefaultConfig())
	got := map[string][]string{}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			r := readPath(t, path, Options{Ports: []uint16{8080}, Keys: kx})
			if r.err != nil {
				t.Fatal(r.err)
			}
			truncated := strings.Contains(name, "truncated")
			wantCounters := map[string]uint64{}
			if truncated {
				wantCounters["truncated_file"] = 1
			}
			if fmt.Sprint(r.counters) != fmt.Sprint(wantCounters) || r.parse != 0 {
				t.Errorf("counters %v, parse errors %d, problems %v", r.counters, r.parse, r.problems)
			}
			unanswered := 0
			for i, q := range r.reqs {
				checkRequest(t, q)
				if i > 0 && q.Time.Before(r.reqs[i-1].Time) {
					t.Errorf("request %d out of time order", i)
				}
				if q.Status == 0 {
					unanswered++
				}
				for _, s := range []string{q.Target, q.Referer, q.Host, q.Origin, q.UserAgent} {
					for _, k := range rawKeys {
						if strings.Contains(s, k) {
							t.Fatalf("raw key in a request field: %q", sanitize.String(strings.ReplaceAll(s, k, "<KEY>")))
						}
					}
				}
				got[name] = append(got[name], summaryNoTime(q))
			}
			// A cut file leaves at most the request in flight unanswered.
			if unanswered > 0 && !(truncated && unanswered == 1) {
				t.Errorf("%d requests without a status", unanswered)
			}
		})
	}
	same := func(a, b string) {
		if got[a] != nil && got[b] != nil && !slices.Equal(got[a], got[b]) {
			t.Errorf("%s and %s differ:\n%q\n%q", a, b, got[a], got[b])
		}
	}
	// The same traffic captured at once by tcpdump and dumpcap, and the
	// short run captured three ways.
	same("scenarios.pcap", "scenarios.pcapng")
	same("scenarios_truncated.pcap", "scenarios_truncated.pcapng")
	same("short_any_sll.pcap", "short_any_sll2.pcap")
	same("short_any_sll.pcap", "short_lo_nano.pcap")
}

// TestScenarios checks the attack scenarios' requests (README's table).
func TestScenarios(t *testing.T) {
	path := filepath.Join(recDir, "scenarios.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no scenarios.pcap in " + recDir)
	}
	r := readPath(t, path, Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig())})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.reqs) != 197 {
		t.Fatalf("%d requests, want 197", len(r.reqs))
	}
	perKey := map[string]int{}
	clients := map[string]map[string]bool{}
	var noHost []string
	hosts := map[string]bool{}
	origins := map[string]bool{}
	for _, q := range r.reqs {
		perKey[q.Key]++
		if clients[q.Key] == nil {
			clients[q.Key] = map[string]bool{}
		}
		clients[q.Key][q.Client.Addr().String()] = true
		if !q.HasHost {
			noHost = append(noHost, fmt.Sprintf("%s %d", q.Proto, q.Status))
		}
		hosts[q.Host] = true
		if q.HasOrigin {
			origins[q.Origin] = true
		}
	}
	if perKey["620f4e20a792"] != 150 {
		t.Errorf("burst key: %d requests, want 150", perKey["620f4e20a792"])
	}
	if perKey["faf82335f995"] != 8 {
		t.Errorf("spread host key: %d requests, want 8", perKey["faf82335f995"])
	}
	if n := len(clients["8851f775aa4b"]); n != 25 {
		t.Errorf("spread client key: %d clients, want 25", n)
	}
	slices.Sort(noHost)
	if want := []string{"HTTP/1.0 200", "HTTP/1.1 400"}; !slices.Equal(noHost, want) {
		t.Errorf("requests without Host: %q, want %q", noHost, want)
	}
	for _, h := range []string{"evil.rebind.test:8080", "EVIL.Rebind.Test.:8080", "localhost", "127.0.0.1:8080"} {
		if !hosts[h] {
			t.Errorf("Host %q not seen", h)
		}
	}
	for _, o := range []string{"http://evil.rebind.test", "null", "https://app.rebind.test"} {
		if !origins[o] {
			t.Errorf("Origin %q not seen", o)
		}
	}
}
