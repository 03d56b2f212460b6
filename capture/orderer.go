package capture

import (
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// This file orders requests. A request is parsed when its head is
// reassembled, which is not the order the requests were sent in across
// connections, and its status is known only once its response arrives. The
// orderer holds each request, by packet time, until both are settled, then
// hands the emitter the requests in time order (merge.go drains it).

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
	// maxFree caps the recycled pending requests a pool keeps for reuse.
	maxFree = 4096
)

// drain relies on a request that is too young to be released as answered
// being too young to be released as unanswered as well.
const _ = uint64(responseWait - reorderHold)

// pending is a request held for ordering and for its response status. Its
// connection holds it too while it waits for a response (queued).
//
// Who writes what: the connection (a shard's worker, parallel.go) fills
// req, at, head and the flags before it hands the request over (sink.push)
// and only reads req's method and protocol, at and head after; the merge
// side sets the status, ready, queued, out and seq, and recycles it.
type pending struct {
	req    detect.Request
	at     int64  // req.Time in Unix nanoseconds
	seq    uint64 // tie-breaker: order of parsing
	owner  int    // the pool it came from (a shard)
	head   bool   // HEAD: its response has no body
	ready  bool   // its status is known or never will be
	out    bool   // handed to the emitter
	queued bool   // still held by its connection
}

// pendingPool recycles one shard's pending requests.
type pendingPool struct {
	id   int
	free []*pending
}

// get returns a cleared pending from the pool.
func (p *pendingPool) get() *pending {
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free = p.free[:n-1]
		return x
	}
	return &pending{owner: p.id}
}

// put takes back x, cleared, unless the pool is full.
func (p *pendingPool) put(x *pending) {
	if len(p.free) < maxFree {
		*x = pending{owner: p.id}
		p.free = append(p.free, x)
	}
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

// orderer holds pending requests by packet time, then order of parsing.
// Nearly every request is parsed in time order, so those go to a run (a
// queue already sorted: O(1) each way) and only the ones that come late
// to a heap; the oldest is the older of the run's head and the heap's top.
type orderer struct {
	run  []heapEnt // sorted; run[head:] are held
	head int
	heap []heapEnt
	seq  uint64
}

// len is how many requests are held.
func (o *orderer) len() int { return len(o.run) - o.head + len(o.heap) }

// push adds a parsed request.
func (o *orderer) push(x *pending) {
	x.seq = o.seq
	o.seq++
	e := heapEnt{at: x.at, seq: x.seq, x: x}
	if n := len(o.run); n == o.head || o.run[n-1].at <= e.at {
		// Not before the run's last: seq only grows, so the run stays sorted.
		o.run = append(o.run, e)
		return
	}
	o.heap = append(o.heap, e)
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

// oldest returns the entry of the oldest request held (len() > 0).
func (o *orderer) oldest() *heapEnt {
	switch {
	case len(o.heap) == 0:
		return &o.run[o.head]
	case o.head == len(o.run):
		return &o.heap[0]
	case o.heap[0].before(&o.run[o.head]):
		return &o.heap[0]
	}
	return &o.run[o.head]
}

// pop takes the oldest request off (len() > 0); it is marked handed out,
// so the caller owns it until it releases it.
func (o *orderer) pop() *pending {
	var x *pending
	if o.head < len(o.run) && (len(o.heap) == 0 || !o.heap[0].before(&o.run[o.head])) {
		x = o.run[o.head].x
		o.run[o.head] = heapEnt{}
		o.head++
		if o.head == len(o.run) {
			o.run, o.head = o.run[:0], 0
		} else if o.head >= 4096 && o.head*2 >= len(o.run) {
			// Slide the held half down so the run does not grow for ever.
			n := copy(o.run, o.run[o.head:])
			clear(o.run[n:])
			o.run, o.head = o.run[:n], 0
		}
	} else {
		x = o.popHeap()
	}
	x.out = true
	return x
}

// popHeap takes the heap's top off.
func (o *orderer) popHeap() *pending {
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
	return x
}

// due says whether the oldest request held may go at packet time now:
// all of them when force is set, else one answered at least reorderHold
// ago, one that waited responseWait for an answer, or the oldest beyond
// maxPending.
func (o *orderer) due(now int64, force bool) bool {
	if o.len() == 0 {
		return false
	}
	if force || o.len() > maxPending {
		return true
	}
	e := o.oldest()
	if e.at > now-int64(reorderHold) {
		return false // too young to go either way (responseWait > reorderHold)
	}
	return e.x.ready || e.at <= now-int64(responseWait)
}
