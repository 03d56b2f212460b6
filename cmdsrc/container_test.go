package cmdsrc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/state"
)

// fakeEngineOnPath puts links named docker and podman to the test binary
// (TestMain's fakeEngine) first on PATH, with the recorded flask container
// and the given restart times.
func fakeEngineOnPath(t *testing.T, cuts string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, data := t.TempDir(), t.TempDir()
	for _, name := range []string{"docker", "podman"} {
		if err := os.Symlink(self, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"flask.stdout", "flask.stderr"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "containers", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_ENGINE_DIR", data)
	t.Setenv("FAKE_ENGINE_CUTS", cuts)
}

// A container that restarts: docker logs --follow ends with it; the next
// attempt asks for what came since the last line read, the lines read
// already are skipped, and every request arrives once, from stdout and
// stderr both (werkzeug logs on stderr).
func TestContainerRestart(t *testing.T) {
	fakeEngineOnPath(t, "2026-11-26T22:58:32.500000000Z")
	c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, "docker:flask", Options{Follow: true, Location: time.UTC, RetryMin: 10 * time.Millisecond}, out)
	})
	c.WaitFor(t, "the 16 requests of both runs", 10*time.Second, func(v testkit.View) bool { return len(v.Requests["docker:flask"]) >= 16 })
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	var got []string
	for _, r := range v.Requests["docker:flask"] {
		got = append(got, r.Method+" "+r.Target)
	}
	if want := recordedRequests(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant each recorded one once, in order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v.Counters["container_lines_seen_before"] == 0 {
		t.Error("the second attempt's overlap was not skipped (or there was none)")
	}
	if !strings.Contains(v.Notes["docker:flask"], "format: werkzeug (auto)") {
		t.Errorf("note %q", v.Notes["docker:flask"])
	}
	if st := v.States["docker:flask"]; st != detect.StateStopped {
		t.Errorf("state %v, want stopped", st)
	}
}

// recordedRequests lists the recorded container's requests, in order.
func recordedRequests(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "containers", "flask.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if _, req, ok := strings.Cut(l, `"`); ok && strings.Contains(req, "HTTP/1") {
			f := strings.Fields(req)
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out
}

// Not following: one attempt, to its end. podman is read the same way.
func TestContainerNoFollow(t *testing.T) {
	fakeEngineOnPath(t, "")
	batches := testkit.Batches(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, "podman:flask", Options{Location: time.UTC}, out)
	})
	n := 0
	for _, b := range batches {
		n += len(b.Requests)
	}
	if n != 16 {
		t.Errorf("%d requests, want 16", n)
	}
}

// A container that does not exist: while following it is waited for,
// and its note says what the engine said.
func TestContainerMissing(t *testing.T) {
	fakeEngineOnPath(t, "")
	c := testkit.Collect(t, func(ctx context.Context, out chan<- detect.Batch) error {
		return Run(ctx, "docker:nosuch", Options{Follow: true, RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond}, out)
	})
	c.WaitFor(t, "the engine's error in the note", 10*time.Second, func(v testkit.View) bool {
		return strings.Contains(v.Notes["docker:nosuch"], "No such container: nosuch; again in")
	})
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
}

// An engine that is not installed is the user's to fix: ErrSpec, named.
func TestEngineNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Run(t.Context(), "docker:flask", Options{Follow: true}, make(chan detect.Batch, 64))
	if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "docker:flask") || !strings.Contains(err.Error(), "docker is not installed") {
		t.Errorf("err = %v", err)
	}
}

func TestParseTimestamped(t *testing.T) {
	for _, tc := range []struct {
		name, in, msg string
		ok            bool
	}{
		{"docker", "2026-11-26T22:58:29.250000000Z hello world", "hello world", true},
		{"podman_offset", "2026-11-26T23:58:29.25+01:00 hello", "hello", true},
		{"empty_line", "2026-11-26T22:58:29.250000000Z ", "", true},
		{"hostile_engine_error", "Error response from daemon: No such container: x", "", false},
		{"hostile_no_space", "2026-11-26T22:58:29.250000000Z", "", false},
		{"hostile_bad_time", "2026-13-26T22:58:29Z x", "", false},
		{"hostile_short", "2026-", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, msg, ok := parseTimestamped([]byte(tc.in))
			if ok != tc.ok || string(msg) != tc.msg {
				t.Errorf("got %q %v, want %q %v", msg, ok, tc.msg, tc.ok)
			}
		})
	}
}

func FuzzTimestamped(f *testing.F) {
	f.Add([]byte("2026-11-26T22:58:29.250000000Z hello"))
	f.Add([]byte("2026-11-26T23:58:29+01:00 x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, msg, ok := parseTimestamped(b)
		if ok && (ts.IsZero() || len(msg) >= len(b)) {
			t.Fatalf("%v %q", ts, msg)
		}
	})
}

// --state: a second run asks the engine for what came since the last line
// the first read, and reads nothing twice.
func TestContainerState(t *testing.T) {
	fakeEngineOnPath(t, "2026-11-26T22:58:32.500000000Z,2026-11-26T22:59:59Z")
	store, err := state.Open(filepath.Join(t.TempDir(), "rw.state"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	o := Options{Location: time.UTC, State: store}
	first := runCommitted(t, "docker:flask", o)["docker:flask"] // the container's first run: up to the restart
	second := runCommitted(t, "docker:flask", o)["docker:flask"]
	got := append(append([]string(nil), first...), second...)
	want := recordedRequests(t)
	for i := range want {
		_, want[i], _ = strings.Cut(want[i], " ") // the target
	}
	if len(first) == 0 || len(second) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("first run %v, second %v; want each of %v once", first, second, want)
	}
}
