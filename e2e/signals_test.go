package e2e

// Signals and output faults: SIGHUP reloads, SIGINT and SIGTERM stop with
// the summary written; a full disk or a closed pipe ends the run with
// exit 1 and says why.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsWhileFollowing follows a log, reloads a broken config on SIGHUP
// (reported, old config kept), then stops on SIGTERM with the summary written.
func TestSignalsWhileFollowing(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	cfgPath := filepath.Join(dir, "rw.toml")
	writeFile(t, logPath, readFile(t, rec+"scenarios_access_combined.log")+"\n", 0o644)
	writeFile(t, cfgPath, readFile(t, rec+"rebindwatch.toml"), 0o644)

	cmd := exec.Command(bin, "--no-tui", "-c", cfgPath, logPath)
	out, stderr := startFollowing(t, cmd)
	writeFile(t, cfgPath, "[burst]\nmax_requests = 0\n", 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, cmd, "the reload failure", func() bool { return strings.Contains(stderr.String(), "config reload refused") })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	noKeys(t, "stdout", out.String())
	noKeys(t, "stderr", stderr.String())
	if !strings.Contains(out.String(), `"type":"summary"`) || !strings.Contains(stderr.String(), "max_requests") {
		t.Errorf("stdout %q\nstderr %q", out.String(), stderr.String())
	}
	// The old config, with its allowed hosts, is still the one in force:
	// without it the Host check would be off and the summary would say so.
	if s := lastLine(out.String()); strings.Contains(s, `"host_check"`) {
		t.Errorf("after the failed reload the Host check is off, so the old config was dropped: %s", s)
	}
}

// startFollowing starts cmd (a headless run following a log) with its
// output collected, and waits until it has said which format it reads: it
// is following then, and a signal reaches a settled run.
func startFollowing(t *testing.T, cmd *exec.Cmd) (out, stderr *syncBuffer) {
	t.Helper()
	out, stderr = &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, cmd, "the format note", func() bool { return strings.Contains(stderr.String(), "format:") })
	return out, stderr
}

// TestConfigFromAPipeReloads: -c <(…) is read once at start; a SIGHUP
// reload finds the pipe empty and is refused, saying so, and the config read
// at start (its allowed hosts) stays in force.
func TestConfigFromAPipeReloads(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	writeFile(t, logPath, readFile(t, rec+"scenarios_access_combined.log")+"\n", 0o644)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The config waits in the pipe (far under its 64 KiB) for the child.
	w.WriteString(readFile(t, rec+"rebindwatch.toml"))
	w.Close()
	cmd := exec.Command(bin, "--no-tui", "-c", "/dev/fd/3", logPath)
	cmd.ExtraFiles = []*os.File{r} // fd 3, as a shell's <(…) hands it over
	out, stderr := startFollowing(t, cmd)
	r.Close()
	cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, cmd, "the reload refusal", func() bool { return strings.Contains(stderr.String(), "config reload refused") })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "read once") {
		t.Errorf("the refusal does not say why: %s", stderr.String())
	}
	if s := lastLine(out.String()); !strings.Contains(s, `"type":"summary"`) || strings.Contains(s, `"host_check"`) {
		t.Errorf("the config read at start is not the one in force (the Host check is off): %s", s)
	}
}

// TestHostileSignalsMidReplay: SIGINT and SIGTERM while a capture replays
// as recorded (--speed 1, so it is mid-run) write the summary and exit 0.
func TestHostileSignalsMidReplay(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "request,summary", "--speed", "1", "-r", rec+"scenarios.pcap")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Mid-run: the first request is out (the capture lasts 11 s).
			waitUntil(t, cmd, "a first request", func() bool { return strings.Contains(stdout.String(), `"type":"request"`) })
			cmd.Process.Signal(sig)
			err := waitExit(t, cmd)
			noKeys(t, "stdout", stdout.String())
			noKeys(t, "stderr", stderr.String())
			if err != nil {
				t.Fatalf("after %v: %v; stderr: %s", sig, err, stderr.String())
			}
			out := stdout.String()
			if strings.Count(out, `"type":"summary"`) != 1 || !strings.HasSuffix(strings.TrimSpace(out), "}") {
				t.Fatalf("want one summary line at the end:\n%s", out)
			}
			if !strings.Contains(out, `"state":"stopped"`) || strings.Contains(out, `"requests":197`) {
				t.Errorf("the summary should show the replay was stopped before its end (state stopped, fewer than its 197 requests): %s", lastLine(out))
			}
		})
	}
}

// TestHostileFullDisk: -o on a full disk exits 1 with a message naming it.
func TestHostileFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("SKIPPED LOUDLY: no /dev/full on this system")
	}
	r := runBin(t, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "alert,request,summary", "-r", rec+"scenarios.pcap", "-o", "/dev/full")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "/dev/full") || !strings.Contains(r.stderr, "no space left") {
		t.Errorf("stderr does not say the output is full: %q", r.stderr)
	}
}

// TestHostileClosedPipe: the reader of a FIFO given to -o goes away while
// a followed log keeps producing: the next write fails, the run exits 1
// and says so.
func TestHostileClosedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("SKIPPED LOUDLY: mkfifo: %v", err)
	}
	logPath := filepath.Join(dir, "access.log")
	lines := strings.Split(readFile(t, rec+"scenarios_access_combined.log"), "\n")
	writeFile(t, logPath, strings.Join(lines[:3], "\n")+"\n", 0o644)
	readerDone := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the binary opens it for writing
		if err != nil {
			readerDone <- nil
			return
		}
		b := make([]byte, 64)
		n, _ := io.ReadAtLeast(f, b, 1)
		f.Close() // the reader goes away
		readerDone <- b[:n]
	}()
	cmd := exec.Command(bin, "--no-tui", "--emit", "request,summary", "--allow-host", "api.rebind.test", "-o", fifo, logPath)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-readerDone:
		if len(got) == 0 {
			t.Fatal("the reader got nothing")
		}
	case <-time.After(patience):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("nothing written to the FIFO in %v", patience)
	}
	// Keep the log growing until the binary notices the pipe is gone.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	deadline := time.After(patience)
loop:
	for i := 3; ; i++ {
		f, oerr := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
		if oerr != nil {
			t.Fatal(oerr)
		}
		_, werr := f.WriteString(lines[i%len(lines)] + "\n")
		f.Close()
		if werr != nil {
			t.Fatal(werr)
		}
		// A line every 100 ms paces the log; the exit is what ends the loop.
		select {
		case err = <-done:
			break loop
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("still running %v after its output pipe closed", patience)
		case <-time.After(100 * time.Millisecond):
		}
	}
	noKeys(t, "stderr", stderr.String())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("stderr does not say the pipe broke: %q", stderr.String())
	}
}

// TestExitStatusTable checks each row of the README's exit status table
// once: the status, and where the summary went (stdout, stderr or
// nowhere). The terminal's rows (q, a hang-up) are checked with a pty in
// TestDashboardEndsWithItsTerminal and the dashboard tests, the drain cut
// short in TestOutputReaderStopsReading.
func TestExitStatusTable(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	writeFile(t, logPath, readFile(t, rec+"normal_access_combined.log")+"\n", 0o644)
	big := filepath.Join(dir, "big.log")
	writeFile(t, big, strings.Repeat(readFile(t, rec+"normal_access_combined.log")+"\n", 200), 0o644)

	// follow starts the binary following a log, with stdout to out, and
	// returns once it has read the log.
	follow := func(t *testing.T, stdout io.Writer, args ...string) (*exec.Cmd, *syncBuffer) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--no-tui", "--emit", "request,summary"}, args...)...)
		var stderr syncBuffer
		cmd.Stdout, cmd.Stderr = stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, cmd, "the format note", func() bool { return strings.Contains(stderr.String(), "format:") })
		return cmd, &stderr
	}
	status := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	}
	summaryIn := func(s string) bool { return strings.Contains(s, `{"type":"summary"`) }

	t.Run("0_input_ended", func(t *testing.T) {
		r := runBin(t, "--no-tui", "-r", rec+"normal.pcap")
		if r.code != 0 || !summaryIn(r.stdout) {
			t.Errorf("exit %d, summary on stdout %v", r.code, summaryIn(r.stdout))
		}
	})
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run("0_"+sig.String(), func(t *testing.T) {
			var out syncBuffer
			cmd, stderr := follow(t, &out, logPath)
			cmd.Process.Signal(sig)
			if err := waitExit(t, cmd); err != nil || !summaryIn(out.String()) {
				t.Errorf("exit %v, summary on stdout %v; stderr: %s", err, summaryIn(out.String()), stderr.String())
			}
		})
	}
	t.Run("0_stdout_reader_left", func(t *testing.T) {
		cmd := exec.Command(bin, "--no-tui", "--no-follow", "--emit", "request,summary", big)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := stdout.Read(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		stdout.Close()
		if err := waitExit(t, cmd); err != nil || !summaryIn(stderr.String()) {
			t.Errorf("exit %v, summary on stderr %v: %s", err, summaryIn(stderr.String()), stderr.String())
		}
	})
	t.Run("1_output_fails", func(t *testing.T) {
		if _, err := os.Stat("/dev/full"); err != nil {
			t.Skip("SKIPPED LOUDLY: no /dev/full on this system")
		}
		r := runBin(t, "--no-tui", "--emit", "request,summary", "-r", rec+"normal.pcap", "-o", "/dev/full")
		if r.code != 1 || !strings.Contains(r.stderr, "no space left") {
			t.Errorf("exit %d, want 1 naming the failure: %s", r.code, r.stderr)
		}
	})
	for name, args := range map[string][]string{
		"2_usage":         {"--no-tui", "--no-such-flag"},
		"2_input_refused": {"--no-tui", "-r", "/dev/zero"},
		"2_missing_log":   {"--no-tui", "--no-follow", filepath.Join(dir, "nope.log")},
	} {
		t.Run(name, func(t *testing.T) {
			r := runBin(t, args...)
			if r.code != 2 || summaryIn(r.stdout+r.stderr) {
				t.Errorf("exit %d, want 2 without a summary: %s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("2_SIGQUIT", func(t *testing.T) {
		var out syncBuffer
		cmd, stderr := follow(t, &out, logPath)
		cmd.Process.Signal(syscall.SIGQUIT)
		err := waitExit(t, cmd)
		if status(err) != 2 || !strings.Contains(stderr.String(), "goroutine ") || summaryIn(out.String()+stderr.String()) {
			t.Errorf("exit %v, want 2 with Go's goroutine dump and no summary; stderr: %.300s", err, stderr.String())
		}
	})
	t.Run("128+N_killed", func(t *testing.T) {
		var out syncBuffer
		cmd, _ := follow(t, &out, logPath)
		cmd.Process.Signal(syscall.SIGKILL)
		err := waitExit(t, cmd)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL || summaryIn(out.String()) {
			t.Errorf("exit %v, want killed by SIGKILL without a summary", err)
		}
	})
	t.Run("ignored_signals", func(t *testing.T) {
		var out syncBuffer
		cmd, stderr := follow(t, &out, logPath)
		for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGHUP} {
			cmd.Process.Signal(sig)
		}
		// Every signal delivered (none pending), the SIGHUP answered with
		// a reload note, and the process still there.
		pending := func() bool {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 2 && (f[0] == "SigPnd:" || f[0] == "ShdPnd:") && strings.Trim(f[1], "0") != "" {
					return true
				}
			}
			return len(b) == 0
		}
		waitUntil(t, cmd, "the signals delivered and the reload note", func() bool {
			return !pending() && strings.Contains(stderr.String(), "config reload")
		})
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("gone after ignored signals: %v", err)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := waitExit(t, cmd); err != nil || !summaryIn(out.String()) {
			t.Errorf("exit %v, want 0 with the summary; stderr: %s", err, stderr.String())
		}
	})
}

// TestFailedReloadsKeepTheProblemBudget: refused reloads are notes, not
// unparsed input: six of them leave the five lines of parse errors stderr
// shows untouched, and no source named "config" appears in the summary.
func TestFailedReloadsKeepTheProblemBudget(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	cfgPath := filepath.Join(dir, "rw.toml")
	writeFile(t, logPath, readFile(t, rec+"normal_access_combined.log")+"\n", 0o644)
	writeFile(t, cfgPath, readFile(t, rec+"rebindwatch.toml"), 0o644)
	cmd := exec.Command(bin, "--no-tui", "-c", cfgPath, logPath)
	out, stderr := startFollowing(t, cmd)
	writeFile(t, cfgPath, "[hosts\n", 0o644)
	for i := 1; i <= 6; i++ {
		cmd.Process.Signal(syscall.SIGHUP)
		waitUntil(t, cmd, fmt.Sprintf("refusal %d", i), func() bool { return strings.Count(stderr.String(), "config reload refused") == i })
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not a log line\nnor this one\n")
	f.Close()
	quoted := regexp.MustCompile(regexp.QuoteMeta(logPath) + `:[0-9]+: `)
	waitUntil(t, cmd, "both bad lines quoted", func() bool { return len(quoted.FindAllString(stderr.String(), -1)) == 2 })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	r := parseResult(t, 0, out.String(), stderr.String())
	sum := r.summary(t)
	if sum["parse_errors"] != 2.0 {
		t.Errorf("parse_errors %v, want 2", sum["parse_errors"])
	}
	for _, s := range sum["sources"].([]any) {
		if name := s.(map[string]any)["name"]; name != logPath {
			t.Errorf("summary lists a source %q besides the log", name)
		}
	}
}
