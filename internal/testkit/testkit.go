// Package testkit holds what several packages' tests do the same way:
// running a source into an engine, or to its end, as the binary does.
// The dashboard's deterministic command drain is in dashkit, so that tests
// of packages the dashboard imports can still use this one without an
// import cycle.
//
// Only tests import these packages. They keep no state between calls.
package testkit

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Source is the shape of every source's run: send batches to out until the
// input ends or ctx is cancelled, then return (capture.ReadFile, logsrc.Run
// and the sources of app all fit it once their arguments are bound).
type Source func(ctx context.Context, out chan<- detect.Batch) error

// Feed runs src into e the way the binary does: the source sends on a
// channel that is closed when it returns, and the engine reads it with
// Engine.Run until then (so anything a reorder window holds is released at
// the end). It returns once both are done, and fails t, naming name, if
// either returned an error.
func Feed(t testing.TB, e *detect.Engine, name string, src Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch := make(chan detect.Batch, 64) // app.Run's capacity
	srcErr := make(chan error, 1)
	go func() {
		defer close(ch)
		srcErr <- src(ctx, ch)
	}()
	if err := e.Run(ch); err != nil {
		// Stop the source and let it finish before failing, so no
		// goroutine outlives the test blocked on a full channel.
		cancel()
		for range ch {
		}
		t.Fatalf("%s: engine: %v", name, err)
	}
	if err := <-srcErr; err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// Batches runs src to its end and returns every batch it sent, in order.
// The caller owns them as the engine would (a source hands a batch over
// and never touches it again); give each engine its own copy of the
// requests if several are to read them.
func Batches(t testing.TB, src Source) []detect.Batch {
	t.Helper()
	ch := make(chan detect.Batch, 64)
	srcErr := make(chan error, 1)
	go func() {
		defer close(ch)
		srcErr <- src(t.Context(), ch)
	}()
	var out []detect.Batch
	for b := range ch {
		out = append(out, b)
	}
	if err := <-srcErr; err != nil {
		t.Fatal(err)
	}
	return out
}

// SyncBuffer is a bytes.Buffer that a run writes while the test reads it
// (stdout and stderr of app.Run, or of the binary, in a goroutine).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
