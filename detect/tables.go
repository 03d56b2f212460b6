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
	if v == "" || slices.Contains(s.vals, v) {
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

// countedSet is a smallSet that counts how often each value was seen.
type countedSet struct {
	vals []string
	n    []uint32
	full bool // a value was not kept
}

func (s *countedSet) add(v string) {
	if v == "" {
		return
	}
	if i := slices.Index(s.vals, v); i >= 0 {
		s.n[i]++
		return
	}
	if len(s.vals) >= smallSetCap {
		s.full = true
		return
	}
	s.vals, s.n = append(s.vals, v), append(s.n, 1)
}

func (s *countedSet) has(v string) bool { return slices.Contains(s.vals, v) }

// len is how many values were seen: those kept, plus one when some were not.
func (s *countedSet) len() int {
	if s.full {
		return len(s.vals) + 1
	}
	return len(s.vals)
}

// keyState is everything the engine keeps about one key fingerprint.
type keyState struct {
	fp          string
	requests    uint64
	first, last time.Time
	rates       secondRing
	origins     countedSet
	hostCounts  map[string]uint64     // capped at smallSetCap values
	clientCount map[netip.Addr]uint64 // capped likewise
	overflow    uint8                 // ovHosts, ovClients: a value was not counted (pivots cannot rule it out)
	fired       uint16                // bit i: Detectors[i] fired on this key
	slots       []any                 // detectors' own state for this key (keySlot)
}

// keyState.overflow bits.
const (
	ovHosts uint8 = 1 << iota
	ovClients
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
		if old, full := e.keys.full(); full && r.Time.Sub(old.last) < max(e.cfg.BurstWindow, e.cfg.SpreadWindow) {
			e.keys.evictedActive++
		}
		k = &keyState{fp: r.Key, first: r.Time, slots: make([]any, e.slots.n)}
		e.keys.put(r.Key, k)
	}
	return k
}

// tally updates the keys, hosts and origins tables.
func (e *Engine) tally(o *observation) {
	r := o.r
	if k := o.key; k != nil {
		k.requests++
		if r.Time.After(k.last) {
			k.last = r.Time
		}
		if r.Time.Before(k.first) {
			k.first = r.Time
		}
		k.rates.add(r.Time)
		if o.origin != "" && !o.fromReferer {
			k.origins.add(o.origin)
		}
		if !countCapped(&k.hostCounts, o.host, r.HasHost) {
			k.overflow |= ovHosts
		}
		if !countCapped(&k.clientCount, o.client, o.client.IsValid()) {
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

// countCapped counts v in *m, remembering at most smallSetCap distinct
// values; false when v was not counted for the cap.
func countCapped[K comparable](m *map[K]uint64, v K, present bool) bool {
	if !present {
		return true
	}
	if *m == nil {
		*m = make(map[K]uint64, 2)
	}
	if _, ok := (*m)[v]; ok || len(*m) < smallSetCap {
		(*m)[v]++
		return true
	}
	return false
}

// value counts a request for a Host or Origin row; fresh says the row is new.
func (e *Engine) value(table *lru[string, *valueState], v string, allowed bool, t time.Time) (s *valueState, fresh bool) {
	s, ok := table.get(v)
	if !ok {
		s = &valueState{first: t}
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
