package e2e

// Stops while waiting for a capture: `-r` on a FIFO nobody has opened, or
// on a pipe from a tcpdump that wrote its header and then saw no traffic
// (`tcpdump -U -w - | rebindwatch -r -`), must end on SIGTERM by the stop
// rule (exit 0, the summary, the source "stopped"), not hang until the
// drain deadline or a second signal.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// unread is how many bytes wait in the pipe or FIFO f for its reader
// (FIONREAD works on either end of a Linux pipe).
func unread(t *testing.T, f *os.File) int {
	t.Helper()
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("FIONREAD: %v", errno)
	}
	return int(n)
}

// pcapHeader is the 24-byte file header of a recorded capture: what
// tcpdump -w - writes before the first packet.
func pcapHeader(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(rec + "normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	return b[:24]
}

// stopQuietCapture runs rebindwatch -r arg with stdin, waits for ready,
// sends SIGTERM and checks the stop was clean: exit 0, one summary whose
// capture source is "stopped", and no word of a drain cut short.
func stopQuietCapture(t *testing.T, arg string, stdin *os.File, sig syscall.Signal, ready func(pid int) bool) {
	t.Helper()
	stopQuiet(t, []string{"--no-tui", "-r", arg}, stdin, sig, ready)
}

// inFIFOOpen reports whether a thread of process pid waits in open(2) for
// a FIFO's other end (the kernel's wait_for_partner): the run is blocked
// where a signal used to be ignored.
func inFIFOOpen(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/wchan", pid))
	for _, w := range tasks {
		if b, _ := os.ReadFile(w); string(b) == "wait_for_partner" {
			return true
		}
	}
	return false
}

// stopQuiet runs rebindwatch with args and stdin, waits for ready, sends
// sig and checks the stop was clean: exit 0, one summary whose source is
// "stopped", and no word of a drain cut short. It returns the summary.
func stopQuiet(t *testing.T, args []string, stdin *os.File, sig syscall.Signal, ready func(pid int) bool) map[string]any {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = stdin
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The run has started once its config note is out; then the source
	// waits in open(2) or read(2).
	waitUntil(t, cmd, "the config note", func() bool { return strings.Contains(stderr.String(), "config:") })
	waitUntil(t, cmd, "the input read", func() bool { return ready(cmd.Process.Pid) })
	cmd.Process.Signal(sig)
	start := time.Now()
	err := waitExit(t, cmd)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("exit %v after %v, want 0; stderr: %s", err, sig, stderr.String())
	}
	if strings.Contains(stderr.String(), "stopped before every source had drained") {
		t.Errorf("the source did not stop by itself (%v; the drain deadline ended it): %s", took, stderr.String())
	}
	r := parseResult(t, 0, stdout.String(), stderr.String())
	sum := r.summary(t)
	if !strings.Contains(lastLine(r.stdout), `"state":"stopped"`) {
		t.Errorf("the summary does not say the source was stopped: %s", lastLine(r.stdout))
	}
	return sum
}

// TestStopFIFONoWriter: -r FIFO that no writer ever opens; the signal
// comes once the run waits in open(2).
func TestStopFIFONoWriter(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "cap.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			stopQuietCapture(t, fifo, nil, sig, inFIFOOpen)
		})
	}
}

// TestStopQuietPipe: tcpdump -U -w - | rebindwatch -r -, and the same
// through a FIFO: the writer sends the capture header and then nothing.
func TestStopQuietPipe(t *testing.T) {
	t.Run("stdin", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := w.Write(pcapHeader(t)); err != nil {
			t.Fatal(err)
		}
		stopQuietCapture(t, "-", r, syscall.SIGTERM, func(int) bool { return unread(t, w) == 0 })
		r.Close()
	})
	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "cap.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		// O_RDWR does not wait for a reader (Linux); the binary's open
		// then finds a writer at once.
		w, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := w.Write(pcapHeader(t)); err != nil {
			t.Fatal(err)
		}
		stopQuietCapture(t, fifo, nil, syscall.SIGTERM, func(int) bool { return unread(t, w) == 0 })
	})
}

// TestStopQuietPipeCountsWhatItRead: tcpdump -U -w - | rebindwatch -r -
// when traffic stops: the capture so far is in the pipe, read, and the
// writer stays. SIGTERM stops the run, and every request already read is
// parsed and counted (the red-team run counted 0 of 72).
func TestStopQuietPipeCountsWhatItRead(t *testing.T) {
	want := runBin(t, "--no-tui", "-r", rec+"normal.pcap").summary(t)["requests"]
	if want == 0.0 {
		t.Fatal("normal.pcap holds no request: this test would check nothing")
	}
	capture, err := os.ReadFile(rec + "normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// More than a pipe holds: written as it is read. The pipe is empty
	// between two of the writer's refills too, so the signal waits for the
	// whole write (under load, it came before the first and counted 0).
	written := make(chan struct{})
	go func() {
		w.Write(capture)
		close(written)
	}()
	allRead := func(int) bool {
		select {
		case <-written:
			return unread(t, w) == 0
		default:
			return false
		}
	}
	sum := stopQuiet(t, []string{"--no-tui", "-r", "-"}, r, syscall.SIGTERM, allRead)
	r.Close()
	if sum["requests"] != want {
		t.Errorf("summary counts %v requests, want %v (every one the pipe delivered)", sum["requests"], want)
	}
}

// TestStopQuietLogFIFO: a log given as a FIFO (followed, or read with
// --no-follow) whose writer never comes, or wrote lines and went quiet,
// or a log on a quiet stdin: SIGTERM and SIGINT stop it by the stop rule,
// with every line read counted.
func TestStopQuietLogFIFO(t *testing.T) {
	lines := readFile(t, rec+"normal_access_combined.log") + "\n"
	n := float64(strings.Count(lines, "\n"))
	for _, tc := range []struct {
		name    string
		args    []string
		sig     syscall.Signal
		written bool
	}{
		{"follow_no_writer", []string{"--no-tui"}, syscall.SIGTERM, false},
		{"no_follow_no_writer", []string{"--no-tui", "--no-follow"}, syscall.SIGINT, false},
		{"follow_quiet_writer", []string{"--no-tui"}, syscall.SIGTERM, true},
		{"no_follow_quiet_writer", []string{"--no-tui", "--no-follow"}, syscall.SIGINT, true},
		{"stdin_quiet_writer", []string{"--no-tui"}, syscall.SIGTERM, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "access.log")
			var stdin, w *os.File
			args := tc.args
			if strings.HasPrefix(tc.name, "stdin") {
				r, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				stdin, w = r, pw
				args = append(args, "-")
			} else {
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, fifo)
				if tc.written {
					// O_RDWR does not wait for a reader (Linux).
					var err error
					if w, err = os.OpenFile(fifo, os.O_RDWR, 0); err != nil {
						t.Fatal(err)
					}
				}
			}
			ready := func(pid int) bool { return stdin != nil || inFIFOOpen(pid) }
			if w != nil {
				defer w.Close()
				if _, err := w.WriteString(lines); err != nil {
					t.Fatal(err)
				}
				ready = func(int) bool { return unread(t, w) == 0 }
			}
			sum := stopQuiet(t, args, stdin, tc.sig, ready)
			want := 0.0
			if tc.written {
				want = n
			}
			if sum["requests"] != want {
				t.Errorf("summary counts %v requests, want %v", sum["requests"], want)
			}
		})
	}
}
