package source

import "hash/maphash"

// Interner makes kept strings of wire bytes and shares the ones that repeat
// (hosts, user agents, origins, targets), so a steady stream of requests
// allocates only for values it has not seen lately. The table is bounded:
// when full it starts over, keeping its memory.
//
// It is an open-addressing table that keeps each value's hash beside it: a
// lookup touches the slot and, when the hashes agree, the value's bytes,
// where a Go map would also read a control word in another cache line.
// Under a log's load (thousands of targets, a lookup or two per line) the
// table is larger than the cache and those misses are most of its cost.
type Interner struct {
	seed   maphash.Seed
	slots  []internSlot // a power of two, at least twice the entries; "" is empty
	n      int          // entries
	max    int          // entries before the table starts over
	maxLen int          // longer values are not worth keeping
}

type internSlot struct {
	h uint64
	s string
}

// minSlots is the table's first size; it doubles as entries come, up to
// twice max.
const minSlots = 64

// NewInterner returns an interner of at most max entries of at most maxLen
// bytes each.
func NewInterner(max, maxLen int) *Interner {
	return &Interner{seed: maphash.MakeSeed(), slots: make([]internSlot, minSlots), max: max, maxLen: maxLen}
}

// String returns b as a string, shared with earlier calls when seen lately.
func (in *Interner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > in.maxLen {
		return string(b)
	}
	h := maphash.Bytes(in.seed, b)
	mask := uint64(len(in.slots) - 1)
	for i := h & mask; in.slots[i].s != ""; i = (i + 1) & mask {
		if sl := &in.slots[i]; sl.h == h && sl.s == string(b) {
			return sl.s
		}
	}
	switch {
	case in.n >= in.max:
		clear(in.slots)
		in.n = 0
	case 2*(in.n+1) > len(in.slots):
		in.grow()
	}
	s := string(b)
	in.put(h, s)
	return s
}

// put adds a value that is not in the table.
func (in *Interner) put(h uint64, s string) {
	mask := uint64(len(in.slots) - 1)
	i := h & mask
	for in.slots[i].s != "" {
		i = (i + 1) & mask
	}
	in.slots[i] = internSlot{h, s}
	in.n++
}

// grow doubles the table and puts its entries back.
func (in *Interner) grow() {
	old := in.slots
	in.slots, in.n = make([]internSlot, 2*len(old)), 0
	for _, sl := range old {
		if sl.s != "" {
			in.put(sl.h, sl.s)
		}
	}
}
