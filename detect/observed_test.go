package detect

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// countingSink counts the requests handed to it, so an acknowledgement can
// be checked against what the sinks had when it came.
type countingSink struct{ n int }

func (c *countingSink) Request(*Request) error { c.n++; return nil }

// A batch's Observed comes once its requests have been released from the
// reorder window and handed to the sinks, and in arrival order: a later
// batch whose requests are all older than an earlier one's (released first)
// is acknowledged after it, so a Kafka source never commits past requests
// the engine still holds.
func TestObservedInArrivalOrderAfterTheSinks(t *testing.T) {
	for _, window := range []time.Duration{0, 2 * time.Second} {
		sink := &countingSink{}
		e, err := NewEngine(DefaultConfig(), sink)
		if err != nil {
			t.Fatal(err)
		}
		e.SetReorder(window)
		var order []string
		var seen []int // requests the sinks had when each acknowledgement came
		ack := func(name string) func() {
			return func() { order = append(order, name); seen = append(seen, sink.n) }
		}
		early := []Request{rq(10, "a.test", "k"), rq(11, "a.test", "k")}
		late := []Request{rq(1, "b.test", "k")} // older: released first
		tail := []Request{rq(20, "c.test", "k")}
		for _, b := range []Batch{
			{Source: "p0", Requests: early, Observed: ack("early")},
			{Source: "p1", Requests: late, Observed: ack("late")},
			{Source: "p0", Requests: tail, Observed: ack("tail")},
		} {
			if err := e.Observe(&b); err != nil {
				t.Fatal(err)
			}
		}
		if window == 0 {
			if !slices.Equal(order, []string{"early", "late", "tail"}) || !slices.Equal(seen, []int{2, 3, 4}) {
				t.Errorf("no window: acknowledged %v with %v requests delivered", order, seen)
			}
			continue
		}
		// tail at 20 s releases everything up to 18 s: early and late, not tail.
		if !slices.Equal(order, []string{"early", "late"}) || !slices.Equal(seen, []int{3, 3}) {
			t.Errorf("window: acknowledged %v with %v requests delivered; want early, late after 3", order, seen)
		}
		if err := e.release(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order, []string{"early", "late", "tail"}) || seen[2] != 4 {
			t.Errorf("after the end: acknowledged %v with %v", order, seen)
		}
	}
}

// A sink that fails withholds the acknowledgement: what it did not take
// must not be committed.
func TestObservedWithheldWhenASinkFails(t *testing.T) {
	e, err := NewEngine(DefaultConfig(), failing{})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	b := Batch{Source: "p0", Requests: []Request{rq(1, "a.test", "k")}, Observed: func() { called = true }}
	if err := e.Observe(&b); err == nil || called {
		t.Errorf("err %v, acknowledged %v; want an error and no acknowledgement", err, called)
	}
}

type failing struct{}

func (failing) Request(*Request) error { return errFailing }

var errFailing = errors.New("sink failed")

// A fleet's processes number incidents each on its own: a prefix keeps
// their IDs apart.
func TestIncidentPrefix(t *testing.T) {
	e, c := newTestEngine(t, nil)
	e.SetIncidentPrefix("inc-web03-4711-")
	feed(t, e, rq(1, "evil.rebind.test", "k1"))
	if len(c.alerts) == 0 || c.alerts[0].Incident != "inc-web03-4711-1" {
		t.Errorf("alerts %+v", c.alerts)
	}
}
