package e2e

// No raw key, or 8-character piece of one, in any output. runBin checks
// every run's stdout and stderr (noKeys); the tests here feed the
// recordings made to carry keys through every other output too.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/internal/testkit/dashkit"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/ui"
)

// TestHostileSecretsNeverLeak runs the secrets recordings (known fake keys
// in X-API-Key, Authorization Bearer/Token/ApiKey/Basic user:pass, query
// parameters, a percent-encoded parameter name, cookies, a Referer query
// and an OAuth fragment; nginx logs in combined and in a format that logs
// whole Authorization, X-API-Key and Cookie values) through every output:
// JSON lines on stdout and with -o, stderr (including quoted lines that did
// not parse and a format that could not be detected), the webhook, the
// metrics endpoint, the dashboard's frames and the ui golden files. No
// output may hold any 8-character piece of any key (runBin checks stdout
// and stderr; the subtests the rest).
func TestHostileSecretsNeverLeak(t *testing.T) {
	sfmt := "nginx:" + readFile(t, hostile+"secrets.fmt")
	cfg := []string{"--no-tui", "-c", hostile + "rebindwatch.toml", "--emit", "alert,request,summary,dns"}
	dir := t.TempDir()
	// A log in a format nobody can detect, whose first line carries keys:
	// the error that says so quotes the line.
	unknown := filepath.Join(dir, "unknown.log")
	var ub strings.Builder
	for _, l := range strings.Split(readFile(t, hostile+"secrets_access_secrets.log"), "\n")[:3] {
		i := strings.Index(l, " auth=")
		ub.WriteString(strings.TrimSpace(l[i:]) + " | " + l[:i] + "\n")
	}
	writeFile(t, unknown, ub.String(), 0o644)
	outFile := filepath.Join(dir, "out.jsonl")
	reportFile := filepath.Join(dir, "report.html")

	var mu sync.Mutex
	var hooks []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer srv.Close()

	runs := []struct {
		name string
		args []string
		code int
		want string // something the run must show, so it is known to have worked
	}{
		{"pcap", append(cfg, "-r", hostile+"secrets.pcap"), 0, `"key_spread"`},
		{"pcap_to_file", append(cfg, "-r", hostile+"secrets.pcap", "-o", outFile), 0, ""},
		{"pcap_webhook", append(cfg, "-r", hostile+"secrets.pcap", "--webhook", srv.URL), 0, `"alert"`},
		// The incident report, of every key's way in and the error log
		// that quotes one (its problems are in the report).
		{"report", append(cfg, "--no-follow", "--log-format", sfmt, hostile+"secrets_access_secrets.log", hostile+"secrets_error.log",
			"--report", reportFile), 0, "report written to"},
		{"combined_log", append(cfg, "--no-follow", hostile+"secrets_access_combined.log"), 0, `"foreign_origin"`},
		{"secrets_log", append(cfg, "--no-follow", "--log-format", sfmt, hostile+"secrets_access_secrets.log"), 0, `"key_spread"`},
		{"secrets_log_cut", append(cfg, "--no-follow", "--log-format", sfmt, hostile+"secrets_access_secrets_cut.log"), 0, "line ends before"},
		{"secrets_log_wrong_format", append(cfg, "--no-follow", "--log-format", "nginx:"+extFormat(t), hostile+"secrets_access_secrets.log"), 0, "further unparsed input"},
		{"secrets_log_auto", append(cfg, "--no-follow", hostile+"secrets_access_secrets.log"), 2, "no known format"},
		{"unknown_format", append(cfg, "--no-follow", unknown), 2, "no known format"},
		// /var/log/nginx/*.log takes error.log along: its lines quote a
		// header nginx refused, key included.
		{"access_and_error_logs", append(cfg, "--no-follow", "--log-format", sfmt, hostile+"secrets_access_secrets.log", hostile+"secrets_error.log"), 0, "secrets_error.log:1"},
		{"error_log_auto", append(cfg, "--no-follow", hostile+"secrets_error.log"), 2, "no known format"},
		{"suggest_pcap", []string{"--suggest-config", "-c", hostile + "rebindwatch.toml", "-r", hostile + "secrets.pcap"}, 0, "[hosts]"},
		{"suggest_secrets_log", []string{"--suggest-config", "-c", hostile + "rebindwatch.toml", "--no-follow", "--log-format", sfmt, hostile + "secrets_access_secrets.log", hostile + "secrets_error.log"}, 0, "[hosts]"},
	}
	for _, rc := range runs {
		t.Run(rc.name, func(t *testing.T) {
			r := runBin(t, rc.args...) // checks stdout and stderr for keys
			if r.code != rc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, rc.code, r.stderr)
			}
			out := r.stdout + "\n" + r.stderr
			if rc.want != "" && !strings.Contains(out, rc.want) {
				t.Errorf("output lacks %q: the run did not do what this test relies on\n%s", rc.want, out)
			}
		})
	}
	t.Run("output_file", func(t *testing.T) {
		b, err := os.ReadFile(outFile)
		if err != nil || len(b) == 0 {
			t.Fatalf("-o file: %v (%d bytes)", err, len(b))
		}
		noKeys(t, "-o file", string(b))
	})
	t.Run("report_file", func(t *testing.T) {
		b, err := os.ReadFile(reportFile)
		if err != nil || !strings.Contains(string(b), "secrets_error.log:1") {
			t.Fatalf("report: %v, or it does not show the error log's line (%d bytes)", err, len(b))
		}
		noKeys(t, "report", string(b))
	})
	t.Run("webhook", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if len(hooks) == 0 {
			t.Fatal("the webhook got nothing")
		}
		noKeys(t, "webhook", strings.Join(hooks, "\n"))
	})
	t.Run("metrics", func(t *testing.T) {
		follow := []string{"--no-tui", "-c", hostile + "rebindwatch.toml", "--log-format", sfmt, hostile + "secrets_access_secrets.log"}
		noKeys(t, "metrics", scrapeMetrics(t, follow))
	})
	t.Run("dashboard", func(t *testing.T) {
		noKeys(t, "dashboard", secretFrames(t))
	})
	t.Run("ui_golden_files", func(t *testing.T) {
		files, err := filepath.Glob("../ui/testdata/*.golden")
		if err != nil || len(files) == 0 {
			// The ui tests keep their goldens there; none means the
			// path moved and this check would pass on nothing.
			t.Fatalf("no golden files under ../ui/testdata (%v)", err)
		}
		for _, f := range files {
			noKeys(t, f, readFile(t, f))
		}
	})
}

// scrapeMetrics runs the binary following a log with --metrics on a free
// loopback port, scrapes /metrics once the log is read, and stops it.
func scrapeMetrics(t *testing.T, args []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append(args, "--metrics", addr)...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(t, cmd); err != nil {
			t.Errorf("after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
		noKeys(t, "stdout", stdout.String())
		noKeys(t, "stderr", stderr.String())
	}()
	// Scrape until the requests read show: an empty registry would hold
	// no source label, the one place the log's name appears.
	var body string
	waitUntil(t, cmd, "a scrape counting the log's requests", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return strings.Contains(body, "rebindwatch_requests_total") && !strings.Contains(body, "rebindwatch_requests_total 0")
	})
	return body + "\n" + stderr.String()
}

// secretLog is a log fed to the dashboard's engine, in a format.
type secretLog struct{ path, spec string }

// secretFrames feeds the secrets recordings into an engine through the
// real sources and returns every frame of a dashboard over it: each pane,
// each row's detail, at 80x24 and 140x40.
func secretFrames(t *testing.T) string {
	t.Helper()
	sfmt := "nginx:" + readFile(t, hostile+"secrets.fmt")
	return recordingFrames(t, []secretLog{
		{hostile + "secrets_access_combined.log", "auto"},
		{hostile + "secrets_access_secrets.log", sfmt},
		{hostile + "secrets_access_secrets_cut.log", sfmt},
		{hostile + "secrets_access_secrets.log", "nginx:" + extFormat(t)}, // parse errors: Problems on screen
		{hostile + "secrets_error.log", sfmt},
	}, hostile+"secrets.pcap", func(s detect.Snapshot) bool {
		return len(s.Alerts) >= 4 && len(s.Keys) >= 8 && len(s.Problems) > 0
	})
}

// recordingFrames feeds logs and a capture of testdata/hostile (its
// config's allowlist, port 18391) into an engine through the real sources
// and returns every frame of a dashboard over it: each pane, each row's
// detail, at 80x24 and 140x40. enough says whether the snapshot holds what
// the caller relies on (alerts, keys, problems), so the frames are known
// to show something.
func recordingFrames(t *testing.T, logs []secretLog, pcap string, enough func(detect.Snapshot) bool) string {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.rebind.test", "*.api.rebind.test"}
	cfg.AllowedOrigins = []string{"https://app.rebind.test"}
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kx := keys.NewExtractor(keys.DefaultConfig())
	for _, l := range logs {
		testkit.Feed(t, e, l.path, func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, l.path, logsrc.Options{Format: l.spec, Keys: kx.Clone()}, out)
		})
	}
	testkit.Feed(t, e, pcap, func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, pcap, capture.Options{Ports: []uint16{18391}, Keys: kx.Clone()}, out)
	})
	if s := e.Snapshot(); !enough(s) {
		t.Fatalf("the recordings gave %d alerts, %d keys, %d problems: too few", len(s.Alerts), len(s.Keys), len(s.Problems))
	}
	var frames strings.Builder
	// Everything the dashboard can show, whether or not this walk shows
	// it whole (the header cuts a Problem to the width).
	fmt.Fprintf(&frames, "%+v\n", e.Snapshot())
	press := func(m ui.Model, k string) ui.Model {
		t.Helper()
		m, quit := dashkit.Press(t, m, k)
		if quit {
			t.Fatalf("%q quit the dashboard", k)
		}
		return m
	}
	for _, sz := range [][2]int{{80, 24}, {140, 40}} {
		m := dashkit.New(t, ui.Options{Backend: e, NoColor: true, Title: "rebindwatch — secrets"}, sz[0], sz[1])
		add := func(m ui.Model) {
			v := m.View()
			frames.WriteString(v.Content)
			frames.WriteString("\n")
		}
		add(m)
		for p := 1; p <= 5; p++ {
			mp := press(m, strconv.Itoa(p))
			add(mp)
			for row := 0; row < 15; row++ { // every table has fewer rows than that here
				md := press(mp, "enter")
				add(md)
				if row < 3 {
					add(press(md, "G"))
				}
				mp = press(mp, "j")
				add(mp)
			}
		}
	}
	// Every detail was drawn with its data: the commands that fetch it
	// were run to the end, not dropped after a timeout.
	f := frames.String()
	for _, want := range []string{"Evidence — ", "Recent requests ("} {
		if !strings.Contains(f, want) {
			t.Errorf("no frame shows %q: the walk did not open that detail", want)
		}
	}
	if strings.Contains(f, "loading") {
		t.Error("a detail was drawn before its data arrived: a command was dropped")
	}
	return f
}

// TestNoRawKeyInAnyOutput: the scenario capture carries the recorded keys
// (headers, query strings); with every line type emitted, none of them, nor
// any 8-character piece of one, comes out. runBin checks every other run's
// output the same way as it is produced, so this no longer has to run last.
func TestNoRawKeyInAnyOutput(t *testing.T) {
	pcap := readFile(t, rec+"scenarios.pcap")
	carried := 0
	for _, k := range strings.Fields(readFile(t, rec+"keys.txt")) {
		if strings.Contains(pcap, k) {
			carried++
		}
	}
	if carried == 0 {
		t.Fatal("scenarios.pcap carries none of the keys in keys.txt: this test would check nothing")
	}
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "alert,request,summary", "-r", rec+"scenarios.pcap")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	fingerprinted := 0
	for _, q := range r.ofType("request") {
		if k, _ := q["key"].(string); k != "" {
			fingerprinted++
		}
	}
	if fingerprinted == 0 {
		t.Error("no request line carries a key fingerprint: the keys were not seen, so their absence proves nothing")
	}
}
