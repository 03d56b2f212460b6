package detect

// Hostile load: the engine's memory stays bounded at the default [limits]
// while an attacker floods it with distinct keys, Host values and client
// addresses, and the real attack mixed into the flood is still found.
//
//	go test ./detect -run Flood                          # 150k requests, 110k of each (CI)
//	go test ./detect -run Flood -short                   # 60k requests at a tenth of the limits
//	REBINDWATCH_MEMTEST=1 go test ./detect -run Flood -v # 2M requests, 1M of each
//
// bench/memory.sh runs the 2M version through the binary on a generated log
// and reports the process's peak RSS.
//
// What a flood can and cannot do: the keys table is an LRU of [limits] keys.
// A key survives as long as fewer than that many other keys arrive between
// two of its requests (TestBurstSurvivesFloodBelowKeysCap,
// TestSpreadSurvivesFloodBelowKeysCap); no exact table of that size can do
// better, since a key's first request looks like any one-shot key's, and a
// segmented or frequency-aware LRU would only shrink the part one-shot keys
// pass through. So the engine counts what it loses: keys evicted within the
// longest detector window of their last request are "keys_active" in
// Summary.Evicted (TestActiveEvictionsCountOnlyRecentKeys).

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// memtestEnv switches the flood tests to their full size.
const memtestEnv = "REBINDWATCH_MEMTEST"

// floodHeapCap is the documented bound on the engine's live heap at the
// default limits, whatever the traffic. Measured on amd64, Go 1.26: 48 MiB
// live after GC in the 110k flood (100k keys at 360 bytes each, 20k hosts,
// 20k clients, 2000 recent requests); 63 MiB before the tables became
// arrays with an index, 150 MiB before the per-key state was made compact. The cap leaves room for other
// architectures and runtimes, and catches a regression of that size.
const floodHeapCap = 160 << 20

// Attack subjects mixed into the flood.
const (
	attackBurstKey  = "b0b0b0b0b0b0" // 500 requests within 2 s
	attackHostKey   = "f0f0f0f0f0f0" // one request with a foreign Host
	attackSpreadKey = "c0c0c0c0c0c0" // one request from each of 30 clients
	attackHost      = "evil.rebind.test"
)

// floodPlan generates n flood requests spread evenly over dur of event time,
// using `distinct` distinct keys, Host values (all allowed: *.api.example.com)
// and client addresses, with the attack requests merged in time order.
type floodPlan struct {
	n, distinct int
	start       time.Time
	dur         time.Duration
	attack      []Request // sorted by time
}

func newFloodPlan(n, distinct int) *floodPlan {
	p := &floodPlan{n: n, distinct: distinct, start: t0, dur: time.Duration(n) * 100 * time.Microsecond} // 10k requests/s
	at := func(frac float64) time.Time { return p.start.Add(time.Duration(frac * float64(p.dur))) }
	// The burst: 500 requests in 2 s, 40% into the run.
	for i := range 500 {
		r := floodReq(at(0.4).Add(time.Duration(i)*4*time.Millisecond), 7, 7, 7)
		r.Key = attackBurstKey
		p.attack = append(p.attack, r)
	}
	// One foreign Host with a key, 60% in.
	r := floodReq(at(0.6), 8, 8, 8)
	r.Host, r.Key = attackHost, attackHostKey
	p.attack = append(p.attack, r)
	// One key from 30 clients, spread over the run (the spread window is
	// 10 min, longer than the run).
	for i := range 30 {
		r := floodReq(at(0.05+0.03*float64(i)), 9, 9, 0)
		r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)}), 40000)
		r.Key = attackSpreadKey
		p.attack = append(p.attack, r)
	}
	slices.SortStableFunc(p.attack, func(a, b Request) int { return a.Time.Compare(b.Time) })
	return p
}

// floodReq is one request with the given key, Host and client indexes.
func floodReq(t time.Time, key, host, client int) Request {
	return Request{
		Time:      t,
		Source:    "flood",
		Client:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(client >> 16), byte(client >> 8), byte(client)}), uint16(1024+client%60000)),
		Method:    "GET",
		Host:      "h" + strconv.Itoa(host) + ".api.example.com",
		HasHost:   true,
		Target:    "/v1/items",
		Proto:     "HTTP/1.1",
		UserAgent: "flood/1.0",
		Key:       fmt.Sprintf("%012x", key),
		Status:    200,
	}
}

// each calls f with batches of up to 256 requests in time order.
func (p *floodPlan) each(f func([]Request)) {
	batch := make([]Request, 0, 256)
	a := 0
	step := p.dur / time.Duration(p.n)
	for i := 0; i < p.n; i++ {
		t := p.start.Add(time.Duration(i) * step)
		for ; a < len(p.attack) && !p.attack[a].Time.After(t); a++ {
			batch = append(batch, p.attack[a])
		}
		// Key k is used twice, half a run apart, from the same client
		// and Host: no spread, no burst, only churn.
		d := p.distinct
		batch = append(batch, floodReq(t, i%d, (3*i+1)%d, (7*i+5)%d))
		if len(batch) >= 250 {
			f(batch)
			batch = batch[:0]
		}
	}
	batch = append(batch, p.attack[a:]...)
	if len(batch) > 0 {
		f(batch)
	}
}

// alertSet is a Sink that remembers which (detector, subject[, dimension])
// were raised, and how many alerts in all.
type alertSet struct {
	seen  map[string]int
	total int
}

func (s *alertSet) Request(*Request) error { return nil }
func (s *alertSet) Alert(a *Alert) error {
	s.total++
	k := a.Detector + " " + a.Subject
	if a.Dimension != "" {
		k += " " + a.Dimension
	}
	s.seen[k]++
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestFloodBoundedMemoryAndAttackFound is the hostile-load test: at the
// default limits, a flood of distinct keys, Hosts and clients keeps the live
// heap under floodHeapCap, evictions are reported, and the attack mixed
// into it raises exactly its alerts.
func TestFloodBoundedMemoryAndAttackFound(t *testing.T) {
	// Past every default cap (100k keys, 20k values, 50k dedupe entries),
	// so every table is full and evicting.
	n, distinct := 150_000, 110_000
	cfg := DefaultConfig()
	switch {
	case os.Getenv(memtestEnv) != "":
		n, distinct = 2_000_000, 1_000_000
	case testing.Short():
		n, distinct = 60_000, 30_000
		cfg.Limits.Keys, cfg.Limits.Values, cfg.Limits.DedupeKeys = 10_000, 2_000, 5_000
	}
	cfg.AllowedHosts = []string{"api.example.com", "*.api.example.com"}
	sink := &alertSet{seen: map[string]int{}}
	base := heapInUse()
	e, err := NewEngine(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	p := newFloodPlan(n, distinct)
	var peak uint64
	var ms runtime.MemStats
	batches := 0
	start := time.Now()
	p.each(func(b []Request) {
		if err := e.Observe(&Batch{Source: "flood", Requests: b}); err != nil {
			t.Fatal(err)
		}
		batches++
		if batches%400 == 0 { // ~100k requests: what the dashboard does ten times a second
			_ = e.Snapshot()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	})
	elapsed := time.Since(start)
	live := heapInUse() - min(base, heapInUse())
	runtime.KeepAlive(e)
	t.Logf("%d requests (%d distinct keys, hosts, clients) in %v (%.0f ns/request): live heap %.1f MiB after GC, peak heap in use %.1f MiB (cap %d MiB)",
		n, distinct, elapsed.Round(time.Millisecond), float64(elapsed.Nanoseconds())/float64(n),
		float64(live)/(1<<20), float64(peak)/(1<<20), floodHeapCap>>20)
	if live > floodHeapCap {
		t.Errorf("live heap %d MiB over the documented cap %d MiB", live>>20, floodHeapCap>>20)
	}

	s := e.Summary()
	total := uint64(n + len(p.attack))
	if s.Requests != total {
		t.Errorf("requests = %d, want %d", s.Requests, total)
	}
	l := cfg.Limits
	// Every key beyond the cap was evicted at least once (keys come back
	// half a run later, so more evictions than that are fine).
	if min := uint64(distinct - l.Keys); s.Evicted["keys"] < min {
		t.Errorf("evicted keys = %d, want at least %d (distinct %d, cap %d)", s.Evicted["keys"], min, distinct, l.Keys)
	}
	if s.Evicted["keys_active"] == 0 {
		t.Errorf("keys evicted seconds after their last request must show as keys_active: %v", s.Evicted)
	}
	if min := uint64(distinct - l.Values); s.Evicted["hosts"] < min {
		t.Errorf("evicted hosts = %d, want at least %d", s.Evicted["hosts"], min)
	}
	snap := e.Snapshot()
	if len(snap.Keys) > l.Rows || len(snap.Hosts) > l.Rows || len(snap.Recent) > l.Rows {
		t.Errorf("snapshot rows over the cap: %d keys, %d hosts, %d recent", len(snap.Keys), len(snap.Hosts), len(snap.Recent))
	}

	want := []string{
		DetKeyBurst + " " + attackBurstKey,
		DetUnexpectedHost + " " + attackHost,
		DetHostServed + " " + attackHost, // the flood's requests answered 200
		DetKeySpread + " " + attackSpreadKey + " client",
	}
	for _, w := range want {
		if sink.seen[w] != 1 {
			t.Errorf("alert %q raised %d times, want once (the flood must not hide the attack)", w, sink.seen[w])
		}
	}
	if sink.total != len(want) {
		t.Errorf("%d alerts raised, want exactly %d: %v", sink.total, len(want), sink.seen)
	}
}

// burstBehindFlood sends a key 101 requests evenly over 5 s (a burst at
// [burst] max_requests = 100 per 10 s) and gap distinct one-shot keys
// between each two of them. It returns whether the burst was found.
func burstBehindFlood(t *testing.T, keysCap, gap int) (bool, Summary) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Limits.Keys = keysCap
	sink := &alertSet{seen: map[string]int{}}
	e, err := NewEngine(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	batch := make([]Request, 0, gap+1)
	for i := range 101 {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		batch = batch[:0]
		r := floodReq(at, 0, 0, 0)
		r.Key = attackBurstKey
		batch = append(batch, r)
		for j := range gap {
			next++
			batch = append(batch, floodReq(at.Add(time.Duration(j+1)*time.Microsecond), next, 1, next))
		}
		if err := e.Observe(&Batch{Source: "flood", Requests: batch}); err != nil {
			t.Fatal(err)
		}
	}
	return sink.seen[DetKeyBurst+" "+attackBurstKey] == 1, e.Summary()
}

// TestBurstSurvivesFloodBelowKeysCap pins where a flood of one-shot keys can
// hide a burst. The keys table is an LRU: a key survives as long as fewer
// than [limits] keys other keys arrive between two of its requests, and
// that is the best an exact table of that size can do (a key's first
// request looks like any one-shot key). A change to FIFO or random eviction
// fails the "survives" cases. The threshold is scale-free: at the default
// 100k keys, hiding a 101-in-10-s burst takes 100k new keys per 0.1 s, about
// 1M distinct-key requests per second for 10 s, which the summary shows as
// key evictions.
func TestBurstSurvivesFloodBelowKeysCap(t *testing.T) {
	const keysCap = 200
	tests := []struct {
		name  string
		gap   int
		found bool
	}{
		{"no_flood", 0, true},
		{"tenth_of_cap", keysCap / 10, true},
		{"cap_minus_one", keysCap - 1, true}, // the table holds the key and cap-1 others
		{"cap", keysCap, false},              // the key is the least recent when the cap-th arrives
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			found, s := burstBehindFlood(t, keysCap, tc.gap)
			if found != tc.found {
				t.Errorf("burst found = %v with %d new keys between its requests (keys cap %d), want %v", found, tc.gap, keysCap, tc.found)
			}
			if tc.gap >= keysCap && (s.Evicted["keys"] == 0 || s.Evicted["keys_active"] == 0) {
				t.Errorf("a flood over the keys cap must show as key evictions of active keys: %v", s.Evicted)
			}
		})
	}
}

// TestSpreadSurvivesFloodBelowKeysCap is the same bound for key_spread,
// the slow detector: a key used once from each of 25 clients (max_clients
// 20) is found only while fewer than [limits] keys other keys arrive
// between two of its requests. Its window is 10 minutes, so ordinary
// traffic can be enough: at the default 100k keys, 5,000 distinct keys a
// second hide a spread of one request every 20 s. The summary shows it as
// key evictions; raise [limits] keys for such traffic.
func TestSpreadSurvivesFloodBelowKeysCap(t *testing.T) {
	const keysCap = 200
	for _, tc := range []struct {
		gap   int
		found bool
	}{{keysCap - 1, true}, {keysCap, false}} {
		t.Run(strconv.Itoa(tc.gap), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Limits.Keys = keysCap
			sink := &alertSet{seen: map[string]int{}}
			e, err := NewEngine(cfg, sink)
			if err != nil {
				t.Fatal(err)
			}
			next := 0
			for i := range 25 {
				at := t0.Add(time.Duration(i) * 20 * time.Second)
				r := floodReq(at, 0, 0, 0)
				r.Key = attackSpreadKey
				r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)}), 40000)
				reqs := []Request{r}
				for j := range tc.gap {
					next++
					reqs = append(reqs, floodReq(at.Add(time.Duration(j+1)*time.Millisecond), next, 1, next))
				}
				if err := e.Observe(&Batch{Source: "flood", Requests: reqs}); err != nil {
					t.Fatal(err)
				}
			}
			if found := sink.seen[DetKeySpread+" "+attackSpreadKey+" client"] == 1; found != tc.found {
				t.Errorf("spread found = %v with %d new keys between its requests (keys cap %d), want %v", found, tc.gap, keysCap, tc.found)
			}
		})
	}
}

// TestActiveEvictionsCountOnlyRecentKeys: "keys_active" counts the keys
// evicted within the longest detector window (the spread window, 10 min)
// of their last request, not the idle ones a table that is merely full of
// old keys drops.
func TestActiveEvictionsCountOnlyRecentKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.Keys = 10
	e, err := NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []Request
	for i := range 15 { // 20 minutes apart: idle when evicted
		reqs = append(reqs, floodReq(t0.Add(time.Duration(i)*20*time.Minute), i, 1, i))
	}
	if err := e.Observe(&Batch{Source: "t", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
	if ev := e.Summary().Evicted; ev["keys"] != 5 || ev["keys_active"] != 0 {
		t.Errorf("idle keys: evicted %v, want keys 5, keys_active 0", ev)
	}
	reqs = reqs[:0]
	end := t0.Add(15 * 20 * time.Minute)
	for i := range 15 { // one a second: still in the window when evicted
		reqs = append(reqs, floodReq(end.Add(time.Duration(i)*time.Second), 100+i, 1, i))
	}
	if err := e.Observe(&Batch{Source: "t", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
	if ev := e.Summary().Evicted; ev["keys"] != 20 || ev["keys_active"] != 5 {
		t.Errorf("active keys: evicted %v, want keys 20, keys_active 5", ev)
	}
}

// TestFloodMidBurstDoesNotEvictHotKey: a key in the middle of a fast burst
// (4 ms apart) survives a flood of a full table of one-shot keys that
// arrives all at once, because each of its requests puts it back in front.
func TestFloodMidBurstDoesNotEvictHotKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.Keys = 5000
	sink := &alertSet{seen: map[string]int{}}
	e, err := NewEngine(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	for i := range 500 {
		at := t0.Add(time.Duration(i) * 4 * time.Millisecond)
		r := floodReq(at, 0, 0, 0)
		r.Key = attackBurstKey
		reqs := []Request{r}
		if i == 50 { // halfway to the threshold: a burst of new keys, 99% of the cap
			for j := range cfg.Limits.Keys * 99 / 100 {
				next++
				reqs = append(reqs, floodReq(at.Add(time.Duration(j+1)), next, 1, next))
			}
		}
		if err := e.Observe(&Batch{Source: "flood", Requests: reqs}); err != nil {
			t.Fatal(err)
		}
	}
	if sink.seen[DetKeyBurst+" "+attackBurstKey] != 1 {
		t.Errorf("burst not found after a mid-burst flood: %v", sink.seen)
	}
}

// TestAlertFloodKeepsTotalsAndCapsList: a flood of foreign Hosts raises an
// unexpected_host alert each (every one is news), and host_served (answered
// 200); the list kept for the dashboard stays at
// its cap, totals and the JSON sink see every one, and the dedupe table is
// capped.
func TestAlertFloodKeepsTotalsAndCapsList(t *testing.T) {
	n := 30_000 // past the 2000 alerts kept and, with host_served, the 50k dedupe entries
	if testing.Short() {
		n = 10_000
	}
	cfg := DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	sink := &alertSet{seen: map[string]int{}}
	e, err := NewEngine(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	batch := make([]Request, 0, 256)
	for i := range n {
		r := floodReq(t0.Add(time.Duration(i)*time.Millisecond), i, i, i)
		r.Host = "x" + strconv.Itoa(i) + ".evil.test"
		batch = append(batch, r)
		if len(batch) == cap(batch) || i == n-1 {
			if err := e.Observe(&Batch{Source: "flood", Requests: batch}); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	el := time.Since(start)
	t.Logf("%d foreign-Host alerts in %v (%.0f ns/request)", n, el.Round(time.Millisecond), float64(el.Nanoseconds())/float64(n))
	s := e.Snapshot()
	l := cfg.Limits
	if sink.total != 2*n || s.AlertsByDetector[DetUnexpectedHost] != n || s.AlertsByDetector[DetHostServed] != n {
		t.Errorf("alerts: sink %d, totals %v, want %d of each", sink.total, s.AlertsByDetector, n)
	}
	if len(s.Alerts) != l.Alerts || s.Evicted["alerts"] != uint64(2*n-l.Alerts) {
		t.Errorf("alert list %d (evicted %d), want %d (evicted %d)", len(s.Alerts), s.Evicted["alerts"], l.Alerts, 2*n-l.Alerts)
	}
	if s.Evicted["dedupe"] != uint64(max(0, 2*n-l.DedupeKeys)) {
		t.Errorf("dedupe evicted %d, want %d", s.Evicted["dedupe"], max(0, 2*n-l.DedupeKeys))
	}
}

// BenchmarkFloodObserve is the per-request cost while every table is full
// and evicting.
func BenchmarkFloodObserve(b *testing.B) {
	cfg := DefaultConfig()
	cfg.AllowedHosts = []string{"*.api.example.com"}
	e, _ := NewEngine(cfg)
	batch := make([]Request, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		n := min(len(batch), b.N-i)
		b.StopTimer()
		for j := range n {
			k := i + j
			batch[j] = floodReq(t0.Add(time.Duration(k)*100*time.Microsecond), k, k, k)
		}
		b.StartTimer()
		if err := e.Observe(&Batch{Source: "bench", Requests: batch[:n]}); err != nil {
			b.Fatal(err)
		}
		i += n
	}
}
