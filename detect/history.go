package detect

import (
	"slices"
	"time"
)

// Request counts over the run, for the dashboard's timeline: one count per
// second for the last hour (a zoom to a minute or ten shows seconds), and
// the whole run in buckets that double in width as it grows (a zoom to
// "all" over a week-long run). Both are fixed-size: memory does not grow
// with the run.

const (
	hourSeconds = 3600
	runBuckets  = 4096
)

// hourRing counts events per second of event time over the last hour.
type hourRing struct {
	cur    int64 // unix second of the newest bucket; 0 before the first event
	counts [hourSeconds]uint32
}

func (h *hourRing) add(t time.Time) {
	sec := t.Unix()
	switch {
	case h.cur == 0:
		h.cur = sec
	case sec > h.cur:
		if sec-h.cur >= hourSeconds {
			h.counts = [hourSeconds]uint32{}
		} else {
			for x := h.cur + 1; x <= sec; x++ {
				h.counts[mod(x, hourSeconds)] = 0
			}
		}
		h.cur = sec
	case sec <= h.cur-hourSeconds:
		return
	}
	h.counts[mod(sec, hourSeconds)]++
}

// at returns the count of second sec and whether the ring covers it.
func (h *hourRing) at(sec int64) (uint32, bool) {
	if h.cur == 0 || sec > h.cur {
		return 0, h.cur != 0
	}
	if sec <= h.cur-hourSeconds {
		return 0, false
	}
	return h.counts[mod(sec, hourSeconds)], true
}

func mod(x, n int64) int { return int(((x % n) + n) % n) }

// runHist counts events over the whole run: bucket i covers width seconds
// from start+i*width; when an event falls past the last bucket, pairs of
// buckets merge and the width doubles.
type runHist struct {
	start  int64 // unix second; 0 before the first event
	width  int64
	counts [runBuckets]uint32
}

func (h *runHist) add(t time.Time) {
	sec := t.Unix()
	if h.start == 0 {
		h.start, h.width = sec, 1
	}
	i := (sec - h.start) / h.width
	for i >= runBuckets {
		for j := 0; j < runBuckets/2; j++ {
			h.counts[j] = h.counts[2*j] + h.counts[2*j+1]
		}
		clear(h.counts[runBuckets/2:])
		h.width *= 2
		i = (sec - h.start) / h.width
	}
	h.counts[max(0, i)]++ // an event before the first one counts in the first bucket
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
		if e.run.start != 0 {
			span = max(span, end.Sub(time.Unix(e.run.start, 0)))
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

// fillRequests counts every request into the timeline's buckets: the last
// hour from the per-second ring, earlier times from the run's histogram.
func (e *Engine) fillRequests(t *Activity) {
	first := t.Start.Unix()
	last := t.End().Unix() - 1
	covered := last + 1 // the first second the hour ring covers within the timeline
	for sec := last; sec >= first; sec-- {
		c, ok := e.hour.at(sec)
		if !ok {
			break
		}
		covered = sec
		if c > 0 {
			t.Requests[int((sec-first)/int64(t.Step/time.Second))] += float64(c)
		}
	}
	if covered == first || e.run.start == 0 {
		return
	}
	for i, c := range e.run.counts {
		bs := e.run.start + int64(i)*e.run.width
		if bs >= covered {
			break
		}
		if c == 0 || bs+e.run.width <= first {
			continue
		}
		if b := t.Bucket(time.Unix(max(bs, first), 0)); b >= 0 {
			t.Requests[b] += float64(c)
		}
	}
}

// fillAlerts counts the alerts the list keeps (those keep says) into the
// timeline's buckets, by detector.
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
