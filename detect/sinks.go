package detect

import "fmt"

// A Sink receives what the engine emits. It implements one or more of the
// interfaces below; NewEngine resolves them once. Sinks are called on the
// engine's goroutine, in event order, after the engine has released its
// lock, so a slow sink never holds up Snapshot (the dashboard). An error
// from a sink stops the engine (a closed pipe, a full disk).
type Sink any

// RequestSink receives every request observed. r is valid for the call
// only (its batch's array is refilled once observed, see Batch.Recycle);
// the strings in it may be kept.
type RequestSink interface{ Request(r *Request) error }

// AlertSink receives every new alert (a copy: later occurrences only raise
// the engine's count).
type AlertSink interface{ Alert(a *Alert) error }

// DNSSink receives every DNS answer observed.
type DNSSink interface{ DNS(a *DNSAnswer) error }

// ProblemSink receives each kept unparsed input (a sample per source).
type ProblemSink interface{ Problem(p Problem) }

// NoteSink receives a source's status note when it changes, such as the log
// format auto-detection chose.
type NoteSink interface{ Note(source, note string) }

// BatchSink is told when a batch has been delivered, so it can flush.
type BatchSink interface{ BatchEnd() error }

// CountingSink reports counts of its own (lines a queued output dropped),
// added to the snapshot's and the summary's Counters. Counts is called
// from any goroutine, under the engine's lock: it must only read atomics.
type CountingSink interface {
	Counts(add func(name string, n uint64))
}

// sinks are the engine's outputs, resolved by interface once.
type sinks struct {
	counting  []CountingSink
	requests  []RequestSink
	alerts    []AlertSink
	dns       []DNSSink
	problems  []ProblemSink
	notes     []NoteSink
	batches   []BatchSink
	incidents []IncidentSink
}

func resolveSinks(list []Sink) (sinks, error) {
	var s sinks
	for _, x := range list {
		found := false
		if v, ok := x.(RequestSink); ok {
			s.requests, found = append(s.requests, v), true
		}
		if v, ok := x.(AlertSink); ok {
			s.alerts, found = append(s.alerts, v), true
		}
		if v, ok := x.(DNSSink); ok {
			s.dns, found = append(s.dns, v), true
		}
		if v, ok := x.(ProblemSink); ok {
			s.problems, found = append(s.problems, v), true
		}
		if v, ok := x.(NoteSink); ok {
			s.notes, found = append(s.notes, v), true
		}
		if v, ok := x.(IncidentSink); ok {
			s.incidents, found = append(s.incidents, v), true
		}
		if v, ok := x.(CountingSink); ok {
			s.counting, found = append(s.counting, v), true
		}
		if v, ok := x.(BatchSink); ok {
			s.batches, found = append(s.batches, v), true
		}
		if !found {
			return s, fmt.Errorf("sink %T implements none of the sink interfaces", x)
		}
	}
	return s, nil
}

// output is one thing to hand the sinks; exactly one field is set.
type output struct {
	req      *Request
	alert    *Alert
	incident *Incident
	dns      *DNSAnswer
	problem  *Problem
	note     *[2]string // source, note
}

// outbox collects what a batch emits while the engine holds its lock.
type outbox struct {
	items []output
	dirty bool // something for BatchEnd
}

func (o *outbox) add(x output) {
	o.items = append(o.items, x)
	o.dirty = true
}

// deliver hands every collected output to the sinks, in order, then tells
// the batch sinks. It runs without the engine's lock.
func (s *sinks) deliver(items []output) error {
	for _, it := range items {
		var err error
		switch {
		case it.req != nil:
			for _, k := range s.requests {
				if err = k.Request(it.req); err != nil {
					break
				}
			}
		case it.alert != nil:
			for _, k := range s.alerts {
				if err = k.Alert(it.alert); err != nil {
					break
				}
			}
		case it.incident != nil:
			for _, k := range s.incidents {
				if err = k.Incident(it.incident); err != nil {
					break
				}
			}
		case it.dns != nil:
			for _, k := range s.dns {
				if err = k.DNS(it.dns); err != nil {
					break
				}
			}
		case it.problem != nil:
			for _, k := range s.problems {
				k.Problem(*it.problem)
			}
		case it.note != nil:
			for _, k := range s.notes {
				k.Note(it.note[0], it.note[1])
			}
		}
		if err != nil {
			return err
		}
	}
	for _, k := range s.batches {
		if err := k.BatchEnd(); err != nil {
			return err
		}
	}
	return nil
}
