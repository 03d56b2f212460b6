//go:build unix

package source

import (
	"context"
	"os"
	"syscall"
)

// openInterruptible opens path, giving up when ctx ends.
func openInterruptible(ctx context.Context, path string) (*os.File, error) {
	if path == "-" {
		return pollableStdin(), nil
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return os.Open(path) // a regular file or a device: open(2) does not wait
	}
	// A FIFO: open(2) waits for a writer. Wait in a goroutine; on a stop,
	// become the writer for a moment, which releases the open.
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		done <- result{f, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-ctx.Done():
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		if r := <-done; r.f != nil {
			r.f.Close()
		}
		return nil, ErrStopped
	}
}

// pollableStdin returns stdin so that reads can be interrupted when it is a
// pipe: a non-blocking descriptor is read through the poller. A terminal or
// a file is left as it is (making a shared terminal non-blocking would
// break the shell after we exit).
func pollableStdin() *os.File {
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return os.Stdin
	}
	if err := syscall.SetNonblock(int(os.Stdin.Fd()), true); err != nil {
		return os.Stdin
	}
	return os.NewFile(os.Stdin.Fd(), "/dev/stdin")
}
