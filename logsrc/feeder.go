package logsrc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
)

// A Feeder turns the lines of one source into requests on its Emitter, with
// the format auto-detection of a file: it holds the first lines until the
// format is decided, then reads them and every later line. Files use one;
// sources whose lines arrive in envelopes (a syslog message's payload, a
// journal entry's MESSAGE, a container's log line, a remote tail's line)
// use one per stream through Streams. One goroutine uses it: the source's.
type Feeder struct {
	source string // every request's Source
	where  string // Problem.Where prefix: the source, or "stdin"
	keys   *keys.Extractor
	p      *Parser
	e      *source.Emitter
	now    func() time.Time

	cur        detect.Request // the line being parsed
	formatNote string
	lineno     int64 // lines given to Line

	// auto: the first lines (and their numbers and envelope times), read
	// again once the format is decided.
	pending   [][]byte
	pendingNo []int64
	pendingAt []time.Time

	// keep: FeederOptions.KeepGoing. unread: auto-detection found no
	// format and the source lives on: its lines are counted, not read.
	keep, unread bool

	// sayNote hands the note to the Emitter; a file's input adds its own
	// (waiting for the file) to it.
	sayNote func()
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
}

// NewFeeder returns a Feeder for the source named name (each request's
// Source) that queues requests on e.
func NewFeeder(e *source.Emitter, name string, o FeederOptions) (*Feeder, error) {
	p, err := Compile(o.Format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.SetLocation(o.Location)
	f := newFeeder(e, name, name, p, o.Keys)
	f.keep = o.KeepGoing
	return f, nil
}

func newFeeder(e *source.Emitter, name, where string, p *Parser, k *keys.Extractor) *Feeder {
	f := &Feeder{source: name, where: where, keys: k, p: p, e: e, now: time.Now}
	f.sayNote = func() { f.e.SetNote(f.formatNote) }
	return f
}

// Line feeds one line, its newline included or not. at is the time its
// envelope gives (a syslog header, a journal entry, a container log's
// timestamp), used when the line's format has none; zero means the time
// it is read. Line fails only when auto-detection cannot read the first
// lines (ErrUnknownFormat) and the Feeder does not keep going.
func (f *Feeder) Line(line []byte, at time.Time) error {
	f.lineno++
	return f.handle(line, f.lineno, at)
}

// handleLine is Line for a file, which numbers its own lines.
func (f *Feeder) handleLine(line []byte, lineno int64) error {
	return f.handle(line, lineno, time.Time{})
}

// handle parses one line into the batch. While auto-detection has not
// decided, lines are kept and read again once it has.
func (f *Feeder) handle(line []byte, lineno int64, at time.Time) error {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if isBlank(line) {
		return nil
	}
	if f.unread {
		f.count("lines_unread")
		return nil
	}
	if f.p.auto && f.p.chosen == nil {
		if werkzeugBanner(line) {
			f.count("skipped_lines")
			return nil
		}
		f.pending = append(f.pending, bytes.Clone(line))
		f.pendingNo = append(f.pendingNo, lineno)
		f.pendingAt = append(f.pendingAt, at)
		if len(f.pending) >= autoLines {
			return f.Decide()
		}
		return nil
	}
	f.cur.Source = f.source
	err := f.p.Parse(line, f.keys, &f.cur)
	if err != nil {
		if errors.Is(err, ErrNotRequest) {
			f.count("skipped_lines")
			return nil
		}
		f.bad(lineno, err, line)
		return nil
	}
	r := &f.cur
	if r.Time.IsZero() {
		r.Time = at // a format without a clock: the envelope's time,
		if r.Time.IsZero() {
			r.Time = f.now() // else the time it was read
		}
	}
	f.e.Request(r)
	return nil
}

// Decide makes auto-detection decide on the lines it holds, and reads
// them: call it when the input goes quiet and before the end. It fails
// when no format reads any of them (ErrUnknownFormat), unless the Feeder
// keeps going.
func (f *Feeder) Decide() error {
	if len(f.pending) == 0 {
		return nil
	}
	if !f.p.decide(f.pending) {
		err := f.undetected()
		if !f.keep {
			return err
		}
		f.unread = true
		f.formatNote = "not read: " + err.Error()
		f.e.Counter("lines_unread").Add(uint64(len(f.pending)))
		f.pending, f.pendingNo, f.pendingAt = nil, nil, nil
		f.sayNote()
		return nil
	}
	f.formatNote = "format: " + f.p.Format() + " (auto)"
	if warn := extraColumns(f.p.chosen, f.pending) + extraJSONFields(f.p.chosen, f.pending); warn != "" {
		f.formatNote += "; " + warn
	}
	f.sayNote()
	lines, nos, ats := f.pending, f.pendingNo, f.pendingAt
	f.pending, f.pendingNo, f.pendingAt = nil, nil, nil
	for i, l := range lines {
		if err := f.handle(l, nos[i], ats[i]); err != nil {
			return err
		}
	}
	return nil
}

// Note is what the Feeder has to say about its format: the one
// auto-detection chose (with any columns it leaves unread), or why the
// source's lines are not read; "" before that.
func (f *Feeder) Note() string { return f.formatNote }

// Emitter is the Emitter the Feeder queues requests on.
func (f *Feeder) Emitter() *source.Emitter { return f.e }

// undetected is the error for input whose first lines no format reads.
func (f *Feeder) undetected() error {
	line := f.pending[0]
	hint := formatHint
	if looksJSON(line) {
		hint = "caddy, traefik, json (common key names) or json:host=PATH,time=PATH,method=PATH,target=PATH,... " +
			"(dotted paths into the object)"
	}
	return fmt.Errorf("log %s: %w: no known format reads its first %d line(s); line %d is \"%s\" (%s); set --log-format to one of %s",
		f.where, ErrUnknownFormat, len(f.pending), f.pendingNo[0], shapeOf(line, 120), f.p.whyNot(line), hint)
}

// bad counts a line that did not parse and keeps the first few as Problems.
func (f *Feeder) bad(lineno int64, err error, line []byte) {
	f.e.ParseError()
	if f.e.WantsProblems() {
		f.e.Problem(f.where+":"+strconv.FormatInt(lineno, 10), err.Error()+": "+shapeOf(line, problemBytes))
	}
}

// count adds one to a counter handed over with the next batch.
func (f *Feeder) count(name string) { f.e.Counter(name).Inc() }
