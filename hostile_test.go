package main

// Hostile input, hostile load, faults and privileges, end to end through
// the binary built by TestMain (main_test.go). The recordings are in
// testdata/hostile, made by testdata/hostile/record.sh with real nginx,
// curl, a raw-socket Python client and tcpdump on loopback.
//
//	go test -run Hostile -v .          # about 20 s
//	go test -run Hostile -short .      # skips the pty and privilege runs
//
// Memory under attack is tested in detect/zz_memory_test.go and
// capture/zz_hostile_test.go, and measured on the binary by bench/memory.sh.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/ui"
)

const hostile = "testdata/hostile/"

// terminalHazards lists what in s could act on a terminal or pass for other
// text: ESC, CR, backspace and other C0 controls (newline and tab aside),
// DEL, C1 controls (as UTF-8 or as raw bytes), bidi controls, zero-width
// characters, BOM and the other invisible runes sanitize.Invisible names.
func terminalHazards(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		what := ""
		switch {
		case r == utf8.RuneError && size == 1:
			if s[i] >= 0x80 && s[i] <= 0x9f {
				what = fmt.Sprintf("raw 8-bit C1 byte %#x", s[i])
			}
		case r == 0x1b:
			what = "ESC"
		case r == '\r':
			what = "CR"
		case r == '\b':
			what = "backspace"
		case r < 0x20 && r != '\n' && r != '\t' || r == 0x7f:
			what = fmt.Sprintf("control %U", r)
		case r >= 0x80 && r <= 0x9f:
			what = fmt.Sprintf("C1 %U", r)
		case sanitize.Invisible(r):
			what = fmt.Sprintf("invisible %U", r)
		}
		if what != "" && len(out) < 5 {
			out = append(out, fmt.Sprintf("%s at byte %d: %q", what, i, s[max(0, i-40):min(len(s), i+40)]))
		}
		i += size
	}
	return out
}

func extFormat(t *testing.T) string { return readFile(t, rec+"ext.fmt") }

// hostileRuns are the hostile recordings through every input path.
func hostileRuns(t *testing.T) map[string][]string {
	t.Helper()
	ext := extFormat(t)
	raw := "nginx:escape=none '" + ext + "'"
	// The same nginx log under a file name that is itself hostile: it is
	// quoted in stderr notes and is every request's source.
	dir := t.TempDir()
	evil := filepath.Join(dir, "x\x1b[2J\x1b]52;c;ZXZpbA==\x07\u202egol.log")
	if err := os.WriteFile(evil, []byte(readFile(t, hostile+"hostile_access_ext.log")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := []string{"--no-tui", "-c", hostile + "rebindwatch.toml", "--emit", "alert,request,summary,dns"}
	return map[string][]string{
		"pcap":                 append(cfg, "-r", hostile+"hostile.pcap"),
		"gen_escaped":          append(cfg, "--no-follow", "--log-format", "nginx:"+ext, hostile+"hostile_gen_escaped.log"),
		"gen_raw":              append(cfg, "--no-follow", "--log-format", raw, hostile+"hostile_gen_raw.log"),
		"gen_raw_as_escaped":   append(cfg, "--no-follow", "--log-format", "nginx:"+ext, hostile+"hostile_gen_raw.log"), // parse errors quoted on stderr
		"nginx_ext":            append(cfg, "--no-follow", "--log-format", "nginx:"+ext, hostile+"hostile_access_ext.log"),
		"nginx_ext_raw":        append(cfg, "--no-follow", "--log-format", raw, hostile+"hostile_access_ext_raw.log"),
		"nginx_raw_as_escaped": append(cfg, "--no-follow", "--log-format", "nginx:"+ext, hostile+"hostile_access_ext_raw.log"),
		"hostile_file_name":    append(cfg, "--no-follow", "--log-format", "nginx:"+ext, evil),
	}
}

// hostileUsageRuns fail on purpose (exit 2); their error names the file.
func hostileUsageRuns(evil string) map[string][]string {
	return map[string][]string{
		// Auto-detection cannot read the extended format: the error names
		// the file and quotes its first line.
		"hostile_file_auto": {"--no-tui", "-c", hostile + "rebindwatch.toml", "--no-follow", evil},
		"hostile_raw_auto":  {"--no-tui", "-c", hostile + "rebindwatch.toml", "--no-follow", hostile + "hostile_gen_raw.log"},
		"missing_file":      {"--no-tui", "--no-follow", evil + ".missing"},
		"missing_capture":   {"--no-tui", "-r", evil + ".pcap"},
		"output_not_a_dir":  {"--no-tui", "-r", rec + "normal.pcap", "-o", evil + "/out.jsonl"},
	}
}

// TestHostileInputStderrIsTerminalSafe runs the binary over every hostile
// recording: it reads them all (exit 0, requests counted), and nothing it
// writes to stderr (notes, the unparsed lines it quotes) carries a hazard.
func TestHostileInputStderrIsTerminalSafe(t *testing.T) {
	quoted := 0
	for name, args := range hostileRuns(t) {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			// 96 lines; those with a hostile value where the Origin is
			// read are parse errors (not an origin: the columns moved),
			// and so is a raw log read as escaped where a value ends in a
			// backslash.
			if n := r.summary(t)["requests"].(float64); n < 77 {
				t.Errorf("only %v requests read", n)
			}
			if strings.Contains(r.stderr, "line ends before") || strings.Contains(r.stderr, "request line is not") {
				quoted++
			}
			for _, h := range terminalHazards(r.stderr) {
				t.Errorf("stderr: %s", h)
			}
		})
	}
	if quoted < 3 {
		t.Errorf("only %d runs quoted unparsed input on stderr: the test no longer exercises that path", quoted)
	}
	// --suggest-config writes the Hosts and Origins it saw into a config
	// (commented out when not proposed): stdout is a terminal or a file an
	// operator reads in an editor.
	ext := extFormat(t)
	for name, args := range map[string][]string{
		"suggest_pcap":        {"--suggest-config", "-c", hostile + "rebindwatch.toml", "-r", hostile + "hostile.pcap"},
		"suggest_gen_escaped": {"--suggest-config", "-c", hostile + "rebindwatch.toml", "--no-follow", "--log-format", "nginx:" + ext, hostile + "hostile_gen_escaped.log"},
		"suggest_gen_raw":     {"--suggest-config", "-c", hostile + "rebindwatch.toml", "--no-follow", "--log-format", "nginx:escape=none '" + ext + "'", hostile + "hostile_gen_raw.log"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, args...)
			if r.code != 0 || !strings.Contains(r.stdout, "[hosts]") {
				t.Fatalf("exit %d: %s\n%s", r.code, r.stderr, r.stdout)
			}
			for _, h := range terminalHazards(r.stdout + r.stderr) {
				t.Errorf("output: %s", h)
			}
		})
	}
	evil := filepath.Join(t.TempDir(), "y\x1b]52;c;ZXZpbA==\x07\u202e\x9b.log") // no glob metacharacters
	if err := os.WriteFile(evil, []byte(readFile(t, hostile+"hostile_access_ext.log")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range hostileUsageRuns(evil) {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2: %s", r.code, r.stderr)
			}
			for _, h := range terminalHazards(r.stderr) {
				t.Errorf("stderr: %s", h)
			}
		})
	}
}

// TestHostileJSONLinesEscapeInvisibles: JSON lines go to stdout, a terminal
// unless redirected. JSON escaping removes control characters, but U+202E
// and the other bidi and zero-width characters pass through as themselves
// and reorder or hide what the terminal shows. \uXXXX escaping them is
// lossless for every JSON reader.
func TestHostileJSONLinesEscapeInvisibles(t *testing.T) {
	for name, args := range hostileRuns(t) {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if h := terminalHazards(r.stdout); len(h) > 0 {
				t.Errorf("stdout JSON carries raw hazards (fix: jsonl appendString should \\u-escape every rune sanitize.Invisible reports, as it does C1 and U+2028/2029):\n%s", strings.Join(h, "\n"))
			}
		})
	}
}

// secretKeys are the fake keys of testdata/hostile/secrets_keys.txt and the
// recorded keys of testdata/rec/keys.txt.
func secretKeys(t *testing.T) []string {
	t.Helper()
	keys := strings.Fields(readFile(t, hostile+"secrets_keys.txt"))
	if len(keys) < 15 {
		t.Fatalf("secrets_keys.txt has %d keys", len(keys))
	}
	return append(keys, strings.Fields(readFile(t, rec+"keys.txt"))...)
}

// leaks returns the 8-character pieces of keys found in out (the shared,
// public prefix "sk_live_" at the start of a key excepted).
func leaks(keys []string, out string) []string {
	var found []string
	for _, k := range keys {
		for i := 0; i+8 <= len(k); i++ {
			if i == 0 && strings.HasPrefix(k, "sk_live_") {
				continue
			}
			if j := strings.Index(out, k[i:i+8]); j >= 0 {
				found = append(found, fmt.Sprintf("%q (of %s...) in %q", k[i:i+8], k[:10], out[max(0, j-60):min(len(out), j+30)]))
				break
			}
		}
	}
	return found
}

// TestHostileSecretsNeverLeak runs the secrets recordings (known fake keys
// in X-API-Key, Authorization Bearer/Token/ApiKey/Basic user:pass, query
// parameters, a percent-encoded parameter name, cookies, a Referer query
// and an OAuth fragment; nginx logs in combined and in a format that logs
// whole Authorization, X-API-Key and Cookie values) through every output:
// JSON lines on stdout and with -o, stderr (including quoted lines that did
// not parse and a format that could not be detected), the webhook, the
// metrics endpoint, the dashboard's frames and the ui golden files. No
// output may hold any 8-character piece of any key.
func TestHostileSecretsNeverLeak(t *testing.T) {
	keys := secretKeys(t)
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
	os.WriteFile(unknown, []byte(ub.String()), 0o644)
	outFile := filepath.Join(dir, "out.jsonl")

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
	var all []string
	for _, rc := range runs {
		t.Run(rc.name, func(t *testing.T) {
			r := runBin(t, rc.args...)
			if r.code != rc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, rc.code, r.stderr)
			}
			out := r.stdout + "\n" + r.stderr
			if rc.want != "" && !strings.Contains(out, rc.want) {
				t.Errorf("output lacks %q: the run did not do what this test relies on\n%s", rc.want, out)
			}
			for _, l := range leaks(keys, out) {
				t.Errorf("leak: %s", l)
			}
			all = append(all, out)
		})
	}
	t.Run("output_file", func(t *testing.T) {
		b, err := os.ReadFile(outFile)
		if err != nil || len(b) == 0 {
			t.Fatalf("-o file: %v (%d bytes)", err, len(b))
		}
		outputs.all = append(outputs.all, string(b))
		for _, l := range leaks(keys, string(b)) {
			t.Errorf("leak: %s", l)
		}
	})
	t.Run("webhook", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if len(hooks) == 0 {
			t.Fatal("the webhook got nothing")
		}
		outputs.all = append(outputs.all, hooks...)
		for _, l := range leaks(keys, strings.Join(hooks, "\n")) {
			t.Errorf("leak: %s", l)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		body := scrapeMetrics(t, append(cfg[:len(cfg)-2], "--log-format", sfmt, hostile+"secrets_access_secrets.log"))
		for _, l := range leaks(keys, body) {
			t.Errorf("leak: %s", l)
		}
	})
	t.Run("dashboard", func(t *testing.T) {
		frames := secretFrames(t)
		outputs.all = append(outputs.all, frames)
		for _, l := range leaks(keys, frames) {
			t.Errorf("leak: %s", l)
		}
	})
	t.Run("ui_golden_files", func(t *testing.T) {
		files, _ := filepath.Glob("ui/testdata/*.golden")
		if len(files) == 0 {
			t.Skip("no golden files")
		}
		for _, f := range files {
			for _, l := range leaks(keys, readFile(t, f)) {
				t.Errorf("%s: leak: %s", f, l)
			}
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
		cmd.Wait()
		outputs.all = append(outputs.all, stdout.String(), stderr.String())
	}()
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if strings.Contains(body, "rebindwatch_requests") && !strings.Contains(body, "rebindwatch_requests_total 0") {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, "rebindwatch_") {
		t.Fatalf("no metrics scraped from %s; stderr: %s", addr, stderr.String())
	}
	outputs.all = append(outputs.all, body)
	return body + "\n" + stderr.String()
}

// feedEngine runs a source into e.
func feedEngine(t *testing.T, e *detect.Engine, name string, run func(context.Context, chan<- detect.Batch) error) {
	t.Helper()
	out := make(chan detect.Batch, 16)
	errc := make(chan error, 1)
	go func() {
		errc <- run(context.Background(), out)
		close(out)
	}()
	for b := range out {
		if err := e.Observe(&b); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// secretFrames feeds the secrets recordings into an engine through the
// real sources and returns every frame of a dashboard over it: each pane,
// each row's detail, at 80x24 and 140x40.
func secretFrames(t *testing.T) string {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.rebind.test", "*.api.rebind.test"}
	cfg.AllowedOrigins = []string{"https://app.rebind.test"}
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kx := keys.NewExtractor(keys.DefaultConfig())
	sfmt := "nginx:" + readFile(t, hostile+"secrets.fmt")
	for _, l := range []struct{ path, spec string }{
		{hostile + "secrets_access_combined.log", "auto"},
		{hostile + "secrets_access_secrets.log", sfmt},
		{hostile + "secrets_access_secrets_cut.log", sfmt},
		{hostile + "secrets_access_secrets.log", "nginx:" + extFormat(t)}, // parse errors: Problems on screen
		{hostile + "secrets_error.log", sfmt},
	} {
		feedEngine(t, e, l.path, func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, l.path, logsrc.Options{Format: l.spec, Keys: kx.Clone()}, out)
		})
	}
	feedEngine(t, e, "secrets.pcap", func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, hostile+"secrets.pcap", capture.Options{Ports: []uint16{18391}, Keys: kx.Clone()}, out)
	})
	if s := e.Snapshot(); len(s.Alerts) < 4 || len(s.Keys) < 8 || len(s.Problems) == 0 {
		t.Fatalf("secrets recordings gave %d alerts, %d keys, %d problems: too few", len(s.Alerts), len(s.Keys), len(s.Problems))
	}
	var frames strings.Builder
	// Everything the dashboard can show, whether or not this walk shows
	// it whole (the header cuts a Problem to the width).
	fmt.Fprintf(&frames, "%+v\n", e.Snapshot())
	for _, sz := range [][2]int{{80, 24}, {140, 40}} {
		m := dashModel(t, e, sz[0], sz[1])
		add := func(m ui.Model) {
			v := m.View()
			frames.WriteString(v.Content)
			frames.WriteString("\n")
		}
		add(m)
		for p := 1; p <= 5; p++ {
			mp := dashPress(t, m, strconv.Itoa(p))
			add(mp)
			for row := 0; row < 15; row++ { // every table has fewer rows than that here
				md := dashPress(t, mp, "enter")
				add(md)
				if row < 3 {
					add(dashPress(t, md, "G"))
				}
				mp = dashPress(t, mp, "j")
				add(mp)
			}
		}
	}
	return frames.String()
}

// dashModel is a dashboard over b after its first snapshot (public API only).
func dashModel(t *testing.T, b ui.Backend, w, h int) ui.Model {
	t.Helper()
	m := ui.New(ui.Options{Backend: b, NoColor: true, Title: "rebindwatch — secrets"})
	out, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m = out.(ui.Model)
	out, _ = m.Update(m.Init()())
	return out.(ui.Model)
}

// dashPress sends a key and feeds back the messages of the commands it
// starts that finish at once (details, one-shot snapshots); ticks are dropped.
func dashPress(t *testing.T, m ui.Model, k string) ui.Model {
	t.Helper()
	msg := tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
	if k == "enter" {
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	out, cmd := m.Update(msg)
	return dashDrain(out.(ui.Model), cmd, 0)
}

func dashDrain(m ui.Model, cmd tea.Cmd, depth int) ui.Model {
	if cmd == nil || depth > 6 {
		return m
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		switch msg := msg.(type) {
		case nil, tea.QuitMsg:
			return m
		case tea.BatchMsg:
			for _, c := range msg {
				m = dashDrain(m, c, depth+1)
			}
			return m
		default:
			out, next := m.Update(msg)
			return dashDrain(out.(ui.Model), next, depth+1)
		}
	case <-time.After(50 * time.Millisecond):
		return m
	}
}

// TestHostileSignalsMidReplay: SIGINT and SIGTERM while a capture replays
// as recorded (--speed 1, so it is mid-run) write the summary and exit 0.
func TestHostileSignalsMidReplay(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "request,summary", "--speed", "1", "-r", rec+"scenarios.pcap")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Mid-run: the first request is out (the capture lasts 11 s).
			waitUntil(t, cmd, "a first request", func() bool { return strings.Contains(stdout.String(), `"type":"request"`) })
			cmd.Process.Signal(sig)
			err := waitTimeout(t, cmd, 10*time.Second)
			outputs.all = append(outputs.all, stdout.String(), stderr.String())
			if err != nil {
				t.Fatalf("after %v: %v; stderr: %s", sig, err, stderr.String())
			}
			out := stdout.String()
			if strings.Count(out, `"type":"summary"`) != 1 || !strings.HasSuffix(strings.TrimSpace(out), "}") {
				t.Fatalf("want one summary line at the end:\n%s", out)
			}
			if !strings.Contains(out, `"state":"stopped"`) || strings.Contains(out, `"requests":197`) {
				t.Errorf("the summary should show the replay was stopped before its end (state stopped, fewer than its 197 requests): %s", lastLine(out))
			}
		})
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func waitUntil(t *testing.T, cmd *exec.Cmd, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitTimeout(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v after being told to stop", d)
		return nil
	}
}

// TestHostileSignalRestoresTerminal runs the dashboard under a real pty
// (util-linux script), replaying a capture, and stops it with a signal: it
// exits 0 and leaves the terminal as it found it (alternate screen left,
// cursor shown) after everything else it wrote.
func TestHostileSignalRestoresTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("pty run skipped with -short")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: util-linux script is not installed, so the terminal restore under a pty is not tested")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			inner := fmt.Sprintf("stty rows 24 cols 80; exec %s -c %s --speed 1 -r %s", bin, rec+"rebindwatch.toml", rec+"scenarios.pcap")
			cmd := exec.Command(script, "-qfec", inner, "/dev/null")
			cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=1")
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			stdin, _ := cmd.StdinPipe() // held open: no EOF on the pty
			defer stdin.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, cmd, "the dashboard", func() bool {
				return strings.Contains(out.String(), "\x1b[?1049h") && strings.Contains(out.String(), "scenarios.pcap")
			})
			child := childPID(t, cmd.Process.Pid)
			syscall.Kill(child, sig)
			err := waitTimeout(t, cmd, 10*time.Second)
			o := out.String()
			outputs.all = append(outputs.all, o)
			if err != nil {
				t.Errorf("exit after %v: %v (script -e passes the dashboard's exit status on)", sig, err)
			}
			tail := o[strings.LastIndex(o, "\x1b[?1049h"):]
			if !strings.Contains(tail, "\x1b[?1049l") || !strings.Contains(tail[strings.LastIndex(tail, "\x1b[?1049l"):], "\x1b[?25h") {
				t.Errorf("terminal not restored: after entering the alternate screen the output has no \\x1b[?1049l followed by \\x1b[?25h; its end: %q", o[max(0, len(o)-200):])
			}
			if strings.Contains(o, "panic") {
				t.Errorf("output mentions a panic: %q", o[max(0, len(o)-400):])
			}
		})
	}
}

// childPID is the one child of pid (script's child: the binary, after exec).
func childPID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatalf("finding the dashboard's pid: %v", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		t.Fatalf("script has children %q, want one", f)
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// asNobody returns a command running name as user nobody (65534) when the
// tests run as root, or as the current (unprivileged) user otherwise. It
// skips loudly when root and setpriv is missing.
func asNobody(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		return exec.Command(name, args...)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: running as root without setpriv: cannot drop to an unprivileged user, so this is not tested")
	}
	return exec.Command(setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--", name}, args...)...)
}

// worldDir makes a temporary directory every user can enter, with a copy
// of the binary in it, for runs as nobody.
func worldDir(t *testing.T) (dir, binCopy string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rebindwatch-hostile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	binCopy = filepath.Join(dir, "rebindwatch")
	if err := os.WriteFile(binCopy, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, binCopy
}

func copyWorld(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dst, mode) // whatever the umask
}

// TestHostileUnprivileged: replaying a capture and reading a log need no
// privilege: both work as user nobody.
func TestHostileUnprivileged(t *testing.T) {
	dir, b := worldDir(t)
	for _, f := range []string{"scenarios.pcap", "scenarios_access_combined.log", "rebindwatch.toml"} {
		copyWorld(t, rec+f, filepath.Join(dir, f), 0o644)
	}
	for _, args := range [][]string{
		{"--no-tui", "-c", "rebindwatch.toml", "-r", "scenarios.pcap"},
		{"--no-tui", "-c", "rebindwatch.toml", "--no-follow", "scenarios_access_combined.log"},
	} {
		t.Run(args[len(args)-1], func(t *testing.T) {
			cmd := asNobody(t, b, args...)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("as nobody: %v\n%s", err, stderr.String())
			}
			outputs.all = append(outputs.all, stdout.String(), stderr.String())
			if !strings.Contains(stdout.String(), `"type":"summary"`) || !strings.Contains(stdout.String(), `"type":"alert"`) {
				t.Errorf("as nobody: no alerts or summary:\n%s\n%s", stdout.String(), stderr.String())
			}
		})
	}
}

// TestHostileUnreadableLog follows a log as an unprivileged user while it
// becomes unreadable. chmod 000 on the open file changes nothing (the open
// descriptor keeps reading: lines appended are still read). A rotation to
// a new file that cannot be opened is reported on stderr, and once it is
// readable again its lines are read.
func TestHostileUnreadableLog(t *testing.T) {
	dir, b := worldDir(t)
	logPath := filepath.Join(dir, "access.log")
	lines := strings.Split(readFile(t, rec+"scenarios_access_combined.log"), "\n")
	if len(lines) < 12 {
		t.Fatal("too few lines in the recorded log")
	}
	if err := os.WriteFile(logPath, []byte(strings.Join(lines[:5], "\n")+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(logPath, 0o666) // whatever the umask: the test appends, nobody reads
	cmd := asNobody(t, b, "--no-tui", "--emit", "request,summary", "--allow-host", "api.rebind.test", logPath)
	cmd.Dir = dir
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	requests := func() int { return strings.Count(stdout.String(), `"type":"request"`) }
	appendLines := func(ls []string) {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(strings.Join(ls, "\n") + "\n")
		f.Close()
	}
	waitUntil(t, cmd, "the first 5 requests", func() bool { return requests() == 5 })

	// chmod 000 while open: still read.
	if err := os.Chmod(logPath, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(lines[5:7])
	waitUntil(t, cmd, "lines appended after chmod 000", func() bool { return requests() == 7 })

	// Rotated to a file the user cannot open: reported, then read once readable.
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, []byte(strings.Join(lines[7:10], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(logPath, 0) // unreadable by nobody, and by its owner when the tests are not root
	waitUntil(t, cmd, "the permission problem on stderr", func() bool { return strings.Contains(stderr.String(), "permission denied") })
	if requests() != 7 {
		t.Errorf("%d requests while the new file was unreadable, want 7", requests())
	}
	os.Chmod(logPath, 0o644)
	waitUntil(t, cmd, "the rotated file's lines once readable", func() bool { return requests() == 10 })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitTimeout(t, cmd, 10*time.Second); err != nil {
		t.Errorf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	outputs.all = append(outputs.all, stdout.String(), stderr.String())
	for _, h := range terminalHazards(stderr.String()) {
		t.Errorf("stderr: %s", h)
	}
}

// TestHostileFullDisk: -o on a full disk exits 1 with a message naming it.
func TestHostileFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("SKIPPED LOUDLY: no /dev/full on this system")
	}
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "alert,request,summary", "-r", rec+"scenarios.pcap", "-o", "/dev/full")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "/dev/full") || !strings.Contains(r.stderr, "no space left") {
		t.Errorf("stderr does not say the output is full: %q", r.stderr)
	}
}

// TestHostileClosedPipe: the reader of a FIFO given to -o goes away while
// a followed log keeps producing: the next write fails, the run exits 1
// and says so.
func TestHostileClosedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("SKIPPED LOUDLY: mkfifo: %v", err)
	}
	logPath := filepath.Join(dir, "access.log")
	lines := strings.Split(readFile(t, rec+"scenarios_access_combined.log"), "\n")
	os.WriteFile(logPath, []byte(strings.Join(lines[:3], "\n")+"\n"), 0o644)
	readerDone := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the binary opens it for writing
		if err != nil {
			readerDone <- nil
			return
		}
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(f, b, 1)
		f.Close() // the reader goes away
		readerDone <- b[:n]
	}()
	cmd := exec.Command(bin, "--no-tui", "--emit", "request,summary", "--allow-host", "api.rebind.test", "-o", fifo, logPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-readerDone:
		if len(got) == 0 {
			t.Fatal("the reader got nothing")
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("nothing written to the FIFO")
	}
	// Keep the log growing until the binary notices the pipe is gone.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	deadline := time.After(10 * time.Second)
loop:
	for i := 3; ; i++ {
		f, _ := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		f.WriteString(lines[i%len(lines)] + "\n")
		f.Close()
		select {
		case err = <-done:
			break loop
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatal("still running 10 s after its output pipe closed")
		case <-time.After(100 * time.Millisecond):
		}
	}
	outputs.all = append(outputs.all, stderr.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("stderr does not say the pipe broke: %q", stderr.String())
	}
}

// TestHostileLogFloodStaysBounded: the binary reads 200k log lines carrying
// 100k distinct keys, Hosts and clients (past the default 20k Host values
// and near the 100k keys) with a burst hidden in them, and its peak RSS
// stays under 512 MiB. bench/memory.sh runs the same with 2M lines.
func TestHostileLogFloodStaysBounded(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("flood run skipped with -short or off Linux")
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "flood.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t0 := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	const n = 200_000
	burstAt := n / 2
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i) * 100 * time.Microsecond).Format(time.RFC3339)
		k := i % 100_000
		host := "h" + strconv.Itoa(k) + ".api.rebind.test"
		key := fmt.Sprintf("%08x", k)
		client := fmt.Sprintf("10.%d.%d.%d", k>>16, k>>8&255, k&255)
		fmt.Fprintf(w, "%s - - [%s] \"GET /v1/items HTTP/1.1\" 200 12 \"-\" \"flood/1\" host=\"%s\" origin=\"-\" key=\"%s\" rt=0.001\n", client, ts, host, key)
		if i >= burstAt && i < burstAt+150 { // 150 requests on one key within 15 ms
			fmt.Fprintf(w, "192.0.2.7 - - [%s] \"GET /v1/items HTTP/1.1\" 200 12 \"-\" \"burst/1\" host=\"api.rebind.test\" origin=\"-\" key=\"b0b0b0b0\" rt=0.001\n", ts)
		}
	}
	w.Flush()
	f.Close()
	cmd := exec.Command(bin, "--no-tui", "--no-follow", "--allow-host", "*.api.rebind.test", "--log-format", "nginx:"+extFormat(t), logPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	maxRSS := ru.Maxrss << 10 // KiB on Linux
	t.Logf("%d lines in %v, peak RSS %.1f MiB", n+150, time.Since(start).Round(time.Millisecond), float64(maxRSS)/(1<<20))
	if maxRSS > 512<<20 {
		t.Errorf("peak RSS %d MiB over 512 MiB", maxRSS>>20)
	}
	out := stdout.String()
	outputs.all = append(outputs.all, out, stderr.String())
	if !strings.Contains(out, `"detector":"key_burst"`) || !strings.Contains(out, `"subject":"`+keys.Fingerprint("", "b0b0b0b0")+`"`) {
		t.Errorf("the burst in the flood was not found:\n%s", lastLine(out))
	}
	var sum struct {
		Evicted map[string]uint64 `json:"evicted"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &sum); err != nil || sum.Evicted["hosts"] < 80_000 {
		t.Errorf("the summary should count at least 80000 evicted Host values (100k distinct, cap 20k): %v %s", err, lastLine(out))
	}
}
