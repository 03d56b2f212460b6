package capture

import "net/netip"

// This file is the assembler's table of connections: open addressing with
// linear probing over the flow hash the front computed (front.flowHash),
// so finding a packet's connection costs one slot (usually one cache
// line) and a comparison of its endpoints, not a hash of a 36-byte key
// and a Go map's probing. Removal shifts the entries after it back
// (no tombstones), so a table that has seen a flood of short connections
// probes no further than the live ones need.

// minTableSlots is the smallest table made.
const minTableSlots = 64

// connSlot is one entry: a connection and its flow hash (c nil: empty).
type connSlot struct {
	hash uint64
	c    *tcpConn
}

// connTable maps flows to their connections. The table grows to keep at
// most half of its slots in use and shrinks when fewer than an eighth
// are, so its size follows the connections open (bounded by MaxStreams).
type connTable struct {
	slots []connSlot
	n     int
}

// sameEnd reports whether x and y are the same endpoint as reassembly
// sees it: an IPv4 address and its IPv4-mapped IPv6 form alike.
func sameEnd(x, y netip.AddrPort) bool {
	return x == y || x.Port() == y.Port() && x.Addr().As16() == y.Addr().As16()
}

// find returns the connection between src and dst, whose flow hash is h,
// and the direction src sends on it (0: the direction of its first
// packet); nil when there is none.
func (t *connTable) find(h uint64, src, dst netip.AddrPort) (*tcpConn, int) {
	if t.n == 0 {
		return nil, 0
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch {
		case s.c == nil:
			return nil, 0
		case s.hash != h:
		case src == s.c.ends[0] && dst == s.c.ends[1]:
			return s.c, 0
		case src == s.c.ends[1] && dst == s.c.ends[0]:
			return s.c, 1
		case sameEnd(src, s.c.ends[0]) && sameEnd(dst, s.c.ends[1]):
			return s.c, 0
		case sameEnd(src, s.c.ends[1]) && sameEnd(dst, s.c.ends[0]):
			return s.c, 1
		}
	}
}

// add puts c, whose flow hash is c.hash and which is not in the table,
// in the table.
func (t *connTable) add(c *tcpConn) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(max(minTableSlots, 2*len(t.slots)))
	}
	t.put(c.hash, c)
	t.n++
}

// put places c in the first free slot of its probe sequence.
func (t *connTable) put(h uint64, c *tcpConn) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].c != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = connSlot{hash: h, c: c}
}

// remove takes c out of the table; it reports whether c was in it.
func (t *connTable) remove(c *tcpConn) bool {
	if t.n == 0 {
		return false
	}
	mask := uint64(len(t.slots) - 1)
	i := c.hash & mask
	for t.slots[i].c != c {
		if t.slots[i].c == nil {
			return false
		}
		i = (i + 1) & mask
	}
	// Shift back the entries after i that probed past it, so every entry
	// stays reachable from its home slot without tombstones.
	for j := (i + 1) & mask; t.slots[j].c != nil; j = (j + 1) & mask {
		home := t.slots[j].hash & mask
		// The entry at j may move to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = connSlot{}
	t.n--
	if len(t.slots) > minTableSlots && 8*t.n < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
	return true
}

// resize rehashes the table into n slots (a power of two).
func (t *connTable) resize(n int) {
	old := t.slots
	t.slots = make([]connSlot, n)
	for _, s := range old {
		if s.c != nil {
			t.put(s.hash, s.c)
		}
	}
}
