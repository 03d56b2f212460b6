// Package source holds what every rebindwatch source shares: the Emitter,
// which hands the engine batches of events in event time (pacing replays,
// counting, sampling problems, reporting state and progress), and the one
// shutdown rule that goes with it:
//
//	a source that is told to stop (its context ends) drains what it already
//	has — a followed file to its current end, a capture's buffered packets,
//	a live ring's current position — hands it over, sends its final batch
//	with Close, and returns; the engine reads until every source has
//	returned and the channel is closed.
//
// So an Emitter never gives up a batch because the context ended: its sends
// block until the engine takes them, and the engine (or, after the engine
// failed, whoever started the sources) reads until the channel is closed.
// Only pacing stops waiting when the context ends: what remains goes at
// full speed.
package source

import (
	"context"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Defaults for zero Options fields.
const (
	DefaultBatchSize   = 256
	DefaultMaxProblems = 20
)

// Options configures an Emitter.
type Options struct {
	Name        string          // Batch.Source: "pcap", "live", a log's path
	Pacer       *Pacer          // nil = unpaced
	BatchSize   int             // requests per batch (0 = DefaultBatchSize)
	MaxProblems int             // problems reported (0 = DefaultMaxProblems, < 0 = none); later ones are only counted
	Keys        *keys.Extractor // hides key material in problem texts, which quote input; nil: the default key names

	// Checkpoint, when set, is asked for each batch's Commit (see
	// detect.Batch) as the batch is sent: it returns what records the
	// source's position as it is then, or nil. A source using it keeps its
	// position so that it covers every event it has handed to the Emitter
	// (Request, DNS, TLS) and every input that gave none, and no more.
	Checkpoint func() (commit func())
}

// Counter is a named count a source increments on its hot path; the
// Emitter reports its growth with each batch (Batch.Counters).
type Counter struct {
	name    string
	n, sent uint64
}

// Add adds n.
func (c *Counter) Add(n uint64) { c.n += n }

// Inc adds one.
func (c *Counter) Inc() { c.n++ }

// Value is the count so far.
func (c *Counter) Value() uint64 { return c.n }

// Emitter batches one source's events for the engine. One goroutine uses
// it: the source's.
type Emitter struct {
	ctx   context.Context
	out   chan<- detect.Batch
	opts  Options
	keys  *keys.Extractor
	state detect.SourceState
	note  string

	reqs []detect.Request
	// spare holds the request arrays the engine gave back (Batch.Spare), as
	// many as out can hold and a couple more: a source hands over a
	// parsed chunk in a burst of batches and the engine returns them all
	// while the source parses the next.
	spare chan []detect.Request
	dns   []detect.DNSAnswer
	tls   []detect.TLSHello

	counters     []*Counter
	parseErrors  uint64
	dropped      uint64
	problems     []detect.Problem
	problemsLeft int
	done, total  int64
	lag          int64
	hasLag       bool

	sentState    detect.SourceState
	sentNote     string
	proposed     string
	sentProgress int64
	sentOnce     bool
	lastSend     time.Time
	ctxDone      <-chan struct{} // ctx.Done()
	stopped      bool            // ctxDone is closed (cached)
}

// New returns an Emitter that sends to out. ctx is the source's stop
// signal: once it ends, pacing no longer waits.
func New(ctx context.Context, out chan<- detect.Batch, o Options) *Emitter {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.MaxProblems == 0:
		o.MaxProblems = DefaultMaxProblems
	case o.MaxProblems < 0:
		o.MaxProblems = 0
	}
	k := o.Keys
	if k == nil {
		k = keys.NewExtractor(keys.DefaultConfig())
	}
	return &Emitter{ctx: ctx, ctxDone: ctx.Done(), out: out, opts: o, keys: k, problemsLeft: o.MaxProblems,
		state: detect.StateStarting, sentState: detect.StateStarting, spare: make(chan []detect.Request, cap(out)+2)}
}

// Counter returns the counter of that name, created at zero.
func (e *Emitter) Counter(name string) *Counter {
	for _, c := range e.counters {
		if c.name == name {
			return c
		}
	}
	c := &Counter{name: name}
	e.counters = append(e.counters, c)
	return c
}

// Request queues one request. When the pacer would make it wait, what is
// pending is handed over first, so the engine holds everything before a
// pause.
func (e *Emitter) Request(r *detect.Request) {
	e.pace(r.Time)
	if e.reqs == nil {
		e.reqs = e.requestArray()
	}
	e.reqs = append(e.reqs, *r)
	if len(e.reqs) >= e.opts.BatchSize {
		e.Flush()
	}
}

// requestArray returns an empty array for a batch's requests: one the
// engine gave back when there is one.
func (e *Emitter) requestArray() []detect.Request {
	select {
	case s := <-e.spare:
		if cap(s) >= e.opts.BatchSize {
			return s
		}
	default:
	}
	return make([]detect.Request, 0, e.opts.BatchSize) // not grown by doubling: a batch is large
}

// DNS queues one DNS answer, in time order with the others.
func (e *Emitter) DNS(a detect.DNSAnswer) {
	e.pace(a.Time)
	e.dns = appendInTime(e.dns, a, func(a *detect.DNSAnswer) time.Time { return a.Time })
}

// TLS queues one ClientHello, in time order with the others.
func (e *Emitter) TLS(h detect.TLSHello) {
	e.pace(h.Time)
	e.tls = appendInTime(e.tls, h, func(h *detect.TLSHello) time.Time { return h.Time })
}

// appendInTime appends v to s keeping s in time order: events that complete
// over several segments (a TCP DNS answer, a split ClientHello) are dated by
// their start and may finish after a later one.
func appendInTime[T any](s []T, v T, at func(*T) time.Time) []T {
	s = append(s, v)
	for i := len(s) - 1; i > 0 && at(&s[i]).Before(at(&s[i-1])); i-- {
		s[i], s[i-1] = s[i-1], s[i]
	}
	return s
}

// pace waits until an event at t is due, handing over what is pending
// first. Once the source is told to stop, nothing waits.
func (e *Emitter) pace(t time.Time) {
	p := e.opts.Pacer
	if p.Due(t) || e.Stopped() {
		return
	}
	// The event being queued is already inside the source's position but
	// not yet in the batch: this batch commits nothing.
	e.flush(false)
	_ = p.Wait(e.ctx, t) // an early return means stop: the rest goes unpaced
}

// Stopped reports whether the source was told to stop, so a replay stops
// reading. It is cheap enough to ask per packet: the answer is cached once
// it is yes.
func (e *Emitter) Stopped() bool {
	if !e.stopped {
		select {
		case <-e.ctxDone:
			e.stopped = true
		default:
		}
	}
	return e.stopped
}

// ParseError counts an input that did not parse (a line, a message); a
// source reports a sample of them with Problem.
func (e *Emitter) ParseError() { e.parseErrors++ }

// WantsProblems reports whether Problem still keeps reports, so a source
// builds a report's text only when it will be used.
func (e *Emitter) WantsProblems() bool { return e.problemsLeft > 0 }

// Problem keeps a problem report (while the sample lasts); text may quote
// input, and key material in it is hidden here.
func (e *Emitter) Problem(where, text string) {
	if e.problemsLeft <= 0 {
		return
	}
	e.problemsLeft--
	e.problems = append(e.problems, detect.Problem{Source: e.opts.Name, Where: where, Text: e.keys.RedactText(text)})
}

// Dropped counts requests or packets lost before they reached the source
// (kernel drops).
func (e *Emitter) Dropped(n uint64) { e.dropped += n }

// SetState sets the state reported with the next batch.
func (e *Emitter) SetState(s detect.SourceState) { e.state = s }

// State is the state set last.
func (e *Emitter) State() detect.SourceState { return e.state }

// SetNote sets the status note reported with the next batch.
func (e *Emitter) SetNote(n string) { e.note = n }

// SetProposed sets the log format the source proposes (Batch.Proposed),
// reported with the next batch.
func (e *Emitter) SetProposed(f string) { e.proposed = f }

// SetProgress sets how far the source is (bytes read of a file's size;
// total 0 when unknown).
func (e *Emitter) SetProgress(done, total int64) { e.done, e.total = done, total }

// SetLag sets how many records wait behind what was read (a Kafka
// partition's lag), reported with the next batch.
func (e *Emitter) SetLag(n int64) { e.lag, e.hasLag = n, true }

// Pending reports whether anything waits to be handed over.
func (e *Emitter) Pending() bool {
	if len(e.reqs) > 0 || len(e.dns) > 0 || len(e.tls) > 0 || e.parseErrors > 0 || e.dropped > 0 || len(e.problems) > 0 ||
		e.state != e.sentState || e.note != e.sentNote || !e.sentOnce {
		return true
	}
	for _, c := range e.counters {
		if c.n != c.sent {
			return true
		}
	}
	return false
}

// FlushDue hands over what is pending, or news of progress, when interval
// has passed since the last batch: a slow trickle is not held back until a
// batch fills, and a long replay shows how far it is.
func (e *Emitter) FlushDue(interval time.Duration) {
	if time.Since(e.lastSend) < interval || !e.Pending() && e.done == e.sentProgress {
		return
	}
	e.Flush()
}

// Flush hands what is pending to the engine, which owns it from then on.
func (e *Emitter) Flush() { e.flush(true) }

func (e *Emitter) flush(commit bool) {
	b := detect.Batch{
		Source:      e.opts.Name,
		Requests:    e.reqs,
		DNS:         e.dns,
		TLS:         e.tls,
		ParseErrors: e.parseErrors,
		Dropped:     e.dropped,
		Problems:    e.problems,
		Done:        e.done,
		Total:       e.total,
		State:       e.state,
		Note:        e.note,
		Proposed:    e.proposed,
		Lag:         e.lag,
		HasLag:      e.hasLag,
	}
	if len(e.reqs) > 0 {
		b.Spare = e.spare
	}
	if commit && e.opts.Checkpoint != nil {
		b.Commit = e.opts.Checkpoint()
	}
	for _, c := range e.counters {
		if d := c.n - c.sent; d > 0 {
			if b.Counters == nil {
				b.Counters = make(map[string]uint64)
			}
			b.Counters[c.name] = d
			c.sent = c.n
		}
	}
	e.out <- b // the engine reads until every source has returned
	e.reqs, e.dns, e.tls, e.problems = nil, nil, nil, nil
	e.parseErrors, e.dropped = 0, 0
	e.sentState, e.sentNote, e.sentProgress, e.sentOnce = e.state, e.note, e.done, true
	e.lastSend = time.Now()
}

// Close sends the final batch and returns err. Its state is StateDone,
// StateStopped when the source was told to stop, or StateFailed (with err
// as a problem) when err is not nil. Every way out of a source goes
// through it once.
func (e *Emitter) Close(err error) error {
	e.state = detect.StateDone
	if e.Stopped() {
		e.state = detect.StateStopped
	}
	if err != nil {
		e.state = detect.StateFailed
		e.Problem(e.opts.Name, err.Error())
	}
	e.Flush()
	return err
}
