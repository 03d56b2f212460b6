package logsrc

import (
	"context"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// DefaultMaxStreams is StreamsOptions.Max when zero.
const DefaultMaxStreams = 1024

// Streams is the line input of a source whose lines come from several
// streams (a syslog listener's senders and tags, a journal's units, a
// remote glob's files, a container): each stream is a source of its own,
// with its own Emitter (so its own name, counters, problems and state) and
// its own format auto-detection, exactly as a file has. One goroutine uses
// it: the source's.
//
// Memory is bounded: at most Max streams are made; lines of later stream
// names go to one shared overflow stream (counted as "streams_over_cap").
// A stream whose first lines no format reads is not an error: its note
// says so and its lines are counted ("lines_unread"), since one sender's
// sshd messages must not stop another's access log.
type Streams struct {
	ctx    context.Context
	out    chan<- detect.Batch
	opts   StreamsOptions
	byName map[string]*Feeder
	list   []*Feeder
	state  detect.SourceState
	status string
	commit func() // goes with the next batch any stream sends (Commit)
}

// StreamsOptions configures Streams.
type StreamsOptions struct {
	Feeder      FeederOptions // the same for every stream (KeepGoing is implied)
	BatchSize   int           // 0 = source.DefaultBatchSize
	MaxProblems int           // per stream (0 = 5, < 0 = none)
	Max         int           // streams at most (0 = DefaultMaxStreams)
	Overflow    string        // the name of the stream that takes the lines of streams over Max
	State       detect.SourceState
}

// NewStreams returns Streams that send to out; ctx is the source's stop
// signal, as for source.New. It checks the format once.
func NewStreams(ctx context.Context, out chan<- detect.Batch, o StreamsOptions) (*Streams, error) {
	if _, err := Compile(o.Feeder.Format); err != nil {
		return nil, err
	}
	if o.Max <= 0 {
		o.Max = DefaultMaxStreams
	}
	if o.MaxProblems == 0 {
		o.MaxProblems = defaultMaxProblems
	}
	o.Feeder.KeepGoing = true
	if o.State == detect.StateStarting {
		o.State = detect.StateLive
	}
	return &Streams{ctx: ctx, out: out, opts: o, byName: make(map[string]*Feeder), state: o.State}, nil
}

// Stream returns the Feeder of the stream called name, made at its first
// use (its name is every request's Source); over Max streams, the
// overflow stream's.
func (s *Streams) Stream(name string) *Feeder {
	if f := s.byName[name]; f != nil {
		return f
	}
	if len(s.byName) >= s.opts.Max && name != s.opts.Overflow {
		f := s.Stream(s.opts.Overflow)
		f.Emitter().Counter("streams_over_cap").Inc()
		return f
	}
	e := source.New(s.ctx, s.out, source.Options{Name: name, BatchSize: s.opts.BatchSize,
		MaxProblems: s.opts.MaxProblems, Keys: s.opts.Feeder.Keys, Checkpoint: s.takeCommit})
	f, err := NewFeeder(e, name, s.opts.Feeder)
	if err != nil {
		panic("logsrc: format compiled once and not again: " + err.Error()) // NewStreams checked it
	}
	f.setStatus(s.status)
	e.SetState(s.state)
	s.byName[name] = f
	s.list = append(s.list, f)
	return f
}

// SetStatus sets the state and the note every stream reports before its
// own format note (a command's: "running ssh", "ended (exit status 255):
// ...; again in 4s").
func (s *Streams) SetStatus(state detect.SourceState, note string) {
	s.state, s.status = state, note
	for _, f := range s.list {
		f.Emitter().SetState(state)
		f.setStatus(note)
	}
}

// Tick makes the streams whose input went quiet decide their format, and
// hands over what each has once every has passed since its last batch
// (every call with 0). Call it on a timer (100 ms).
func (s *Streams) Tick(every time.Duration) {
	for _, f := range s.list {
		_ = f.Decide() // KeepGoing: never fails
		f.Emitter().FlushDue(every)
	}
}

// Commit hands over what every stream holds, then sends one more batch
// that carries commit (detect.Batch.Commit): the streams' batches go on one
// channel from one goroutine, so once the engine has written that batch it
// has written every event the streams were given before, and commit may
// record the source's position as it is now (a journal cursor, a
// container log's last timestamp). Nothing is sent before the first
// stream exists.
func (s *Streams) Commit(commit func()) {
	if len(s.list) == 0 {
		return
	}
	for _, f := range s.list {
		_ = f.Decide()
		if f.Emitter().Pending() {
			f.Emitter().Flush()
		}
	}
	s.commit = commit
	s.list[0].Emitter().Flush()
	s.commit = nil
}

// takeCommit is every stream's source.Options.Checkpoint: the commit
// Commit set, once.
func (s *Streams) takeCommit() func() {
	c := s.commit
	s.commit = nil
	return c
}

// Close decides what is pending and sends each stream's last batch (by
// the stop rule, what was received is handed over). err, when not nil,
// is reported by every stream as its failure; Close returns it.
func (s *Streams) Close(err error) error {
	for _, f := range s.list {
		_ = f.Decide()
		f.Emitter().Close(err)
	}
	return err
}
