package detect

import (
	"fmt"
	"testing"
)

// TestSourceRates: a snapshot carries each source's requests in the last
// complete second, busiest first, once requests name more than one
// source; one source has none (the header's total says it all).
func TestSourceRates(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	var reqs []Request
	for i := range 30 {
		r := rq(float64(i)/30, "api.example.com", "")
		r.Source = []string{"web1", "web2", "web2"}[i%3]
		reqs = append(reqs, r)
	}
	later := rq(1.5, "api.example.com", "")
	later.Source = "web1"
	feed(t, e, append(reqs, later)...)
	got := e.Snapshot().SourceRates
	want := []SourceRate{{"web2", 20}, {"web1", 10}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("source rates %v, want %v", got, want)
	}

	one, _ := newTestEngine(t, nil)
	feed(t, one, rq(0, "api.example.com", ""), rq(0.5, "api.example.com", ""))
	if got := one.Snapshot().SourceRates; got != nil {
		t.Errorf("one source has rates %v, want none", got)
	}
}

// TestSourceRatesBounded: hostile source names (a fleet's record keys are
// the producers' to choose) cannot grow the table past its cap, and a
// snapshot carries only the busiest few.
func TestSourceRatesBounded(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	var reqs []Request
	for i := range 3 * maxSourceRates {
		r := rq(float64(i)/float64(3*maxSourceRates), "api.example.com", "")
		r.Source = fmt.Sprintf("host-%d", i)
		reqs = append(reqs, r)
	}
	feed(t, e, reqs...)
	if n := len(e.bySource.m); n != maxSourceRates {
		t.Errorf("%d sources counted, want the cap %d", n, maxSourceRates)
	}
	if n := len(e.Snapshot().SourceRates); n != maxSourceRatesShown {
		t.Errorf("a snapshot carries %d sources' rates, want %d", n, maxSourceRatesShown)
	}
}
