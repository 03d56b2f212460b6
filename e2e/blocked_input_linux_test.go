package e2e

// Stops while waiting for a capture: `-r` on a FIFO nobody has opened, or
// on a pipe from a tcpdump that wrote its header and then saw no traffic
// (`tcpdump -U -w - | rebindwatch -r -`), must end on SIGTERM by the stop
// rule (exit 0, the summary, the source "stopped"), not hang until the
// drain deadline or a second signal.

import (
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
func stopQuietCapture(t *testing.T, arg string, stdin *os.File, ready func() bool) {
	t.Helper()
	cmd := exec.Command(bin, "--no-tui", "-r", arg)
	cmd.Stdin = stdin
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The run has started once its config note is out; then the source
	// waits in open(2) or read(2).
	waitUntil(t, cmd, "the config note", func() bool { return strings.Contains(stderr.String(), "config:") })
	waitUntil(t, cmd, "the input read", ready)
	cmd.Process.Signal(syscall.SIGTERM)
	start := time.Now()
	err := waitExit(t, cmd)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("exit %v after SIGTERM, want 0; stderr: %s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "stopped before every source had drained") {
		t.Errorf("the capture source did not stop by itself (%v; the drain deadline ended it): %s", took, stderr.String())
	}
	out := stdout.String()
	if strings.Count(out, `"type":"summary"`) != 1 {
		t.Fatalf("want one summary line, got:\n%s\nstderr: %s", out, stderr.String())
	}
	if !strings.Contains(lastLine(out), `"state":"stopped"`) {
		t.Errorf("the summary does not say the capture was stopped: %s", lastLine(out))
	}
}

// TestStopFIFONoWriter: -r FIFO that no writer ever opens.
func TestStopFIFONoWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "cap.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	stopQuietCapture(t, fifo, nil, func() bool { return true })
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
		stopQuietCapture(t, "-", r, func() bool { return unread(t, w) == 0 })
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
		stopQuietCapture(t, fifo, nil, func() bool { return unread(t, w) == 0 })
	})
}
