package suggest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

func proposalOf(t testing.TB, rs []detect.Request) Proposal {
	t.Helper()
	c := New(Options{})
	for i := range rs {
		r := rs[i]
		if err := c.Request(&r); err != nil {
			t.Fatal(err)
		}
	}
	return c.Proposal()
}

// proposed lists the proposed values, sorted.
func proposed(es []Entry) []string {
	out := []string{}
	for _, e := range es {
		if e.Proposed {
			out = append(out, e.Value)
		}
	}
	slices.Sort(out)
	return out
}

func entryOf(t *testing.T, es []Entry, v string) Entry {
	t.Helper()
	for _, e := range es {
		if e.Value == v {
			return e
		}
	}
	t.Fatalf("no entry %q in %+v", v, es)
	return Entry{}
}

// TestProposalCounts: each entry carries the counts behind it, and the
// values not proposed say why.
func TestProposalCounts(t *testing.T) {
	p := proposalOf(t, service())
	if p.Requests != 2112 || p.Keyed != 2012 || p.Keys != 40 || p.KeyBlind {
		t.Errorf("totals %+v", p)
	}
	if !p.Hosts[0].Proposed || !p.Origins[0].Proposed {
		t.Errorf("proposed entries do not come first: %+v", p.Hosts[0])
	}
	wild := entryOf(t, p.Hosts, "*.api.example.com")
	if !wild.Proposed || wild.Keys != maxKeysPerValue || !wild.KeysMore || !slices.Equal(sorted(wild.Members), []string{"ap.api.example.com", "eu.api.example.com", "us.api.example.com"}) {
		t.Errorf("wildcard %+v", wild)
	}
	api := entryOf(t, p.Hosts, "api.example.com")
	if !api.Proposed || api.Requests != 1011 || api.Keyed != 1011 || !slices.Equal(api.Ports, []string{"8443"}) {
		t.Errorf("api.example.com %+v", api)
	}
	if e := entryOf(t, p.Hosts, "evil.test"); e.Proposed || e.Reason != reasonOneKey || e.Requests != 1 || e.Keys != 1 {
		t.Errorf("evil.test %+v", e)
	}
	if e := entryOf(t, p.Hosts, "203.0.113.9"); e.Proposed || e.Reason != reasonIP || e.Keyed != 0 {
		t.Errorf("203.0.113.9 %+v", e)
	}
	if e := entryOf(t, p.Origins, "https://docs.example.org"); e.Proposed || e.Reason != reasonReferer || e.Referer != 5 {
		t.Errorf("referer-only origin %+v", e)
	}
	if e := entryOf(t, p.Origins, "https://app.example.com"); !e.Proposed || e.Requests != 667 || e.Referer != 667 || e.Keys != maxKeysPerValue {
		t.Errorf("app origin %+v", e)
	}
}

// TestProposalCoveredNames: a name matched by a proposed wildcard but not
// proposed itself is listed with both facts.
func TestProposalCoveredNames(t *testing.T) {
	p := proposalOf(t, cat(keyedOn(50, 5, "eu.api.x.test"), keyedOn(40, 5, "us.api.x.test"), keyedOn(40, 5, "ap.api.x.test"),
		[]detect.Request{mk(host("zz.api.x.test"), key(fp(77)))}))
	if e := entryOf(t, p.Hosts, "zz.api.x.test"); e.Proposed || e.Reason != "not proposed on its own (a single key (the service's names are used by several)), but *.api.x.test matches it" {
		t.Errorf("covered name %+v", e)
	}
}

// TestProposalWhileRequestsArrive: Proposal and Config may be called from
// another goroutine while requests arrive (run with -race).
func TestProposalWhileRequestsArrive(t *testing.T) {
	c := New(Options{})
	rs := service()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rs {
			c.Request(&rs[i])
		}
	}()
	for range 20 {
		_ = c.Proposal()
		_ = c.Config("live")
	}
	wg.Wait()
	if p := c.Proposal(); p.Requests != uint64(len(rs)) {
		t.Errorf("requests %d, want %d", p.Requests, len(rs))
	}
}

// TestStuffingThreshold: [stuffing] max_keys from the per-client distinct
// keys within the window.
func TestStuffingThreshold(t *testing.T) {
	stuffer := repeat(12, func(i int) detect.Request {
		return mk(host("api.x.test"), key(fp(100+i)), client("192.0.2.66:4000"), at(time.Duration(i)*10*time.Second))
	})
	slow := repeat(12, func(i int) detect.Request { // 12 keys, but one every 10 minutes: never more than 1 in 5m
		return mk(host("api.x.test"), key(fp(200+i)), client("192.0.2.77:4000"), at(time.Duration(i)*10*time.Minute))
	})
	base := keyedOn(100, 10, "api.x.test") // ten clients, one key each
	for _, tc := range []struct {
		name     string
		reqs     []detect.Request
		want     int
		contains []string
	}{
		{"one_key_per_client", base, 3, []string{"Observed: per client, the most distinct keys within any 5m, over 10 clients: median 1",
			"p99.9 + 1 and p99.9 x 1.5, rounded up = 3 (never below 3)"}},
		{"a_client_with_12_keys", cat(base, stuffer), 18, []string{"over 11 clients: median 1, p99 12, p99.9 12, max 12 (under 1000 clients"}},
		{"keys_outside_the_window", cat(base, slow), 3, []string{"over 11 clients: median 1, p99 1, p99.9 1, max 1"}},
		{"a_shared_address", service(), 8, []string{"over 41 clients: median 1, p99 5, p99.9 5, max 5"}},
		{"no_keys", repeat(5, func(int) detect.Request { return mk(host("a.test")) }), 10, []string{"the default 10 is kept"}},
		{"capped_per_client", repeat(100, func(i int) detect.Request {
			return mk(host("api.x.test"), key(fp(i)), client("192.0.2.1:1"), at(time.Duration(i)*time.Second))
		}), 48, []string{"At most 32 values are tracked per client"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, cfg := suggestOf(t, Options{}, tc.reqs)
			if cfg.Stuffing.MaxKeys != tc.want || cfg.Stuffing.Window != "5m" {
				t.Errorf("[stuffing] %+v, want max_keys %d\n%s", cfg.Stuffing, tc.want, out)
			}
			for _, s := range tc.contains {
				if !has(out, s) {
					t.Errorf("output lacks %q\n%s", s, out)
				}
			}
		})
	}
	// Many clients: idle ones are retired into the histogram to make room.
	c := New(Options{MaxKeys: 16, StuffingWindow: time.Minute, BurstWindow: time.Second, SpreadWindow: time.Minute})
	for i := range 1000 {
		r := mk(host("a.test"), key(fp(i%3)), client(clientN(i)), at(time.Duration(i)*time.Second))
		c.Request(&r)
	}
	if len(c.clients.states) > 16 || c.clients.count()+int(c.clients.untracked) < 1000 {
		t.Errorf("clients %d, retired %d, untracked %d", len(c.clients.states), c.clients.retired, c.clients.untracked)
	}
	if out := c.Config("many"); !has(out, fmt.Sprintf("over %d clients", c.clients.count())) {
		t.Errorf("output does not count the retired clients\n%s", out)
	}
}
