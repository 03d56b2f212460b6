package logsrc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// ZeekPrefix names a directory of Zeek logs on the command line:
// "zeek:/opt/zeek/logs/current/".
const ZeekPrefix = "zeek:"

// zeekLogs are the logs of a Zeek directory that rebindwatch reads.
var zeekLogs = [...]string{"http.log", "dns.log", "ssl.log"}

// ErrNoZeekLogs is the error for a directory without any of them.
var ErrNoZeekLogs = source.InputError("no Zeek logs")

// runZeekDir reads (and with Follow follows, across Zeek's rotation) a Zeek
// directory's http.log, dns.log and ssl.log as one source: their requests,
// DNS answers and ClientHellos are handed over in time order, so that
// dns_rebind sees an answer before the request it steered. Each log is
// read a chunk at a time, and an event is handed over once every log still
// being read has reached its time.
func runZeekDir(ctx context.Context, dir string, opts Options, out chan<- detect.Batch) error {
	name := ZeekPrefix + dir
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return logErr(name, err)
	case !fi.IsDir():
		return fmt.Errorf("log %s: %w: %s is not a directory", name, ErrNoZeekLogs, dir)
	}
	var ins []*zeekInput
	eo := source.Options{Name: name, Pacer: opts.Pacer, BatchSize: opts.BatchSize, MaxProblems: opts.MaxProblems, Keys: opts.Keys}
	if opts.State != nil {
		// Each log keeps its own position (--state), as a followed file
		// does; a batch commits the three together.
		eo.Checkpoint = func() func() { return zeekCheckpoint(ins) }
	}
	e := source.New(ctx, out, eo)
	m := &merger{out: e}
	opts.Format = nameZeek
	found := []string{}
	for _, base := range zeekLogs {
		path := filepath.Join(dir, base)
		if _, err := os.Stat(path); err != nil && (!opts.Follow || !errors.Is(err, fs.ErrNotExist)) {
			continue
		}
		found = append(found, base)
		s := newInput(ctx, path, opts, out)
		s.e, s.merged = e, true // one source: the directory
		zi := &zeekInput{s: s, m: m}
		s.out, s.hand = zi, zi.mark
		ins = append(ins, zi)
	}
	if len(found) == 0 {
		return e.Close(fmt.Errorf("log %s: %w: it has none of %s", name, ErrNoZeekLogs, strings.Join(zeekLogs[:], ", ")))
	}
	note := "zeek: " + strings.Join(found, ", ")
	for _, zi := range ins {
		fl, err := zi.s.openFollow(opts.TailOnly)
		if fl != nil {
			defer fl.closeAll()
		}
		if err != nil {
			return e.Close(err)
		}
		fl.chunks = 1
		zi.fl = fl
	}
	e.SetNote(note)
	for {
		progressed := false
		for _, zi := range ins {
			zi.moved = false
			p, err := zi.fl.step()
			if err != nil {
				return e.Close(err)
			}
			progressed = progressed || p
		}
		stopping := ctx.Err() != nil
		if progressed && !stopping {
			m.release(ins)
			e.FlushDue(flushEvery)
			continue
		}
		for _, zi := range ins {
			if err := zi.s.decidePending(); err != nil {
				return e.Close(err)
			}
		}
		if stopping || !opts.Follow {
			if stopping {
				// The stop rule: every log to its current end, then everything.
				for again := true; again; {
					again = false
					for _, zi := range ins {
						p, err := zi.fl.step()
						if err != nil {
							return e.Close(err)
						}
						again = again || p
					}
				}
			}
			// A line still being written is counted, as a log's is
			// (partial_lines_at_stop), and left for a later run.
			for _, zi := range ins {
				zi.s.decidePending()
				for _, o := range zi.fl.old {
					zi.s.stopWith(&o.sp)
				}
				if zi.fl.cur != nil {
					zi.s.stopWith(&zi.fl.cur.sp)
				}
			}
			m.releaseAll(ins)
			e.SetState(detect.StateDone)
			return e.Close(nil)
		}
		m.releaseAll(ins)
		e.SetState(detect.StateFollowing)
		e.FlushDue(0)
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// zeekInput is one log of a Zeek directory: its events go to the merge.
type zeekInput struct {
	s     *input
	fl    *follower
	m     *merger
	last  time.Time // the newest event time it gave
	moved bool      // it gave events this round

	// The log's lines in order, from the oldest not yet handed over: a
	// line is handed over (its position may be checkpointed) once it and
	// every line before it have left the merge. marks[0] is line base.
	marks []lineMark
	base  int64
}

// lineMark is one line of a Zeek log: where it ends, whether it gave an
// event, and whether that event has left the merge.
type lineMark struct {
	at       linePos
	event    bool
	released bool
}

// mark notes a line dealt with by the parser (input.hand); the event it
// gives, if any, follows (markEvent). Lines are handed over when the merge
// releases (advance), never between a line and its event.
func (z *zeekInput) mark(at linePos) {
	z.marks = append(z.marks, lineMark{at: at})
}

// markEvent says the line just marked gave an event, and returns the
// line's number for the merge.
func (z *zeekInput) markEvent() int64 {
	z.marks[len(z.marks)-1].event = true
	return z.base + int64(len(z.marks)) - 1
}

// released is told that the event of line n left the merge.
func (z *zeekInput) released(n int64) {
	z.marks[n-z.base].released = true
}

// advance hands over the lines at the front that are done with.
func (z *zeekInput) advance() {
	n := 0
	for n < len(z.marks) && (!z.marks[n].event || z.marks[n].released) {
		z.marks[n].at.handed()
		n++
	}
	// Re-sliced, not copied down: advance runs for every event the merge
	// releases, and appends reuse the array's tail until it is full.
	z.marks = z.marks[n:]
	z.base += int64(n)
}

func (z *zeekInput) saw(t time.Time) {
	if t.After(z.last) {
		z.last = t
	}
	z.moved = true
}

func (z *zeekInput) Request(r *detect.Request) {
	z.saw(r.Time)
	z.m.add(mergeEvent{t: r.Time, kind: kindRequest, req: *r, from: z, line: z.markEvent()})
}

func (z *zeekInput) DNS(a detect.DNSAnswer) {
	z.saw(a.Time)
	z.m.add(mergeEvent{t: a.Time, kind: kindDNS, dns: a, from: z, line: z.markEvent()})
}

func (z *zeekInput) TLS(h detect.TLSHello) {
	z.saw(h.Time)
	z.m.add(mergeEvent{t: h.Time, kind: kindTLS, tls: h, from: z, line: z.markEvent()})
}

// zeekCheckpoint is the directory's logs' positions as they are now
// (source.Options.Checkpoint): what every log handed over.
func zeekCheckpoint(ins []*zeekInput) func() {
	var puts []func()
	for _, zi := range ins {
		if zi.s.ck != nil {
			if put := zi.s.ck.snapshot(); put != nil {
				puts = append(puts, put)
			}
		}
	}
	if len(puts) == 0 {
		return nil
	}
	return func() {
		for _, put := range puts {
			put()
		}
	}
}

// merger holds events read from several logs until they can be handed
// over in time order.
type merger struct {
	out    sink
	events []mergeEvent
	seq    uint64
}

type mergeEvent struct {
	t    time.Time
	seq  uint64
	kind eventKind
	req  detect.Request
	dns  detect.DNSAnswer
	tls  detect.TLSHello
	from *zeekInput // the log it came from, told when it leaves
	line int64      // its line there
}

func (m *merger) add(ev mergeEvent) {
	m.seq++
	ev.seq = m.seq
	m.events = append(m.events, ev)
}

// release hands over, in time order, the events no log still being read
// can precede: those up to the oldest newest-time of the logs that moved
// this round (a log at its end holds nothing back).
func (m *merger) release(ins []*zeekInput) {
	var mark time.Time
	for _, zi := range ins {
		if zi.moved && (mark.IsZero() || zi.last.Before(mark)) {
			mark = zi.last
		}
	}
	m.emit(func(t time.Time) bool { return mark.IsZero() || !t.After(mark) })
	handOver(ins)
}

// releaseAll hands over everything held.
func (m *merger) releaseAll(ins []*zeekInput) {
	m.emit(func(time.Time) bool { return true })
	handOver(ins)
}

// handOver moves each log's handed-over position past the lines done with.
func handOver(ins []*zeekInput) {
	for _, zi := range ins {
		zi.advance()
	}
}

func (m *merger) emit(due func(time.Time) bool) {
	sort.SliceStable(m.events, func(i, j int) bool {
		if !m.events[i].t.Equal(m.events[j].t) {
			return m.events[i].t.Before(m.events[j].t)
		}
		return m.events[i].seq < m.events[j].seq
	})
	n := 0
	for ; n < len(m.events) && due(m.events[n].t); n++ {
		ev := &m.events[n]
		// The log's position moves past the line before its event is
		// queued, as a followed file's does: a batch the Emitter sends
		// while queueing it carries the event.
		ev.from.released(ev.line)
		ev.from.advance()
		switch ev.kind {
		case kindDNS:
			m.out.DNS(ev.dns)
		case kindTLS:
			m.out.TLS(ev.tls)
		default:
			m.out.Request(&ev.req)
		}
	}
	rest := copy(m.events, m.events[n:])
	clear(m.events[rest:])
	m.events = m.events[:rest]
}
