package detect

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
	"time"
)

// Query says what a snapshot is for: which rows of each table a view shows
// (the top rows of its sort over the whole table, among those matching its
// filter, not the most recent ones), what every table is narrowed to (pins
// and a range of event time: see pivot.go), the timeline's window and
// what "now" is.
type Query struct {
	// Now is the wall clock for live and followed sources, so rates fall
	// to zero when traffic stops; zero means the latest event time (a
	// replay's clock). Detection always runs on event time.
	Now time.Time

	Keys, Hosts, Origins TableQuery

	// Pins narrow every table (keys, Hosts, Origins, recent requests,
	// alerts, incidents) and the timeline's requests to the rows seen with
	// all of them. Snapshot.Coverage says where the answer may be short.
	Pins []Pin
	// From and To narrow every table to the event time [From, To); a zero
	// bound is open. The timeline still shows its whole window.
	From, To time.Time
	// Span is the timeline's window, ending at the clock: 0 is a minute,
	// SpanAll the whole run. Buckets is how many steps it has (0: 60).
	Span    time.Duration
	Buckets int
	// All asks for every matching row of each table rather than the top
	// [limits] rows (an export); the recent requests are the whole ring.
	All bool
}

// Same reports whether two queries ask for the same rows and timeline
// (their clocks aside).
func (q *Query) Same(o *Query) bool {
	return q.Keys.same(&o.Keys) && q.Hosts.same(&o.Hosts) && q.Origins.same(&o.Origins) && slices.Equal(q.Pins, o.Pins) &&
		q.From.Equal(o.From) && q.To.Equal(o.To) && q.Span == o.Span && q.Buckets == o.Buckets && q.All == o.All
}

// TableQuery picks the rows of one table.
type TableQuery struct {
	Sort string // a column of KeyColumns or ValueColumns; "" = most recently seen first
	Desc bool
	// Filter keeps the rows whose text contains it, in any case, and
	// Detectors (keys table) those on which one of these detectors fired:
	// a row matching either is kept; both empty keep every row. A view
	// that shows detectors by other names (labels) turns a typed name
	// into Detectors.
	Filter    string
	Detectors []string
}

func (q *TableQuery) same(o *TableQuery) bool {
	return q.Sort == o.Sort && q.Desc == o.Desc && q.Filter == o.Filter && slices.Equal(q.Detectors, o.Detectors)
}

// Columns a table can be sorted by.
var (
	KeyColumns   = []string{"key", "requests", "rate", "peak", "hosts", "clients", "origins", "first", "last"}
	ValueColumns = []string{"value", "requests", "keys", "allowed", "last"}
)

// Table rows in a query's order: each candidate carries its sort value so
// that comparing costs nothing, and the top rows are picked with a heap of
// the table's row cap, O(n log rows) over the whole table. Rows equal in
// the sorted column are ordered by their key or value, ascending, as the
// dashboard orders them, so a row never moves between an engine answer
// and a re-sort on screen.
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
		if c == 0 {
			c = strings.Compare(a.str, b.str)
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

// candCap is the room for a table's candidates: all its rows, or when a
// filter or pins will keep few of them, a little that grows.
func candCap(rows int, narrowed bool) int {
	if narrowed {
		return min(rows, 256)
	}
	return rows
}

// keyRows picks the keys table's rows: those matching q's filter and the
// narrower's pins and range (nil: no pins), the top n of q's order.
func (e *Engine) keyRows(q TableQuery, now time.Time, n int, nar *narrower, part *Partial) []KeyStat {
	filter := strings.ToLower(q.Filter)
	cands := make([]ranked[*keyState], 0, candCap(e.keys.len(), filter != "" || len(q.Detectors) > 0 || nar != nil))
	var dets uint16
	for _, d := range q.Detectors {
		if i := slices.Index(Detectors, d); i >= 0 {
			dets |= 1 << i
		}
	}
	i := 0
	e.keys.each(func(_ string, k *keyState) bool {
		defer func() { i++ }()
		if (filter != "" || dets != 0) && !(filter != "" && k.matches(filter) || k.fired&dets != 0) {
			return true
		}
		if nar != nil && !nar.key(k, part) {
			return true
		}
		c := ranked[*keyState]{v: k, order: i, str: k.fp}
		switch q.Sort {
		case "requests":
			c.num = float64(k.requests)
		case "rate":
			c.num = k.rates.rate(now)
		case "peak":
			c.num = float64(k.rates.peak)
		case "hosts":
			c.num = float64(len(k.hostCounts))
		case "clients":
			c.num = float64(len(k.clientCount))
		case "origins":
			c.num = float64(k.origins.len())
		case "first":
			c.num = float64(k.first.UnixNano())
		case "last":
			c.num = float64(k.last.UnixNano())
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

// valueRows picks a Host (kind PinHost) or Origin table's rows, as keyRows.
func valueRows(kind PinKind, t *lru[string, *valueState], q TableQuery, n int, nar *narrower, part *Partial) []ValueStat {
	filter := strings.ToLower(q.Filter)
	cands := make([]ranked[ValueStat], 0, candCap(t.len(), filter != "" || nar != nil))
	i := 0
	t.each(func(v string, s *valueState) bool {
		defer func() { i++ }()
		if filter != "" && !strings.Contains(strings.ToLower(v), filter) {
			return true
		}
		if nar != nil && !nar.value(kind, v, s, part) {
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
