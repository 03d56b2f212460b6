package suggest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
)

const recDir = "../testdata/rec"

// The recordings are committed (testdata/record.sh makes them): a missing
// one is a failure, not a reason to skip.

func pcapBatches(t testing.TB, name string) []detect.Batch {
	t.Helper()
	path := filepath.Join(recDir, name)
	return testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, path, capture.Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig())}, out)
	})
}

func extLogBatches(t testing.TB, name string) []detect.Batch {
	t.Helper()
	path := filepath.Join(recDir, name)
	fmtBytes, err := os.ReadFile(filepath.Join(recDir, "ext.fmt"))
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return logsrc.Run(ctx, path, logsrc.Options{Format: "nginx:" + string(fmtBytes), Keys: keys.NewExtractor(keys.DefaultConfig()), Location: time.UTC}, out)
	})
}

// suggestFrom feeds batches to a Collector and parses its suggestion.
func suggestFrom(t testing.TB, batches []detect.Batch, source string) (string, config.Config) {
	t.Helper()
	c := New(Options{})
	n := 0
	for _, b := range batches {
		for i := range b.Requests {
			r := b.Requests[i] // the engine redacts in place; keep batches reusable
			if err := c.Request(&r); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("the source sent no request")
	}
	out := c.Config(source)
	cfg, err := config.Parse("suggested.toml", []byte(out))
	if err != nil {
		t.Fatalf("suggestion does not parse: %v\n%s", err, out)
	}
	return out, cfg
}

// alertSink collects alerts.
type alertSink struct{ alerts []detect.Alert }

func (s *alertSink) Request(*detect.Request) error { return nil }
func (s *alertSink) Alert(a *detect.Alert) error   { s.alerts = append(s.alerts, *a); return nil }

// runEngine replays batches through an engine with cfg and returns its alerts.
func runEngine(t testing.TB, cfg config.Config, batches []detect.Batch) []detect.Alert {
	t.Helper()
	dc, err := cfg.Detect()
	if err != nil {
		t.Fatal(err)
	}
	sink := &alertSink{}
	e, err := detect.NewEngine(dc, sink)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		b.Requests = slices.Clone(b.Requests)
		if err := e.Observe(&b); err != nil {
			t.Fatal(err)
		}
	}
	return sink.alerts
}

// TestRecordedNormal: the suggestion from the recorded normal traffic
// proposes the service's names and raises nothing on that same traffic.
func TestRecordedNormal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batches func(testing.TB) []detect.Batch
	}{
		{"normal.pcap", func(t testing.TB) []detect.Batch { return pcapBatches(t, "normal.pcap") }},
		{"normal_access_ext.log", func(t testing.TB) []detect.Batch { return extLogBatches(t, "normal_access_ext.log") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batches := tc.batches(t)
			out, cfg := suggestFrom(t, batches, tc.name)
			if testing.Verbose() {
				t.Log("\n" + out)
			}
			if !slices.Contains(cfg.Hosts.Allowed, "api.rebind.test") {
				t.Errorf("hosts allowed %q, want api.rebind.test\n%s", cfg.Hosts.Allowed, out)
			}
			if !slices.Contains(cfg.Origins.Allowed, "https://app.rebind.test") {
				t.Errorf("origins allowed %q, want https://app.rebind.test\n%s", cfg.Origins.Allowed, out)
			}
			if alerts := runEngine(t, cfg, batches); len(alerts) > 0 {
				for _, a := range alerts {
					t.Errorf("alert on normal traffic: %s %s: %s", a.Detector, a.Subject, a.Message)
				}
				t.Log(out)
			}
			assertNoKeys(t, out)
		})
	}
}

// TestRecordedScenarios: from the attack recording, the attackers' names,
// null and the IP literal are not proposed, and the burst and spread keys
// show in the thresholds.
func TestRecordedScenarios(t *testing.T) {
	batches := pcapBatches(t, "scenarios.pcap")
	out, cfg := suggestFrom(t, batches, "scenarios.pcap")
	if testing.Verbose() {
		t.Log("\n" + out)
	}
	for _, bad := range []string{"evil.rebind.test", "127.0.0.1", "localhost"} {
		if slices.Contains(cfg.Hosts.Allowed, bad) {
			t.Errorf("proposed host %s\n%s", bad, out)
		}
	}
	for _, bad := range []string{"http://evil.rebind.test", "http://evil.rebind.test:8080", "null"} {
		if slices.Contains(cfg.Origins.Allowed, bad) {
			t.Errorf("proposed origin %s\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `# "evil.rebind.test", #`) {
		t.Errorf("evil.rebind.test not listed as seen\n%s", out)
	}
	// The recording's burst (150 requests on one key within 10 s) and
	// spread (one key from 25 clients, one under 4 Hosts) are the
	// observed maxima: the thresholds sit above them, so the suggestion
	// does not flag this traffic, and the comments say what was seen.
	if cfg.Burst.MaxRequests <= 150 || cfg.Spread.MaxClients <= 25 || cfg.Spread.MaxHosts <= 4 {
		t.Errorf("thresholds burst %d, clients %d, hosts %d: not above the recorded burst (150), spread clients (25) and hosts (4)\n%s",
			cfg.Burst.MaxRequests, cfg.Spread.MaxClients, cfg.Spread.MaxHosts, out)
	}
	for _, seen := range []string{"max 150", "max 25", "max 4"} {
		if !strings.Contains(out, seen) {
			t.Errorf("the comments do not give the observed %q\n%s", seen, out)
		}
	}
	assertNoKeys(t, out)
}

// assertNoKeys checks that no raw key from keys.txt, nor an 8-character
// window of one (the log suffixes), appears in out.
func assertNoKeys(t testing.TB, out string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(recDir, "keys.txt"))
	if err != nil {
		t.Fatal(err) // without the keys this check would pass on anything
	}
	ks := strings.Fields(string(raw))
	if len(ks) == 0 {
		t.Fatal("no keys in keys.txt")
	}
	for _, k := range ks {
		for i := 0; i+8 <= len(k); i++ {
			if w := k[i : i+8]; w != "sk_live_" && strings.Contains(out, w) {
				t.Errorf("output holds a piece of a raw key: %q", w)
			}
		}
	}
}
