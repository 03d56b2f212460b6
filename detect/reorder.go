package detect

import (
	"container/heap"
	"time"
)

// reorderer holds requests in a min-heap by event time and releases those a
// window older than the newest time seen.
type reorderer struct {
	window  time.Duration
	h       reqHeap
	maxSeen time.Time
	seq     uint64 // arrival order, to keep equal times stable
}

type heldRequest struct {
	r     Request
	seq   uint64
	batch uint64 // the batch it came in (Engine.commits)
}

type reqHeap []heldRequest

func (h reqHeap) Len() int { return len(h) }
func (h reqHeap) Less(i, j int) bool {
	if !h[i].r.Time.Equal(h[j].r.Time) {
		return h[i].r.Time.Before(h[j].r.Time)
	}
	return h[i].seq < h[j].seq
}
func (h reqHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *reqHeap) Push(x any)   { *h = append(*h, x.(heldRequest)) }
func (h *reqHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (o *reorderer) len() int { return len(o.h) }

func (o *reorderer) push(reqs []Request, batch uint64) {
	for i := range reqs {
		o.seq++
		heap.Push(&o.h, heldRequest{reqs[i], o.seq, batch})
		if reqs[i].Time.After(o.maxSeen) {
			o.maxSeen = reqs[i].Time
		}
	}
}

// pop returns the oldest held request if it is due (or any, with all),
// and the batch it came in.
func (o *reorderer) pop(all bool) (Request, uint64, bool) {
	if len(o.h) == 0 {
		return Request{}, 0, false
	}
	if !all && o.h[0].r.Time.After(o.maxSeen.Add(-o.window)) {
		return Request{}, 0, false
	}
	h := heap.Pop(&o.h).(heldRequest)
	return h.r, h.batch, true
}
