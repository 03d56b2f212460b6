package e2e

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

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
			cmd, out, _ := startInPty(t, script, "", inner)
			waitUntil(t, cmd, "the dashboard", func() bool {
				return strings.Contains(out.String(), "\x1b[?1049h") && strings.Contains(out.String(), "scenarios.pcap")
			})
			child := childPID(t, cmd.Process.Pid)
			syscall.Kill(child, sig)
			err := waitExit(t, cmd)
			o := out.String()
			noKeys(t, "the terminal", o)
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

// startInPty starts the shell command inner in a real pty (util-linux
// script) of an xterm without colour, in dir unless it is "". What the pty
// shows collects in out; stdin stays open until the test ends, so the pty
// sees no end of input.
func startInPty(t *testing.T, script, dir, inner string) (cmd *exec.Cmd, out *syncBuffer, stdin io.Writer) {
	t.Helper()
	cmd = exec.Command(script, "-qfec", inner, "/dev/null")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=1")
	out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, in
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
