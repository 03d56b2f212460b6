package detect

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStuffNoteAgreesWithReference: note against a plain reading of its
// rule over random streams (a few keys, times that jump past the window,
// refusals): the same count of keys in the window and of refused ones
// after every request.
func TestStuffNoteAgreesWithReference(t *testing.T) {
	type ref struct {
		last     int64
		rejected bool
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const window = 100
	for run := range 200 {
		limit := 1 + rng.IntN(6)
		var s stuffState
		want := map[string]*ref{}
		now := int64(0)
		for step := range 300 {
			now += 1 + rng.Int64N(40) // strictly later: no ties for the oldest
			fp := fmt.Sprint("k", rng.IntN(limit+4))
			refused := rng.IntN(4) == 0
			n, rejected := s.note(fp, now, window, limit, refused)

			// The key presented is brought up to now first (so it stays,
			// with whatever refusal it had), then the keys out of the
			// window go, then a new key makes room by the oldest.
			r, found := want[fp]
			if found {
				r.last, r.rejected = now, r.rejected || refused
			}
			for k, r := range want {
				if now-r.last >= window {
					delete(want, k)
				}
			}
			if !found {
				if len(want) > limit { // at most limit+1 kept
					oldest := ""
					for k, r := range want {
						if oldest == "" || r.last < want[oldest].last {
							oldest = k
						}
					}
					delete(want, oldest)
				}
				want[fp] = &ref{now, refused}
			}
			wantRejected := 0
			for _, r := range want {
				if r.rejected {
					wantRejected++
				}
			}
			if n != len(want) || rejected != wantRejected {
				t.Fatalf("run %d step %d (limit %d, %s at %d): got %d keys, %d refused; want %d, %d",
					run, step, limit, fp, now, n, rejected, len(want), wantRejected)
			}
		}
	}
}
