package detect

import (
	"strconv"
	"time"
)

// burstDetector raises key_burst: one key makes more than max requests within
// window. An alert is one episode; it re-arms once the key's count in the
// window is back at or under max.
type burstDetector struct {
	window time.Duration
	max    int
	state  keySlot[burstState]
}

// burstState is a key's last max+1 request times, grown as needed, so a key
// that never bursts costs a few words.
type burstState struct {
	times  []int64 // ring of unix nanos
	next   int     // where the next time goes once the ring is full
	active bool    // inside an episode
	newest int64   // latest time inserted
	// unsorted counts the insertions until the ring is in time order again
	// after a late event; while it is zero the oldest arrival is the oldest time.
	unsorted int
}

func (burstDetector) name() string { return DetKeyBurst }

func (d *burstDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil {
		return
	}
	k := o.key
	if k == nil {
		return
	}
	b := d.state.of(k)
	t := o.r.Time.UnixNano()
	if t < b.newest {
		b.unsorted = d.max + 1
	} else {
		b.newest = t
		if b.unsorted > 0 {
			b.unsorted--
		}
	}
	if len(b.times) <= d.max {
		b.times = append(b.times, t)
		if len(b.times) <= d.max {
			b.active = false
			return
		}
	} else {
		b.times[b.next] = t
		b.next = (b.next + 1) % len(b.times)
	}
	// The ring holds the key's last max+1 request times: more than max fell
	// inside one window exactly when they span less than it. In time order
	// the span runs from the oldest arrival to this one; after a late event
	// (streams, several files) it is measured over the whole ring.
	lo, hi := b.times[b.next%len(b.times)], t
	if b.unsorted > 0 {
		lo, hi = b.times[0], b.times[0]
		for _, x := range b.times[1:] {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	over := hi-lo < int64(d.window)
	if !over {
		b.active = false
		return
	}
	if b.active {
		return
	}
	b.active = true
	r := o.r
	e.raise(causeOf(o), Alert{
		Detector: DetKeyBurst,
		Severity: burstSeverity(r),
		Subject:  k.fp,
		Key:      k.fp,
		Host:     r.Host,
		Origin:   r.Origin,
		Message:  "key " + k.fp + " made more than " + strconv.Itoa(d.max) + " requests within " + d.window.String(),
	}, func() []Request { return e.keyEvidence(k.fp, r) })
}

// burstSeverity is medium, high when the burst reaches a sensitive path. A
// burst is about volume, so a 2xx answer adds nothing here.
func burstSeverity(r *Request) Severity {
	if sensitivePath(r.Target) {
		return SeverityHigh
	}
	return SeverityMedium
}
