package source

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// ErrStopped is what a read from an input opened with Open returns once
// the source was told to stop: what was read before is handed over as
// usual, and the source ends by the stop rule rather than by an error.
var ErrStopped = errors.New("stopped")

// Input is an input file whose open and reads a stop interrupts.
type Input struct {
	*os.File
	ctx  context.Context
	quit chan struct{}
}

// Open opens path ("-" = stdin) for a source so that ctx ending interrupts
// it: a FIFO without a writer blocks in open(2), and a pipe whose writer
// has gone quiet (tcpdump -U -w - after traffic stops) blocks in read(2);
// both would keep the process from stopping on SIGTERM. Pipes and FIFOs are
// read through the runtime's poller, so a stop sets a read deadline that
// ends the wait; a read then returns ErrStopped. Regular files never block
// for long and are opened as usual.
func Open(ctx context.Context, path string) (*Input, error) {
	f, err := openInterruptible(ctx, path)
	if err != nil {
		return nil, err
	}
	in := &Input{File: f, ctx: ctx, quit: make(chan struct{})}
	go func() {
		select {
		case <-ctx.Done():
			f.SetReadDeadline(time.Now()) // fails harmlessly on a regular file
		case <-in.quit:
		}
	}()
	return in, nil
}

// Read is os.File.Read with a stop turned into ErrStopped.
func (in *Input) Read(b []byte) (int, error) {
	n, err := in.File.Read(b)
	if err != nil && err != io.EOF && errors.Is(err, os.ErrDeadlineExceeded) && in.ctx.Err() != nil {
		err = ErrStopped
	}
	return n, err
}

// Close closes the file and stops watching for the stop.
func (in *Input) Close() error {
	close(in.quit)
	if in.File == os.Stdin {
		return nil
	}
	return in.File.Close()
}
