package capture

import "hash/maphash"

// strCache makes kept strings of wire bytes and shares the ones that
// repeat (hosts, user agents, origins, DNS names, SNIs), like
// source.Interner, at less cost per value it has not seen: a fixed table
// of two-way sets indexed by one hash of the bytes, so a lookup is a hash
// and at most two comparisons, and a new value costs its string and two
// slot writes, where a map costs a lookup, an insert and, now and then, a
// clear. A flood of distinct values goes through it at the price of the
// strings alone; a value that repeats stays while it is one of the two
// latest of its set. Each slot keeps its value's hash, so a value of the
// same length is not compared byte by byte (nor its cold bytes read)
// unless the hashes agree. Its memory is bounded: cacheSets×2 strings of
// at most maxIntern bytes.
type strCache struct {
	seed maphash.Seed
	sets [][2]cached // [0]: the latest used
}

// cached is a slot of a strCache.
type cached struct {
	hash uint64
	s    string
}

// cacheSets is the number of sets of a strCache (a power of two).
const cacheSets = internMax / 2

func newStrCache() *strCache {
	return &strCache{seed: maphash.MakeSeed(), sets: make([][2]cached, cacheSets)}
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
	set := &c.sets[h&(cacheSets-1)]
	switch {
	case set[0].hash == h && set[0].s == string(b):
		return set[0].s
	case set[1].hash == h && set[1].s == string(b):
		set[0], set[1] = set[1], set[0]
		return set[0].s
	}
	s := string(b)
	set[1], set[0] = set[0], cached{hash: h, s: s}
	return s
}
