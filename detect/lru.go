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
// (the prefetcher's case), and one more word to unlink it. A Go map of
// pointers to list nodes cost about twice the cache misses: the map's
// group, the node, the evicted key's bytes to hash it again, and its group.
type lru[K comparable, V any] struct {
	max   int
	seed  maphash.Seed
	hash  func(maphash.Seed, K) uint64
	index []uint64 // 0: empty; else hash's low 32 bits << 32 | position+1
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

// lruMinIndex is the index's size before the first entry; it doubles to
// keep at most half its words in use, so probes stay short.
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
	if len(l.nodes) >= l.max && l.tail >= 0 {
		// A full table under a flood evicts on every new entry: the
		// evicted entry's place carries the new one.
		pos = l.tail
		l.unlink(pos)
		l.unindex(pos)
		l.evicted++
		_, slot = l.find(k, h) // unindexing may have moved k's slot
	} else {
		pos = int32(len(l.nodes))
		l.nodes = append(l.nodes, lruNode[K, V]{})
		if 2*len(l.nodes) > len(l.index) {
			l.grow()
			_, slot = l.find(k, h)
		}
	}
	n := &l.nodes[pos]
	n.key, n.val, n.hash = k, v, h
	l.index[slot] = uint64(h)<<32 | uint64(pos+1)
	l.pushFront(pos)
}

// unindex removes pos's word from the index, moving back the words after
// it that probed past it (linear probing's deletion, no tombstones).
func (l *lru[K, V]) unindex(pos int32) {
	mask := len(l.index) - 1
	want := uint64(pos + 1)
	i := int(l.nodes[pos].hash) & mask
	for l.index[i]&0xffffffff != want {
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		w := l.index[j]
		if w == 0 {
			break
		}
		// The word at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		home := int(w>>32) & mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			l.index[i] = w
			i = j
		}
	}
	l.index[i] = 0
}

// grow doubles the index and places every entry again.
func (l *lru[K, V]) grow() {
	l.index = make([]uint64, 2*len(l.index))
	mask := len(l.index) - 1
	for pos := range l.nodes[:len(l.nodes)-1] { // the last one is being added
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
