package e2e

// Privileges: replaying a capture and reading logs need none.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

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
			noKeys(t, "stdout", stdout.String())
			noKeys(t, "stderr", stderr.String())
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
		defer f.Close()
		if _, err := f.WriteString(strings.Join(ls, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
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
	if err := waitExit(t, cmd); err != nil {
		t.Errorf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	noKeys(t, "stdout", stdout.String())
	noKeys(t, "stderr", stderr.String())
	for _, h := range terminalHazards(stderr.String()) {
		t.Errorf("stderr: %s", h)
	}
}
