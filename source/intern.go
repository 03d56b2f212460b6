package source

import "encoding/binary"

// Interner makes kept strings of wire bytes and shares the ones that repeat
// (hosts, user agents, origins, targets), so a steady stream of requests
// allocates only for values it has not seen lately. The table is bounded:
// when full it starts over, keeping its memory.
//
// In front of the table sits a small direct-mapped cache indexed by a cheap
// hash of a value's length and three of its words: the values that repeat
// line after line (a User-Agent, a Referer, a Host) are found with one
// comparison instead of a map lookup, which hashes every byte of them.
type Interner struct {
	m      map[string]string
	max    int // entries before the table starts over
	maxLen int // longer values are not worth keeping
	recent [recentSlots]string
}

// recentSlots is the size of the direct-mapped cache: a power of two, a few
// KiB of string headers, more than the User-Agents, Hosts and Origins a
// busy server sees at once.
const recentSlots = 512

// NewInterner returns an interner of at most max entries of at most maxLen
// bytes each (and recentSlots more in its cache).
func NewInterner(max, maxLen int) *Interner {
	return &Interner{m: make(map[string]string), max: max, maxLen: maxLen}
}

// String returns b as a string, shared with earlier calls when seen lately.
func (in *Interner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > in.maxLen {
		return string(b)
	}
	slot := &in.recent[recentSlot(b)]
	if *slot == string(b) {
		return *slot
	}
	s, ok := in.m[string(b)]
	if !ok {
		if len(in.m) >= in.max {
			clear(in.m)
		}
		s = string(b)
		in.m[s] = s
	}
	*slot = s
	return s
}

// recentSlot is the cache slot of b (not empty): a hash of its length and
// of its first, middle and last eight bytes (all of it when shorter), which
// tells apart the values that differ in a version number or a path.
func recentSlot(b []byte) uint {
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b)
		h = (h ^ h>>29) * 0xbf58476d1ce4e5b9
		h ^= binary.LittleEndian.Uint64(b[len(b)/2-4+len(b)%2:])
		h = (h ^ h>>29) * 0xbf58476d1ce4e5b9
		h ^= binary.LittleEndian.Uint64(b[len(b)-8:])
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h = (h ^ h>>32) * 0x94d049bb133111eb
	return uint(h>>40) % recentSlots
}
