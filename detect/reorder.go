package detect

import (
	"container/heap"
	"time"
)

// reorderer holds requests in a min-heap by event time and releases those a
// window older than the newest time seen. The heap orders small entries
// (time, arrival, slot); the requests wait in slots, so sifting moves a
// few words, not whole requests.
type reorderer struct {
	window  time.Duration
	h       reqHeap
	slots   []heldRequest
	free    []int32 // slots to reuse
	maxSeen time.Time
	seq     uint64 // arrival order, to keep equal times stable
}

type heldRequest struct {
	r     Request
	batch uint64 // the batch it came in (Engine.commits)
}

type heapEntry struct {
	t    time.Time
	seq  uint64
	slot int32
}

type reqHeap []heapEntry

func (h reqHeap) Len() int { return len(h) }
func (h reqHeap) Less(i, j int) bool {
	if c := h[i].t.Compare(h[j].t); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h reqHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *reqHeap) Push(x any)   { *h = append(*h, x.(heapEntry)) }
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
		var slot int32
		if n := len(o.free); n > 0 {
			slot, o.free = o.free[n-1], o.free[:n-1]
		} else {
			slot = int32(len(o.slots))
			o.slots = append(o.slots, heldRequest{})
		}
		o.slots[slot] = heldRequest{reqs[i], batch}
		heap.Push(&o.h, heapEntry{reqs[i].Time, o.seq, slot})
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
	if !all && o.h[0].t.After(o.maxSeen.Add(-o.window)) {
		return Request{}, 0, false
	}
	e := heap.Pop(&o.h).(heapEntry)
	held := o.slots[e.slot]
	o.slots[e.slot] = heldRequest{} // no references kept
	o.free = append(o.free, e.slot)
	if len(o.h) == 0 {
		o.slots, o.free = o.slots[:0], o.free[:0] // all free: start over, keeping the memory
	}
	return held.r, held.batch, true
}
