package detect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// pivotTraffic is an API with two keys on its own name, an attacker's key
// under a foreign Host with a foreign Origin from one client, and a
// scanner without a key.
func pivotTraffic() []Request {
	var reqs []Request
	for i := range 20 {
		r := rq(float64(i), "api.example.com", "aaaaaaaaaaaa")
		r.Origin, r.HasOrigin = "https://app.example.com", true
		reqs = append(reqs, r)
		r = rq(float64(i)+0.5, "api.example.com", "bbbbbbbbbbbb")
		r.Client = netip.MustParseAddrPort("10.0.0.8:4000")
		reqs = append(reqs, r)
	}
	for i := range 3 {
		r := rq(30+float64(i), "evil.rebind.test", "cccccccccccc")
		r.Origin, r.HasOrigin = "http://evil.rebind.test", true
		r.Client, r.Status, r.Source = netip.MustParseAddrPort("203.0.113.9:5000"), 200, "other.log"
		reqs = append(reqs, r)
	}
	r := rq(40, "198.51.100.7", "")
	r.Client = netip.MustParseAddrPort("198.51.100.99:1")
	return append(reqs, r)
}

func keysOf(s Snapshot) []string {
	var out []string
	for _, k := range s.Keys {
		out = append(out, k.Key)
	}
	slices.Sort(out)
	return out
}

func valuesOf(vs []ValueStat) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Value)
	}
	slices.Sort(out)
	return out
}

// TestPivotNarrowsEveryTable: one pin narrows the keys, Hosts, Origins,
// recent requests, alerts, incidents and the count, each from its own
// table; with every request still in the ring the answers are exact.
func TestPivotNarrowsEveryTable(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	cases := []struct {
		name                  string
		pin                   Pin
		keys, hosts, origins  []string
		recent, alerts, match int
	}{
		{"key", Pin{PinKey, "cccccccccccc"}, []string{"cccccccccccc"}, []string{"evil.rebind.test"},
			[]string{"http://evil.rebind.test"}, 3, 3, 3},
		{"host", Pin{PinHost, "api.example.com"}, []string{"aaaaaaaaaaaa", "bbbbbbbbbbbb"}, []string{"api.example.com"},
			[]string{"https://app.example.com"}, 40, 0, 40},
		{"origin", Pin{PinOrigin, "http://evil.rebind.test"}, []string{"cccccccccccc"}, []string{"evil.rebind.test"},
			[]string{"http://evil.rebind.test"}, 3, 3, 3},
		{"client", Pin{PinClient, "10.0.0.8"}, []string{"bbbbbbbbbbbb"}, []string{"api.example.com"}, nil, 20, 0, 20},
		{"source", Pin{PinSource, "other.log"}, []string{"cccccccccccc"}, []string{"evil.rebind.test"},
			[]string{"http://evil.rebind.test"}, 3, 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := e.SnapshotFor(Query{Pins: []Pin{c.pin}})
			if got := keysOf(s); !slices.Equal(got, c.keys) {
				t.Errorf("keys %v, want %v", got, c.keys)
			}
			if got := valuesOf(s.Hosts); !slices.Equal(got, c.hosts) {
				t.Errorf("hosts %v, want %v", got, c.hosts)
			}
			if got := valuesOf(s.Origins); !slices.Equal(got, c.origins) {
				t.Errorf("origins %v, want %v", got, c.origins)
			}
			if len(s.Recent) != c.recent || len(s.Alerts) != c.alerts || s.Matched != uint64(c.match) {
				t.Errorf("recent %d alerts %d matched %d, want %d %d %d", len(s.Recent), len(s.Alerts), s.Matched, c.recent, c.alerts, c.match)
			}
			if c.alerts > 0 && len(s.Incidents) != 1 || c.alerts == 0 && len(s.Incidents) != 0 {
				t.Errorf("incidents %+v", s.Incidents)
			}
			if s.Coverage != (Coverage{}) {
				t.Errorf("every request is still in the ring, yet the answer is partial: %+v", s.Coverage)
			}
		})
	}
	// Pins combine: the attacker's key from a client it never used.
	s := e.SnapshotFor(Query{Pins: []Pin{{PinKey, "cccccccccccc"}, {PinClient, "10.0.0.8"}}})
	if len(s.Keys)+len(s.Hosts)+len(s.Recent)+len(s.Alerts) != 0 || s.Matched != 0 {
		t.Errorf("two pins that never met: %v %v %d %d matched %d", keysOf(s), valuesOf(s.Hosts), len(s.Recent), len(s.Alerts), s.Matched)
	}
	if s.Requests != 44 {
		t.Errorf("the totals stay: requests %d", s.Requests)
	}
}

// TestPivotBeyondTheRing: once the ring has lost requests, the tables
// answer what they can and count the rows they cannot decide: a key seen
// under more Hosts than it keeps, pinned by a Host whose own key list is
// full too, is neither shown nor silently dropped.
func TestPivotBeyondTheRing(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Limits.Recent = 10 })
	var reqs []Request
	// The pinned Host first sees more keys than it keeps.
	for i := range 20 {
		reqs = append(reqs, rq(float64(i)/10, "h20.test", fmt.Sprintf("%012x", i)))
	}
	// Then the spreader: one key under the pinned Host, then under 20
	// others, so its list (the 16 most recent) no longer names it.
	reqs = append(reqs, rq(3, "h20.test", "ffffffffffff"))
	for i := range 20 {
		reqs = append(reqs, rq(3.1+float64(i)/10, fmt.Sprintf("h%d.test", i), "ffffffffffff"))
	}
	// A key seen only under another Host: certainly not under h20.test.
	reqs = append(reqs, rq(9, "other.test", "eeeeeeeeeeee"))
	for i := range 20 {
		reqs = append(reqs, rq(10+float64(i)/10, "api.example.com", "aaaaaaaaaaaa"))
	}
	feed(t, e, reqs...)
	s := e.SnapshotFor(Query{Pins: []Pin{{PinHost, "h20.test"}}})
	got := keysOf(s)
	if len(got) != 20 || slices.Contains(got, "ffffffffffff") || slices.Contains(got, "eeeeeeeeeeee") {
		t.Errorf("keys under h20.test: %d %v", len(got), got)
	}
	p := s.Coverage.Keys
	if p.Unsure != 1 || !strings.Contains(p.Why, "1 more keys may match") || !strings.Contains(p.Why, "keeps 16") ||
		!strings.Contains(p.Why, "last 10 requests") {
		t.Errorf("coverage %+v", p)
	}
	if s.Coverage.Requests.Why == "" || len(s.Recent) != 0 {
		t.Errorf("the ring answered %d requests, coverage %+v", len(s.Recent), s.Coverage.Requests)
	}
	// The spreader pinned: its own list names its 16 latest Hosts, the
	// Hosts it alone used name it, h20.test cannot say, the others say no.
	s = e.SnapshotFor(Query{Pins: []Pin{{PinKey, "ffffffffffff"}}})
	if got := valuesOf(s.Hosts); len(got) != 20 || slices.Contains(got, "h20.test") || s.Coverage.Hosts.Unsure != 1 {
		t.Errorf("hosts of the spreader: %v %+v", got, s.Coverage.Hosts)
	}
	if w := s.Coverage.Activity.Why; s.Matched != 21 || s.Coverage.Matched.Why != "" || !strings.Contains(w, "pinned timeline before") {
		t.Errorf("one key pinned is counted by its row, its timeline comes from the ring: %d %q", s.Matched, w)
	}
}

// TestPivotRange: a range narrows every table by time; inside the ring it
// is exact, before it the rows whose lifetime straddles it are counted as
// unsure.
func TestPivotRange(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	from, to := t0.Add(29*time.Second), t0.Add(35*time.Second)
	s := e.SnapshotFor(Query{From: from, To: to})
	if got := keysOf(s); !slices.Equal(got, []string{"cccccccccccc"}) {
		t.Errorf("keys in range %v", got)
	}
	if len(s.Recent) != 3 || len(s.Alerts) != 3 || s.Matched != 3 || s.Coverage != (Coverage{}) {
		t.Errorf("recent %d alerts %d matched %d coverage %+v", len(s.Recent), len(s.Alerts), s.Matched, s.Coverage)
	}
	// The ring keeps only the scanner: the two API keys' lifetimes cover
	// [5 s, 6 s), but when they were busy in between is not kept.
	e2, _ := newTestEngine(t, func(c *Config) { c.Limits.Recent = 1 })
	feed(t, e2, pivotTraffic()...)
	s = e2.SnapshotFor(Query{From: t0.Add(5 * time.Second), To: t0.Add(6 * time.Second)})
	if len(s.Keys) != 0 || s.Coverage.Keys.Unsure != 2 || !strings.Contains(s.Coverage.Keys.Why, "first and last seen") {
		t.Errorf("keys %v coverage %+v", keysOf(s), s.Coverage.Keys)
	}
	if s.Matched != 2 || s.Coverage.Matched.Why != "" {
		t.Errorf("a range alone is counted from the per-second counts: %d %+v", s.Matched, s.Coverage.Activity)
	}
	// A range that holds a row's whole life keeps it.
	s = e2.SnapshotFor(Query{From: t0, To: t0.Add(time.Minute)})
	if len(s.Keys) != 3 || s.Coverage.Keys.Unsure != 0 {
		t.Errorf("keys %v coverage %+v", keysOf(s), s.Coverage.Keys)
	}
}

// TestActivity: the timeline counts requests per bucket (narrowed by the
// pins) and alerts by detector.
func TestActivity(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	s := e.SnapshotFor(Query{Buckets: 41, Span: 41 * time.Second})
	a := s.Activity
	if a.Step != time.Second || len(a.Requests) != 41 || !a.End().Equal(t0.Add(41*time.Second)) {
		t.Fatalf("frame %v %v %d", a.Start, a.Step, len(a.Requests))
	}
	sum := 0.0
	for _, n := range a.Requests {
		sum += n
	}
	if sum != 44 || a.Requests[a.Bucket(t0.Add(30*time.Second))] != 1 {
		t.Errorf("requests %v", a.Requests)
	}
	b := a.Alerts[a.Bucket(t0.Add(30*time.Second))]
	if b == nil || b[slices.Index(Detectors, DetUnexpectedHost)] != 1 || b[slices.Index(Detectors, DetForeignOrigin)] != 1 {
		t.Errorf("alerts at 30 s: %v", b)
	}
	s = e.SnapshotFor(Query{Buckets: 41, Span: 41 * time.Second, Pins: []Pin{{PinKey, "cccccccccccc"}}})
	sum = 0
	for _, n := range s.Activity.Requests {
		sum += n
	}
	if sum != 3 {
		t.Errorf("pinned requests %v", s.Activity.Requests)
	}
	// The whole run, in buckets as wide as it needs.
	s = e.SnapshotFor(Query{Span: SpanAll, Buckets: 10})
	if s.Activity.Step != 6*time.Second || !s.Activity.Start.Equal(t0.Add(-19*time.Second)) {
		t.Errorf("all: %v from %v", s.Activity.Step, s.Activity.Start)
	}
}

// TestClearAlertsDropsIncidents: a clear empties the incidents too; the
// next alert opens a new one.
func TestClearAlertsDropsIncidents(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	if n := len(e.Snapshot().Incidents); n != 2 {
		t.Fatalf("%d incidents", n)
	}
	e.ClearAlerts()
	s := e.Snapshot()
	if len(s.Alerts)+len(s.Incidents) != 0 || s.IncidentsOpened != 2 {
		t.Fatalf("after clear: %d alerts %d incidents, opened %d", len(s.Alerts), len(s.Incidents), s.IncidentsOpened)
	}
	r := rq(45, "evil.rebind.test", "cccccccccccc")
	feed(t, e, r)
	s = e.Snapshot()
	if len(s.Alerts) != 0 {
		t.Fatalf("deduplicated alerts stay counted, not listed: %d", len(s.Alerts))
	}
	r = rq(200, "evil2.rebind.test", "cccccccccccc")
	feed(t, e, r)
	s = e.Snapshot()
	if len(s.Incidents) != 1 || s.Incidents[0].ID != "inc-3" || s.Alerts[0].Incident != "inc-3" {
		t.Errorf("new incident %+v, alert in %q", s.Incidents, s.Alerts[0].Incident)
	}
}

// TestAllowMarksEveryAlertOnTheName: allowing a Host marks its served and
// SNI alerts too, on every port when allowed without one.
func TestAllowMarksEveryAlertOnTheName(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	r := rq(0, "localhost:8080", "k1")
	r.Status = 200
	feed(t, e, r)
	e.observeTLSForTest(TLSHello{Time: t0.Add(time.Second), SNI: "localhost"})
	if err := e.Allow("host", "localhost"); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.Snapshot().Alerts {
		if AllowKind(a.Detector) == "host" && !a.Allowed {
			t.Errorf("%s %s not marked allowed", a.Detector, a.Subject)
		}
	}
}

// TestKeyDetailCountsOrigins: a key's Origins carry their counts.
func TestKeyDetailCountsOrigins(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	d, _ := e.KeyDetail("aaaaaaaaaaaa")
	if len(d.Origins) != 1 || d.Origins[0] != (Count{"https://app.example.com", 20}) {
		t.Errorf("origins %+v", d.Origins)
	}
}

// TestQueryDetectorsAndTies: a keys query by detector keeps the keys that
// fired it; rows equal in the sorted column come in fingerprint order.
func TestQueryDetectorsAndTies(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	feed(t, e, pivotTraffic()...)
	s := e.SnapshotFor(Query{Keys: TableQuery{Detectors: []string{DetForeignOrigin}}})
	if got := keysOf(s); !slices.Equal(got, []string{"cccccccccccc"}) {
		t.Errorf("keys that fired foreign_origin: %v", got)
	}
	s = e.SnapshotFor(Query{Keys: TableQuery{Filter: "aaa", Detectors: []string{DetForeignOrigin}}})
	if got := keysOf(s); len(got) != 2 {
		t.Errorf("filter or detectors: %v", got)
	}
	s = e.SnapshotFor(Query{Keys: TableQuery{Sort: "requests", Desc: true}})
	if s.Keys[0].Key != "aaaaaaaaaaaa" || s.Keys[1].Key != "bbbbbbbbbbbb" {
		t.Errorf("20 requests each: %s before %s", s.Keys[0].Key, s.Keys[1].Key)
	}
}

// TestPivotBoundsChangeNothing: the rows a pin bounds the search to (a
// key's Hosts, a Host's keys) give the answer a look at every row gives,
// on random traffic with lists under and over their caps.
func TestPivotBoundsChangeNothing(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Limits.Recent = 50 })
	rng := rand.New(rand.NewPCG(3, 4))
	var reqs []Request
	for i := range 3000 {
		r := rq(float64(i)/100, fmt.Sprintf("h%d.test", rng.IntN(40)), fmt.Sprintf("%012x", rng.IntN(120)))
		if rng.IntN(3) == 0 {
			r.Origin, r.HasOrigin = fmt.Sprintf("https://o%d.test", rng.IntN(25)), true
		}
		r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(30))}), 1)
		if i%50 == 0 { // rare Hosts with few keys, rare keys with few Hosts: lists the bounds use
			r.Host = fmt.Sprintf("rare%d.test", rng.IntN(8))
		}
		if i%60 == 0 {
			r.Key = fmt.Sprintf("eeeeeeee%04d", rng.IntN(10))
		}
		reqs = append(reqs, r)
	}
	feed(t, e, reqs...)
	var pins []Pin
	for i := range 40 {
		pins = append(pins, Pin{PinHost, fmt.Sprintf("h%d.test", i)}, Pin{PinKey, fmt.Sprintf("%012x", i)},
			Pin{PinOrigin, fmt.Sprintf("https://o%d.test", i%25)}, Pin{PinHost, fmt.Sprintf("rare%d.test", i%8)},
			Pin{PinKey, fmt.Sprintf("eeeeeeee%04d", i%10)})
	}
	bounded := 0
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.eventTime
	for _, p := range pins {
		q := Query{Pins: []Pin{p}}
		got, want := e.newNarrower(&q), e.newNarrower(&q)
		want.unbounded = true
		if _, ok := got.keyBound(); ok && p.Kind != PinKey {
			bounded++
		}
		if _, ok := got.valueBound(PinHost); ok && p.Kind == PinKey {
			bounded++
		}
		var gp, wp Partial
		for _, table := range []struct {
			name string
			rows func(n *narrower, part *Partial) any
		}{
			{"keys", func(n *narrower, part *Partial) any {
				return e.keyRows(TableQuery{Sort: "requests"}, now, 1000, n, part)
			}},
			{"hosts", func(n *narrower, part *Partial) any { return valueRows(PinHost, e.hosts, TableQuery{}, 1000, n, part) }},
			{"origins", func(n *narrower, part *Partial) any {
				return valueRows(PinOrigin, e.origins, TableQuery{}, 1000, n, part)
			}},
		} {
			g, w := table.rows(got, &gp), table.rows(want, &wp)
			if fmt.Sprint(g) != fmt.Sprint(w) || gp != wp {
				t.Errorf("%v, %s: bounded %v (%+v), every row %v (%+v)", p, table.name, g, gp, w, wp)
			}
		}
	}
	if bounded < 20 {
		t.Errorf("only %d pins bounded their search: the test tests little", bounded)
	}
}

func (e *Engine) observeTLSForTest(h TLSHello) {
	e.mu.Lock()
	e.observeTLS(&h)
	e.unlockAndDeliver()
}

// benchEngine is 100,000 keys over 1,000 Hosts, as in BenchmarkSnapshotFor100kKeys.
func benchEngine(b *testing.B) *Engine {
	e, _ := NewEngine(DefaultConfig())
	batch := make([]Request, 0, 1000)
	for i := range 100_000 {
		r := rq(float64(i)/1000, fmt.Sprintf("h%d.example.com", i%1000), fmt.Sprintf("%012x", i))
		r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 1000)
		if i%20_000 == 0 {
			r.Host = "rare.example.com" // a Host with five keys
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			e.Observe(&Batch{Source: "bench", Requests: batch})
			batch = batch[:0]
		}
	}
	return e
}

// BenchmarkSnapshotPivot100kKeys: a pivot at 100k keys must answer well
// within the dashboard's 100 ms. "host" pins a Host with more keys than it
// keeps (every key is looked at); "host_few_keys" one whose keys it all
// keeps, and "key" a key: only those rows are.
func BenchmarkSnapshotPivot100kKeys(b *testing.B) {
	e := benchEngine(b)
	sorted := Query{Keys: TableQuery{Sort: "requests", Desc: true}, Hosts: TableQuery{Sort: "requests", Desc: true}}
	for _, c := range []struct {
		name string
		mod  func(q *Query)
	}{
		{"none", func(q *Query) {}},
		{"host", func(q *Query) { q.Pins = []Pin{{PinHost, "h7.example.com"}} }},
		{"host_few_keys", func(q *Query) { q.Pins = []Pin{{PinHost, "rare.example.com"}} }},
		{"key", func(q *Query) { q.Pins = []Pin{{PinKey, fmt.Sprintf("%012x", 4242)}} }},
		{"client+host", func(q *Query) { q.Pins = []Pin{{PinClient, "10.0.16.146"}, {PinHost, "h146.example.com"}} }},
		{"range", func(q *Query) { q.From, q.To = t0.Add(40*time.Second), t0.Add(50*time.Second) }},
		{"host+range", func(q *Query) {
			q.Pins, q.From, q.To = []Pin{{PinHost, "h7.example.com"}}, t0.Add(40*time.Second), t0.Add(50*time.Second)
		}},
		{"all_span", func(q *Query) { q.Span = SpanAll }},
	} {
		q := sorted
		c.mod(&q)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.SnapshotFor(q)
			}
		})
	}
}
