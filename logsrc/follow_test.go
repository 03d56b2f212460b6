package logsrc

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// numberOf returns n for a request made by numbered(n), else -1.
func numberOf(r *detect.Request) int {
	s, ok := strings.CutPrefix(r.Target, "/n/")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// numbersInFiles returns the numbered lines present in files (the log and
// its rotations on disk), counting each occurrence.
func numbersInFiles(t *testing.T, files []string) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.Index(l, "/n/"); i >= 0 {
				rest := l[i+3:]
				if j := strings.IndexByte(rest, ' '); j > 0 {
					if n, err := strconv.Atoi(rest[:j]); err == nil {
						seen[n]++
					}
				}
			}
		}
	}
	return seen
}

// TestFollowLogrotate rotates a file with the real logrotate, in its two
// modes, three times while a writer appends 2000 numbered lines over about
// 3 s, and checks that every line that is in some file on disk afterwards
// arrived exactly once. With copytruncate, logrotate itself loses what is
// written between its copy and its truncation; those lines are in no file,
// and the test reports how many there were.
func TestFollowLogrotate(t *testing.T) {
	lr, err := exec.LookPath("logrotate")
	if err != nil {
		t.Skip("SKIPPED: logrotate is not installed (Debian package logrotate); the rotation tests with the real logrotate did not run")
	}
	for _, mode := range []string{"create", "copytruncate"} {
		t.Run(mode, func(t *testing.T) { testLogrotate(t, lr, mode) })
	}
}

func testLogrotate(t *testing.T, logrotate, mode string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	flag := filepath.Join(dir, "reopen")
	conf := filepath.Join(dir, "logrotate.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`%q {
    rotate 5
    %s
    missingok
    nocompress
    postrotate
        touch %q
    endscript
}
`, path, mode, flag)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, path, Options{Format: "combined", Follow: true, BatchSize: 64})

	const total = 2000
	started := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	writerErr := make(chan error, 1)
	go func() { // the server: appends, and reopens its log when told (nginx on USR1)
		defer wg.Done()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			writerErr <- err
			return
		}
		defer func() { f.Close() }()
		begin := time.Now()
		for i := 0; i < total; i++ {
			if _, err := os.Stat(flag); err == nil {
				os.Remove(flag)
				f.Close()
				if f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
					writerErr <- err
					return
				}
			}
			if _, err := f.WriteString(numbered(i) + "\n"); err != nil {
				writerErr <- err
				return
			}
			if d := time.Until(begin.Add(time.Duration(i+1) * 1500 * time.Microsecond)); d > 0 {
				time.Sleep(d)
			}
		}
		writerErr <- nil
	}()
	state := filepath.Join(dir, "state")
	for _, at := range []time.Duration{700 * time.Millisecond, 1500 * time.Millisecond, 2300 * time.Millisecond} {
		time.Sleep(time.Until(started.Add(at)))
		out, err := exec.Command(logrotate, "-f", "-s", state, conf).CombinedOutput()
		if err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
	}
	wg.Wait()
	if err := <-writerErr; err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	onDisk := numbersInFiles(t, files)
	for n, k := range onDisk {
		if k > 1 {
			t.Errorf("line %d is on disk %d times", n, k)
		}
	}
	lostByLogrotate := total - len(onDisk)
	until(t, 10*time.Second, fmt.Sprintf("the %d lines on disk", len(onDisk)), func() bool {
		return len(c.requests()) >= len(onDisk)
	})
	time.Sleep(300 * time.Millisecond) // would let duplicates show up
	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	for _, r := range c.requests() {
		got[numberOf(&r)]++
	}
	var dup, missed []int
	for n, k := range got {
		if k > 1 {
			dup = append(dup, n)
		}
		if n < 0 || n >= total {
			t.Errorf("line %d arrived but was never written", n)
		}
	}
	seenOnlyByUs := len(got) - len(onDisk) // written between logrotate's copy and its truncate, read before the truncate
	for n := range onDisk {
		if got[n] == 0 {
			missed = append(missed, n)
		}
	}
	sort.Ints(dup)
	sort.Ints(missed)
	if len(dup) > 0 || len(missed) > 0 {
		t.Errorf("%s: %d lines twice %v, %d lines on disk never arrived %v", mode, len(dup), head(dup), len(missed), head(missed))
	}
	var counters = map[string]uint64{}
	for _, b := range c.snapshot() {
		for k, v := range b.Counters {
			counters[k] += v
		}
		if b.ParseErrors > 0 {
			t.Errorf("parse errors: %+v", b.Problems)
		}
	}
	t.Logf("%s: %d lines written, %d on disk after 3 rotations (logrotate lost %d), %d received (%d of them in no file); counters %v",
		mode, total, len(onDisk), lostByLogrotate, len(got), seenOnlyByUs, counters)
	if mode == "create" && lostByLogrotate != 0 {
		t.Errorf("create mode lost %d lines on disk", lostByLogrotate)
	}
}

func head(s []int) []int {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// TestFollowRotationCases: rotations done by hand, each checked for lost
// and repeated lines.
func TestFollowRotationCases(t *testing.T) {
	type step func(t *testing.T, path string, next func(k int))
	cases := []struct {
		name  string
		steps step
	}{
		{"rename_create_writer_lags", func(t *testing.T, path string, next func(k int)) {
			// The writer keeps writing to the renamed file for a while.
			old, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			os.Rename(path, path+".1")
			next(5)
			appendTo(t, old, 5)
			appendFile(t, path, "")
			next(5)
			old.Close()
		}},
		{"delete_and_recreate", func(t *testing.T, path string, next func(k int)) {
			os.Remove(path)
			time.Sleep(250 * time.Millisecond)
			next(5)
		}},
		{"truncate_and_regrow_past_offset", func(t *testing.T, path string, next func(k int)) {
			// Truncated, then more written than had been read, between two
			// looks: only the changed bytes before the offset tell.
			var b strings.Builder
			for k := 0; k < 60; k++ {
				b.WriteString(numbered(nextN) + "\n")
				nextN++
			}
			os.WriteFile(path, []byte(b.String()), 0o644) // O_TRUNC + write, same inode
		}},
		{"copytruncate_by_hand", func(t *testing.T, path string, next func(k int)) {
			// Lines appended after our last read and before the copy are
			// only in the copy.
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			appendTo(t, f, 3)
			data, _ := os.ReadFile(path)
			os.WriteFile(path+".1", data, 0o644)
			f.Truncate(0)
			f.Close()
			next(4)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nextN = 0
			dir := t.TempDir()
			path := filepath.Join(dir, "access.log")
			appendFile(t, path, lines(10))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := start(ctx, t, path, Options{Format: "combined", Follow: true})
			until(t, 5*time.Second, "the first lines", func() bool { return len(c.requests()) == 10 })
			tc.steps(t, path, func(k int) { appendFile(t, path, lines(k)) })
			until(t, 10*time.Second, fmt.Sprintf("%d lines", nextN), func() bool { return len(c.requests()) >= nextN })
			time.Sleep(300 * time.Millisecond)
			got := map[int]int{}
			for _, r := range c.requests() {
				got[numberOf(&r)]++
			}
			for n := 0; n < nextN; n++ {
				if got[n] != 1 {
					t.Errorf("line %d arrived %d times", n, got[n])
				}
			}
			if len(got) != nextN {
				t.Errorf("got %d distinct lines, want %d", len(got), nextN)
			}
		})
	}
}

// nextN numbers the lines the rotation cases write.
var nextN int

func lines(k int) string {
	var b strings.Builder
	for i := 0; i < k; i++ {
		b.WriteString(numbered(nextN) + "\n")
		nextN++
	}
	return b.String()
}

func appendTo(t *testing.T, f *os.File, k int) {
	t.Helper()
	if _, err := f.WriteString(lines(k)); err != nil {
		t.Fatal(err)
	}
}

// TestFollowTailOnly starts at the end: what was there is not read, a line
// being written when it started is dropped whole, what comes is read.
func TestFollowTailOnly(t *testing.T) {
	path := writeTemp(t, numbered(0)+"\n"+numbered(1)+"\n"+numbered(2)[:20])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, path, Options{Format: "combined", Follow: true, TailOnly: true})
	until(t, 5*time.Second, "following", func() bool {
		bs := c.snapshot()
		return len(bs) > 0 && bs[len(bs)-1].State == detect.StateFollowing
	})
	appendFile(t, path, numbered(2)[20:]+"\n"+numbered(3)+"\n")
	until(t, 5*time.Second, "the new line", func() bool { return len(c.requests()) >= 1 })
	time.Sleep(200 * time.Millisecond)
	rs := c.requests()
	if len(rs) != 1 || rs[0].Target != "/n/3" {
		t.Errorf("got %d requests, first %+v; want only /n/3", len(rs), rs)
	}
	bs := c.snapshot()
	for _, b := range bs {
		if b.ParseErrors > 0 {
			t.Errorf("parse errors: %+v", b.Problems)
		}
	}
}

// TestFollowPartialLine: a line written in pieces waits for its newline.
func TestFollowPartialLine(t *testing.T) {
	path := writeTemp(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, path, Options{Format: "combined", Follow: true})
	l := numbered(7)
	appendFile(t, path, l[:10])
	time.Sleep(250 * time.Millisecond)
	appendFile(t, path, l[10:40])
	time.Sleep(250 * time.Millisecond)
	if n := len(c.requests()); n != 0 {
		t.Fatalf("%d requests from a partial line", n)
	}
	appendFile(t, path, l[40:]+"\n")
	until(t, 5*time.Second, "the completed line", func() bool { return len(c.requests()) == 1 })
	for _, b := range c.snapshot() {
		if b.ParseErrors > 0 {
			t.Errorf("parse errors: %+v", b.Problems)
		}
	}
}

// TestRunGlob follows a glob: a source per file, a file that appears later
// is read from its start, a rotated copy of a followed file is not read
// again.
func TestRunGlob(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(a, []byte(numbered(0)+"\n"), 0o644)
	os.WriteFile(b, []byte(numbered(1)+"\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := start(ctx, t, filepath.Join(dir, "*.log*"), Options{Format: "auto", Follow: true})
	until(t, 5*time.Second, "both files", func() bool { return len(c.requests()) == 2 })
	cpath := filepath.Join(dir, "c.log")
	os.WriteFile(cpath, []byte(numbered(2)+"\n"), 0o644)
	until(t, 5*time.Second, "the new file", func() bool { return len(c.requests()) == 3 })
	os.Rename(a, a+".1") // rotated: matches the glob, but its lines were read
	appendFile(t, a, numbered(3)+"\n")
	until(t, 5*time.Second, "the line after rotation", func() bool { return len(c.requests()) == 4 })
	time.Sleep(1500 * time.Millisecond) // a glob rescan
	rs := c.requests()
	if len(rs) != 4 {
		t.Errorf("%d requests, want 4", len(rs))
	}
	src := map[string]string{}
	for _, r := range rs {
		src[r.Target] = r.Source
	}
	if src["/n/0"] != a || src["/n/1"] != b || src["/n/2"] != cpath || src["/n/3"] != a {
		t.Errorf("sources %v", src)
	}
	cancel()
	if err := c.wait(t, 5*time.Second); err != nil {
		t.Error(err)
	}

	// Not following: each match read once; nothing matching is an error.
	bs, err := runFile(t, filepath.Join(dir, "[bc].log"), Options{Format: "auto"})
	if n, _, _ := sum(bs); err != nil || n != 2 {
		t.Errorf("glob read: %d requests, %v", n, err)
	}
	if _, err := runFile(t, filepath.Join(dir, "*.nothing"), Options{}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("no match: %v", err)
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.log", "a.log", "c.txt", "lit*eral.log"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := Expand([]string{"-", filepath.Join(dir, "*.log"), "/no/such/plain.log", filepath.Join(dir, "lit*eral.log")})
	want := []string{"-", filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"), filepath.Join(dir, "lit*eral.log"),
		"/no/such/plain.log", filepath.Join(dir, "lit*eral.log")}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Expand = %q, %v\nwant %q", got, err, want)
	}
	got, err = Expand([]string{filepath.Join(dir, "*.none"), filepath.Join(dir, "*.txt"), filepath.Join(dir, "\x1b]0;*.x")})
	if !errors.Is(err, ErrNoMatch) || len(got) != 3 || got[1] != filepath.Join(dir, "c.txt") ||
		!strings.Contains(err.Error(), "*.none") {
		t.Errorf("Expand with no match = %q, %v", got, err)
	}
	if _, err := Expand([]string{"[unclosed"}); err == nil || errors.Is(err, ErrNoMatch) {
		t.Errorf("bad pattern: %v", err)
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write(data)
	z.Close()
	return b.Bytes()
}

// TestRunBinaryAndGzip: rotated .gz logs are read; binary files and
// compressed files without a .gz name are refused with ErrBinaryFile.
func TestRunBinaryAndGzip(t *testing.T) {
	dir := t.TempDir()
	text := []byte(numbered(0) + "\n" + numbered(1) + "\n")
	gz := filepath.Join(dir, "access.log.2.gz")
	// Two gzip members, as nginx's gzip= and concatenated rotations write.
	os.WriteFile(gz, append(gzipped(t, text), gzipped(t, []byte(numbered(2)+"\n"))...), 0o644)
	for _, follow := range []bool{false, true} {
		bs, err := runFile(t, gz, Options{Follow: follow})
		reqs, perr, _ := sum(bs)
		if err != nil || reqs != 3 || perr != 0 || bs[len(bs)-1].State != detect.StateDone {
			t.Errorf("gz (follow %v): err %v, %d requests, %d errors, state %v", follow, err, reqs, perr, bs[len(bs)-1].State)
		}
	}
	cases := map[string][]byte{
		"gzip_without_gz_name.log": gzipped(t, text),
		"nul.log":                  append([]byte(numbered(0)+"\n"), 0, 0, 1, 2),
		"controls.log":             bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 'a', '\n'}, 20),
		"capture.pcap":             {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0},
		"archive.tar.gz":           gzipped(t, append([]byte("ustar"), make([]byte, 600)...)),
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		for _, follow := range []bool{false, true} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			out := make(chan detect.Batch, 100)
			err := Run(ctx, p, Options{Follow: follow}, out)
			cancel()
			if !errors.Is(err, ErrBinaryFile) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s (follow %v): err %v, want ErrBinaryFile", name, follow, err)
			}
		}
	}
	// A log that turns binary later is not refused for it: only its start is checked.
	p := filepath.Join(dir, "late.log")
	os.WriteFile(p, append(bytes.Repeat([]byte(numbered(0)+"\n"), 100), 0, '\n'), 0o644)
	if _, err := runFile(t, p, Options{}); err != nil {
		t.Errorf("late NUL: %v", err)
	}
}
