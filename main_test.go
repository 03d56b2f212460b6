package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/keys"
)

// bin is the rebindwatch binary built once for the end-to-end tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rebindwatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "rebindwatch")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building rebindwatch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const rec = "testdata/rec/"

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	lines          []map[string]any
}

// outputs collects every byte the binary printed in this test run, for the
// key secrecy check.
var outputs struct {
	all []string
}

func runBin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	outputs.all = append(outputs.all, r.stdout, r.stderr)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue // --version, --help
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %q: %v", sc.Text(), err)
		}
		r.lines = append(r.lines, m)
	}
	return r
}

func (r result) ofType(typ string) []map[string]any {
	var out []map[string]any
	for _, l := range r.lines {
		if l["type"] == typ {
			out = append(out, l)
		}
	}
	return out
}

func (r result) summary(t *testing.T) map[string]any {
	t.Helper()
	s := r.ofType("summary")
	if len(s) != 1 {
		t.Fatalf("want exactly one summary line, got %d\nstderr: %s", len(s), r.stderr)
	}
	return s[0]
}

// alertKey is what an expected alert pins: detector, subject, dimension.
func alertKey(m map[string]any) string {
	k := fmt.Sprintf("%v %v", m["detector"], m["subject"])
	if d, ok := m["dimension"]; ok && d != "" {
		k += fmt.Sprintf(" %v", d)
	}
	return k
}

// expected reads the expected alerts of one or more files under testdata/rec.
func expected(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		out = append(out, expectedFile(t, f)...)
	}
	slices.Sort(out)
	return out
}

func expectedFile(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(rec + file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, alertKey(m))
	}
	slices.Sort(out)
	return out
}

func alertKeys(r result) []string {
	var out []string
	for _, a := range r.ofType("alert") {
		out = append(out, alertKey(a))
	}
	slices.Sort(out)
	return out
}

func sameAlerts(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("alerts differ\n got: %q\nwant: %q", got, want)
	}
}

func TestScenarioCapturesRaiseExactlyTheExpectedAlerts(t *testing.T) {
	want := expected(t, "expected_alerts.jsonl", "expected_host_served.jsonl")
	for _, f := range []string{"scenarios.pcap", "scenarios.pcapng"} {
		t.Run(f, func(t *testing.T) {
			r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+f)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			sameAlerts(t, alertKeys(r), want)
			s := r.summary(t)
			if s["parse_errors"].(float64) != 0 {
				t.Errorf("parse_errors = %v on a clean recording", s["parse_errors"])
			}
		})
	}
}

func TestNormalTrafficRaisesNothing(t *testing.T) {
	for _, args := range [][]string{
		{"-r", rec + "normal.pcap"},
		{"--no-follow", "--log-format", "nginx:" + readFile(t, rec+"ext.fmt"), rec + "normal_access_ext.log"},
		{"--no-follow", rec + "normal_access_combined.log"},
	} {
		t.Run(filepath.Base(args[len(args)-1]), func(t *testing.T) {
			r := runBin(t, append([]string{"--no-tui", "-c", rec + "rebindwatch.toml"}, args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if a := alertKeys(r); len(a) != 0 {
				t.Errorf("normal traffic raised %q", a)
			}
			if n := r.summary(t)["requests"].(float64); n < 20 {
				t.Errorf("only %v requests seen", n)
			}
		})
	}
}

func TestExtendedLogRaisesTheExpectedAlerts(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "-c", rec+"rebindwatch.toml",
		"--log-format", "nginx:"+readFile(t, rec+"ext.fmt"), rec+"scenarios_access_ext.log")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameAlerts(t, alertKeys(r), expected(t, "expected_alerts_ext_log.jsonl", "expected_host_served_ext_log.jsonl"))
}

func TestCombinedLogRaisesWhatItCanSee(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "-c", rec+"rebindwatch.toml", rec+"scenarios_access_combined.log")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sameAlerts(t, alertKeys(r), expected(t, "expected_alerts_combined_log.jsonl"))
	s := r.summary(t)
	src := s["sources"].([]any)[0].(map[string]any)
	if off, _ := src["off"].([]any); len(off) == 0 {
		t.Errorf("a combined log has no Host column: the summary must say unexpected_host is off for it: %v", src)
	}
}

// TestRequestsMatchTshark checks every request tshark shows in the recorded
// captures appears once with the same method, Host and target. The tshark
// output is committed by the recording script; capture/tshark_test.go runs
// tshark itself.
func TestRequestsMatchTshark(t *testing.T) {
	for _, c := range []struct{ pcap, tsv string }{
		{"scenarios.pcap", "requests_tshark.tsv"},
		{"normal.pcap", "requests_tshark_normal.tsv"},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(readFile(t, rec+c.tsv)), "\n") {
				f := strings.Split(line, "\t")
				if len(f) < 4 {
					continue
				}
				// tshark joins the requests of one frame (a pipelined
				// pair) with commas; keys in targets are redacted by us.
				methods, hosts, targets := strings.Split(f[1], ","), strings.Split(f[2], ","), strings.Split(f[3], ",")
				for i := range methods {
					want = append(want, methods[i]+" "+at(hosts, i)+" "+keys.NewExtractor(keys.DefaultConfig()).Redact(at(targets, i)))
				}
			}
			r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "request", "-r", rec+c.pcap)
			var got []string
			for _, q := range r.ofType("request") {
				got = append(got, fmt.Sprintf("%v %v %v", q["method"], q["host"], q["target"]))
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(want) < 20 || !slices.Equal(got, want) {
				t.Errorf("requests differ from tshark's (%d vs %d)\n got: %q\nwant: %q", len(got), len(want), got, want)
			}
		})
	}
}

func TestTruncatedCaptureIsProcessedToTheCut(t *testing.T) {
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+"scenarios_truncated.pcap")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := r.summary(t)
	if c := s["counters"].(map[string]any); c["truncated_file"] != float64(1) {
		t.Errorf("summary counters %v: want truncated_file 1", c)
	}
	if s["requests"].(float64) < 10 {
		t.Errorf("requests before the cut not reported: %v", s["requests"])
	}
}

func TestUsageErrorsExit2WithOneSentence(t *testing.T) {
	dir := t.TempDir()
	notCap := filepath.Join(dir, "notes.txt")
	os.WriteFile(notCap, []byte("this is not a capture\n"), 0o644)
	badCfg := filepath.Join(dir, "bad.toml")
	os.WriteFile(badCfg, []byte("[hosts]\nallowed = [\"a\"]\n[burst]\nwindw = \"1s\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not_a_capture", []string{"--no-tui", "-r", notCap}, "notes.txt"},
		{"missing_capture", []string{"--no-tui", "-r", filepath.Join(dir, "nope.pcap")}, "nope.pcap"},
		{"config_unknown_key", []string{"--no-tui", "-c", badCfg, "-r", rec + "normal.pcap"}, "bad.toml:4: burst.windw: unknown key"},
		{"bad_flag", []string{"--no-such-flag"}, "no-such-flag"},
		{"nothing_to_watch", []string{"--no-tui"}, "nothing to watch"},
		{"no_such_interface", []string{"--no-tui", "-i", "nosuchif0"}, "nosuchif0"},
		{"filter_without_interface", []string{"--no-tui", "-f", "port 80", "-r", rec + "normal.pcap"}, "-f goes with -i"},
		{"bad_emit", []string{"--no-tui", "--emit", "alerts,bogus", "-r", rec + "normal.pcap"}, "bogus"},
		{"bad_log_format", []string{"--no-tui", "--no-follow", "--log-format", "bogus-format", rec + "normal_access_combined.log"}, "--log-format"},
		{"unbalanced_log_format", []string{"--no-tui", "--no-follow", "--log-format", "nginx:'$remote_addr \"$request", rec + "normal_access_combined.log"}, "--log-format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, tc.want) }) {
				t.Errorf("stderr %q does not name %q", r.stderr, tc.want)
			}
		})
	}
}

func TestFingerprintCommand(t *testing.T) {
	cmd := exec.Command(bin, "fingerprint")
	cmd.Stdin = strings.NewReader("sk_test_example\n")
	cmd.Dir = t.TempDir() // no ./rebindwatch.toml: no salt
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	// sha256("sk_test_example")[:12]
	if got := strings.TrimSpace(string(out)); got != "d3b9b59ae0ca" {
		t.Errorf("fingerprint = %q", got)
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := runBin(t, "--help")
	if r.code != 0 || !strings.Contains(r.stderr, "Examples:") {
		t.Errorf("--help: exit %d, %q", r.code, r.stderr)
	}
	r = runBin(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "rebindwatch ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(data), "\n")
}

// TestSignalsWhileFollowing follows a log, reloads a broken config on SIGHUP
// (reported, old config kept), then stops on SIGTERM with the summary written.
func TestSignalsWhileFollowing(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	cfgPath := filepath.Join(dir, "rw.toml")
	os.WriteFile(logPath, []byte(readFile(t, rec+"scenarios_access_combined.log")+"\n"), 0o644)
	os.WriteFile(cfgPath, []byte(readFile(t, rec+"rebindwatch.toml")), 0o644)

	cmd := exec.Command(bin, "--no-tui", "-c", cfgPath, logPath)
	var out bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("timed out waiting for %s; stderr: %s", what, stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the format note", func() bool { return strings.Contains(stderr.String(), "format:") })
	os.WriteFile(cfgPath, []byte("[burst]\nmax_requests = 0\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the reload failure", func() bool { return strings.Contains(stderr.String(), "config reload refused") })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	outputs.all = append(outputs.all, out.String(), stderr.String())
	if !strings.Contains(out.String(), `"type":"summary"`) || !strings.Contains(stderr.String(), "max_requests") {
		t.Errorf("stdout %q\nstderr %q", out.String(), stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestImportAllowlist(t *testing.T) {
	r := runBin(t, "--import-allowlist", "allowimport/testdata/settings.py")
	if r.code != 0 || !strings.Contains(r.stdout, "[hosts]") || !strings.Contains(r.stdout, `"*.shop.example.com"`) {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// What it prints must load as a rebindwatch config.
	path := filepath.Join(t.TempDir(), "rw.toml")
	os.WriteFile(path, []byte(r.stdout), 0o644)
	if r := runBin(t, "--no-tui", "-c", path, "-r", rec+"normal.pcap", "--emit", "summary"); r.code != 0 {
		t.Errorf("imported config does not load: %s", r.stderr)
	}
	if r := runBin(t, "--import-allowlist", "go.mod"); r.code != 2 {
		t.Errorf("an unknown file: exit %d, want 2", r.code)
	}
}

// TestWebhook posts alerts to a real local receiver.
func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "-r", rec+"scenarios.pcap", "--webhook", srv.URL+"/hook", "--webhook-header", "Authorization: Bearer receiver-token")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != len(r.ofType("alert")) || len(bodies) == 0 {
		t.Fatalf("webhook got %d alerts, stdout has %d", len(bodies), len(r.ofType("alert")))
	}
	outputs.all = append(outputs.all, bodies...)
	for _, b := range bodies {
		if !strings.HasPrefix(b, `{"type":"alert"`) {
			t.Errorf("body %q", b)
		}
	}
}

// TestSuggestConfig: the suggestion from normal traffic loads as a config and
// raises nothing on that traffic.
func TestSuggestConfig(t *testing.T) {
	r := runBin(t, "--suggest-config", "-c", rec+"rebindwatch.toml", "-r", rec+"normal.pcap")
	if r.code != 0 || !strings.Contains(r.stdout, `"api.rebind.test"`) || !strings.Contains(r.stdout, `"https://app.rebind.test"`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "suggested.toml")
	os.WriteFile(path, []byte(r.stdout), 0o644)
	again := runBin(t, "--no-tui", "-c", path, "-r", rec+"normal.pcap")
	if again.code != 0 || len(again.ofType("alert")) != 0 {
		t.Errorf("the suggested config: exit %d, alerts %v, %s", again.code, alertKeys(again), again.stderr)
	}
	if r := runBin(t, "--suggest-config", rec+"normal_access_combined.log"); r.code != 2 {
		t.Errorf("--suggest-config on a followed log: exit %d, want 2", r.code)
	}
}

// TestEvidenceRecordings runs the binary on the DNS rebinding chain, the
// served and blocked Flask runs, h2c and TLS recordings and checks the alerts
// exactly, with how the server answered.
func TestEvidenceRecordings(t *testing.T) {
	const dir = "testdata/rebind/"
	for _, c := range []struct{ pcap, want string }{
		{"rebind.pcap", "expected_alerts.jsonl"},
		{"served.pcap", "expected_alerts_served.jsonl"},
		{"blocked.pcap", "expected_alerts_blocked.jsonl"},
		{"h2c.pcap", "expected_alerts_h2c.jsonl"},
		{"tls.pcap", "expected_alerts_tls.jsonl"},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			r := runBin(t, "--no-tui", "-c", dir+"rebindwatch.toml", "-r", dir+c.pcap)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			key := func(m map[string]any) string {
				k := alertKey(m)
				if o, ok := m["outcome"]; ok {
					k += fmt.Sprintf(" outcome=%v", o)
				}
				return k
			}
			var got, want []string
			for _, a := range r.ofType("alert") {
				got = append(got, key(a))
			}
			for _, line := range strings.Split(strings.TrimSpace(readFile(t, dir+c.want)), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatal(err)
				}
				want = append(want, key(m))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("alerts differ\n got: %q\nwant: %q", got, want)
			}
		})
	}
}

// TestNoRawKeyInAnyOutput runs last (Go runs tests in file order) and checks
// that nothing any run printed contains a recorded key or any 8-character
// piece of one.
func TestNoRawKeyInAnyOutput(t *testing.T) {
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "alert,request,summary", "-r", rec+"scenarios.pcap")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	keys := strings.Fields(readFile(t, rec+"keys.txt"))
	if len(keys) == 0 {
		t.Fatal("no keys in keys.txt")
	}
	all := strings.Join(outputs.all, "\n")
	for _, k := range keys {
		for i := 0; i+8 <= len(k); i++ {
			piece := k[i : i+8]
			if strings.HasPrefix(k, "sk_live_") && i < 4 {
				continue // mostly the shared prefix, which is not secret
			}
			if strings.Contains(all, piece) {
				t.Errorf("output contains %q, a piece of a recorded key", piece)
			}
		}
	}
}
