package detect

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"testing"
)

// refLRU is the obvious LRU the table must behave as: a slice, most
// recent first.
type refLRU struct {
	max     int
	order   []int
	vals    map[int]int
	evicted uint64
}

func (r *refLRU) touch(k int) {
	i := slices.Index(r.order, k)
	r.order = slices.Insert(slices.Delete(r.order, i, i+1), 0, k)
}

func (r *refLRU) get(k int) (int, bool) {
	v, ok := r.vals[k]
	if ok {
		r.touch(k)
	}
	return v, ok
}

func (r *refLRU) put(k, v int) {
	if _, ok := r.vals[k]; ok {
		r.vals[k] = v
		r.touch(k)
		return
	}
	if len(r.order) >= r.max {
		old := r.order[len(r.order)-1]
		r.order = r.order[:len(r.order)-1]
		delete(r.vals, old)
		r.evicted++
	}
	r.vals[k] = v
	r.order = slices.Insert(r.order, 0, k)
}

// TestLRUAgreesWithReference runs random operations against the table and
// the reference, with hashes that collide a lot (long probe runs, words
// moved back on deletion, wrap-around at the index's end) and with a good
// one.
func TestLRUAgreesWithReference(t *testing.T) {
	hashes := map[string]func(maphash.Seed, int) uint64{
		"colliding": func(_ maphash.Seed, k int) uint64 { return uint64(k % 5) },
		"wrapping":  func(_ maphash.Seed, k int) uint64 { return uint64(1<<32 - 1 - k%3) },
		"good":      func(s maphash.Seed, k int) uint64 { return maphash.Comparable(s, k) },
	}
	for name, h := range hashes {
		for _, max := range []int{1, 2, 7, 64, 300} {
			rng := rand.New(rand.NewPCG(uint64(max), 7))
			l := newLRU[int, int](max, h)
			ref := &refLRU{max: max, vals: map[int]int{}}
			for op := range 20000 {
				k := rng.IntN(3 * max)
				switch rng.IntN(4) {
				case 0, 1:
					l.put(k, op)
					ref.put(k, op)
				case 2:
					got, ok := l.get(k)
					want, wok := ref.get(k)
					if got != want || ok != wok {
						t.Fatalf("%s max %d op %d: get(%d) = %d, %v; want %d, %v", name, max, op, k, got, ok, want, wok)
					}
				case 3:
					got, ok := l.peek(k)
					want, wok := ref.vals[k]
					if got != want || ok != wok {
						t.Fatalf("%s max %d op %d: peek(%d) = %d, %v; want %d, %v", name, max, op, k, got, ok, want, wok)
					}
				}
				if l.len() != len(ref.order) || l.evicted != ref.evicted {
					t.Fatalf("%s max %d op %d: len %d evicted %d; want %d, %d", name, max, op, l.len(), l.evicted, len(ref.order), ref.evicted)
				}
			}
			var order []int
			l.each(func(k, v int) bool {
				if ref.vals[k] != v {
					t.Fatalf("%s max %d: each gave %d=%d, want %d", name, max, k, v, ref.vals[k])
				}
				order = append(order, k)
				return true
			})
			if !slices.Equal(order, ref.order) {
				t.Fatalf("%s max %d: order %v, want %v", name, max, order, ref.order)
			}
			// Every key still in the table is found, and none evicted is.
			for k := range 3 * max {
				_, ok := l.peek(k)
				if _, want := ref.vals[k]; ok != want {
					t.Fatalf("%s max %d: peek(%d) found %v, want %v", name, max, k, ok, want)
				}
			}
		}
	}
}

// BenchmarkLRUFlood is a full table taking a new key on every put, as
// under a flood of one-shot keys.
func BenchmarkLRUFlood(b *testing.B) {
	const max = 100_000
	keys := make([]string, 4*max)
	for i := range keys {
		keys[i] = string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)) + string(rune('a'+i/17576%26)) + "-key"
	}
	l := newLRU[string, int](max, hashString)
	for i := range max {
		l.put(keys[i], i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := keys[(max+i)%len(keys)]
		if _, ok := l.get(k); !ok {
			l.put(k, i)
		}
	}
}
