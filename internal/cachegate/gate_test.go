package cachegate

import "testing"

// TestGate: a period of misses closes the gate for Skip values, then it
// opens; a period with MinHits hits keeps it open, one fewer closes it.
func TestGate(t *testing.T) {
	var g Gate
	for range Period {
		if g.Skipping() {
			t.Fatal("closed before a period ended")
		}
		g.Looked(false)
	}
	if !g.Closed() {
		t.Fatal("open after a period of misses")
	}
	for i := range Skip {
		if !g.Skipping() {
			t.Fatalf("open after %d of %d skipped values", i, Skip)
		}
	}
	if g.Skipping() || g.Closed() {
		t.Fatal("still closed after Skip values")
	}
	for _, hits := range []int{MinHits, MinHits - 1} {
		g = Gate{}
		for i := range Period {
			g.Looked(i < hits)
		}
		if want := hits < MinHits; g.Closed() != want {
			t.Errorf("%d hits in a period: closed %v, want %v", hits, g.Closed(), want)
		}
	}
}
