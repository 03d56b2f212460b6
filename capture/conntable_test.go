package capture

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConnTableAgreesWithMap adds and removes connections at random, with
// hashes drawn from a few values so that probe runs collide, wrap around
// the end of the table and are shifted back on removal, and checks every
// lookup against a map, both directions and IPv4-mapped forms included.
func TestConnTableAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tab connTable
	type flow struct{ a, b netip.AddrPort }
	model := map[flow]*tcpConn{}
	server := netip.MustParseAddrPort("10.0.0.1:80")
	const flows = 600
	ends := make([]netip.AddrPort, flows)
	for i := range ends {
		ends[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i)}), uint16(40000+i))
	}
	hashOf := func(i int) uint64 {
		// Few distinct hashes: half spread, half at the last slots of
		// any table size, so their run wraps around to the first.
		if i%2 == 0 {
			return ^uint64(i % 13)
		}
		return uint64(i%37) * 0x9e3779b97f4a7c15 >> uint(i%3)
	}
	peak := 0
	for step := range 200000 {
		i := rng.IntN(flows)
		f := flow{ends[i], server}
		if c := model[f]; c != nil && rng.IntN(2) == 0 {
			if !tab.remove(c) {
				t.Fatalf("step %d: remove of flow %d missed", step, i)
			}
			delete(model, f)
		} else if c == nil {
			c = &tcpConn{ends: [2]netip.AddrPort{f.a, f.b}, hash: hashOf(i)}
			tab.add(c)
			model[f] = c
		}
		peak = max(peak, tab.n)
		if tab.n != len(model) {
			t.Fatalf("step %d: table holds %d, model %d", step, tab.n, len(model))
		}
		// Look up a few flows each way, and as IPv4-mapped IPv6.
		for range 3 {
			j := rng.IntN(flows)
			want := model[flow{ends[j], server}]
			mapped := netip.AddrPortFrom(netip.AddrFrom16(ends[j].Addr().As16()), ends[j].Port())
			for _, q := range []struct {
				src, dst netip.AddrPort
				dir      int
			}{{ends[j], server, 0}, {server, ends[j], 1}, {mapped, server, 0}, {server, mapped, 1}} {
				c, dir := tab.find(hashOf(j), q.src, q.dst)
				if c != want || (c != nil && dir != q.dir) {
					t.Fatalf("step %d: find(%v -> %v) = %p dir %d, want %p dir %d", step, q.src, q.dst, c, dir, want, q.dir)
				}
			}
		}
	}
	if peak < flows/4 {
		t.Fatalf("the table never held more than %d connections: the test does not grow it", peak)
	}
	for _, c := range model {
		tab.remove(c)
	}
	if tab.n != 0 || len(tab.slots) != minTableSlots {
		t.Fatalf("emptied table holds %d in %d slots, want 0 in %d", tab.n, len(tab.slots), minTableSlots)
	}
}
