package detect

import (
	"net/netip"
	"slices"
	"time"
)

// smallSetCap bounds the distinct values remembered per key or per value
// (origins of a key, keys of a Host); tables show "N+" past it.
const smallSetCap = 16

// smallSet is a tiny set of strings with a cap; beyond the cap it only
// remembers that it overflowed.
type smallSet struct {
	vals []string
	full bool
}

func (s *smallSet) add(v string) {
	// A full set changes no more: whether v is in it or not, it stays as
	// it is, and a busy row (one Origin for every key of a flood) would
	// compare every request's value with all of it.
	if v == "" || s.full || slices.Contains(s.vals, v) {
		return
	}
	if len(s.vals) >= smallSetCap {
		s.full = true
		return
	}
	s.vals = append(s.vals, v)
}

func (s *smallSet) has(v string) bool { return slices.Contains(s.vals, v) }

func (s *smallSet) len() int {
	if s.full {
		return len(s.vals) + 1
	}
	return len(s.vals)
}

// keyState is everything the engine keeps about one key fingerprint. It is
// kept small (see TestBytesPerTableEntry): times as unix nanoseconds, the
// per-second history only once the key has a second request, the Hosts,
// clients and Origins as short lists rather than maps.
type keyState struct {
	fp          string
	requests    uint64
	first, last int64     // event time, unix ns
	rates       *keyRates // nil while the key has made one request
	hosts       seenList[string]
	clients     seenList[netip.Addr]
	origins     seenList[string] // Origin headers, not Referers
	overflow    uint8            // ovHosts, ovClients, ovOrigins: a value was not kept (pivots cannot rule it out)
	fired       uint16           // bit i: Detectors[i] fired on this key
	slots       []any            // detectors' own state for this key (keySlot)
}

// seenValue is one of a key's Hosts, clients or Origins: how many of its
// requests carried it, and when it was last seen (event time, unix ns).
type seenValue[T comparable] struct {
	v    T
	n    uint32
	last int64
}

// seenList is a key's distinct values of one kind, at most max of them.
// When it is full, the value seen longest ago makes room, so the values
// seen within any window are counted exactly up to max (the spread
// detector needs its threshold plus one), and the counts are those of the
// values seen most recently.
type seenList[T comparable] []seenValue[T]

// note counts v seen at t; false when a value was not kept for the cap (v,
// or the one that made room for it).
func (l *seenList[T]) note(v T, t int64, max int) bool {
	s := *l
	for i := range s {
		if s[i].v == v {
			if s[i].n < ^uint32(0) {
				s[i].n++
			}
			s[i].last = maxInt64(s[i].last, t)
			return true
		}
	}
	if len(s) < max {
		*l = append(s, seenValue[T]{v, 1, t})
		return true
	}
	oldest := 0
	for i := range s {
		if s[i].last < s[oldest].last {
			oldest = i
		}
	}
	if t >= s[oldest].last { // a late value older than every kept one is not kept
		s[oldest] = seenValue[T]{v, 1, t}
	}
	return false
}

// has reports whether v is kept.
func (l seenList[T]) has(v T) bool {
	for i := range l {
		if l[i].v == v {
			return true
		}
	}
	return false
}

// within counts the values seen less than window before t.
func (l seenList[T]) within(t, window int64) int {
	n := 0
	for i := range l {
		if t-l[i].last < window {
			n++
		}
	}
	return n
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// keyState.overflow bits.
const (
	ovHosts uint8 = 1 << iota
	ovClients
	ovOrigins
)

func (k *keyState) fire(det string) {
	if i := slices.Index(Detectors, det); i >= 0 {
		k.fired |= 1 << i
	}
}

func (k *keyState) firedNames() []string {
	var out []string
	for i, d := range Detectors {
		if k.fired&(1<<i) != 0 {
			out = append(out, d)
		}
	}
	return out
}

// valueState is one Host or Origin value's row.
type valueState struct {
	requests    uint64
	keys        smallSet
	allowed     bool
	first, last time.Time
	referer     bool // an origin seen only as a Referer's, never in an Origin header
}

// keyFor finds or creates the state of the request's key.
func (e *Engine) keyFor(r *Request) *keyState {
	k, ok := e.keys.get(r.Key)
	if !ok {
		// A key evicted while a detector window still holds its last
		// request loses its burst and spread state: a flood of new keys
		// (or busy traffic) can hide a burst or a slow spread that way.
		// That cannot be avoided with a bounded table (a key's first
		// request looks like any other), so it is counted: "keys_active".
		old, full := e.keys.full()
		if full && r.Time.UnixNano()-old.last < int64(max(e.cfg.BurstWindow, e.cfg.SpreadWindow)) {
			e.keys.evictedActive++
		}
		if full {
			// The key that makes room carries the new one (a flood of new
			// keys evicts one for each): nothing outside the table holds it.
			k = old
			k.recycle(r.Key, r.Time.UnixNano())
		} else {
			k = &keyState{fp: r.Key, first: r.Time.UnixNano(), slots: make([]any, e.slots.n)}
		}
		e.keys.put(r.Key, k)
	}
	return k
}

// tally updates the keys, hosts and origins tables.
func (e *Engine) tally(o *observation) {
	r := o.r
	if k := o.key; k != nil {
		t := r.Time.UnixNano()
		k.requests++
		if k.requests == 1 {
			k.first, k.last = t, t
		} else {
			if k.rates == nil {
				k.rates = &keyRates{}
				k.rates.add(k.first) // the first request, until now told by first alone
			}
			k.rates.add(t)
			k.first, k.last = min(k.first, t), maxInt64(k.last, t)
		}
		if o.origin != "" && !o.fromReferer && !k.origins.note(o.origin, t, smallSetCap) {
			k.overflow |= ovOrigins
		}
		if r.HasHost && !k.hosts.note(o.host, t, max(smallSetCap, e.cfg.SpreadMaxHosts+1)) {
			k.overflow |= ovHosts
		}
		if o.client.IsValid() && !k.clients.note(o.client, t, max(smallSetCap, e.cfg.SpreadMaxClients+1)) {
			k.overflow |= ovClients
		}
	}
	if r.HasHost {
		v, _ := e.value(e.hosts, o.host, o.hostAllowed, r.Time)
		v.keys.add(r.Key)
	}
	if o.origin != "" {
		v, fresh := e.value(e.origins, o.origin, o.originAllowed, r.Time)
		v.keys.add(r.Key)
		v.referer = o.fromReferer && (fresh || v.referer)
	}
}

// value counts a request for a Host or Origin row; fresh says the row is new.
func (e *Engine) value(table *lru[string, *valueState], v string, allowed bool, t time.Time) (s *valueState, fresh bool) {
	s, ok := table.get(v)
	if !ok {
		if old, full := table.full(); full {
			s = old // the row that makes room carries the new one
			*s = valueState{first: t, keys: smallSet{vals: reuse(s.keys.vals)}}
		} else {
			s = &valueState{first: t}
		}
		table.put(v, s)
	}
	if t.Before(s.first) {
		s.first = t
	}
	s.requests++
	s.allowed = allowed
	if t.After(s.last) {
		s.last = t
	}
	return s, !ok
}

// recycle makes k the state of a new key fp first seen at first (unix ns):
// k was just evicted. Its small lists keep their arrays; the detectors'
// states start over.
func (k *keyState) recycle(fp string, first int64) {
	clear(k.slots)
	*k = keyState{fp: fp, first: first, slots: k.slots,
		hosts: reuse(k.hosts), clients: reuse(k.clients), origins: reuse(k.origins)}
}

// reuse returns s emptied, keeping its array when it is small (a busy
// key's long list is not carried over to what is most likely a one-shot
// key: its bytes would count against every key after it).
func reuse[S ~[]E, E any](s S) S {
	if cap(s) > 4 {
		return nil
	}
	clear(s)
	return s[:0]
}
