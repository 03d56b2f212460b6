package logsrc

import (
	"fmt"
	"time"

	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
)

// A Feeder turns the lines of one source into events on its Emitter with
// everything a file's lines get (the same input, so the same code):
// auto-detection that holds the first lines until the format is decided,
// the formats' requests, DNS answers and ClientHellos, parse errors
// sampled by their shape. It is for sources whose lines arrive in
// envelopes — a syslog message's payload, a journal entry's MESSAGE, a
// container's log line, a remote tail's line — usually one per stream
// through Streams. One goroutine uses it: the source's.
type Feeder struct {
	s      *input
	lineno int64 // lines given to Line
}

// FeederOptions configures a Feeder.
type FeederOptions struct {
	Format   string          // a Compile spec; "" = auto
	Keys     *keys.Extractor // owned by the source's goroutine; nil: no keys
	Location *time.Location  // for times without a zone; nil = time.Local
	// KeepGoing: when auto-detection finds no format, say so in the note
	// and count the source's lines ("lines_unread") instead of failing;
	// for one stream among many (a syslog sender's tag that is not a web
	// server, a second file of a remote glob).
	KeepGoing bool
	// Shared: several Feeders queue on the Emitter (a Kafka partition's
	// producing hosts), whose note is its owner's: the Feeder leaves it
	// alone, and the owner says what Note says.
	Shared bool
}

// NewFeeder returns a Feeder for the source named name (each event's
// Source, and where its problems are) that queues events on e.
func NewFeeder(e *source.Emitter, name string, o FeederOptions) (*Feeder, error) {
	p, err := Compile(o.Format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.SetLocation(o.Location)
	s := &input{path: name, name: name, p: p, e: e, out: e, now: time.Now, hand: linePos.handed, keep: o.KeepGoing, merged: o.Shared,
		opts: Options{Format: o.Format, Keys: o.Keys, Location: o.Location}}
	return &Feeder{s: s}, nil
}

// Line feeds one line, its newline included or not. at is the time its
// envelope gives (a syslog header, a journal entry, a container log's
// timestamp), used when the line's format has none; zero means the time
// it is read. Line fails only when auto-detection cannot read the first
// lines (ErrUnknownFormat) and the Feeder does not keep going.
func (f *Feeder) Line(line []byte, at time.Time) error {
	f.lineno++
	f.s.env = at
	return f.s.handleAt(line, f.lineno, linePos{})
}

// Decide makes auto-detection decide on the lines it holds, and reads
// them: call it when the input goes quiet and before the end. It fails
// when no format reads any of them (ErrUnknownFormat), unless the Feeder
// keeps going.
func (f *Feeder) Decide() error { return f.s.decidePending() }

// Holds reports whether auto-detection holds lines given to Line that are
// not on the Emitter yet (Decide reads them): a source that records its
// position must not record one past them.
func (f *Feeder) Holds() bool { return len(f.s.pending) > 0 }

// Note is what the Feeder has to say about its format: the one
// auto-detection chose (with any columns it leaves unread), or why the
// source's lines are not read; "" before that.
func (f *Feeder) Note() string { return f.s.formatNote }

// Emitter is the Emitter the Feeder queues events on.
func (f *Feeder) Emitter() *source.Emitter { return f.s.e }

// setStatus puts a note before the format's (a connection's state) and
// hands both to the Emitter.
func (f *Feeder) setStatus(note string) {
	f.s.waitNote = note
	f.s.sync()
}
