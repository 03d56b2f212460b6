package e2e

// Stops while blocked: a run must end on a signal whatever it is waiting
// for (a quiet input, an output nobody reads, a terminal that hung up), and
// what it read must be counted.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stderrSummary is the summary line a run wrote to stderr.
func stderrSummary(t *testing.T, stderr string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, `{"type":"summary"`) {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("summary on stderr is not JSON: %v", err)
			}
			return m
		}
	}
	t.Fatalf("no summary on stderr: %s", stderr)
	return nil
}

// TestOutputReaderLeaves: rebindwatch ... | head -1. The reader goes away
// after a line; the run ends cleanly (exit 0) and its summary goes to
// stderr, since stdout is gone.
func TestOutputReaderLeaves(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/big.log"
	line := readFile(t, rec+"normal_access_combined.log")
	writeFile(t, log, strings.Repeat(line, 200), 0o644)
	cmd := exec.Command(bin, "--no-tui", "--no-follow", "--emit", "request,summary", log)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	if _, err := stdout.Read(b); err != nil {
		t.Fatal(err)
	}
	stdout.Close() // the reader leaves
	err = waitExit(t, cmd)
	if err != nil {
		t.Fatalf("exit %v, want 0 (the reader leaving ends a run cleanly); stderr: %s", err, stderr.String())
	}
	if s := stderrSummary(t, stderr.String()); s["requests"].(float64) == 0 {
		t.Errorf("summary counts nothing: %v", s)
	}
	noKeys(t, "stderr", stderr.String())
}

// TestOutputReaderStopsReading: the reader is alive but reads nothing; a
// SIGTERM still ends the run (after the drain deadline at the latest),
// with exit 0 and the summary on stderr since stdout is stuck.
func TestOutputReaderStopsReading(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/big.log"
	line := readFile(t, rec+"normal_access_combined.log")
	writeFile(t, log, strings.Repeat(line, 400), 0o644)
	cmd := exec.Command(bin, "--no-tui", "--emit", "request,summary", log)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // held open, never read
	cmd.Stdout = w
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	waitUntil(t, cmd, "the format note", func() bool { return strings.Contains(stderr.String(), "format:") })
	time.Sleep(300 * time.Millisecond) // let it fill the pipe and block
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = waitExit(t, cmd)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to stop", took)
	}
	if err != nil {
		t.Errorf("exit %v, want 0 (the README's exit status table)", err)
	}
	stderrSummary(t, stderr.String())
	if !strings.Contains(stderr.String(), "stopped before every source had drained") {
		t.Errorf("stderr does not say the drain was cut short: %s", stderr.String())
	}
}

// TestDashboardEndsWithItsTerminal: the terminal the dashboard runs in goes
// away (an SSH hang-up, tmux kill-session): the dashboard exits instead of
// running on with its tty gone. The kernel sends SIGHUP to the session's
// leader only: when that is the dashboard (exec), it gets the signal; when
// it is a shell that ignores SIGHUP (trap "" HUP, as nohup does), no signal
// comes and the dashboard must notice the line is gone by itself. Either
// way it exits 0, as on SIGTERM.
func TestDashboardEndsWithItsTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("pty run skipped with -short")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("SKIPPED LOUDLY: util-linux script is not installed, so the hang-up under a pty is not tested")
	}
	for _, tc := range []struct{ name, shell string }{
		{"sighup", "exec %[1]s %[2]s"},
		{"shell_ignores_hup", "trap '' HUP; %s %s; echo $? >%s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := dir + "/access.log"
			status := dir + "/status"
			writeFile(t, log, readFile(t, rec+"normal_access_combined.log"), 0o644)
			inner := "stty rows 24 cols 80; " + fmt.Sprintf(tc.shell, bin, log, status)
			cmd, out, _ := startInPty(t, script, "", inner)
			waitUntil(t, cmd, "the dashboard", func() bool { return strings.Contains(out.String(), "\x1b[?1049h") })
			child := childPID(t, cmd.Process.Pid)
			dashboard := child
			if tc.name != "sighup" {
				dashboard = childPID(t, child) // the shell's child
			}
			// The terminal goes: its master side closes, the kernel hangs
			// up the session and the line answers nothing any more.
			cmd.Process.Kill()
			cmd.Wait()
			deadline := time.Now().Add(patience)
			for syscall.Kill(dashboard, 0) == nil {
				if b, _ := os.ReadFile("/proc/" + strconv.Itoa(dashboard) + "/stat"); bytes.Contains(b, []byte(") Z ")) {
					break // exited, not yet reaped by its parent
				}
				if time.Now().After(deadline) {
					syscall.Kill(dashboard, syscall.SIGKILL)
					t.Fatalf("the dashboard still runs %v after its terminal went away", patience)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if tc.name == "sighup" {
				return // its exit status went to script, which is gone
			}
			waitUntil(t, cmd, "the shell to write the exit status", func() bool {
				b, _ := os.ReadFile(status)
				return len(b) > 0
			})
			if got := strings.TrimSpace(readFile(t, status)); got != "0" {
				t.Errorf("exit status %s after the terminal went away, want 0", got)
			}
		})
	}
}

// TestDashboardReloadsWhileItsTerminalIsThere: under the dashboard, a
// SIGHUP whose terminal is still there (kill -HUP from another shell) is a
// reload, as headless: the run goes on and the dashboard says what the
// reload did, or why it was refused (an emptied config would turn the Host
// check off), then q ends it with exit 0.
func TestDashboardReloadsWhileItsTerminalIsThere(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/access.log"
	cfg := dir + "/rebindwatch.toml"
	writeFile(t, log, readFile(t, rec+"normal_access_combined.log")+"\n", 0o644)
	writeFile(t, cfg, "[hosts]\nallowed = [\"api.rebind.test\"]\n", 0o644)
	tm := newTerm(t, 120, 30, dir, "-c", cfg, log)
	tm.waitText("config ")
	shell, err := strconv.Atoi(strings.TrimSpace(tm.tmux("display-message", "-p", "-t", "rw", "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	dashboard := childPID(t, shell)

	writeFile(t, cfg, "[hosts]\nallowed = [\"api.rebind.test\", \"eu.rebind.test\"]\n", 0o644)
	syscall.Kill(dashboard, syscall.SIGHUP)
	tm.waitText("config reloaded: allowed hosts +1 -0")

	writeFile(t, cfg, "", 0o644)
	syscall.Kill(dashboard, syscall.SIGHUP)
	tm.waitText("config reload refused")

	tm.keys("q")
	if code := tm.exited(); code != 0 {
		t.Errorf("exit status %d after q, want 0", code)
	}
}
