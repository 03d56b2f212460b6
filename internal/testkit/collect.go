package testkit

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Collector runs a live source (a listener, a followed command) and keeps
// what it sends, by source name, so a test waits for what it expects
// (WaitFor) rather than for a time, and stops it by the stop rule (Stop).
type Collector struct {
	mu       sync.Mutex
	changed  chan struct{}
	reqs     map[string][]detect.Request
	counters map[string]uint64
	notes    map[string]string
	states   map[string]detect.SourceState
	problems []detect.Problem
	parseErr uint64
	dropped  uint64

	cancel  context.CancelFunc
	result  chan error    // the source's return
	drained chan struct{} // every batch collected
	once    sync.Once
	err     error
}

// Collect starts src; it is stopped (and waited for) at the end of the
// test if the test did not Stop it.
func Collect(t testing.TB, src Source) *Collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Collector{changed: make(chan struct{}, 1), reqs: map[string][]detect.Request{}, counters: map[string]uint64{},
		notes: map[string]string{}, states: map[string]detect.SourceState{}, cancel: cancel,
		result: make(chan error, 1), drained: make(chan struct{})}
	out := make(chan detect.Batch, 64)
	go func() {
		err := src(ctx, out)
		close(out)
		c.result <- err
	}()
	go func() {
		defer close(c.drained)
		for b := range out {
			c.mu.Lock()
			c.reqs[b.Source] = append(c.reqs[b.Source], b.Requests...)
			for k, v := range b.Counters {
				c.counters[k] += v
			}
			if b.Note != "" {
				c.notes[b.Source] = b.Note
			}
			c.states[b.Source] = b.State
			c.problems = append(c.problems, b.Problems...)
			c.parseErr += b.ParseErrors
			c.dropped += b.Dropped
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { c.Stop(t) })
	return c
}

// Stop stops the source (its context ends), waits for its last batch and
// returns what it returned. A source that does not stop within 10 s
// fails the test.
func (c *Collector) Stop(t testing.TB) error {
	t.Helper()
	c.once.Do(func() {
		c.cancel()
		c.err = c.wait(t)
	})
	return c.err
}

// Wait waits for a source that ends by itself (its input ended) and
// returns what it returned.
func (c *Collector) Wait(t testing.TB) error {
	t.Helper()
	c.once.Do(func() { c.err = c.wait(t) })
	return c.err
}

func (c *Collector) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-c.result:
		<-c.drained
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the source did not end within 10 s")
		return nil
	}
}

// WaitFor waits until cond holds over what was collected (its View),
// failing after limit with what was collected (a daemon that never
// delivers must not hang the test).
func (c *Collector) WaitFor(t testing.TB, what string, limit time.Duration, cond func(v View) bool) {
	t.Helper()
	deadline := time.After(limit)
	for {
		c.mu.Lock()
		ok := cond(c.view())
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-deadline:
			v := c.View()
			t.Fatalf("waited %v for %s; requests by source %v, counters %v, problems %v, notes %v, states %v",
				limit, what, v.Count(), v.Counters, v.Problems, v.Notes, v.States)
		}
	}
}

// View is what a Collector holds at one moment.
type View struct {
	Requests    map[string][]detect.Request // by source
	Counters    map[string]uint64
	Notes       map[string]string // each source's last note
	States      map[string]detect.SourceState
	Problems    []detect.Problem
	ParseErrors uint64
	Dropped     uint64
}

// Count is the number of requests by source.
func (v View) Count() map[string]int {
	m := map[string]int{}
	for k, r := range v.Requests {
		m[k] = len(r)
	}
	return m
}

// View copies what was collected so far.
func (c *Collector) View() View {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.view()
	v.Requests = maps.Clone(v.Requests)
	for k, r := range v.Requests {
		v.Requests[k] = append([]detect.Request(nil), r...)
	}
	v.Counters, v.Notes, v.States = maps.Clone(v.Counters), maps.Clone(v.Notes), maps.Clone(v.States)
	v.Problems = append([]detect.Problem(nil), v.Problems...)
	return v
}

// view is what was collected, not copied: under c.mu only.
func (c *Collector) view() View {
	return View{Requests: c.reqs, Counters: c.counters, Notes: c.notes, States: c.states, Problems: c.problems,
		ParseErrors: c.parseErr, Dropped: c.dropped}
}
