package jsonl

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// queue hands whole lines to a goroutine that writes them, so a slow reader
// of the output (a pipe nobody drains, NFS) never holds up the engine: the
// engine only appends to a buffer of at most max bytes, and a line that
// does not fit is dropped whole and counted. Two buffers swap, so a steady
// state allocates nothing.
type queue struct {
	out interface{ Write([]byte) (int, error) }
	max int

	mu      sync.Mutex
	pending []byte
	err     error // the first write error; every later line fails with it
	closed  bool
	writing int // lines the writer has taken and not yet written

	wake    chan struct{} // cap 1: lines are pending
	done    chan struct{} // the writer goroutine has returned
	dropped atomic.Uint64
}

func newQueue(out interface{ Write([]byte) (int, error) }, max int) *queue {
	q := &queue{out: out, max: max, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// Write takes one whole line, or drops it when the buffer is full. It
// fails only once the output has failed (a closed pipe), so the run ends
// as it does with a synchronous writer.
func (q *queue) Write(line []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	if q.closed || len(q.pending)+len(line) > q.max {
		q.dropped.Add(1)
		return len(line), nil
	}
	q.pending = append(q.pending, line...)
	return len(line), nil
}

// Flush wakes the writer; it does not wait for it.
func (q *queue) Flush() error {
	select {
	case q.wake <- struct{}{}:
	default:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// run writes what is pending each time it is woken, until close.
func (q *queue) run() {
	defer close(q.done)
	var spare []byte
	for range q.wake {
		q.mu.Lock()
		batch := q.pending
		q.pending = spare[:0]
		q.writing = bytes.Count(batch, []byte{'\n'})
		closed := q.closed
		q.mu.Unlock()
		if len(batch) > 0 {
			if _, err := q.out.Write(batch); err != nil {
				q.mu.Lock()
				q.err = err
				q.mu.Unlock()
				return
			}
		}
		q.mu.Lock()
		q.writing = 0
		q.mu.Unlock()
		spare = batch
		if closed {
			q.mu.Lock()
			empty := len(q.pending) == 0
			q.mu.Unlock()
			if empty {
				return
			}
			q.Flush() // appended while closing: one more round
		}
	}
}

// errStuck says the output did not take the queued lines in time.
var errStuck = errors.New("the output did not take the queued lines in time")

// close writes what is pending and stops the writer, waiting at most wait
// for a reader that has stopped reading; lines still queued then are lost
// (and counted as dropped).
func (q *queue) close(wait time.Duration) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case <-q.done:
	case <-time.After(wait):
		q.mu.Lock()
		q.dropped.Add(uint64(q.writing + bytes.Count(q.pending, []byte{'\n'})))
		q.writing = 0
		q.pending = q.pending[:0]
		q.mu.Unlock()
		return errStuck
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// idle says nothing waits for the writer goroutine or is being written.
func (q *queue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) == 0 && q.writing == 0
}
