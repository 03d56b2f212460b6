package capture

import "hash/maphash"

// strCache makes kept strings of wire bytes and shares the ones that
// repeat (hosts, user agents, origins, DNS names, SNIs), like
// source.Interner, at less cost per value it has not seen: a table of
// two-way sets indexed by one hash of the bytes, so a lookup is a hash
// and at most two comparisons, and a new value costs its string and two
// slot writes, where a map costs a lookup, an insert and, now and then, a
// clear. A flood of distinct values goes through it at the price of the
// strings alone; a value that repeats stays while it is one of the two
// latest of its set. Each slot keeps its value's hash, so a value of the
// same length is not compared byte by byte (nor its cold bytes read)
// unless the hashes agree.
//
// The table starts small, so a short capture or a quiet shard pays little
// for it, and doubles each time as many values were pushed out as it has
// sets, up to cacheSets: its memory is bounded by cacheSets×2 strings of
// at most maxIntern bytes.
type strCache struct {
	seed    maphash.Seed
	sets    [][2]cached // [0]: the latest used
	evicted int         // values pushed out since the table was made
}

// cached is a slot of a strCache.
type cached struct {
	hash uint64
	s    string
}

// Sets of a strCache (powers of two): at first, and at most.
const (
	cacheSetsMin = 64
	cacheSets    = internMax / 2
)

func newStrCache() *strCache {
	return &strCache{seed: maphash.MakeSeed(), sets: make([][2]cached, cacheSetsMin)}
}

// String returns b as a string, shared with earlier calls while it stays
// in the table.
func (c *strCache) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxIntern {
		return string(b)
	}
	h := maphash.Bytes(c.seed, b)
	set := &c.sets[h&uint64(len(c.sets)-1)]
	switch {
	case set[0].hash == h && set[0].s == string(b):
		return set[0].s
	case set[1].hash == h && set[1].s == string(b):
		set[0], set[1] = set[1], set[0]
		return set[0].s
	}
	s := string(b)
	if set[1].s != "" {
		if c.evicted++; c.evicted >= len(c.sets) && len(c.sets) < cacheSets {
			c.grow()
			set = &c.sets[h&uint64(len(c.sets)-1)]
		}
	}
	set[1], set[0] = set[0], cached{hash: h, s: s}
	return s
}

// grow doubles the table, keeping what it holds.
func (c *strCache) grow() {
	old := c.sets
	c.sets, c.evicted = make([][2]cached, 2*len(old)), 0
	mask := uint64(len(c.sets) - 1)
	for _, set := range old {
		for _, e := range [2]cached{set[1], set[0]} { // the older first
			if e.s != "" {
				to := &c.sets[e.hash&mask]
				to[1], to[0] = to[0], e
			}
		}
	}
}
