package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// TestHostileSourcePanic: a panic in a source goroutine ends the run with
// an error naming the source and the panic (main prints it and exits 1),
// and the batch channel is closed so the engine and dashboard stop. The
// binary has no hook to make a real source panic, so this drives
// startSources directly.
func TestHostileSourcePanic(t *testing.T) {
	st := newStopper(context.Background())
	defer st.close()
	out := make(chan detect.Batch, 1)
	ok := input{name: "fine", run: func(ctx context.Context, out chan<- detect.Batch) error {
		<-ctx.Done() // a follower: runs until the run ends
		return ctx.Err()
	}}
	boom := input{name: "boom.log", run: func(context.Context, chan<- detect.Batch) error {
		var m map[string]int
		m["x"]++ // a real runtime panic: assignment to a nil map
		return nil
	}}
	srcs := startSources(st, []input{ok, boom}, out)
	select {
	case <-st.stop.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a panicking source did not end the run")
	}
	errs := srcs.errors()
	if _, open := <-out; open {
		t.Error("the batch channel is still open after every source ended")
	}
	cause := st.failure()
	if cause == nil || !strings.Contains(cause.Error(), "internal error in source boom.log") || !strings.Contains(cause.Error(), "nil map") {
		t.Errorf("cause %v, want the source and the panic named", cause)
	}
	if len(errs) != 0 {
		t.Errorf("the follower reported %v on a clean stop", errs)
	}
}
