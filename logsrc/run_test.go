package logsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// collector runs Run in the background and gathers its batches.
type collector struct {
	mu      sync.Mutex
	batches []detect.Batch
	done    chan struct{}
	err     error
}

func start(ctx context.Context, t *testing.T, path string, opts Options) *collector {
	t.Helper()
	c := &collector{done: make(chan struct{})}
	out := make(chan detect.Batch)
	go func() {
		c.err = Run(ctx, path, opts, out)
		close(out)
	}()
	go func() {
		defer close(c.done)
		for b := range out {
			c.mu.Lock()
			c.batches = append(c.batches, b)
			c.mu.Unlock()
		}
	}()
	return c
}

// wait waits for Run to return, failing the test after d.
func (c *collector) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(d):
		t.Fatalf("Run did not return within %v", d)
		return nil
	}
}

func (c *collector) snapshot() []detect.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]detect.Batch(nil), c.batches...)
}

func (c *collector) requests() []detect.Request {
	var rs []detect.Request
	for _, b := range c.snapshot() {
		rs = append(rs, b.Requests...)
	}
	return rs
}

// until polls cond every 10 ms for up to d.
func until(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runFile(t *testing.T, path string, opts Options) ([]detect.Batch, error) {
	t.Helper()
	c := start(context.Background(), t, path, opts)
	err := c.wait(t, 20*time.Second)
	return c.snapshot(), err
}

func sum(bs []detect.Batch) (reqs int, perr uint64, probs []detect.Problem) {
	for _, b := range bs {
		reqs += len(b.Requests)
		perr += b.ParseErrors
		probs = append(probs, b.Problems...)
	}
	return
}

func TestRunFile(t *testing.T) {
	const path = "testdata/nginx_real.log"
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := runFile(t, path, Options{Format: "nginx:" + readFile(t, "testdata/nginx_real.fmt"), Keys: testKeys(), BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	reqs, perr, probs := sum(bs)
	if reqs != 26 || perr != 3 || len(probs) != 3 {
		t.Errorf("requests %d, parse errors %d, problems %d; want 26, 3, 3", reqs, perr, len(probs))
	}
	for _, b := range bs {
		if b.Source != path || len(b.Requests) > 10 {
			t.Errorf("batch source %q with %d requests", b.Source, len(b.Requests))
		}
		for _, r := range b.Requests {
			if r.Source != path || r.Time.IsZero() {
				t.Errorf("request source %q time %v", r.Source, r.Time)
			}
		}
	}
	last := bs[len(bs)-1]
	if last.State != detect.StateDone || last.Done != fi.Size() || last.Total != fi.Size() {
		t.Errorf("last batch: state %v done %d total %d, want done with %d bytes", last.State, last.Done, last.Total, fi.Size())
	}
	for _, b := range bs[:len(bs)-1] {
		if b.State != detect.StateReplaying {
			t.Errorf("batch state %v before the end", b.State)
		}
	}
	wantWhere := []string{path + ":23", path + ":27", path + ":28"}
	for i, p := range probs {
		if p.Where != wantWhere[i] || p.Source != path {
			t.Errorf("problem %d at %s (%s), want %s", i, p.Where, p.Source, wantWhere[i])
		}
		if len(p.Text) > problemBytes+80 {
			t.Errorf("problem text not short: %q", p.Text)
		}
	}
	if !strings.HasPrefix(probs[0].Text, `request line is not HTTP: 127.0.0.1 - - [`) || !strings.HasSuffix(probs[0].Text, "...") {
		t.Errorf("problem text %q", probs[0].Text)
	}
}

func TestRunAuto(t *testing.T) {
	bs, err := runFile(t, "testdata/nginx_combined.log", Options{Format: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	reqs, perr, _ := sum(bs)
	if reqs != 26 || perr != 3 {
		t.Errorf("requests %d, parse errors %d; want 26, 3", reqs, perr)
	}
	for _, b := range bs {
		if b.Note != "format: combined (auto)" {
			t.Errorf("note %q", b.Note)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	line1 = `127.0.0.1 - - [26/Nov/2026:22:13:19 +0000] "GET /one HTTP/1.1" 200 3 "-" "curl/7.88.1"`
	line2 = `127.0.0.1 - - [26/Nov/2026:22:13:20 +0000] "GET /two HTTP/1.1" 200 3 "-" "curl/7.88.1"`
)

func TestRunAutoLateDecision(t *testing.T) {
	path := writeTemp(t, "garbage one\n\n  \ngarbage two\n"+line1+"\n"+line2+"\n")
	bs, err := runFile(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reqs, perr, probs := sum(bs)
	if reqs != 2 || perr != 2 || len(probs) != 2 {
		t.Fatalf("requests %d, parse errors %d, problems %d; want 2, 2, 2", reqs, perr, len(probs))
	}
	if probs[0].Where != path+":1" || probs[1].Where != path+":4" {
		t.Errorf("problems at %s, %s", probs[0].Where, probs[1].Where)
	}
	rs := bs[len(bs)-1].Requests
	if len(rs) != 2 || rs[0].Target != "/one" || rs[1].Target != "/two" {
		t.Errorf("requests out of order: %+v", rs)
	}
}

func TestRunAutoFails(t *testing.T) {
	// None of the first lines reads as any format.
	path := writeTemp(t, "{\"msg\":\"\x1b[31mred\"}\nsecond\nthird\n")
	_, err := runFile(t, path, Options{Format: "auto"})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("err = %v, want ErrUnknownFormat", err)
	}
	msg := err.Error()
	// The line is quoted by its shape: names and boundaries, values masked.
	for _, want := range []string{path, "line 1", `{"msg":"<text:`, "--log-format", "json:host="} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.ContainsAny(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	path = writeTemp(t, "garbage\nsecond\n")
	_, err = runFile(t, path, Options{Format: "auto"})
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "nginx:'<log_format>'") {
		t.Errorf("text garbage: err = %v", err)
	}
	// Fewer lines than the detection needs: still an error at EOF.
	path = writeTemp(t, "only garbage\n")
	if _, err := runFile(t, path, Options{Format: "auto"}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("short file: err = %v", err)
	}
	// An empty file is fine.
	path = writeTemp(t, "")
	bs, err := runFile(t, path, Options{Format: "auto"})
	if err != nil || len(bs) != 1 || bs[0].State != detect.StateDone {
		t.Errorf("empty file: err %v, batches %+v", err, bs)
	}
	// Garbage first, then a readable line within the first ten: decided,
	// and the garbage counted.
	path = writeTemp(t, "{\"msg\":\"x\"}\nsecond\nthird\n"+line1+"\n")
	bs, err = runFile(t, path, Options{Format: "auto"})
	reqs, perr, _ := sum(bs)
	if err != nil || reqs != 1 || perr != 3 {
		t.Errorf("late decision: err %v, %d requests, %d parse errors", err, reqs, perr)
	}
}

func TestRunErrors(t *testing.T) {
	_, err := runFile(t, filepath.Join(t.TempDir(), "missing.log"), Options{Format: "nginx-combined"})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing.log") {
		t.Errorf("missing file: %v", err)
	}
	_, err = runFile(t, "testdata/nginx_real.log", Options{Format: "nginx:$a$b"})
	if err == nil || !strings.Contains(err.Error(), "nothing between them") {
		t.Errorf("bad format: %v", err)
	}
	_, err = runFile(t, t.TempDir(), Options{Format: "nginx-combined"})
	if err == nil {
		t.Errorf("directory: no error")
	}
}

func TestRunLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	tests := []struct {
		name, content  string
		reqs           int
		perr           uint64
		problems       int
		firstProblemAt string
		opts           Options
	}{
		{name: "last_line_without_newline", content: line1 + "\n" + line2, reqs: 2},
		{name: "crlf", content: line1 + "\r\n" + line2 + "\r\n", reqs: 2},
		{name: "blank_lines_ignored", content: "\n\n" + line1 + "\n\n", reqs: 1},
		{name: "long_line_skipped", content: line1 + "\n" + long + "\n" + line2 + "\n", reqs: 2, perr: 1, problems: 1, firstProblemAt: ":2"},
		{name: "long_last_line", content: line1 + "\n" + long, reqs: 1, perr: 1, problems: 1},
		{name: "problems_capped", content: strings.Repeat("bad\n", 12) + line1 + "\n", reqs: 1, perr: 12, problems: 5,
			opts: Options{Format: "nginx-combined"}},
		{name: "problems_off", content: strings.Repeat("bad\n", 12), perr: 12, problems: 0,
			opts: Options{Format: "nginx-combined", MaxProblems: -1}},
		{name: "problems_more", content: strings.Repeat("bad\n", 12), perr: 12, problems: 8,
			opts: Options{Format: "nginx-combined", MaxProblems: 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.content)
			bs, err := runFile(t, path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			reqs, perr, probs := sum(bs)
			if reqs != tc.reqs || perr != tc.perr || len(probs) != tc.problems {
				t.Errorf("requests %d, parse errors %d, problems %d; want %d, %d, %d", reqs, perr, len(probs), tc.reqs, tc.perr, tc.problems)
			}
			if tc.firstProblemAt != "" && (len(probs) == 0 || !strings.HasSuffix(probs[0].Where, tc.firstProblemAt)) {
				t.Errorf("problems %+v, want the first at %s", probs, tc.firstProblemAt)
			}
			last := bs[len(bs)-1]
			if last.State != detect.StateDone || last.Done != int64(len(tc.content)) {
				t.Errorf("last batch: %v at %d of %d", last.State, last.Done, len(tc.content))
			}
		})
	}
}

// TestRunStream feeds runStream through a pipe: lines written while the
// pipe stays open must arrive without waiting for a batch to fill.
func TestRunStream(t *testing.T) {
	pr, pw := io.Pipe()
	out := make(chan detect.Batch, 100)
	s := newInput(context.Background(), "-", Options{Format: "nginx-combined", Follow: true}, out)
	errc := make(chan error, 1)
	go func() { errc <- s.runStream(context.Background(), pr, "stdin") }()

	var got []detect.Request
	recv := func(n int) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for len(got) < n {
			select {
			case b := <-out:
				got = append(got, b.Requests...)
				if b.State != detect.StateFollowing && b.State != detect.StateDone {
					t.Errorf("state %v", b.State)
				}
			case <-deadline:
				t.Fatalf("got %d requests, want %d", len(got), n)
			}
		}
	}
	fmt.Fprintf(pw, "%s\n%s", line1, line2[:20]) // the second line in two writes
	recv(1)
	fmt.Fprintf(pw, "%s\n", line2[20:])
	recv(2)
	fmt.Fprintf(pw, "%s", line1) // no newline before EOF
	pw.Close()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runStream did not end at EOF")
	}
	close(out)
	var last detect.Batch
	for b := range out {
		got = append(got, b.Requests...)
		last = b
	}
	if len(got) != 3 || got[1].Target != "/two" || got[2].Target != "/one" || last.State != detect.StateDone {
		t.Errorf("got %d requests, last state %v", len(got), last.State)
	}
	if got[0].Source != "-" {
		t.Errorf("source %q", got[0].Source)
	}
}

func mustCompile(t testing.TB, spec string) *Parser {
	t.Helper()
	p, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func numbered(i int) string {
	return fmt.Sprintf(`127.0.0.1 - - [26/Nov/2026:22:13:19 +0000] "GET /n/%d HTTP/1.1" 200 3 "-" "curl/7.88.1"`, i)
}

// TestRunFollow appends to a file while Run follows it: every line arrives
// once and in order, including one written in two pieces, and cancelling
// the context stops Run.
func TestRunFollow(t *testing.T) {
	path := writeTemp(t, numbered(0)+"\n"+numbered(1)+"\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, path, Options{Format: "auto", Follow: true})
	until(t, 5*time.Second, "the existing lines", func() bool { return len(c.requests()) == 2 })
	until(t, 5*time.Second, "following state", func() bool {
		bs := c.snapshot()
		return bs[len(bs)-1].State == detect.StateFollowing
	})

	n := 2
	for round := 0; round < 5; round++ {
		var b strings.Builder
		for k := 0; k < 20; k++ {
			b.WriteString(numbered(n) + "\n")
			n++
		}
		appendFile(t, path, b.String())
		time.Sleep(20 * time.Millisecond)
	}
	half := numbered(n)
	appendFile(t, path, half[:30])
	time.Sleep(150 * time.Millisecond)
	appendFile(t, path, half[30:]+"\n")
	n++
	until(t, 10*time.Second, fmt.Sprintf("%d lines", n), func() bool { return len(c.requests()) >= n })
	time.Sleep(200 * time.Millisecond) // would let duplicates show up

	rs := c.requests()
	if len(rs) != n {
		t.Errorf("got %d requests, want %d", len(rs), n)
	}
	for i, r := range rs {
		if want := fmt.Sprintf("/n/%d", i); r.Target != want {
			t.Fatalf("request %d is %s, want %s", i, r.Target, want)
		}
	}
	bs := c.snapshot()
	last := bs[len(bs)-1]
	if last.Note != "format: combined (auto)" || last.Done != last.Total || last.Total == 0 {
		t.Errorf("last batch: note %q done %d total %d", last.Note, last.Done, last.Total)
	}

	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestRunFollowWaitsAndReopens follows a file that does not exist yet, then
// sees it replaced (log rotation).
func TestRunFollowWaitsAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, path, Options{Format: "nginx-combined", Follow: true})
	until(t, 5*time.Second, "the waiting note", func() bool {
		bs := c.snapshot()
		return len(bs) > 0 && strings.Contains(bs[0].Note, "waiting for "+path+" to appear")
	})
	appendFile(t, path, numbered(0)+"\n")
	until(t, 5*time.Second, "the first line", func() bool { return len(c.requests()) == 1 })

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	appendFile(t, path, numbered(1)+"\n"+numbered(2)+"\n")
	until(t, 10*time.Second, "lines after rotation", func() bool { return len(c.requests()) == 3 })
	bs := c.snapshot()
	if last := bs[len(bs)-1]; last.Note != "" || last.State != detect.StateFollowing {
		t.Errorf("last batch: note %q state %v", last.Note, last.State)
	}
	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

func TestRunPaced(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, `127.0.0.1 - - [26/Nov/2026:22:13:%02d +0000] "GET /p/%d HTTP/1.1" 200 3 "-" "-"`+"\n", 10+5*i, i)
	}
	path := writeTemp(t, b.String())
	pacer := source.NewPacer(50) // 5 s of log time in 100 ms
	startAt := time.Now()
	bs, err := runFile(t, path, Options{Format: "nginx-combined", Pacer: pacer})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(startAt); el < 350*time.Millisecond {
		t.Errorf("5 lines 5 s apart at speed 50 took %v, want about 400 ms", el)
	}
	// Each line waited, so each was handed over before the wait for the next.
	var sizes []int
	for _, b := range bs {
		if len(b.Requests) > 0 {
			sizes = append(sizes, len(b.Requests))
		}
	}
	if fmt.Sprint(sizes) != "[1 1 1 1 1]" {
		t.Errorf("batch sizes %v, want one request each", sizes)
	}

	// A paused replay stops on cancel.
	pacer = source.NewPacer(1)
	pacer.SetPaused(true)
	ctx, cancel := context.WithCancel(context.Background())
	c := start(ctx, t, path, Options{Format: "nginx-combined", Pacer: pacer})
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Errorf("paused Run after cancel: %v", err)
	}
}

// A Run told to stop before it starts stops at once and still says so in a
// last batch (stopped): every way out goes through the source rule.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := make(chan detect.Batch, 4)
	if err := Run(ctx, "testdata/nginx_real.log", Options{Format: "nginx-combined"}, out); err != nil {
		t.Errorf("Run with a cancelled context: %v", err)
	}
	close(out)
	var last detect.Batch
	for b := range out {
		last = b
	}
	if last.State != detect.StateStopped {
		t.Errorf("last state %v, want stopped", last.State)
	}
}

// TestRunNamedPipe reads a FIFO (what <(tail -f x.log) gives): lines arrive
// while the writer keeps it open, and EOF ends the run.
func TestRunNamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := mkfifo(path); err != nil {
		t.Skip("no named pipes here:", err)
	}
	c := start(context.Background(), t, path, Options{Format: "nginx-combined", Follow: true})
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, line1)
	until(t, 5*time.Second, "the first line before EOF", func() bool { return len(c.requests()) == 1 })
	fmt.Fprintln(w, line2)
	w.Close()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	bs := c.snapshot()
	if len(c.requests()) != 2 || bs[len(bs)-1].State != detect.StateDone {
		t.Errorf("%d requests, last state %v", len(c.requests()), bs[len(bs)-1].State)
	}
}

// TestStopWhileBlocked: a followed FIFO with no writer blocks in open(2),
// one whose writer went quiet blocks in read(2); a stop ends both, and the
// lines already written are reported.
func TestStopWhileBlocked(t *testing.T) {
	dir := t.TempDir()
	noWriter := filepath.Join(dir, "nowriter")
	if err := mkfifo(noWriter); err != nil {
		t.Skip("no named pipes here:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := start(ctx, t, noWriter, Options{Format: "nginx-combined", Follow: true})
	time.Sleep(50 * time.Millisecond) // let it block in open
	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Fatalf("stopped while waiting for a writer: %v", err)
	}

	quiet := filepath.Join(dir, "quiet")
	mkfifo(quiet)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	c = start(ctx, t, quiet, Options{Format: "nginx-combined", Follow: true})
	w, err := os.OpenFile(quiet, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fmt.Fprintf(w, "%s\n%s\n", line1, line2)
	until(t, 5*time.Second, "the lines before the stop", func() bool { return len(c.requests()) == 2 })
	cancel() // the writer stays open and quiet
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Fatalf("stopped while the writer was quiet: %v", err)
	}
	if n := len(c.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
