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
	r   Request
	ack uint64 // its batch's place in the ackQueue (0: none)
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

func (o *reorderer) push(reqs []Request, ack uint64) {
	for i := range reqs {
		o.seq++
		var slot int32
		if n := len(o.free); n > 0 {
			slot, o.free = o.free[n-1], o.free[:n-1]
		} else {
			slot = int32(len(o.slots))
			o.slots = append(o.slots, heldRequest{})
		}
		o.slots[slot] = heldRequest{reqs[i], ack}
		heap.Push(&o.h, heapEntry{reqs[i].Time, o.seq, slot})
		if reqs[i].Time.After(o.maxSeen) {
			o.maxSeen = reqs[i].Time
		}
	}
}

// pop returns the oldest held request, and its batch's place in the
// ackQueue, if it is due (or any, with all).
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
	return held.r, held.ack, true
}

// ackQueue holds the Observed callbacks of batches whose requests are not
// all observed yet, in arrival order, so they are called in that order.
type ackQueue struct {
	q    []pendingAck
	base uint64 // the place of q[0]; places start at 1 (0 is "none")
}

type pendingAck struct {
	fn   func()
	left int // requests not yet observed
}

// push queues b's callback and returns its place, or 0 when it has none.
func (a *ackQueue) push(b *Batch) uint64 {
	if b.Observed == nil {
		return 0
	}
	if len(a.q) == 0 {
		a.base++ // places are never reused, so a stale one cannot match
		a.q = a.q[:0]
	}
	a.q = append(a.q, pendingAck{fn: b.Observed, left: len(b.Requests)})
	return a.base + uint64(len(a.q)) - 1
}

// observed counts n requests of the batch at place as observed.
func (a *ackQueue) observed(place uint64, n int) {
	if place == 0 || place < a.base || place-a.base >= uint64(len(a.q)) {
		return
	}
	a.q[place-a.base].left -= n
}

// ready moves the callbacks of the leading batches that are fully
// observed into the outbox, to be called once the sinks have delivered.
func (a *ackQueue) ready(o *outbox) {
	n := 0
	for n < len(a.q) && a.q[n].left <= 0 {
		o.acks = append(o.acks, a.q[n].fn)
		n++
	}
	if n == 0 {
		return
	}
	clear(a.q[:n])
	a.q = a.q[n:]
	a.base += uint64(n)
}
