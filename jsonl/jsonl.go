// Package jsonl writes rebindwatch's JSON lines: one object a line, "type"
// first, in the schema the README documents.
package jsonl

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/schema"
)

// Emit says which line types are written.
type Emit struct {
	Alert, Request, Summary, DNS, Incident bool
}

// ParseEmit parses "alert,request,summary" (any subset).
func ParseEmit(s string) (Emit, error) {
	var e Emit
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "alert", "alerts":
			e.Alert = true
		case "request", "requests":
			e.Request = true
		case "summary":
			e.Summary = true
		case "dns":
			e.DNS = true
		case "incident", "incidents":
			e.Incident = true
		case "":
		default:
			return e, fmt.Errorf("--emit: unknown kind %q (use any of alert,incident,request,summary,dns)", strings.TrimSpace(part))
		}
	}
	return e, nil
}

// Writer is a detect.Sink that writes JSON lines. It is used from the
// engine's goroutine only. Alerts are flushed at once so a pipeline sees them
// when they happen; requests are flushed at the end of each batch.
//
// A Writer from New or NewFormat writes synchronously: a reader that is slow
// holds up the engine (and with it sources that can wait: files, captures
// read from disk), and nothing is lost, which --state's exactly-once output
// relies on. One from NewQueued never waits (see queue).
type Writer struct {
	bw    lineWriter
	queue *queue // NewQueued's, nil otherwise
	emit  Emit
	enc   schema.Encoder
	buf   []byte
}

// lineWriter is where lines go: a bufio.Writer, or a queue.
type lineWriter interface {
	Write([]byte) (int, error)
	Flush() error
}

// New returns a writer to w, in rebindwatch's own line shapes.
func New(w io.Writer, emit Emit) *Writer {
	return NewFormat(w, emit, schema.NewEncoder(schema.FormatJSON, schema.EncoderOptions{}))
}

// NewFormat returns a writer to w whose request and alert lines are in
// enc's format (ECS, OCSF); incident, dns and summary lines keep
// rebindwatch's shape.
func NewFormat(w io.Writer, emit Emit, enc schema.Encoder) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), emit: emit, enc: enc, buf: make([]byte, 0, 1024)}
}

// NewQueued returns a writer like NewFormat's whose lines are written by a
// goroutine of its own, through a buffer of at most max bytes: a reader
// that falls behind costs lines (counted as output_dropped: see Counts),
// never the engine's time. Close it to write what is queued.
func NewQueued(w io.Writer, emit Emit, enc schema.Encoder, max int) *Writer {
	q := newQueue(w, max)
	return &Writer{bw: q, queue: q, emit: emit, enc: enc, buf: make([]byte, 0, 1024)}
}

// Counts reports the lines a queued writer dropped (detect.CountingSink).
func (w *Writer) Counts(add func(name string, n uint64)) {
	if w.queue != nil {
		add("output_dropped", w.queue.dropped.Load())
	}
}

// Close flushes what is buffered; a queued writer's lines are written
// first, waiting at most wait for a reader that has stopped reading.
func (w *Writer) Close(wait time.Duration) error {
	if err := w.bw.Flush(); err != nil {
		return wrap(err)
	}
	if w.queue != nil {
		return wrap(w.queue.close(wait))
	}
	return nil
}

// Request writes a request line when requests are emitted (and the
// format has one).
func (w *Writer) Request(r *detect.Request) error {
	if !w.emit.Request || w.enc.Request == nil {
		return nil
	}
	return w.line(w.enc.Request(w.buf[:0], r), false)
}

// Alert writes an alert line and flushes it.
func (w *Writer) Alert(a *detect.Alert) error {
	if !w.emit.Alert {
		return nil
	}
	return w.line(w.enc.Alert(w.buf[:0], a), true)
}

// Incident writes an incident line, when one opens or escalates, and
// flushes it.
func (w *Writer) Incident(i *detect.Incident) error {
	if !w.emit.Incident {
		return nil
	}
	return w.line(schema.AppendIncident(w.buf[:0], i), true)
}

// DNS writes a dns line (a DNS response seen in a capture) when emitted.
func (w *Writer) DNS(a *detect.DNSAnswer) error {
	if !w.emit.DNS {
		return nil
	}
	return w.line(schema.AppendDNS(w.buf[:0], a), false)
}

// BatchEnd flushes what the batch wrote.
func (w *Writer) BatchEnd() error { return wrap(w.bw.Flush()) }

// Summary writes the summary line when summaries are emitted, and flushes.
func (w *Writer) Summary(s detect.Summary) error {
	if !w.emit.Summary {
		return wrap(w.bw.Flush())
	}
	return w.line(schema.AppendSummary(w.buf[:0], &s), true)
}

// line writes one object as a line, flushing when asked.
func (w *Writer) line(b []byte, flush bool) error {
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return wrap(err)
	}
	if flush {
		return wrap(w.bw.Flush())
	}
	return nil
}

func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("writing JSON lines: %w", err)
	}
	return nil
}
