package detect

import (
	"cmp"
	"container/heap"
	"strings"
	"time"
)

// Query says what a snapshot is for: which rows of each table a view shows
// (the top rows of its sort over the whole table, among those matching its
// filter, not the most recent ones) and what "now" is.
type Query struct {
	// Now is the wall clock for live and followed sources, so rates fall
	// to zero when traffic stops; zero means the latest event time (a
	// replay's clock). Detection always runs on event time.
	Now time.Time

	Keys, Hosts, Origins TableQuery
}

// TableQuery picks the rows of one table.
type TableQuery struct {
	Sort   string // a column of KeyColumns or ValueColumns; "" = most recently seen first
	Desc   bool
	Filter string // rows whose text contains it, in any case; "" = all
}

// Columns a table can be sorted by.
var (
	KeyColumns   = []string{"key", "requests", "rate", "peak", "hosts", "clients", "origins", "first", "last"}
	ValueColumns = []string{"value", "requests", "keys", "allowed", "last"}
)

// Table rows in a query's order: each candidate carries its sort value so
// that comparing costs nothing, and the top rows are picked with a heap of
// the table's row cap, O(n log rows) over the whole table.
type ranked[T any] struct {
	v     T
	num   float64
	str   string
	order int // recency: 0 is the most recently seen
}

// topRows returns the first n candidates of the order q asks for.
func topRows[T any](cands []ranked[T], q TableQuery, numeric bool, n int) []T {
	less := func(a, b *ranked[T]) bool { // a before b
		if q.Sort == "" {
			return a.order < b.order
		}
		c := 0
		if numeric {
			c = cmp.Compare(a.num, b.num)
		} else {
			c = strings.Compare(a.str, b.str)
		}
		if q.Desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
		return a.order < b.order
	}
	h := &rankHeap[T]{less: less}
	for i := range cands {
		if len(h.items) < n {
			heap.Push(h, &cands[i])
		} else if less(&cands[i], h.items[0]) {
			h.items[0] = &cands[i]
			heap.Fix(h, 0)
		}
	}
	out := make([]T, len(h.items))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(*ranked[T]).v
	}
	return out
}

// rankHeap keeps the worst of the best n at its root.
type rankHeap[T any] struct {
	items []*ranked[T]
	less  func(a, b *ranked[T]) bool
}

func (h *rankHeap[T]) Len() int           { return len(h.items) }
func (h *rankHeap[T]) Less(i, j int) bool { return h.less(h.items[j], h.items[i]) }
func (h *rankHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rankHeap[T]) Push(x any)         { h.items = append(h.items, x.(*ranked[T])) }
func (h *rankHeap[T]) Pop() any {
	old := h.items
	x := old[len(old)-1]
	h.items = old[:len(old)-1]
	return x
}

// keyRows picks the keys table's rows.
func (e *Engine) keyRows(q TableQuery, now time.Time, n int) []KeyStat {
	cands := make([]ranked[*keyState], 0, e.keys.len())
	filter := strings.ToLower(q.Filter)
	i := 0
	e.keys.each(func(_ string, k *keyState) bool {
		defer func() { i++ }()
		if filter != "" && !k.matches(filter) {
			return true
		}
		c := ranked[*keyState]{v: k, order: i, str: k.fp}
		switch q.Sort {
		case "requests":
			c.num = float64(k.requests)
		case "rate":
			c.num = rateOf(k.countAt, now)
		case "peak":
			c.num = float64(k.peak())
		case "hosts":
			c.num = float64(len(k.hosts))
		case "clients":
			c.num = float64(len(k.clients))
		case "origins":
			c.num = float64(len(k.origins))
		case "first":
			c.num = float64(k.first)
		case "last":
			c.num = float64(k.last)
		}
		cands = append(cands, c)
		return true
	})
	top := topRows(cands, q, q.Sort != "key", n)
	out := make([]KeyStat, len(top))
	for i, k := range top {
		out[i] = k.stat(now)
	}
	return out
}

// matches reports whether a key's row text (its fingerprint and the
// detectors that fired on it) contains filter (lower-case).
func (k *keyState) matches(filter string) bool {
	if strings.Contains(k.fp, filter) {
		return true
	}
	for _, d := range k.firedNames() {
		if strings.Contains(d, filter) {
			return true
		}
	}
	return false
}

// valueRows picks a Host or Origin table's rows.
func valueRows(t *lru[string, *valueState], q TableQuery, n int) []ValueStat {
	cands := make([]ranked[ValueStat], 0, t.len())
	filter := strings.ToLower(q.Filter)
	i := 0
	t.each(func(v string, s *valueState) bool {
		defer func() { i++ }()
		if filter != "" && !strings.Contains(strings.ToLower(v), filter) {
			return true
		}
		c := ranked[ValueStat]{order: i, str: v,
			v: ValueStat{Value: v, Requests: s.requests, Keys: s.keys.len(), Allowed: s.allowed, LastSeen: s.last, FromReferer: s.referer}}
		switch q.Sort {
		case "requests":
			c.num = float64(s.requests)
		case "keys":
			c.num = float64(s.keys.len())
		case "allowed":
			if s.allowed {
				c.num = 1
			}
		case "last":
			c.num = float64(s.last.UnixNano())
		}
		cands = append(cands, c)
		return true
	})
	return topRows(cands, q, q.Sort != "value", n)
}
