package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

var t0 = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

func req(at time.Duration, target string) *detect.Request {
	return &detect.Request{Time: t0.Add(at), Method: "GET", Target: target}
}

// collect runs an emitter against a channel read by the test.
func collect(t *testing.T, ctx context.Context, o Options, use func(*Emitter) error) ([]detect.Batch, error) {
	t.Helper()
	out := make(chan detect.Batch)
	var got []detect.Batch
	done := make(chan struct{})
	go func() {
		for b := range out {
			got = append(got, b)
		}
		close(done)
	}()
	e := New(ctx, out, o)
	err := use(e)
	close(out)
	<-done
	return got, err
}

func TestBatchingAndClose(t *testing.T) {
	got, err := collect(t, context.Background(), Options{Name: "a.log", BatchSize: 2}, func(e *Emitter) error {
		e.SetState(detect.StateReplaying)
		for i := range 5 {
			e.Request(req(time.Duration(i)*time.Second, "/x"))
		}
		c := e.Counter("skipped_lines")
		c.Inc()
		c.Add(2)
		e.ParseError()
		return e.Close(nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var parse uint64
	counts := map[string]uint64{}
	for _, b := range got {
		if b.Source != "a.log" {
			t.Errorf("batch source %q", b.Source)
		}
		n += len(b.Requests)
		parse += b.ParseErrors
		for k, v := range b.Counters {
			counts[k] += v
		}
	}
	last := got[len(got)-1]
	if n != 5 || len(got) != 3 || parse != 1 || counts["skipped_lines"] != 3 || last.State != detect.StateDone {
		t.Errorf("%d requests in %d batches, %d parse errors, counters %v, last state %v", n, len(got), parse, counts, last.State)
	}
}

// Problems quote input: key material is hidden before they leave the
// source, by the configured rules; only the first few are kept.
func TestProblemsHideKeysAndAreCapped(t *testing.T) {
	k := keys.NewExtractor(keys.Config{Query: []string{"sig"}})
	line := `"GET /v1/items?sig=sk_live_CwBZWJOBrUgazX5M4W4Nc8OH HTTP/1.1" auth="Bearer sk_live_K2zzSxxnF1eKUpTXYgwMzqHx"`
	got, _ := collect(t, context.Background(), Options{Name: "a.log", MaxProblems: 2, Keys: k}, func(e *Emitter) error {
		for range 5 {
			e.ParseError()
			if e.WantsProblems() {
				e.Problem("a.log:3", "bad line: "+line)
			}
		}
		return e.Close(nil)
	})
	var probs []detect.Problem
	var parse uint64
	for _, b := range got {
		probs = append(probs, b.Problems...)
		parse += b.ParseErrors
	}
	if len(probs) != 2 || parse != 5 {
		t.Fatalf("%d problems, %d parse errors; want 2 and 5", len(probs), parse)
	}
	for _, piece := range []string{"CwBZWJOB", "K2zzSxxn"} {
		if strings.Contains(probs[0].Text, piece) {
			t.Errorf("problem leaks %q: %s", piece, probs[0].Text)
		}
	}
	if !strings.Contains(probs[0].Text, "sig=REDACTED") {
		t.Errorf("the configured parameter name was not used: %s", probs[0].Text)
	}
}

// A paced replay hands over what it has before it waits, and a stop ends
// the wait: the rest goes unpaced and the last batch says stopped.
func TestPacingFlushesFirstAndStopEndsTheWait(t *testing.T) {
	p := NewPacer(0)
	p.Wait(context.Background(), t0)
	p.SetPaused(true)
	p.Step(500 * time.Millisecond) // /0 may pass, /1 may not
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan detect.Batch)
	e := New(ctx, out, Options{Name: "pcap", Pacer: p})
	done := make(chan error, 1)
	go func() {
		e.Request(req(0, "/0"))
		e.Request(req(time.Second, "/1")) // paused: waits, after handing /0 over
		done <- e.Close(nil)
	}()
	b := <-out
	if len(b.Requests) != 1 || b.Requests[0].Target != "/0" {
		t.Fatalf("before the pause: %+v", b.Requests)
	}
	cancel()
	b = <-out
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(b.Requests) != 1 || b.Requests[0].Target != "/1" || b.State != detect.StateStopped {
		t.Errorf("after the stop: %d requests, state %v", len(b.Requests), b.State)
	}
}

func TestCloseWithErrorFails(t *testing.T) {
	got, err := collect(t, context.Background(), Options{Name: "a.log"}, func(e *Emitter) error {
		return e.Close(InputError("a.log is not a text log"))
	})
	last := got[len(got)-1]
	if err == nil || last.State != detect.StateFailed || len(last.Problems) != 1 {
		t.Errorf("err %v, last %+v", err, last)
	}
}

func TestInputErrorMatchesErrInput(t *testing.T) {
	e := InputError("not a capture")
	if !errors.Is(e, ErrInput) || !errors.Is(fmt.Errorf("reading x: %w", e), e) || errors.Is(ErrInput, e) {
		t.Error("an input error must match itself and ErrInput, and ErrInput not it")
	}
}

func TestFlushDue(t *testing.T) {
	got, _ := collect(t, context.Background(), Options{Name: "a.log"}, func(e *Emitter) error {
		e.Flush()
		e.FlushDue(time.Hour) // nothing pending and just sent: no batch
		e.Request(req(0, "/x"))
		e.FlushDue(time.Hour) // pending but too soon
		e.FlushDue(0)         // due
		return nil
	})
	if len(got) != 2 || len(got[1].Requests) != 1 {
		t.Errorf("%d batches", len(got))
	}
}

func TestInterner(t *testing.T) {
	in := NewInterner(2, 8)
	a := in.String([]byte("api.test"))
	if b := in.String([]byte("api.test")); b != a || testing.AllocsPerRun(10, func() { in.String([]byte("api.test")) }) != 0 {
		t.Error("a value seen again must be shared, without allocating")
	}
	if in.String([]byte("a-longer-value")) != "a-longer-value" || in.String(nil) != "" {
		t.Error("long and empty values")
	}
	in.String([]byte("b"))
	in.String([]byte("c")) // the table was full: it starts over
	if len(in.m) > 2 {
		t.Errorf("%d entries, cap 2", len(in.m))
	}
}

// The engine gives a batch's request array back (Batch.Recycle) and the
// emitter fills it again: a source that allocated an array per batch made
// most of the process's garbage.
func TestObservedArraysAreReused(t *testing.T) {
	out := make(chan detect.Batch, 4)
	e := New(context.Background(), out, Options{Name: "t", BatchSize: 2})
	e.Request(req(0, "/a"))
	e.Request(req(time.Second, "/b?k=1"))
	first := <-out
	if len(first.Requests) != 2 || first.Spare == nil {
		t.Fatalf("first batch: %d requests, spare %v", len(first.Requests), first.Spare)
	}
	array := &first.Requests[:1][0]
	first.Recycle()
	if first.Requests != nil {
		t.Fatal("Recycle left the batch holding its requests")
	}
	e.Request(req(2*time.Second, "/c"))
	e.Request(req(3*time.Second, "/d"))
	second := <-out
	if &second.Requests[0] != array {
		t.Fatal("the second batch did not reuse the array the engine gave back")
	}
	if second.Requests[1].Target != "/d" || second.Requests[0].Target != "/c" {
		t.Fatalf("reused array holds %q, %q", second.Requests[0].Target, second.Requests[1].Target)
	}
	// Arrays beyond what the channel could hold are dropped, not queued
	// without bound.
	for range cap(out) + 10 {
		b := detect.Batch{Requests: make([]detect.Request, 1, 2), Spare: second.Spare}
		b.Recycle()
	}
	if n := len(e.spare); n != cap(e.spare) {
		t.Fatalf("spare holds %d arrays, want its cap %d", n, cap(e.spare))
	}
}
