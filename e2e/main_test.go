package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

// Set once by TestMain before any test runs, read-only afterwards.
var (
	// bin is the rebindwatch binary built once for every test here.
	bin string
	// knownKeys are the keys in the recordings (testdata/rec/keys.txt)
	// and the fake keys of the secrets recordings
	// (testdata/hostile/secrets_keys.txt): no output may hold any
	// 8-character piece of one (noKeys).
	knownKeys []string
)

const (
	rec     = "../testdata/rec/"
	hostile = "../testdata/hostile/"
	// patience bounds every wait for something the binary will do (a
	// line written, an exit after a signal). Only a failure waits this
	// long: each wait ends as soon as what it waits for happens.
	patience = 30 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if knownKeys, err = loadKeys(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "rebindwatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "rebindwatch")
	// The default build, as the README's install says: no cgo.
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".." // the module root: package main
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building rebindwatch: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func loadKeys() ([]string, error) {
	recorded, err := os.ReadFile(rec + "keys.txt")
	if err != nil {
		return nil, err
	}
	fake, err := os.ReadFile(hostile + "secrets_keys.txt")
	if err != nil {
		return nil, err
	}
	r, f := strings.Fields(string(recorded)), strings.Fields(string(fake))
	if len(r) == 0 || len(f) < 15 {
		return nil, fmt.Errorf("%d keys in %skeys.txt and %d in %ssecrets_keys.txt: the secrecy checks would check nothing", len(r), rec, len(f), hostile)
	}
	return append(r, f...), nil
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

// noKeys fails t if out, which the binary wrote (what names where),
// holds a piece of a known key. Every output of every test goes through
// it, as it is produced.
func noKeys(t *testing.T, what, out string) {
	t.Helper()
	for _, l := range leaks(knownKeys, out) {
		t.Errorf("%s: leak: %s", what, l)
	}
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	lines          []map[string]any
}

// runBin runs the binary to its end and checks its stdout and stderr hold
// no key; each stdout line that looks like JSON must be JSON.
func runBin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return parseResult(t, code, out.String(), errb.String())
}

// parseResult checks a run's stdout and stderr hold no key and reads its
// JSON lines.
func parseResult(t *testing.T, code int, stdout, stderr string) result {
	t.Helper()
	r := result{code: code, stdout: stdout, stderr: stderr}
	noKeys(t, "stdout", r.stdout)
	noKeys(t, "stderr", r.stderr)
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
	if err := sc.Err(); err != nil {
		t.Fatalf("reading stdout: %v", err)
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

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(data), "\n")
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// extFormat is the nginx log_format of the extended recorded logs.
func extFormat(t *testing.T) string { return readFile(t, rec+"ext.fmt") }

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test.
type syncBuffer = testkit.SyncBuffer

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// waitUntil polls cond until it holds; after patience it kills cmd and
// fails, quoting cmd's stderr when the test collects it.
func waitUntil(t *testing.T, cmd *exec.Cmd, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			stderr := ""
			if b, ok := cmd.Stderr.(*syncBuffer); ok {
				stderr = "; stderr: " + b.String()
			}
			t.Fatalf("timed out after %v waiting for %s%s", patience, what, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for cmd, which has been told to stop, to exit; after
// patience it kills it and fails.
func waitExit(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v after being told to stop", patience)
		return nil
	}
}
