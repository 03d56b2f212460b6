package detect

import (
	"testing"
	"time"
)

// total sums a history's requests and alerts.
func total(h RunHistory) (reqs uint64, alerts [4]uint64) {
	for _, b := range h.Buckets {
		reqs += b.Requests
		for s := range alerts {
			alerts[s] += b.Alerts[s]
		}
	}
	return reqs, alerts
}

func TestRunHistoryBuckets(t *testing.T) {
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tests := []struct {
		name      string
		times     []float64 // seconds from t0 (21:00:00, a round minute)
		width     time.Duration
		start     time.Time
		n         int
		perBucket map[int]uint64 // bucket index -> requests, where checked
	}{
		{name: "one", times: []float64{0.5}, width: time.Second, start: t0, n: 1, perBucket: map[int]uint64{0: 1}},
		{name: "a minute at 1 s", times: []float64{0, 0.9, 1, 59.5}, width: time.Second, start: t0, n: 60,
			perBucket: map[int]uint64{0: 2, 1: 1, 59: 1}},
		{name: "last 1 s bucket", times: []float64{0, 239.9}, width: time.Second, start: t0, n: 240},
		{name: "one past: 2 s", times: []float64{0, 1, 240}, width: 2 * time.Second, start: t0, n: 121,
			perBucket: map[int]uint64{0: 2, 120: 1}},
		{name: "an hour: 30 s", times: []float64{0, 3599}, width: 30 * time.Second, start: t0, n: 120},
		{name: "a day: 10 min", times: []float64{0, 86399}, width: 10 * time.Minute, start: t0, n: 144},
		{name: "a week: 1 h", times: []float64{0, 7*86400 - 1}, width: time.Hour, start: t0, n: 168},
		{name: "a year: 2 d", times: []float64{0, 365 * 86400}, width: 2 * 86400 * time.Second,
			start: time.Unix(floorTo(t0.Unix(), 2*86400), 0).UTC(), n: 184},
		{name: "earlier event shifts", times: []float64{10, 5, 12}, width: time.Second, start: at(5), n: 8,
			perBucket: map[int]uint64{0: 1, 5: 1, 7: 1}},
		{name: "earlier event widens", times: []float64{200, 0}, width: time.Second, start: t0, n: 201},
		{name: "earlier, past the span", times: []float64{300, 0}, width: 2 * time.Second, start: t0, n: 151,
			perBucket: map[int]uint64{0: 1, 150: 1}},
		{name: "unaligned start", times: []float64{7.5, 100}, width: time.Second, start: at(7), n: 94},
		{name: "unaligned, widened", times: []float64{7.5, 300}, width: 2 * time.Second, start: at(6), n: 148,
			perBucket: map[int]uint64{0: 1, 147: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h runHistory
			for _, s := range tc.times {
				h.request(at(s))
			}
			got := h.snapshot()
			if got.Width != tc.width || !got.Start.Equal(tc.start) || len(got.Buckets) != tc.n {
				t.Fatalf("width %v start %v buckets %d, want %v %v %d", got.Width, got.Start, len(got.Buckets), tc.width, tc.start, tc.n)
			}
			if reqs, _ := total(got); reqs != uint64(len(tc.times)) {
				t.Errorf("%d requests in the buckets, want %d", reqs, len(tc.times))
			}
			for i, want := range tc.perBucket {
				if got.Buckets[i].Requests != want {
					t.Errorf("bucket %d: %d requests, want %d", i, got.Buckets[i].Requests, want)
				}
			}
			if len(got.Buckets) > RunBuckets {
				t.Errorf("%d buckets, over the cap %d", len(got.Buckets), RunBuckets)
			}
			for _, s := range tc.times { // every event falls inside [Start, End)
				if at(s).Before(got.Start) || !at(s).Before(got.End()) {
					t.Errorf("event at %v outside [%v, %v)", at(s), got.Start, got.End())
				}
			}
		})
	}
}

// TestRunHistoryStaysBounded: events spread over years, in any order,
// keep the buckets capped and every count.
func TestRunHistoryStaysBounded(t *testing.T) {
	var h runHistory
	n := 0
	for i := range 5000 {
		// a zigzag over ten years: forwards and backwards
		s := int64((i*7919)%5000) * 63_113 // up to ~10 years
		h.request(t0.Add(time.Duration(s) * time.Second))
		h.alert(t0.Add(time.Duration(s)*time.Second), Severity(i%4))
		n++
	}
	got := h.snapshot()
	if len(got.Buckets) > RunBuckets || len(got.Buckets) < RunBuckets/3 {
		t.Errorf("%d buckets (cap %d): the span should fill a good part of them", len(got.Buckets), RunBuckets)
	}
	reqs, alerts := total(got)
	if reqs != uint64(n) || alerts[0]+alerts[1]+alerts[2]+alerts[3] != uint64(n) || alerts[3] != uint64(n/4) {
		t.Errorf("%d requests and %v alerts, want %d of each", reqs, alerts, n)
	}
}

// TestEngineRunHistory: the engine counts requests to the protected
// servers and new alerts (not their repeats), by severity.
func TestEngineRunHistory(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	if h := e.RunHistory(); len(h.Buckets) != 0 || !h.Start.IsZero() {
		t.Fatalf("empty engine: %+v", h)
	}
	feed(t, e, rq(0, "api.example.com", "k1"), rq(0.5, "evil.test", "k1"), rq(1, "evil.test", "k1"), rq(3, "api.example.com", ""))
	h := e.RunHistory()
	if len(h.Buckets) != 4 || h.Width != time.Second || !h.Start.Equal(t0) {
		t.Fatalf("history %v/%v with %d buckets, want 4 of 1 s from %v", h.Start, h.Width, len(h.Buckets), t0)
	}
	reqs, alerts := total(h)
	if reqs != 4 {
		t.Errorf("%d requests, want 4", reqs)
	}
	// evil.test raises unexpected_host once (the repeat at 1 s is folded).
	if n := alerts[0] + alerts[1] + alerts[2] + alerts[3]; n != 1 || h.Buckets[0].Alerts[0]+h.Buckets[0].Alerts[1]+h.Buckets[0].Alerts[2]+h.Buckets[0].Alerts[3] != 1 {
		t.Errorf("alerts %v (bucket 0: %v), want one new alert, in bucket 0", alerts, h.Buckets[0].Alerts)
	}
	// Mutating the copy does not touch the engine.
	h.Buckets[0].Requests = 99
	if e.RunHistory().Buckets[0].Requests == 99 {
		t.Error("RunHistory shares its buckets with the engine")
	}
}

// TestSourceCoverage: a source's status says what it delivered (DNS
// answers, ClientHellos) and which fields it cannot see.
func TestSourceCoverage(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	blind := rq(1, "", "")
	blind.Blind = BlindHost | BlindOrigin
	blind.Source = "access.log"
	if err := e.Observe(&Batch{Source: "access.log", Requests: []Request{blind}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Observe(&Batch{Source: "cap", Requests: []Request{rq(1, "api.example.com", "")},
		DNS: []DNSAnswer{{Time: t0, Name: "a.test"}}, TLS: []TLSHello{{Time: t0, SNI: "a.test"}, {Time: t0}}}); err != nil {
		t.Fatal(err)
	}
	s := e.Snapshot()
	if len(s.Sources) != 2 {
		t.Fatalf("%d sources", len(s.Sources))
	}
	log, capt := s.Sources[0], s.Sources[1]
	if log.Lacks != BlindHost|BlindOrigin || log.DNS != 0 || log.TLS != 0 || len(log.Off) == 0 {
		t.Errorf("log source: %+v", log)
	}
	if capt.Lacks != 0 || capt.DNS != 1 || capt.TLS != 2 || capt.Off == nil || len(capt.Off) != 0 {
		t.Errorf("capture source: %+v", capt)
	}
}
