package suggest

import "net/netip"

// Per-client key tracking, for the [stuffing] threshold: each client's
// distinct keys are kept with the time each was last seen, as the engine's
// key_stuffing detector keeps them, up to spreadCap; the most distinct keys
// inside any StuffingWindow is measured at each keyed request.

// clientState is what is known of one client address.
type clientState struct {
	id   uint64
	last int64 // newest event time, unix nanos
	keys []seenVal
	kmax uint8 // most distinct keys in one window (capped)
}

// clientTable holds the tracked clients and the maxima of those retired.
type clientTable struct {
	idleTable[clientState]
	window      windowClock
	retired     int
	retiredKeys [spreadCap + 1]uint64
	untracked   uint64 // keyed requests of clients that found the table full
}

func (c *clientTable) init(o Options) {
	c.idleTable = idleTable[clientState]{
		max:         o.MaxKeys,
		retireAfter: int64(o.StuffingWindow),
		idx:         make(map[uint64]int32),
		id:          func(s *clientState) uint64 { return s.id },
		last:        func(s *clientState) int64 { return s.last },
		retire: func(s *clientState) {
			c.retired++
			c.retiredKeys[s.kmax]++
		},
	}
	c.window = newWindowClock(o.StuffingWindow)
}

// observe notes that client presented the key hashed kh at t (now is the
// newest event time so far).
func (c *clientTable) observe(client netip.Addr, kh uint32, t, now int64) {
	id := clientID(client)
	s := c.get(id, now, func() clientState { return clientState{id: id, last: t} })
	if s == nil {
		c.untracked++
		return
	}
	s.last = max(s.last, t)
	s.kmax = max(s.kmax, c.window.track(&s.keys, kh, c.window.tick(t)))
}

// keysDist is the distribution of the clients' most distinct keys in a window.
func (c *clientTable) keysDist() distribution {
	h := c.retiredKeys
	for i := range c.states {
		h[c.states[i].kmax]++
	}
	return histDist(&h)
}

// count is the number of clients the distribution covers.
func (c *clientTable) count() int { return len(c.states) + c.retired }

// clientID is an address as a number: IPv4 exactly, IPv6 (and zones) hashed.
func clientID(a netip.Addr) uint64 {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	}
	b := a.As16()
	h := uint64(14695981039346656037) // FNV-1a, inline
	for _, x := range b {
		h ^= uint64(x)
		h *= 1099511628211
	}
	for i := 0; i < len(a.Zone()); i++ {
		h ^= uint64(a.Zone()[i])
		h *= 1099511628211
	}
	return h | 1<<63 // never an IPv4 number
}
