package detect

import "time"

// RunBuckets is the most buckets a RunHistory holds, however long the run.
const RunBuckets = 240

// runWidths are the bucket widths a run history uses, finest first. Each
// divides the next, so buckets merge whole when the run outgrows a width;
// past the last, widths double.
var runWidths = []int64{1, 2, 10, 30, 60, 120, 600, 1800, 3600, 7200, 21600, 43200, 86400}

// RunHistory is the whole run's requests and new alerts over event time, in
// at most RunBuckets equal buckets: the rates a report charts. Each bucket
// starts at a multiple of Width since the Unix epoch (1 s, 2 s, 10 s, 30 s,
// 1 min, ... as the run grows), so the chart reads in round times.
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

// runHistory is the engine's bounded RunHistory: a fixed array whose bucket
// width grows (merging neighbours) when an event falls outside it.
type runHistory struct {
	start   int64 // Unix second of bucket 0, a multiple of width
	width   int64 // seconds; 0 before the first event
	n       int   // buckets in use: 0..n-1
	buckets [RunBuckets]HistoryBucket
}

// request counts a request at t.
func (h *runHistory) request(t time.Time) { h.at(t).Requests++ }

// alert counts a new alert of severity s at t.
func (h *runHistory) alert(t time.Time, s Severity) {
	if s >= 0 && int(s) < 4 {
		h.at(t).Alerts[s]++
	}
}

// at returns the bucket of t, widening or extending the history to hold it.
func (h *runHistory) at(t time.Time) *HistoryBucket {
	sec := t.Unix()
	if h.width == 0 {
		h.width = runWidths[0]
		h.start = floorTo(sec, h.width)
	}
	for {
		if sec >= h.start {
			if i := (sec - h.start) / h.width; i < RunBuckets {
				h.n = max(h.n, int(i)+1)
				return &h.buckets[i]
			}
		} else if lo := floorTo(sec, h.width); (h.start-lo)/h.width+int64(h.n) <= RunBuckets {
			// Earlier than the first bucket (several sources, a reorder
			// window) and the span still fits: move the buckets up.
			shift := int((h.start - lo) / h.width)
			copy(h.buckets[shift:shift+h.n], h.buckets[:h.n])
			clear(h.buckets[:shift])
			h.start, h.n = lo, h.n+shift
			continue
		}
		h.widen()
	}
}

// widen merges the buckets into the next coarser width.
func (h *runHistory) widen() {
	w := nextWidth(h.width)
	start := floorTo(h.start, w)
	var merged [RunBuckets]HistoryBucket
	n := 0
	for i := 0; i < h.n; i++ {
		j := int((h.start + int64(i)*h.width - start) / w)
		b, m := &h.buckets[i], &merged[j]
		m.Requests += b.Requests
		for s := range m.Alerts {
			m.Alerts[s] += b.Alerts[s]
		}
		n = j + 1
	}
	h.buckets, h.start, h.width, h.n = merged, start, w, n
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
func floorTo(sec, w int64) int64 {
	q := sec / w
	if sec%w < 0 {
		q--
	}
	return q * w
}

// snapshot copies the history.
func (h *runHistory) snapshot() RunHistory {
	if h.width == 0 {
		return RunHistory{}
	}
	out := RunHistory{Start: time.Unix(h.start, 0).UTC(), Width: time.Duration(h.width) * time.Second,
		Buckets: make([]HistoryBucket, h.n)}
	copy(out.Buckets, h.buckets[:h.n])
	return out
}

// RunHistory returns the whole run's requests and new alerts over event
// time, for a report's charts.
func (e *Engine) RunHistory() RunHistory {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.history.snapshot()
}
