package detect

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// Bytes the engine keeps per tracked key, Host value and client, measured
// on the live heap after GC (go test ./detect -run Bytes -v prints them;
// the README's memory section quotes them). A key is costed as the flood
// makes it (one request) and as a busy key is (at the burst threshold, on
// 3 Hosts, from 3 clients, with an Origin).
func TestBytesPerTableEntry(t *testing.T) {
	const n = 20_000
	measure := func(name string, each func(e *Engine, i int)) float64 {
		cfg := DefaultConfig()
		cfg.AllowedHosts = []string{"api.example.com", "*.api.example.com"}
		cfg.AllowedOrigins = []string{"https://app.example.com"}
		e, err := NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		warm := make([]Request, cfg.Limits.Recent)
		for i := range warm {
			warm[i] = sizeReq(0, "warm", "api.example.com", 1)
		}
		if err := e.Observe(&Batch{Source: "size", Requests: warm}); err != nil {
			t.Fatal(err)
		}
		before := heapInUse()
		for i := range n {
			each(e, i)
		}
		after := heapInUse()
		runtime.KeepAlive(e)
		per := float64(after-min(before, after)) / n
		t.Logf("%s: %.0f bytes each", name, per)
		return per
	}
	observe := func(e *Engine, reqs ...Request) {
		if err := e.Observe(&Batch{Source: "size", Requests: reqs}); err != nil {
			t.Fatal(err)
		}
	}
	oneShot := measure("key, one request", func(e *Engine, i int) {
		observe(e, sizeReq(float64(i)*1e-4, fmt.Sprintf("%012x", i), "api.example.com", 1))
	})
	host := measure("Host value", func(e *Engine, i int) {
		observe(e, sizeReq(float64(i)*1e-4, "k", fmt.Sprintf("h%d.api.example.com", i), 1))
	})
	client := measure("client", func(e *Engine, i int) {
		observe(e, sizeReq(float64(i)*1e-4, "k", "api.example.com", 100+i))
	})
	busy := measure("key, busy", func(e *Engine, i int) {
		if i%4 != 0 {
			return
		}
		reqs := make([]Request, 100)
		for j := range reqs {
			// Its own 3 clients: shared ones would be key stuffing.
			r := sizeReq(float64(i)+float64(j)*0.05, fmt.Sprintf("%012x", i), fmt.Sprintf("h%d.api.example.com", j%3), 3*i+j%3)
			r.Origin, r.HasOrigin = "https://app.example.com", true
			reqs[j] = r
		}
		observe(e, reqs...)
	})*4 - 3*client // its clients' own rows, measured below, are not the key's
	if host > 250 || client > 200 {
		t.Errorf("a Host value costs %.0f bytes, a client %.0f; the budgets are 250 and 200", host, client)
	}
	// A one-shot key (what a flood is made of) fits in 400 bytes; a busy
	// one adds its per-second history (80), the burst buckets (160) and
	// its lists (3 Hosts, 3 clients and an Origin here), and its clients'
	// rows in the stuffing table cost more than a lone client's (the figure
	// is about 1,250 and varies by some 100 between runs: heap accounting
	// at this size is coarse). Before the compaction: 1,497 and 2,949.
	if oneShot > 400 || busy > 1500 {
		t.Errorf("a key costs %.0f bytes (one request), %.0f (busy); the budgets are 400 and 1500", oneShot, busy)
	}
}

func sizeReq(at float64, key, host string, client int) Request {
	return Request{
		Time:    t0.Add(time.Duration(at * float64(time.Second))),
		Source:  "size",
		Client:  netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(client >> 16), byte(client >> 8), byte(client)}), 40000),
		Method:  "GET",
		Host:    host,
		HasHost: true,
		Target:  "/v1/items",
		Proto:   "HTTP/1.1",
		Key:     key,
		Status:  200,
	}
}

// TestRecycledStateStartsClean: under a full table the evicted key's,
// Host's and client's state carries the new one; nothing of the old may
// show through. A key that burst across four Hosts and two clients, with
// an Origin, is evicted by a new key making one plain request: the new key
// has one request, one Host, one client, no Origin, no rate history and no
// detector fired; the new Host row counts one request and one key; the
// new client's first key is its only one.
func TestRecycledStateStartsClean(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) {
		c.Limits.Keys, c.Limits.Values = 1, 1
		c.BurstMax = 5
	})
	var reqs []Request
	for i := range 20 {
		r := rq(float64(i)*0.01, []string{"a.example.com", "b.example.com", "c.example.com", "api.example.com"}[i%4], "k-old")
		r.Client = netip.MustParseAddrPort([]string{"10.0.0.7:1", "10.0.0.8:1"}[i%2])
		r.Origin, r.HasOrigin = "https://app.example.com", true
		reqs = append(reqs, r)
	}
	feed(t, e, reqs...)
	if d, ok := e.KeyDetail("k-old"); !ok || len(d.Stat.Fired) == 0 {
		t.Fatalf("the old key did not fire: %+v", d.Stat)
	}
	fresh := rq(5, "new.example.com", "k-new")
	fresh.Client = netip.MustParseAddrPort("192.0.2.1:1")
	feed(t, e, fresh)
	d, ok := e.KeyDetail("k-new")
	if !ok {
		t.Fatal("the new key is not kept")
	}
	st := d.Stat
	if st.Requests != 1 || st.Hosts != 1 || st.Clients != 1 || st.Origins != 0 || len(st.Fired) != 0 || st.PeakRate > 1 ||
		len(d.Hosts) != 1 || d.Hosts[0].Value != "new.example.com" || len(d.Clients) != 1 || len(d.Origins) != 0 {
		t.Errorf("the new key shows the old one's state: %+v %+v", st, d)
	}
	hosts := e.Snapshot().Hosts
	if len(hosts) != 1 || hosts[0].Value != "new.example.com" || hosts[0].Requests != 1 || hosts[0].Keys != 1 {
		t.Errorf("the new Host row shows the old one's state: %+v", hosts)
	}
	var stuffing *stuffingDetector
	for _, d := range e.detectors {
		if s, ok := d.(*stuffingDetector); ok {
			stuffing = s
		}
	}
	if n, _ := stuffing.clients.peek(fresh.Client.Addr()); n == nil || len(n.keys) != 1 || n.active {
		t.Errorf("the new client's stuffing state shows the old one's: %+v", n)
	}
}
