package detect

import (
	"cmp"
	"math/bits"
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
// that comparing costs nothing, and the top rows are picked by selection
// (quickselect, then a sort of the rows kept): O(n) over the whole table
// plus O(rows log rows). A heap of the row cap was O(n log rows) and, when
// the table's own order ran against the sort's (every key with one
// request, visited newest first), it reordered itself for every row.
// Rows equal in the sorted column are ordered by their key or value,
// ascending, as the dashboard orders them, so a row never moves between
// an engine answer and a re-sort on screen.
type ranked[T any] struct {
	v     T
	num   float64
	str   string
	order int // recency: 0 is the most recently seen
}

// topRows returns the first n candidates of the order q asks for. It
// reorders cands.
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
	top := selectFirst(cands, n, less)
	slices.SortFunc(top, func(a, b ranked[T]) int {
		switch {
		case less(&a, &b):
			return -1
		case less(&b, &a):
			return 1
		}
		return 0
	})
	out := make([]T, len(top))
	for i := range top {
		out[i] = top[i].v
	}
	return out
}

// selectFirst moves the n first elements of c (by less, a strict order in
// which no two elements are equal) to its front, in no particular order,
// and returns them: quickselect with a median-of-three pivot; past a depth
// that only a pathological input reaches, the rest is sorted instead.
func selectFirst[T any](c []T, n int, less func(a, b *T) bool) []T {
	if n >= len(c) {
		return c
	}
	if n <= 0 {
		return c[:0]
	}
	lo, hi := 0, len(c)-1
	for depth := 2 * bits.Len(uint(len(c))); lo < hi; depth-- {
		if depth == 0 {
			part := c[lo : hi+1]
			slices.SortFunc(part, func(a, b T) int {
				if less(&a, &b) {
					return -1
				}
				return 1
			})
			break
		}
		p := partition(c, lo, hi, less)
		switch {
		case p == n:
			return c[:n]
		case p < n:
			lo = p + 1
		default:
			hi = p - 1
		}
	}
	return c[:n]
}

// partition orders c[lo..hi] around a pivot (the median of its first,
// middle and last elements) and returns where the pivot ends.
func partition[T any](c []T, lo, hi int, less func(a, b *T) bool) int {
	mid := lo + (hi-lo)/2
	if less(&c[mid], &c[lo]) {
		c[mid], c[lo] = c[lo], c[mid]
	}
	if less(&c[hi], &c[lo]) {
		c[hi], c[lo] = c[lo], c[hi]
	}
	if less(&c[mid], &c[hi]) {
		c[mid], c[hi] = c[hi], c[mid]
	}
	// The median is at hi now.
	i := lo
	for j := lo; j < hi; j++ {
		if less(&c[j], &c[hi]) {
			c[i], c[j] = c[j], c[i]
			i++
		}
	}
	c[i], c[hi] = c[hi], c[i]
	return i
}

// eachKey visits the keys, newest first: every one, or when the pins
// bound the keys that can match, only those (a pivot on a Host need not
// look at 100,000 keys to find its dozen).
func (e *Engine) eachKey(nar *narrower, f func(string, *keyState) bool) {
	names, ok := nar.keyBound()
	if !ok {
		e.keys.each(f)
		return
	}
	ks := make([]*keyState, 0, len(names))
	for _, name := range names {
		if k, ok := e.keys.peek(name); ok {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b *keyState) int { return cmp.Compare(b.last, a.last) })
	for _, k := range ks {
		if !f(k.fp, k) {
			return
		}
	}
}

// eachValue visits a Host or Origin table, newest first: every row, or
// only those named when the pins bound them (bounded).
func eachValue(t *lru[string, *valueState], names []string, bounded bool, f func(string, *valueState) bool) {
	if !bounded {
		t.each(f)
		return
	}
	type row struct {
		v string
		s *valueState
	}
	rows := make([]row, 0, len(names))
	for _, v := range names {
		if s, ok := t.peek(v); ok {
			rows = append(rows, row{v, s})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return b.s.last.Compare(a.s.last) })
	for _, r := range rows {
		if !f(r.v, r.s) {
			return
		}
	}
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
	e.eachKey(nar, func(_ string, k *keyState) bool {
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

// valueRows picks a Host (kind PinHost) or Origin table's rows, as keyRows.
func valueRows(kind PinKind, t *lru[string, *valueState], q TableQuery, n int, nar *narrower, part *Partial) []ValueStat {
	filter := strings.ToLower(q.Filter)
	cands := make([]ranked[ValueStat], 0, candCap(t.len(), filter != "" || nar != nil))
	i := 0
	names, bounded := nar.valueBound(kind)
	eachValue(t, names, bounded, func(v string, s *valueState) bool {
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
