package testkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)

func req(sec int, host string) detect.Request {
	return detect.Request{
		Time: t0.Add(time.Duration(sec) * time.Second), Source: "test",
		Client: netip.MustParseAddrPort("10.0.0.7:51234"), Method: "GET",
		Host: host, HasHost: true, Target: "/v1/items?api_key=sk_live_secret", Proto: "HTTP/1.1",
	}
}

// twoBatches is a source that sends two batches and returns.
func twoBatches(ctx context.Context, out chan<- detect.Batch) error {
	for i := range 2 {
		b := detect.Batch{Source: "test", Requests: []detect.Request{req(i, fmt.Sprintf("h%d.example.com", i))}}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type requestCount struct{ n int }

func (c *requestCount) Request(*detect.Request) error { c.n++; return nil }

// Feed delivers everything, including what a reorder window still holds
// when the source returns.
func TestFeedDeliversEverything(t *testing.T) {
	var c requestCount
	e, err := detect.NewEngine(detect.DefaultConfig(), &c)
	if err != nil {
		t.Fatal(err)
	}
	e.SetReorder(time.Hour)
	testkit.Feed(t, e, "two batches", twoBatches)
	if c.n != 2 {
		t.Errorf("the engine delivered %d requests, want 2", c.n)
	}
}

// Batches returns every batch, in order, once the source has returned.
func TestBatchesReturnsEverythingInOrder(t *testing.T) {
	bs := testkit.Batches(t, twoBatches)
	if len(bs) != 2 || len(bs[0].Requests) != 1 || bs[0].Requests[0].Host != "h0.example.com" || bs[1].Requests[0].Host != "h1.example.com" {
		t.Fatalf("got %+v", bs)
	}
	if msg := fails(t, func(tb testing.TB) {
		testkit.Batches(tb, func(context.Context, chan<- detect.Batch) error { return errors.New("boom") })
	}); msg != "boom" {
		t.Errorf("a failing source: %q", msg)
	}
}

// fatalRecorder is a testing.TB whose Fatal ends only the goroutine that
// called it, so a test can check that a helper fails.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatal(args ...any) { r.msg = fmt.Sprint(args...); runtime.Goexit() }
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fails runs f with a recorder and returns what it failed with ("" if
// it returned).
func fails(t *testing.T, f func(testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

// A source error fails the test and names the source; an engine error
// (a sink failing) stops the source instead of leaving it blocked.
func TestFeedFailsOnErrors(t *testing.T) {
	boom := errors.New("boom")
	msg := fails(t, func(tb testing.TB) {
		e, _ := detect.NewEngine(detect.DefaultConfig())
		testkit.Feed(tb, e, "broken.log", func(ctx context.Context, out chan<- detect.Batch) error {
			if err := twoBatches(ctx, out); err != nil {
				return err
			}
			return boom
		})
	})
	if msg != "broken.log: boom" {
		t.Errorf("a failing source: %q", msg)
	}

	stopped := make(chan error, 1)
	msg = fails(t, func(tb testing.TB) {
		e, _ := detect.NewEngine(detect.DefaultConfig(), failingSink{})
		testkit.Feed(tb, e, "endless", func(ctx context.Context, out chan<- detect.Batch) error {
			for i := 0; ; i++ {
				select {
				case out <- detect.Batch{Source: "test", Requests: []detect.Request{req(i, "a.example.com")}}:
				case <-ctx.Done():
					stopped <- ctx.Err()
					return ctx.Err()
				}
			}
		})
	})
	if msg != "endless: engine: sink full" {
		t.Errorf("a failing engine: %q", msg)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the source was not stopped: %v", err)
	}
}

type failingSink struct{}

func (failingSink) Request(*detect.Request) error { return errors.New("sink full") }
