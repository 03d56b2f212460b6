package suggest

import (
	"math"
	"net/netip"
	"slices"
	"time"
)

// Per-key rate tracking.
//
// Burst: a key's requests are counted in buckets of BurstWindow/10; the most
// requests in any window is read as the largest sum of 11 consecutive
// buckets, which covers every window of BurstWindow (a window spans at most
// 11 buckets) and overstates by at most one bucket (~10%). Overstating is the
// safe side for a threshold. Memory is fixed per key.
//
// Spread: a key's distinct Host values and client addresses are kept with the
// time each was last seen, as the engine's spread detector keeps them, up to
// spreadCap each; the most distinct values inside any SpreadWindow is
// measured at each request (see windowClock). Stuffing is the same measure
// per client over its keys (clients.go).
const (
	burstSlots  = 10
	burstBucket = burstSlots + 1
	spreadCap   = 32
	spreadTicks = 1024
)

// seenVal is one distinct value of a key's spread set.
type seenVal struct {
	h    uint32 // hash of the value
	tick uint32 // last seen, in window ticks
}

// windowClock measures distinct values within a sliding window of event
// time. Times are ticks of window/1024, so an entry costs 8 bytes; the
// window test rounds towards counting a value in.
type windowClock struct {
	width       int64 // nanos per tick
	windowTicks int64 // the window in ticks, rounded up
	base        int64 // event time of tick 1<<31
	baseSet     bool
}

func newWindowClock(window time.Duration) windowClock {
	w := max(int64(window)/spreadTicks, 1)
	return windowClock{width: w, windowTicks: (int64(window) + w - 1) / w}
}

// tick converts an event time to ticks, clamped to the uint32 range around
// the first event (decades at the default windows).
func (c *windowClock) tick(t int64) uint32 {
	if !c.baseSet {
		c.base, c.baseSet = t, true
	}
	d := (t-c.base)/c.width + 1<<31
	return uint32(min(max(d, 0), 1<<32-1))
}

// track notes value h at tick t in list and returns how many distinct values
// were seen within the window, like the engine's detectors: values out of
// the window are dropped only when a new value needs room, and the oldest
// is replaced once the list is at spreadCap.
func (c *windowClock) track(list *[]seenVal, h, t uint32) uint8 {
	l := *list
	found := false
	for i := range l {
		if l[i].h == h {
			if t > l[i].tick {
				l[i].tick = t
			}
			found = true
			break
		}
	}
	if !found {
		kept := l[:0]
		for _, v := range l {
			if c.inWindow(v.tick, t) {
				kept = append(kept, v)
			}
		}
		l = kept
		if len(l) < spreadCap {
			if l == nil {
				l = make([]seenVal, 0, 2)
			}
			l = append(l, seenVal{h, t})
		} else {
			oldest := 0
			for i := range l {
				if l[i].tick < l[oldest].tick {
					oldest = i
				}
			}
			l[oldest] = seenVal{h, t}
		}
		*list = l
	}
	n := 0
	for _, v := range l {
		if c.inWindow(v.tick, t) {
			n++
		}
	}
	return uint8(n)
}

// inWindow reports whether a value last seen at tick last is inside the
// window ending at tick now; ticks round the engine's "now-last < window"
// towards true.
func (c *windowClock) inWindow(last, now uint32) bool {
	return int64(now)-int64(last) <= c.windowTicks
}

// idleTable holds per-id state, at most max entries. When it is full it
// retires the entries idle for longer than retireAfter (at most once per
// such period of event time), handing each to retire so that its maxima
// are kept; what still finds no room is not tracked.
type idleTable[S any] struct {
	max         int
	retireAfter int64
	idx         map[uint64]int32
	states      []S
	swept       bool
	lastSweep   int64
	id          func(*S) uint64
	last        func(*S) int64
	retire      func(*S)
}

// get returns id's state, adding fresh() while there is room; nil when the
// table is full even after a sweep. now is the newest event time so far.
func (t *idleTable[S]) get(id uint64, now int64, fresh func() S) *S {
	if i, ok := t.idx[id]; ok {
		return &t.states[i]
	}
	if len(t.states) >= t.max {
		if t.swept && now-t.lastSweep < t.retireAfter {
			return nil
		}
		t.sweep(now)
		if len(t.states) >= t.max {
			return nil
		}
	}
	t.idx[id] = int32(len(t.states))
	t.states = append(t.states, fresh())
	return &t.states[len(t.states)-1]
}

// sweep retires the entries idle for longer than retireAfter at event time now.
func (t *idleTable[S]) sweep(now int64) {
	t.swept, t.lastSweep = true, now
	j := 0
	for i := range t.states {
		s := &t.states[i]
		if now-t.last(s) > t.retireAfter {
			t.retire(s)
			delete(t.idx, t.id(s))
			continue
		}
		if i != j {
			t.states[j] = *s
			t.idx[t.id(s)] = int32(j)
		}
		j++
	}
	clear(t.states[j:]) // release the retired entries' slices
	t.states = t.states[:j]
}

// keyState is what is known of one key.
type keyState struct {
	id       uint64
	requests uint64
	last     int64 // newest event time, unix nanos

	bcur   int64 // newest burst bucket number
	counts [burstBucket]uint32
	bmax   uint32 // most requests in one burst window

	hosts   []seenVal
	clients []seenVal
	hmax    uint8 // most distinct Hosts in one spread window (capped)
	cmax    uint8 // most distinct clients in one spread window (capped)
}

// keyTable holds the tracked keys and the maxima of the keys retired from it.
type keyTable struct {
	idleTable[keyState]
	burstWidth int64 // nanos per burst bucket
	spread     windowClock

	// Keys retired to make room: their maxima, folded in.
	retired       int
	retiredBurst  map[uint32]uint64 // max requests per window -> keys (rounded up above 1023)
	retiredHosts  [spreadCap + 1]uint64
	retiredClient [spreadCap + 1]uint64

	untrackedReqs uint64 // keyed requests of keys that found the table full
}

func (k *keyTable) init(o Options) {
	k.idleTable = idleTable[keyState]{
		max:         o.MaxKeys,
		retireAfter: max(int64(o.BurstWindow), int64(o.SpreadWindow)),
		idx:         make(map[uint64]int32),
		id:          func(s *keyState) uint64 { return s.id },
		last:        func(s *keyState) int64 { return s.last },
		retire:      k.retire,
	}
	k.burstWidth = max(int64(o.BurstWindow)/burstSlots, 1)
	k.spread = newWindowClock(o.SpreadWindow)
	k.retiredBurst = make(map[uint32]uint64)
}

// observe notes a keyed request at t (now is the newest event time so far).
func (k *keyTable) observe(id uint64, t, now int64, hasHost bool, host uint32, client netip.Addr) {
	s := k.get(id, now, func() keyState { return keyState{id: id, last: t} })
	if s == nil {
		k.untrackedReqs++
		return
	}
	first := s.requests == 0
	s.requests++
	if t > s.last || first {
		s.last = t
	}

	// Burst.
	b := floorDiv(t, k.burstWidth)
	switch {
	case first:
		s.bcur = b
	case b > s.bcur:
		if b-s.bcur >= burstBucket {
			s.counts = [burstBucket]uint32{}
		} else {
			for x := s.bcur + 1; x <= b; x++ {
				s.counts[slot(x)] = 0
			}
		}
		s.bcur = b
	}
	if b > s.bcur-burstBucket { // older than the ring: in the totals only
		s.counts[slot(b)]++
		var sum uint32
		for _, c := range s.counts {
			sum += c
		}
		s.bmax = max(s.bmax, sum)
	}

	// Spread.
	tk := k.spread.tick(t)
	if hasHost {
		s.hmax = max(s.hmax, k.spread.track(&s.hosts, host, tk))
	}
	if client.IsValid() {
		s.cmax = max(s.cmax, k.spread.track(&s.clients, addrHash(client), tk))
	}
}

func slot(b int64) int { return int(((b % burstBucket) + burstBucket) % burstBucket) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (k *keyTable) retire(s *keyState) {
	k.retired++
	k.retiredBurst[roundBurst(s.bmax)]++
	k.retiredHosts[s.hmax]++
	k.retiredClient[s.cmax]++
}

// roundBurst keeps values under 1024 exact and rounds larger ones up to 7
// significant bits (under 1% high), so the retired histogram stays small.
func roundBurst(v uint32) uint32 {
	if v < 1024 {
		return v
	}
	shift := 0
	for (v >> shift) >= 128 {
		shift++
	}
	r := ((v + (1 << shift) - 1) >> shift) << shift
	if r < v { // overflow
		return v
	}
	return r
}

// distribution is how many keys had each value of a per-key maximum.
type distribution struct {
	vals   []uint32 // ascending
	counts []uint64
	n      uint64
}

// burstDist and spreadDist gather the per-key maxima of the live
// and the retired keys.
func (k *keyTable) burstDist() distribution {
	m := make(map[uint32]uint64, len(k.retiredBurst)+16)
	for v, n := range k.retiredBurst {
		m[v] += n
	}
	for i := range k.states {
		m[k.states[i].bmax]++
	}
	return distFromMap(m)
}

func (k *keyTable) spreadDist(client bool) distribution {
	var h [spreadCap + 1]uint64
	if client {
		h = k.retiredClient
	} else {
		h = k.retiredHosts
	}
	for i := range k.states {
		if client {
			h[k.states[i].cmax]++
		} else {
			h[k.states[i].hmax]++
		}
	}
	return histDist(&h)
}

// histDist is the distribution of a capped per-entry maximum's histogram.
func histDist(h *[spreadCap + 1]uint64) distribution {
	m := make(map[uint32]uint64)
	for v, n := range h {
		if n > 0 {
			m[uint32(v)] = n
		}
	}
	return distFromMap(m)
}

func distFromMap(m map[uint32]uint64) distribution {
	var d distribution
	for v := range m {
		d.vals = append(d.vals, v)
	}
	slices.Sort(d.vals)
	for _, v := range d.vals {
		d.counts = append(d.counts, m[v])
		d.n += m[v]
	}
	return d
}

// quantile is the nearest-rank q-quantile (0 < q <= 1): the smallest value
// at least ceil(q*n) keys are at or under. With fewer than 1000 keys the
// 0.999-quantile is the maximum.
func (d distribution) quantile(q float64) uint32 {
	if d.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q*float64(d.n) - 1e-9))
	rank = min(max(rank, 1), d.n)
	var cum uint64
	for i, c := range d.counts {
		cum += c
		if cum >= rank {
			return d.vals[i]
		}
	}
	return d.vals[len(d.vals)-1]
}

func (d distribution) max() uint32 {
	if len(d.vals) == 0 {
		return 0
	}
	return d.vals[len(d.vals)-1]
}

// keyCount is the number of keys the distributions cover.
func (k *keyTable) keyCount() int { return len(k.states) + k.retired }
