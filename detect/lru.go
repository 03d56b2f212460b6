package detect

// lru is a map with a recency list: get and put move an entry to the front,
// and put evicts the least recently used entry once the map holds max.
// It is not safe for concurrent use; the engine owns it.
type lru[K comparable, V any] struct {
	max     int
	m       map[K]*lruNode[K, V]
	head    *lruNode[K, V] // most recent
	tail    *lruNode[K, V] // least recent
	evicted uint64
	// evictedActive counts evictions of entries the owner judged still
	// in use (see Engine.keyFor): the owner counts them, the lru cannot tell.
	evictedActive uint64
	onEvict       func(K, V)
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](max int, onEvict func(K, V)) *lru[K, V] {
	return &lru[K, V]{max: max, m: make(map[K]*lruNode[K, V]), onEvict: onEvict}
}

func (l *lru[K, V]) len() int { return len(l.m) }

// get returns the value for k and marks it most recently used.
func (l *lru[K, V]) get(k K) (V, bool) {
	n, ok := l.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	l.moveFront(n)
	return n.val, true
}

// peek returns the value without touching recency.
func (l *lru[K, V]) peek(k K) (V, bool) {
	n, ok := l.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	return n.val, true
}

// full reports whether a put of a new key would evict, and the value it
// would evict.
func (l *lru[K, V]) full() (V, bool) {
	if len(l.m) < l.max || l.tail == nil {
		var zero V
		return zero, false
	}
	return l.tail.val, true
}

// put inserts or replaces k, evicting the least recent entry when full.
func (l *lru[K, V]) put(k K, v V) {
	if n, ok := l.m[k]; ok {
		n.val = v
		l.moveFront(n)
		return
	}
	var n *lruNode[K, V]
	if len(l.m) >= l.max && l.tail != nil {
		n = l.tail
		l.unlink(n)
		delete(l.m, n.key)
		l.evicted++
		if l.onEvict != nil {
			l.onEvict(n.key, n.val)
		}
		// A full table under a flood evicts on every new entry: the
		// evicted node carries the new one (nothing outside holds nodes).
		n.key, n.val = k, v
	} else {
		n = &lruNode[K, V]{key: k, val: v}
	}
	l.m[k] = n
	l.pushFront(n)
}

// each calls f from most to least recent until f returns false.
func (l *lru[K, V]) each(f func(K, V) bool) {
	for n := l.head; n != nil; n = n.next {
		if !f(n.key, n.val) {
			return
		}
	}
}

func (l *lru[K, V]) moveFront(n *lruNode[K, V]) {
	if l.head == n {
		return
	}
	l.unlink(n)
	l.pushFront(n)
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
