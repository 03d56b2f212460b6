package e2e

// Checkpoints: --state makes restarts exactly-once for a followed log,
// even when the run is killed with SIGKILL at any point.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestStateKilledTenTimes appends numbered lines to a log (rotating it by
// rename-and-create twice on the way) while rebindwatch follows it with
// --state and is killed with SIGKILL at random points ten times, each
// run appending its request lines to one file (by -o, or by a stdout opened
// for appending, in turn). A last run is stopped with SIGTERM once the
// writer is done. Across all runs every line's request is in the file
// exactly once.
func TestStateKilledTenTimes(t *testing.T) {
	const lines = 3000
	dir := t.TempDir()
	logPath := filepath.Join(dir, "api.log")
	outPath := filepath.Join(dir, "requests.jsonl")
	statePath := filepath.Join(dir, "rw.state")
	writeFile(t, logPath, "", 0o644)

	var written atomic.Int64
	writerDone := make(chan error, 1)
	go func() { writerDone <- appendNumbered(logPath, lines, &written) }()

	args := []string{"--no-tui", "--emit", "request", "--state", statePath}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for run := range 10 {
		cmd, closeOut := stateRun(t, run, args, logPath, outPath)
		time.Sleep(time.Duration(100+rng.IntN(1300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		closeOut()
	}
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	cmd, closeOut := stateRun(t, 10, args, logPath, outPath)
	// Up (its signal handlers set) and caught up: the state says the log
	// was read to its end.
	waitUntil(t, cmd, "its note on the log", func() bool { return strings.Contains(cmd.Stderr.(*syncBuffer).String(), "api.log:") })
	waitUntil(t, cmd, "the state at the log's end", func() bool {
		fi, err := os.Stat(logPath)
		b, _ := os.ReadFile(statePath)
		return err == nil && strings.Contains(string(b), fmt.Sprintf(`"offset":%d}]`, fi.Size()))
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("last run: %v", err)
	}
	closeOut()

	seen := make([]int, lines+1)
	num := regexp.MustCompile(`"target":"/n/(\d+)"`)
	for i, l := range strings.Split(strings.TrimSpace(readFile(t, outPath)), "\n") {
		m := num.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("output line %d is not a request of the log: %q", i+1, l)
		}
		var n int
		fmt.Sscan(m[1], &n)
		seen[n]++
	}
	var missing, twice []int
	for n := 1; n <= lines; n++ {
		switch {
		case seen[n] == 0:
			missing = append(missing, n)
		case seen[n] > 1:
			twice = append(twice, n)
		}
	}
	if len(missing)+len(twice) > 0 {
		t.Fatalf("over 11 runs (10 killed), %d lines never emitted (%v), %d emitted more than once (%v)",
			len(missing), head(missing), len(twice), head(twice))
	}
}

// stateRun starts a run that appends to out: with -o on even runs, through
// a stdout opened for appending on odd ones.
func stateRun(t *testing.T, run int, args []string, logPath, outPath string) (*exec.Cmd, func()) {
	t.Helper()
	a := append([]string{}, args...)
	var out *os.File
	if run%2 == 0 {
		a = append(a, "-o", outPath)
	} else {
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		out = f
	}
	cmd := exec.Command(bin, append(a, logPath)...)
	cmd.Stderr = &syncBuffer{}
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, func() {
		if out != nil {
			out.Close()
		}
	}
}

// appendNumbered appends lines numbered 1..n to path at about one a
// millisecond, renaming the file away and starting a new one after each
// third of them, as logrotate's "create" does.
func appendNumbered(path string, n int, written *atomic.Int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		if i%(n/3) == 0 {
			f.Close()
			if err := os.Rename(path, fmt.Sprintf("%s.%d", path, i/(n/3))); err != nil {
				return err
			}
			if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
				return err
			}
		}
		ts := start.Add(time.Duration(i) * time.Millisecond).Format("02/Jan/2006:15:04:05 -0700")
		line := fmt.Sprintf("127.0.0.%d - - [%s] \"GET /n/%d HTTP/1.1\" 200 2 \"-\" \"writer\"\n", 1+i%200, ts, i)
		if _, err := f.WriteString(line); err != nil {
			return err
		}
		written.Store(int64(i))
		time.Sleep(time.Millisecond)
	}
	return f.Close()
}

func head(s []int) []int {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}
