package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestQueryTopRowsOverTheWholeTable: 2,500 scanner Hosts seen after the
// API's own name; sorted by requests, the API comes first, and a filter
// finds it whatever the row cap.
func TestQueryTopRowsOverTheWholeTable(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Limits.Rows = 100 })
	var reqs []Request
	for i := range 50 {
		reqs = append(reqs, rq(float64(i)/100, "api.example.com", ""))
	}
	for i := range 2500 {
		reqs = append(reqs, rq(1+float64(i)/1000, fmt.Sprintf("10.9.%d.%d", i/250, i%250), ""))
	}
	feed(t, e, reqs...)
	s := e.SnapshotFor(Query{Hosts: TableQuery{Sort: "requests", Desc: true}})
	if len(s.Hosts) != 100 || s.Hosts[0].Value != "api.example.com" || s.Hosts[0].Requests != 50 {
		t.Fatalf("top host %+v of %d rows", s.Hosts[0], len(s.Hosts))
	}
	s = e.SnapshotFor(Query{Hosts: TableQuery{Filter: "API.example"}})
	if len(s.Hosts) != 1 || s.Hosts[0].Value != "api.example.com" {
		t.Fatalf("filtered %+v", s.Hosts)
	}
	if s := e.Snapshot(); s.Hosts[0].Value != "10.9.9.249" {
		t.Errorf("the default order is the most recently seen first: %+v", s.Hosts[0])
	}
}

// TestQueryNowLetsLiveRatesFall: a live view's clock runs on when traffic
// stops; the rates it shows fall to zero while event time stays.
func TestQueryNowLetsLiveRatesFall(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	var reqs []Request
	for i := range 50 {
		reqs = append(reqs, rq(float64(i)/10, "api.example.com", "k1"))
	}
	feed(t, e, reqs...)
	s := e.SnapshotFor(Query{})
	if s.RateNow == 0 || s.Keys[0].RateNow == 0 {
		t.Fatalf("rates at event time: %v %v", s.RateNow, s.Keys[0].RateNow)
	}
	later := s.EventTime.Add(40 * time.Second)
	s = e.SnapshotFor(Query{Now: later})
	if s.RateNow != 0 || s.Keys[0].RateNow != 0 || !s.Now.Equal(later) || s.EventTime.Equal(later) {
		t.Errorf("40 s after the last request: rate %v, key rate %v, now %v, event time %v", s.RateNow, s.Keys[0].RateNow, s.Now, s.EventTime)
	}
}

// TestAlertEvictionKeepsTheSevere: a flood of low scanner alerts after one
// critical alert does not push it off the list.
func TestAlertEvictionKeepsTheSevere(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Limits.Alerts = 16 })
	crit := rq(0, "evil.rebind.test", "k1")
	crit.Status, crit.Target = 200, "/admin"
	reqs := []Request{crit}
	for i := range 200 {
		r := rq(1+float64(i)/100, fmt.Sprintf("203.0.113.%d", i%250), "")
		r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 1000)
		reqs = append(reqs, r)
	}
	feed(t, e, reqs...)
	s := e.Snapshot()
	found := false
	for _, a := range s.Alerts {
		found = found || a.Subject == "evil.rebind.test" && a.Severity == SeverityCritical
	}
	if !found || s.Evicted["alerts"] == 0 {
		t.Errorf("the critical alert was evicted (%d evicted)", s.Evicted["alerts"])
	}
}

func BenchmarkSnapshotFor100kKeys(b *testing.B) {
	cfg := DefaultConfig()
	e, _ := NewEngine(cfg)
	batch := make([]Request, 0, 1000)
	for i := range 100_000 {
		r := rq(float64(i)/1000, "api.example.com", fmt.Sprintf("%012x", i))
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			e.Observe(&Batch{Source: "bench", Requests: batch})
			batch = batch[:0]
		}
	}
	q := Query{Keys: TableQuery{Sort: "requests", Desc: true}, Hosts: TableQuery{Sort: "requests", Desc: true}}
	b.ReportAllocs()
	for b.Loop() {
		e.SnapshotFor(q)
	}
}

// TestSelectFirst: the selection keeps exactly the first n of every order
// it may meet: random, sorted, reversed, organ pipe, all at once.
func TestSelectFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	less := func(a, b *int) bool { return *a < *b }
	shapes := map[string]func(n int) []int{
		"random": func(n int) []int { return rng.Perm(n) },
		"sorted": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			return s
		},
		"reversed": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = n - i
			}
			return s
		},
		"organ": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = min(i, n-i)*2 + i%2
			}
			return s
		},
	}
	for name, shape := range shapes {
		for _, size := range []int{0, 1, 2, 3, 10, 100, 1000, 5000} {
			for _, n := range []int{0, 1, size / 3, size - 1, size, size + 5} {
				c := shape(size)
				want := slices.Clone(c)
				slices.Sort(want)
				got := slices.Clone(selectFirst(c, n, less))
				slices.Sort(got)
				if !slices.Equal(got, want[:min(max(n, 0), size)]) {
					t.Fatalf("%s %d first %d: %v", name, size, n, got)
				}
			}
		}
	}
}
