package capture

import (
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// This file orders requests. A request is parsed when its head is
// reassembled, which is not the order the requests were sent in across
// connections, and its status is known only once its response arrives. The
// orderer holds each request, by packet time, until both are settled, then
// hands the emitter the requests in time order.

// Holds, in packet time.
const (
	// reorderHold keeps a request that already has its response back this
	// long, so a request that took several packets to arrive, on another
	// connection, can still be emitted before it.
	reorderHold = 250 * time.Millisecond
	// responseWait is how long a request waits for its response before it
	// is emitted without a status.
	responseWait = 5 * time.Second
	// maxPending caps the requests held for ordering; beyond it the oldest
	// are emitted at once.
	maxPending = 1 << 16
	// maxFree caps the recycled pending requests kept for reuse.
	maxFree = 4096
)

// drain relies on a request that is too young to be released as answered
// being too young to be released as unanswered as well.
const _ = uint64(responseWait - reorderHold)

// pending is a request held for ordering and for its response status. Its
// connection holds it too while it waits for a response (queued).
type pending struct {
	req    detect.Request
	at     int64  // req.Time in Unix nanoseconds
	seq    uint64 // tie-breaker: order of parsing
	head   bool   // HEAD: its response has no body
	ready  bool   // its status is known or never will be
	out    bool   // handed to the emitter
	queued bool   // still held by its connection
}

// heapEnt is a pending request in the ordering heap, with its sort key
// inline so sifting does not chase pointers.
type heapEnt struct {
	at  int64
	seq uint64
	x   *pending
}

func (a *heapEnt) before(b *heapEnt) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// orderer is a heap of pending requests by packet time, and the free list
// that recycles them once both their connection and the emitter are done
// with them.
type orderer struct {
	heap []heapEnt
	seq  uint64
	free []*pending
}

// newPending returns a cleared pending from the free list.
func (o *orderer) newPending() *pending {
	if n := len(o.free); n > 0 {
		x := o.free[n-1]
		o.free = o.free[:n-1]
		x.at, x.seq, x.head, x.ready, x.out, x.queued = 0, 0, false, false, false, false // req was cleared by release
		return x
	}
	return new(pending)
}

// settle says x's connection is done with it: its status is set, or it
// will go without one.
func (o *orderer) settle(x *pending) {
	x.ready, x.queued = true, false
	o.release(x)
}

// release returns x to the free list once both its connection and the
// emitter are done with it.
func (o *orderer) release(x *pending) {
	if x.out && !x.queued && len(o.free) < maxFree {
		x.req = detect.Request{}
		o.free = append(o.free, x)
	}
}

// push adds a parsed request to the heap.
func (o *orderer) push(x *pending) {
	x.seq = o.seq
	o.seq++
	o.heap = append(o.heap, heapEnt{at: x.at, seq: x.seq, x: x})
	h := o.heap
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// pop takes the oldest request off the heap; it is marked handed out, so
// the caller owns it until it releases it.
func (o *orderer) pop() *pending {
	h := o.heap
	x := h[0].x
	n := len(h) - 1
	h[0] = h[n]
	h[n] = heapEnt{}
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].before(&h[m]) {
			m = l
		}
		if r < n && h[r].before(&h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	o.heap = h
	x.out = true
	return x
}

// drain hands e every request that may go at packet time now: all of them
// when force is set, else those answered at least reorderHold ago, those
// that waited responseWait for an answer, and the oldest beyond maxPending.
func (o *orderer) drain(e *source.Emitter, now int64, force bool) {
	for len(o.heap) > 0 {
		at := o.heap[0].at
		if !force && len(o.heap) <= maxPending {
			if at > now-int64(reorderHold) {
				return // too young to go either way (responseWait > reorderHold)
			}
			if x := o.heap[0].x; !x.ready && at > now-int64(responseWait) {
				return
			}
		}
		x := o.pop()
		e.Request(&x.req)
		o.release(x)
	}
}
