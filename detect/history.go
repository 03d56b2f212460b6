package detect

import (
	"math"
	"slices"
	"time"
)

// The run over event time, kept once: the requests of each second of the
// last hour, and the requests and new alerts (by severity) of the whole
// run in buckets that widen as it grows. Everything that draws the run
// over time reads it: the dashboard's rate and minute of history
// (Snapshot.RateNow, .History), its timeline (Snapshot.Activity), the
// count of a pinned range, and the report's charts (Engine.RunHistory).
//
// The two tiers hold different requests: a second leaving the hour is
// folded into the run's buckets, and a request older than the hour (a
// late source) goes straight there. So the hour is exact, nothing is
// counted twice where they meet, and a request costs one increment in
// the ring (a bucket's only once per second of event time, when a
// second leaves). Alerts, fewer, go to the run's buckets directly.
//
// Memory is fixed whatever the run's length or traffic: 39,032 bytes
// (TestRunHistoryBytes), the ring 14,400 and the buckets 24,576.

const (
	hourSeconds = 3600 // the per-second tier
	runSlots    = 1024 // the run's buckets: at least a fifth in use once it widens
)

// RunBuckets is the most buckets a RunHistory holds, however long the run.
const RunBuckets = 240

// runWidths are the bucket widths of the run's buckets, finest first. Each
// divides the next, so buckets merge whole when the run outgrows a width,
// and a RunHistory can be cut from them at any coarser one; past the last,
// widths double.
var runWidths = []int64{1, 2, 10, 30, 60, 120, 600, 1800, 3600, 7200, 21600, 43200, 86400}

// RunHistory is the whole run's requests and new alerts over event time, in
// at most RunBuckets equal buckets: the rates a report charts. Each bucket
// starts at a multiple of Width since the Unix epoch (1 s, 2 s, 10 s, 30 s,
// 1 min, ... as the run grows: the finest that fits), so the chart reads
// in round times.
type RunHistory struct {
	Start   time.Time       // the first bucket's start; zero before any event
	Width   time.Duration   // each bucket's span
	Buckets []HistoryBucket // oldest first, up to the bucket of the latest event
}

// HistoryBucket counts what happened in one bucket of a RunHistory.
type HistoryBucket struct {
	Requests uint64    // requests observed (to the protected servers)
	Alerts   [4]uint64 // new alerts raised, by Severity (repeats inside the de-duplication window are not new)
}

// End is when the last bucket ends.
func (h RunHistory) End() time.Time { return h.Start.Add(time.Duration(len(h.Buckets)) * h.Width) }

// runHistory is the engine's record of the run over event time.
type runHistory struct {
	any         bool  // an event was counted
	hourOn      bool  // a request was counted: cur is set
	first, last int64 // unix seconds of the earliest and the latest event counted

	// The hour: secs[mod(s, hourSeconds)] holds the requests of second s
	// for cur-hourSeconds < s <= cur, cur being the latest request's.
	cur  int64
	secs [hourSeconds]uint32

	// The run before the hour, and its alerts: slot i holds
	// [start+i*width, start+(i+1)*width), slots 0..n-1 in use; start is a
	// multiple of width. width is 0 before the first thing kept here.
	start, width int64
	n            int
	slots        [runSlots]runSlot
}

type runSlot struct {
	requests uint64
	alerts   [4]uint32 // by Severity; they stop at the maximum rather than wrap
}

// request counts a request at t.
func (h *runHistory) request(t time.Time) {
	sec := t.Unix()
	h.saw(sec)
	switch {
	case !h.hourOn:
		h.hourOn, h.cur = true, sec
	case sec > h.cur:
		h.advance(sec)
	case sec <= h.cur-hourSeconds:
		h.slot(sec).requests++
		return
	}
	h.secs[mod(sec, hourSeconds)]++
}

// alert counts a new alert of severity s at t.
func (h *runHistory) alert(t time.Time, s Severity) {
	if s < 0 || int(s) >= len(runSlot{}.alerts) {
		return
	}
	sec := t.Unix()
	h.saw(sec)
	if a := &h.slot(sec).alerts[s]; *a < math.MaxUint32 {
		*a++
	}
}

func (h *runHistory) saw(sec int64) {
	if !h.any {
		h.any, h.first, h.last = true, sec, sec
		return
	}
	h.first, h.last = min(h.first, sec), max(h.last, sec)
}

// advance moves the hour on to end at sec: the seconds it leaves, from
// the oldest it holds to sec-hourSeconds (none past cur held anything),
// go to the run's buckets. Their ring cells are the ones sec's new
// seconds take, so folding them also clears those.
func (h *runHistory) advance(sec int64) {
	for s := h.cur - hourSeconds + 1; s <= min(h.cur, sec-hourSeconds); s++ {
		c := &h.secs[mod(s, hourSeconds)]
		if *c > 0 {
			h.slot(s).requests += uint64(*c)
			*c = 0
		}
	}
	h.cur = sec
}

// hourFrom is the first second the hour holds.
func (h *runHistory) hourFrom() int64 { return h.cur - hourSeconds + 1 }

// second is the requests of second sec and whether the hour covers it (a
// second after the latest request is covered: it has none yet).
func (h *runHistory) second(sec int64) (uint32, bool) {
	if !h.hourOn || sec < h.hourFrom() {
		return 0, false
	}
	if sec > h.cur {
		return 0, true
	}
	return h.secs[mod(sec, hourSeconds)], true
}

// perSecond is second without the coverage (zero outside the hour), for
// rateOf and historyOf.
func (h *runHistory) perSecond(sec int64) uint32 {
	c, _ := h.second(sec)
	return c
}

// requests counts the requests of the seconds [from, to): exactly within
// the hour and over whole buckets before it; a bucket cut by the range
// counts in proportion to the part of it inside (its requests spread
// evenly over the part of it after the run's first event and before the
// hour), and the count is then not exact.
func (h *runHistory) requests(from, to int64) (n float64, exact bool) {
	if !h.hourOn || from >= to {
		return 0, true
	}
	hourFrom := h.hourFrom()
	for s := max(from, hourFrom); s < to && s <= h.cur; s++ {
		n += float64(h.secs[mod(s, hourSeconds)])
	}
	exact = true
	end := min(to, hourFrom) // the buckets' requests all lie before the hour
	if from >= end || h.width == 0 {
		return n, exact
	}
	i := 0
	if from > h.start {
		i = int((from - h.start) / h.width)
	}
	for ; i < h.n; i++ {
		bs := h.start + int64(i)*h.width
		if bs >= end {
			break
		}
		// A bucket's requests lie between the run's first event and the hour.
		c := h.slots[i].requests
		bs, be := max(bs, h.first), min(bs+h.width, hourFrom)
		lo, hi := max(bs, from), min(be, end)
		switch {
		case c == 0 || hi <= lo:
		case lo == bs && hi == be:
			n += float64(c)
		default:
			n += float64(c) * float64(hi-lo) / float64(be-bs)
			exact = false
		}
	}
	return n, exact
}

// slot returns the run's bucket of second sec, widening or extending the
// buckets to hold it.
func (h *runHistory) slot(sec int64) *runSlot {
	if h.width == 0 {
		h.width = runWidths[0]
		h.start = floorTo(sec, h.width)
	}
	for {
		if sec >= h.start {
			if i := (sec - h.start) / h.width; i < runSlots {
				h.n = max(h.n, int(i)+1)
				return &h.slots[i]
			}
		} else if lo := floorTo(sec, h.width); (h.start-lo)/h.width+int64(h.n) <= runSlots {
			// Earlier than the first bucket (several sources, a reorder
			// window, an alert dated by an older event) and the span still
			// fits: move the buckets up.
			shift := int((h.start - lo) / h.width)
			copy(h.slots[shift:shift+h.n], h.slots[:h.n])
			clear(h.slots[:shift])
			h.start, h.n = lo, h.n+shift
			continue
		}
		h.widen()
	}
}

// widen merges the buckets into the next coarser width, in place: a
// bucket's new index is never above its old one.
func (h *runHistory) widen() {
	w := nextWidth(h.width)
	start := floorTo(h.start, w)
	if h.n == 0 {
		h.start, h.width = start, w
		return
	}
	var acc runSlot
	j := 0
	for i := 0; i < h.n; i++ {
		if k := int((h.start + int64(i)*h.width - start) / w); k != j {
			h.slots[j], acc, j = acc, runSlot{}, k
		}
		acc.add(&h.slots[i])
	}
	h.slots[j] = acc
	clear(h.slots[j+1 : h.n])
	h.start, h.width, h.n = start, w, j+1
}

func (s *runSlot) add(o *runSlot) {
	s.requests += o.requests
	for i, a := range o.alerts {
		s.alerts[i] = uint32(min(uint64(s.alerts[i])+uint64(a), math.MaxUint32))
	}
}

func nextWidth(w int64) int64 {
	for _, x := range runWidths {
		if x > w {
			return x
		}
	}
	return w * 2
}

// floorTo rounds sec down to a multiple of w (towards minus infinity).
func floorTo(sec, w int64) int64 { return floorDiv(sec, w) * w }

func mod(x, n int64) int { return int(((x % n) + n) % n) }

// snapshot cuts a RunHistory from both tiers: the finest width that holds
// the run in RunBuckets, never finer than the run's buckets (which are
// then whole inside one of its buckets, as is every second of the hour).
func (h *runHistory) snapshot() RunHistory {
	if !h.any {
		return RunHistory{}
	}
	w := max(h.width, runWidths[0])
	for floorDiv(h.last, w)-floorDiv(h.first, w) >= RunBuckets {
		w = nextWidth(w)
	}
	start := floorTo(h.first, w)
	out := RunHistory{Start: time.Unix(start, 0).UTC(), Width: time.Duration(w) * time.Second,
		Buckets: make([]HistoryBucket, floorDiv(h.last, w)-floorDiv(h.first, w)+1)}
	for i := range h.n {
		s := &h.slots[i]
		b := &out.Buckets[(h.start+int64(i)*h.width-start)/w]
		b.Requests += s.requests
		for sev, a := range s.alerts {
			b.Alerts[sev] += uint64(a)
		}
	}
	if h.hourOn {
		for s := h.hourFrom(); s <= h.cur; s++ {
			if c := h.secs[mod(s, hourSeconds)]; c > 0 {
				out.Buckets[(s-start)/w].Requests += uint64(c)
			}
		}
	}
	return out
}

// RunHistory returns the whole run's requests and new alerts over event
// time, for a report's charts.
func (e *Engine) RunHistory() RunHistory {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.history.snapshot()
}

// Activity is the header's view of event time: requests (narrowed by the
// query's pins) and alerts by detector, in Buckets equal steps ending at
// the snapshot's clock.
type Activity struct {
	Start    time.Time
	Step     time.Duration
	Requests []float64 // per bucket
	Alerts   [][]int   // per bucket, alerts raised in it by detector in Detectors order; nil for a bucket without any
}

// End is where the timeline's last bucket ends.
func (t *Activity) End() time.Time { return t.Start.Add(time.Duration(len(t.Requests)) * t.Step) }

// Bucket returns the index of the bucket holding at, or -1.
func (t *Activity) Bucket(at time.Time) int {
	if t.Step <= 0 || at.Before(t.Start) || !at.Before(t.End()) {
		return -1
	}
	return int(at.Sub(t.Start) / t.Step)
}

// SpanAll asks for a timeline over the whole run (Query.Span).
const SpanAll time.Duration = -1

// activityFrame works out a timeline's buckets for span ending at now.
func (e *Engine) activityFrame(span time.Duration, buckets int, now time.Time) Activity {
	if buckets <= 0 {
		buckets = 60
	}
	end := now.Truncate(time.Second).Add(time.Second)
	if span == SpanAll {
		span = time.Minute
		if e.history.any {
			span = max(span, end.Sub(time.Unix(e.history.first, 0)))
		}
	}
	if span <= 0 {
		span = time.Minute
	}
	step := (span + time.Duration(buckets) - 1) / time.Duration(buckets)
	step = max(time.Second, (step+time.Second-1)/time.Second*time.Second)
	return Activity{Start: end.Add(-step * time.Duration(buckets)), Step: step, Requests: make([]float64, buckets),
		Alerts: make([][]int, buckets)}
}

// fillRequests counts every request into the timeline's buckets: per
// second within the last hour, by the run's buckets before.
func (e *Engine) fillRequests(t *Activity) {
	from, step := t.Start.Unix(), int64(t.Step/time.Second)
	for i := range t.Requests {
		t.Requests[i], _ = e.history.requests(from+int64(i)*step, from+int64(i+1)*step)
	}
}

// fillAlerts counts the alerts the list keeps (those keep says) into the
// timeline's buckets, by detector. They come from the list rather than
// the history: pins narrow them, and a step's alerts are the ones the
// alerts pane lists.
func (e *Engine) fillAlerts(t *Activity, keep func(a *Alert) bool) {
	for _, a := range e.alerts {
		b := t.Bucket(a.Time)
		if b < 0 || !keep(a) {
			continue
		}
		d := slices.Index(Detectors, a.Detector)
		if d < 0 {
			continue
		}
		if t.Alerts[b] == nil {
			t.Alerts[b] = make([]int, len(Detectors))
		}
		t.Alerts[b][d]++
	}
}
