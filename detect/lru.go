package detect

import (
	"hash/maphash"
	"net/netip"
)

// lru is a bounded table with a recency list: get and put move an entry to
// the front, and put evicts the least recently used entry once the table
// holds max. It is not safe for concurrent use; the engine owns it.
//
// It is built for floods, where every request brings a key, Host and
// client never seen before and each of them evicts one: the entries live
// in one array linked by index, and the index is an open-addressing table
// of (hash, position) words. A miss reads one word of the index; an
// eviction reads the oldest entry, which a flood evicts in array order
// (the prefetcher's case), and leaves its word in the index until the
// next rebuild. A Go map of pointers to list nodes cost about three times
// the cache misses: the map's group, the node, the evicted key's bytes to
// hash it again, and its group to delete it.
type lru[K comparable, V any] struct {
	max   int
	seed  maphash.Seed
	hash  func(maphash.Seed, K) uint64
	index []uint64 // 0: empty; else hash's low 32 bits << 32 | position+1
	stale int      // words in index whose entry was evicted
	nodes []lruNode[K, V]
	head  int32 // most recent; -1 when empty
	tail  int32 // least recent
	// evicted counts the entries evicted; evictedActive, those the owner
	// judged still in use (see Engine.keyFor): the owner counts them, the
	// lru cannot tell.
	evicted       uint64
	evictedActive uint64
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	hash       uint32 // the low 32 bits of the key's hash, where its index word lives
	prev, next int32
}

// lruMinIndex is the index's size before the first entry. It is rebuilt,
// at four words per entry, whenever entries and stale words fill half of
// it, so probes stay short.
const lruMinIndex = 16

func newLRU[K comparable, V any](max int, hash func(maphash.Seed, K) uint64) *lru[K, V] {
	return &lru[K, V]{max: max, seed: maphash.MakeSeed(), hash: hash, index: make([]uint64, lruMinIndex), head: -1, tail: -1}
}

// hashString, hashAddr and hashDedupe are the tables' hash functions. The
// seed is random per table, so traffic cannot be shaped to collide.
func hashString(s maphash.Seed, k string) uint64 { return maphash.String(s, k) }

func hashAddr(s maphash.Seed, a netip.Addr) uint64 {
	b := a.As16()
	return maphash.Bytes(s, b[:])
}

func hashDedupe(s maphash.Seed, k dedupeKey) uint64 {
	return maphash.String(s, k.subject) ^ maphash.String(s, k.detector)*0x9e3779b97f4a7c15 ^ maphash.String(s, k.dimension)<<1
}

func (l *lru[K, V]) len() int { return len(l.nodes) }

// find returns the position of k's entry, or -1 and the index slot where k
// would go.
func (l *lru[K, V]) find(k K, h uint32) (pos int32, slot int) {
	mask := len(l.index) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		w := l.index[i]
		if w == 0 {
			return -1, i
		}
		if uint32(w>>32) == h && l.nodes[int32(w)-1].key == k {
			return int32(w) - 1, i
		}
	}
}

// get returns the value for k and marks it most recently used.
func (l *lru[K, V]) get(k K) (V, bool) {
	if l.head >= 0 && l.nodes[l.head].key == k {
		// Consecutive requests of one client, key or Host are the usual
		// case: the most recent entry needs neither a hash nor a move.
		return l.nodes[l.head].val, true
	}
	pos, _ := l.find(k, uint32(l.hash(l.seed, k)))
	if pos < 0 {
		var zero V
		return zero, false
	}
	l.moveFront(pos)
	return l.nodes[pos].val, true
}

// peek returns the value without touching recency.
func (l *lru[K, V]) peek(k K) (V, bool) {
	if l.head >= 0 && l.nodes[l.head].key == k {
		return l.nodes[l.head].val, true
	}
	pos, _ := l.find(k, uint32(l.hash(l.seed, k)))
	if pos < 0 {
		var zero V
		return zero, false
	}
	return l.nodes[pos].val, true
}

// full reports whether a put of a new key would evict, and the value it
// would evict.
func (l *lru[K, V]) full() (V, bool) {
	if len(l.nodes) < l.max || l.tail < 0 {
		var zero V
		return zero, false
	}
	return l.nodes[l.tail].val, true
}

// put inserts or replaces k, evicting the least recent entry when full.
func (l *lru[K, V]) put(k K, v V) {
	h := uint32(l.hash(l.seed, k))
	pos, slot := l.find(k, h)
	if pos >= 0 {
		l.nodes[pos].val = v
		l.moveFront(pos)
		return
	}
	if 2*(len(l.nodes)+l.stale+1) > len(l.index) {
		l.rebuild(len(l.nodes) + 1)
		_, slot = l.find(k, h)
	}
	if len(l.nodes) >= l.max && l.tail >= 0 {
		// A full table under a flood evicts on every new entry: the
		// evicted entry's place carries the new one. Its index word stays
		// (stale): it names a place whose key no longer matches, so no
		// search stops at it, and the next rebuild drops it. Removing it
		// at once cost a cache miss per eviction.
		pos = l.tail
		l.unlink(pos)
		l.evicted++
		l.stale++
	} else {
		pos = int32(len(l.nodes))
		l.nodes = append(l.nodes, lruNode[K, V]{})
	}
	n := &l.nodes[pos]
	n.key, n.val, n.hash = k, v, h
	l.index[slot] = uint64(h)<<32 | uint64(pos+1)
	l.pushFront(pos)
}

// rebuild makes an index of at least four words per entry for live
// entries and places the entries in it again, without the stale words.
// Four per entry leave room for as many stale words as entries before the
// next rebuild (at half full), so a full table under a flood rebuilds once
// per table's worth of evictions.
func (l *lru[K, V]) rebuild(live int) {
	size := max(lruMinIndex, len(l.index))
	for size < 4*live {
		size *= 2
	}
	if size == len(l.index) {
		clear(l.index)
	} else {
		l.index = make([]uint64, size)
	}
	l.stale = 0
	mask := size - 1
	for pos := range l.nodes {
		h := l.nodes[pos].hash
		i := int(h) & mask
		for l.index[i] != 0 {
			i = (i + 1) & mask
		}
		l.index[i] = uint64(h)<<32 | uint64(pos+1)
	}
}

// each calls f from most to least recent until f returns false.
func (l *lru[K, V]) each(f func(K, V) bool) {
	for pos := l.head; pos >= 0; pos = l.nodes[pos].next {
		if !f(l.nodes[pos].key, l.nodes[pos].val) {
			return
		}
	}
}

func (l *lru[K, V]) moveFront(pos int32) {
	if l.head == pos {
		return
	}
	l.unlink(pos)
	l.pushFront(pos)
}

func (l *lru[K, V]) pushFront(pos int32) {
	n := &l.nodes[pos]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.nodes[l.head].prev = pos
	}
	l.head = pos
	if l.tail < 0 {
		l.tail = pos
	}
}

func (l *lru[K, V]) unlink(pos int32) {
	n := &l.nodes[pos]
	if n.prev >= 0 {
		l.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

// big reports whether the index is large enough to be worth warming (see
// Engine.warm).
func (l *lru[K, V]) big() bool { return len(l.index) >= warmMinIndex }

// firstWord returns the index word a lookup of k reads first.
func (l *lru[K, V]) firstWord(k K) *uint64 {
	return &l.index[int(uint32(l.hash(l.seed, k)))&(len(l.index)-1)]
}
