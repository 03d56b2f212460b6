package capture

import (
	"hash/maphash"

	"github.com/rebindwatch/rebindwatch/internal/cachegate"
)

// strCache makes kept strings of wire bytes and shares the ones that
// repeat (hosts, user agents, origins, DNS names, SNIs), like
// source.Interner, at less cost per value it has not seen: a table of
// two-way sets indexed by one hash of the bytes, so a lookup is a hash
// and at most two comparisons, and a new value costs its string and two
// slot writes, where a map costs a lookup, an insert and, now and then, a
// clear. A flood of distinct values goes through it at the price of the
// strings alone; a value that repeats stays while it is one of the two
// latest of its set. The hashes of the values are kept apart from them,
// 16 bytes a set, so a miss (a flood's new Host) reads one small, mostly
// cached array, and a value of the same length is not compared byte by
// byte (nor its cold bytes read) unless the hashes agree.
//
// The table is made at first use and small, so a short capture or a
// quiet shard pays little for it, and doubles each time as many values were pushed out as it has
// sets, up to cacheSets: its memory is bounded by cacheSets×2 strings of
// at most maxIntern bytes.
type strCache struct {
	seed    maphash.Seed
	hashes  [][2]uint64 // of the values in strs: a miss reads 16 bytes
	strs    [][2]string // [0]: the latest used
	evicted int         // values pushed out since the table was made
}

// Sets of a strCache (powers of two): at first, and at most.
const (
	cacheSetsMin = 16
	cacheSets    = internMax / 2
)

func newStrCache() *strCache {
	return &strCache{seed: maphash.MakeSeed()}
}

// String returns b as a string, shared with earlier calls while it stays
// in the table.
func (c *strCache) String(b []byte) string { return c.gated(nil, b) }

// gated is String for the values of one field, counted by that field's
// gate (nil: none): a field whose values are all new (a flood's Hosts)
// goes past the table while its gate is closed, and its misses neither
// cost a read of the table nor push out the values of fields that repeat.
// One gate for the whole table would not close: the other fields' hits
// keep it open.
func (c *strCache) gated(g *cachegate.Gate, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxIntern || g != nil && g.Skipping() {
		return string(b)
	}
	if c.hashes == nil {
		c.hashes, c.strs = make([][2]uint64, cacheSetsMin), make([][2]string, cacheSetsMin)
	}
	h := maphash.Bytes(c.seed, b)
	i := h & uint64(len(c.hashes)-1)
	hs, ss := &c.hashes[i], &c.strs[i]
	switch {
	case hs[0] == h && ss[0] == string(b):
		looked(g, true)
		return ss[0]
	case hs[1] == h && ss[1] == string(b):
		hs[0], hs[1], ss[0], ss[1] = hs[1], hs[0], ss[1], ss[0]
		looked(g, true)
		return ss[0]
	}
	looked(g, false)
	s := string(b)
	if ss[1] != "" {
		if c.evicted++; c.evicted >= len(c.hashes) && len(c.hashes) < cacheSets {
			c.grow()
			i = h & uint64(len(c.hashes)-1)
			hs, ss = &c.hashes[i], &c.strs[i]
		}
	}
	hs[1], hs[0], ss[1], ss[0] = hs[0], h, ss[0], s
	return s
}

// looked counts a lookup on g, when there is one.
func looked(g *cachegate.Gate, hit bool) {
	if g != nil {
		g.Looked(hit)
	}
}

// grow doubles the table, keeping what it holds.
func (c *strCache) grow() {
	oldH, oldS := c.hashes, c.strs
	n := 2 * len(oldH)
	c.hashes, c.strs, c.evicted = make([][2]uint64, n), make([][2]string, n), 0
	mask := uint64(n - 1)
	for i := range oldH {
		for _, w := range [2]int{1, 0} { // the older first
			if oldS[i][w] != "" {
				h := oldH[i][w]
				hs, ss := &c.hashes[h&mask], &c.strs[h&mask]
				hs[1], hs[0], ss[1], ss[0] = hs[0], h, ss[0], oldS[i][w]
			}
		}
	}
}
