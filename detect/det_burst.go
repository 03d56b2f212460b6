package detect

import (
	"math"
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

// burstBuckets is how many buckets hold a burst window (cut into one less,
// so that the one where the window starts is still held).
const burstBuckets = 16

// burstState counts a key's requests in burstBuckets buckets spanning the
// window, with where in its bucket each bucket's earliest and latest
// request fell (in 1/65536ths of a bucket): 112 bytes whatever max is,
// where a ring of the last max+1 times took 8(max+1). The count inside
// the window is exact wherever the window's start does not fall between a
// bucket's earliest and latest request; where it does, the bucket's
// requests are taken as evenly spaced, which is exact for a steady client
// (a key polling at exactly the limit is not a burst).
type burstState struct {
	cur         int64 // index of the newest bucket (unix ns / width)
	newest      int64 // latest time counted
	counts      [burstBuckets]uint32
	first, last [burstBuckets]uint16
	active      bool // inside an episode
}

func (burstDetector) name() string { return DetKeyBurst }

func (d *burstDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || o.key == nil || o.key.requests < 2 {
		return // one request is no burst (max is at least 1); its time is the key's first
	}
	k := o.key
	b := d.state.of(k)
	// A window spans burstBuckets-1 whole buckets, and the two at its ends
	// partly.
	width := max(int64(d.window)/(burstBuckets-1), 1)
	t := o.r.Time.UnixNano()
	if b.newest == 0 && k.requests == 2 {
		b.add(k.first, width) // the key's first request, until now told by its time alone
		if k.first == t {
			b.counts[b.index(b.cur)]-- // it was this one: the first was the other
			b.add(k.last, width)
		}
	}
	b.add(t, width)
	// Late events count towards the window that ends at the newest one.
	over := b.countAfter(b.newest-int64(d.window), width) > uint64(d.max)
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

func (b *burstState) index(bucket int64) int {
	return int(((bucket % burstBuckets) + burstBuckets) % burstBuckets)
}

// add counts one request at t (unix ns); one older than the buckets is not
// counted (no window that ends at a later request can hold it).
func (b *burstState) add(t, width int64) {
	bucket := floorDiv(t, width)
	switch {
	case b.newest == 0:
		b.cur = bucket
	case bucket > b.cur:
		if bucket-b.cur >= burstBuckets {
			b.counts = [burstBuckets]uint32{}
		} else {
			for x := b.cur + 1; x <= bucket; x++ {
				b.counts[b.index(x)] = 0
			}
		}
		b.cur = bucket
	case bucket <= b.cur-burstBuckets:
		return
	}
	b.newest = maxInt64(b.newest, t)
	i := b.index(bucket)
	at := uint16(min((t-bucket*width)/max(width>>16, 1), 1<<16-1))
	if b.counts[i] == 0 {
		b.first[i], b.last[i] = at, at
	} else {
		b.first[i], b.last[i] = min(b.first[i], at), max(b.last[i], at)
	}
	if b.counts[i] < ^uint32(0) {
		b.counts[i]++
	}
}

// countAfter counts the requests later than cutoff.
func (b *burstState) countAfter(cutoff, width int64) uint64 {
	unit := max(width>>16, 1)
	var sum uint64
	for bucket := b.cur - burstBuckets + 1; bucket <= b.cur; bucket++ {
		i := b.index(bucket)
		n := uint64(b.counts[i])
		if n == 0 {
			continue
		}
		start := bucket * width
		lo := start + int64(b.first[i])*unit        // the earliest is at or after lo
		hi := start + (int64(b.last[i])+1)*unit - 1 // the latest is at or before hi
		switch {
		case lo > cutoff:
			sum += n
		case hi <= cutoff:
		case n == 1 || b.first[i] == b.last[i]:
			// Within a 65536th of a bucket of the window's start: taken as
			// at it, so outside (a log's whole seconds: the requests of
			// the second the window starts at are outside it).
		default:
			// The start falls among the bucket's requests: take them as
			// evenly spaced from the first to the last, and count those
			// after it; one within a quantum of it is taken as at it.
			f, l := float64(lo)+float64(unit)/2, float64(hi)-float64(unit)/2
			span := (l - f) / float64(n-1) // between two requests
			atOrBefore := math.Floor((float64(cutoff)-f)/span+float64(unit)/span) + 1
			sum += n - uint64(min(max(atOrBefore, 0), float64(n)))
		}
	}
	return sum
}

// burstSeverity is medium, high when the burst reaches a sensitive path. A
// burst is about volume, so a 2xx answer adds nothing here.
func burstSeverity(r *Request) Severity {
	if sensitivePath(r.Target) {
		return SeverityHigh
	}
	return SeverityMedium
}
