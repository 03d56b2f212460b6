package e2e

// Memory under attack is also tested in detect/zz_memory_test.go and
// capture/zz_hostile_test.go, and measured on the binary by
// bench/memory.sh.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/keys"
)

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
	noKeys(t, "stdout", out)
	noKeys(t, "stderr", stderr.String())
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
