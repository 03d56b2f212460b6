package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/state"
)

// --state: the logs keep their positions in the store (logsrc), the
// engine puts them there once the sinks have written the batch they end
// (detect.Batch.Commit), and the store is written at most once a second
// and at exit. The output's length goes with every position (a store
// companion): after a crash, the output is cut back to the length that
// matches the positions written last, so the lines written since, which
// the restart writes again, are not in it twice.

// outputKey is the store's record of the JSON lines output.
const outputKey = "output"

// outputRecord is the output file and its length at a checkpoint.
type outputRecord struct {
	state.FileID
	Size int64 `json:"size"`
}

// outputCursor counts what is written to the output file.
type outputCursor struct {
	w  io.Writer
	id state.FileID
	n  atomic.Int64
}

func (c *outputCursor) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (c *outputCursor) record() any { return outputRecord{c.id, c.n.Load()} }

// guardOutput cuts the output back to its length at the last checkpoint
// when it is the same file and longer, and returns the writer that
// counts what this run writes to it. An output that is not a regular file
// (a pipe, a terminal) is returned as it is: what a crash repeats there
// cannot be taken back.
func (s *setup) guardOutput(out io.Writer, stderr io.Writer) io.Writer {
	f, ok := out.(*os.File)
	if !ok {
		return out
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return out
	}
	id := state.InodeOf(fi)
	size := fi.Size()
	var rec outputRecord
	if found, _ := s.store.Get(outputKey, &rec); found && rec.SameInode(fi) && size > rec.Size && rec.Size >= 0 {
		if err := f.Truncate(rec.Size); err != nil {
			fmt.Fprintf(stderr, "rebindwatch: --state: cannot cut %s back to its last checkpoint (%v): lines written after it will be there twice\n",
				sanitize.String(f.Name()), err)
		} else {
			fmt.Fprintf(stderr, "rebindwatch: --state: cut %s back from %d to %d bytes: the lines after its last checkpoint are written again\n",
				sanitize.String(f.Name()), size, rec.Size)
			size = rec.Size
		}
	}
	c := &outputCursor{w: out, id: id}
	c.n.Store(size)
	s.output = c
	s.store.Attach(outputKey, c.record)
	// Before anything is written: a crash before the first checkpoint
	// must find the length to cut back to.
	s.store.Put(outputKey, c.record())
	if err := s.store.Flush(); err != nil {
		fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(err.Error()))
	}
	return c
}

// flushState writes the store every second until the returned function
// is called.
func (s *setup) flushState(stderr io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.store.Run(ctx, func(err error) { fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(err.Error())) })
	}()
	return func() {
		cancel()
		<-done
	}
}

// closeState writes the store. After a clean end it records the output's
// final length, the summary included; otherwise the length stays the one
// that goes with the last positions (the output may hold a line cut short).
func (s *setup) closeState() error {
	if s.output != nil && s.endedClean {
		s.store.Put(outputKey, s.output.record())
	}
	if err := s.store.Flush(); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	return nil
}
