// Package cachegate turns a cache off while it only misses.
//
// A flood brings a value never seen before on every request (a new key to
// fingerprint, a new Host to keep): each lookup in a cache of recent values
// then reads a slot the core's own cache does not hold, which costs about
// as much as the work the lookup was meant to save, and finds nothing.
package cachegate

// Gate counts the hits of each period of Period lookups; after a period
// with fewer than MinHits, the cache is skipped for the next Skip values,
// then tried again. Traffic that repeats its values (nearly all traffic)
// never closes it; a flood pays the lookup on one value in nine. The zero
// Gate is open.
type Gate struct {
	lookups, hits int
	skip          int // values left to go past the cache
}

// The gate's period, the hits that keep it open, and how long it stays
// closed, in lookups.
const (
	Period  = 1024
	MinHits = Period / 64
	Skip    = 8 * Period
)

// Skipping reports whether this value goes past the cache (and counts it).
func (g *Gate) Skipping() bool {
	if g.skip == 0 {
		return false
	}
	g.skip--
	return true
}

// Looked counts a lookup and whether it hit.
func (g *Gate) Looked(hit bool) {
	g.lookups++
	if hit {
		g.hits++
	}
	if g.lookups < Period {
		return
	}
	if g.hits < MinHits {
		g.skip = Skip
	}
	g.lookups, g.hits = 0, 0
}

// Closed reports whether the gate skips the cache now.
func (g *Gate) Closed() bool { return g.skip > 0 }
