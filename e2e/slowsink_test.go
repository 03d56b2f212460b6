package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDashboardOutlivesAStuckOutput: beside the dashboard, -o goes to a
// FIFO whose reader holds it open and never reads. The engine must not
// wait for it: every line of the log is read (the screen says DONE with
// every request counted), the lines the FIFO could not take are counted in
// the header, and q still ends the run (exit 1: the output lost lines, said
// on stderr).
func TestDashboardOutlivesAStuckOutput(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "many.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	t0 := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	const n = 80_000 // some 25 MB of request lines: past the 16 MiB queue
	for i := range n {
		ts := t0.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339)
		fmt.Fprintf(w, "10.0.%d.%d - - [%s] \"GET /v1/items/%d HTTP/1.1\" 200 12 \"-\" \"curl/8.0\" host=\"api.rebind.test\" origin=\"-\" key=\"%08x\" rt=0.001\n",
			i>>8&255, i&255, ts, i, i%500)
	}
	w.Flush()
	f.Close()
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// The reader that never reads: open, so the writer's open succeeds.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tm := newTerm(t, 160, 50, dir, "--no-follow", "--allow-host", "api.rebind.test", "--log-format", "nginx:"+extFormat(t),
		"-o", fifo, "--emit", "request,alert", logPath)
	s := tm.waitText("DONE", "output dropped")
	if !strings.Contains(s, "80,000") && !strings.Contains(s, "80000") && !strings.Contains(s, strconv.Itoa(n/1000)+"k") {
		t.Errorf("the screen does not count the %d requests:\n%s", n, s)
	}
	tm.keys("q")
	if code := tm.exited(); code != 1 {
		t.Errorf("exit status %d after quitting with a stuck output, want 1", code)
	}
}
