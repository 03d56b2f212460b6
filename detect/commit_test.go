package detect

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// orderSink records what the sinks were handed, and the commits, in order.
type orderSink struct {
	log  *[]string
	fail bool
}

func (s orderSink) Request(r *Request) error {
	*s.log = append(*s.log, "req "+r.Target)
	return nil
}

func (s orderSink) BatchEnd() error {
	*s.log = append(*s.log, "end")
	if s.fail {
		return errors.New("disk full")
	}
	return nil
}

func commitBatch(log *[]string, name string, at time.Time, targets ...string) *Batch {
	b := &Batch{Source: name, Commit: func() { *log = append(*log, "commit "+name) }}
	for i, tgt := range targets {
		b.Requests = append(b.Requests, Request{Time: at.Add(time.Duration(i) * time.Millisecond), Target: tgt,
			Client: netip.MustParseAddrPort("127.0.0.1:1")})
	}
	return b
}

// TestCommitAfterTheSinks: a batch's Commit runs only once its requests
// were handed to the sinks and their BatchEnd returned: at once without a
// reorder window, after the reorderer lets its last request go with one,
// in arrival order, and never after a sink failed.
func TestCommitAfterTheSinks(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	t.Run("no_reorder", func(t *testing.T) {
		var log []string
		e, err := NewEngine(DefaultConfig(), orderSink{log: &log})
		if err != nil {
			t.Fatal(err)
		}
		e.Observe(commitBatch(&log, "a", t0, "/1", "/2"))
		want := []string{"req /1", "req /2", "end", "commit a"}
		if !slices.Equal(log, want) {
			t.Errorf("got %q, want %q", log, want)
		}
	})
	t.Run("reorder_holds_the_commit", func(t *testing.T) {
		var log []string
		e, _ := NewEngine(DefaultConfig(), orderSink{log: &log})
		e.SetReorder(2 * time.Second)
		e.Observe(commitBatch(&log, "a", t0, "/a1"))
		e.Observe(commitBatch(&log, "b", t0.Add(time.Second), "/b1"))
		if slices.Contains(log, "commit a") {
			t.Fatalf("a committed while the reorderer still held its request: %q", log)
		}
		e.Observe(commitBatch(&log, "c", t0.Add(2500*time.Millisecond), "/c1")) // lets /a1 go
		if !slices.Contains(log, "commit a") || slices.Contains(log, "commit b") {
			t.Fatalf("after /a1 was released: %q", log)
		}
		if i, j := slices.Index(log, "req /a1"), slices.Index(log, "commit a"); i > j {
			t.Errorf("commit before its request: %q", log)
		}
		e.idle() // input paused: everything goes
		want := []string{"req /a1", "end", "commit a", "req /b1", "req /c1", "end", "commit b", "commit c"}
		if !slices.Equal(log, want) {
			t.Errorf("got %q, want %q", log, want)
		}
	})
	t.Run("sink_failed", func(t *testing.T) {
		var log []string
		e, _ := NewEngine(DefaultConfig(), orderSink{log: &log, fail: true})
		if err := e.Observe(commitBatch(&log, "a", t0, "/1")); err == nil {
			t.Fatal("the sink's error was not returned")
		}
		if slices.Contains(log, "commit a") {
			t.Errorf("committed although the sink failed: %q", log)
		}
	})
	t.Run("nothing_for_the_sinks", func(t *testing.T) {
		var log []string
		e, _ := NewEngine(DefaultConfig(), orderSink{log: &log})
		e.Observe(&Batch{Source: "a"}) // the first batch of a source: its status is news
		e.Observe(commitBatch(&log, "a", t0))
		if !slices.Contains(log, "commit a") {
			t.Errorf("a batch without requests was never committed: %q", log)
		}
	})
}

// TestCommitInArrivalOrder: with several sources (a Kafka consumer's
// partitions), a later batch whose requests are older than an earlier
// one's is released first, yet commits after it, so no source commits
// while an earlier batch's requests are still held; and each commit comes
// once the sinks have its requests.
func TestCommitInArrivalOrder(t *testing.T) {
	for _, window := range []time.Duration{0, 2 * time.Second} {
		sink := &countingSink{}
		e, err := NewEngine(DefaultConfig(), sink)
		if err != nil {
			t.Fatal(err)
		}
		e.SetReorder(window)
		var order []string
		var seen []int // requests the sinks had when each commit came
		commit := func(name string) func() {
			return func() { order = append(order, name); seen = append(seen, sink.n) }
		}
		early := []Request{rq(10, "a.test", "k"), rq(11, "a.test", "k")}
		late := []Request{rq(1, "b.test", "k")} // older: released first
		tail := []Request{rq(20, "c.test", "k")}
		for _, b := range []Batch{
			{Source: "p0", Requests: early, Commit: commit("early")},
			{Source: "p1", Requests: late, Commit: commit("late")},
			{Source: "p0", Requests: tail, Commit: commit("tail")},
		} {
			if err := e.Observe(&b); err != nil {
				t.Fatal(err)
			}
		}
		if window == 0 {
			if !slices.Equal(order, []string{"early", "late", "tail"}) || !slices.Equal(seen, []int{2, 3, 4}) {
				t.Errorf("no window: committed %v with %v requests delivered", order, seen)
			}
			continue
		}
		// tail at 20 s releases everything up to 18 s: early and late, not tail.
		if !slices.Equal(order, []string{"early", "late"}) || !slices.Equal(seen, []int{3, 3}) {
			t.Errorf("window: committed %v with %v requests delivered; want early, late after 3", order, seen)
		}
		if err := e.release(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order, []string{"early", "late", "tail"}) || seen[2] != 4 {
			t.Errorf("after the end: committed %v with %v", order, seen)
		}
	}
}

// countingSink counts the requests handed to it.
type countingSink struct{ n int }

func (c *countingSink) Request(*Request) error { c.n++; return nil }
