package detect

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
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

// histEvent is a request (sev < 0) or a new alert of severity sev at
// second sec.
type histEvent struct {
	sec int64
	sev Severity
}

// histRun is a run of events in the order they are counted.
type histRun struct {
	name   string
	events []histEvent
}

// histRuns are runs the history must count as a plain count over every
// event would: in order, with late sources (older than the hour), sparse
// over days, and alerts before and after any request.
func histRuns() []histRun {
	rnd := rand.New(rand.NewPCG(1, 2))
	base := t0.Unix()
	var runs []histRun
	ordered := func(name string, n int, span int64, jitter int64) {
		var evs []histEvent
		for i := range n {
			s := base + int64(i)*span/int64(n)
			if jitter > 0 {
				s += rnd.Int64N(2*jitter) - jitter
			}
			sev := Severity(-1)
			if i%97 == 0 {
				sev = Severity(i % 4)
			}
			evs = append(evs, histEvent{s, sev})
		}
		runs = append(runs, histRun{name, evs})
	}
	ordered("ten minutes in order", 6000, 600, 0)
	ordered("three hours, a late source", 20000, 3*3600, 2*3600)
	ordered("three days, sparse", 3000, 3*86400, 600)
	ordered("a busy hour and a half", 30000, 5400, 3)
	runs = append(runs, histRun{"alerts around the requests", []histEvent{
		{base - 7200, SeverityHigh}, {base, -1}, {base + 10, -1}, {base + 5000, -1}, {base + 5001, SeverityLow}, {base - 3, -1},
	}})
	return runs
}

// naiveHistory is what a RunHistory of evs must be: the finest width of
// the ladder that holds them in RunBuckets, every event in its bucket.
func naiveHistory(evs []histEvent) RunHistory {
	lo, hi := evs[0].sec, evs[0].sec
	for _, e := range evs {
		lo, hi = min(lo, e.sec), max(hi, e.sec)
	}
	w := int64(1)
	for floorDiv(hi, w)-floorDiv(lo, w) >= RunBuckets {
		w = nextWidth(w)
	}
	start := floorTo(lo, w)
	out := RunHistory{Start: time.Unix(start, 0).UTC(), Width: time.Duration(w) * time.Second,
		Buckets: make([]HistoryBucket, (hi-start)/w+1)}
	for _, e := range evs {
		b := &out.Buckets[(e.sec-start)/w]
		if e.sev < 0 {
			b.Requests++
		} else {
			b.Alerts[e.sev]++
		}
	}
	return out
}

func (r histRun) history() *runHistory {
	h := new(runHistory)
	for _, e := range r.events {
		if e.sev < 0 {
			h.request(time.Unix(e.sec, 0))
		} else {
			h.alert(time.Unix(e.sec, 0), e.sev)
		}
	}
	return h
}

// requestsIn counts the run's requests in the seconds [from, to).
func (r histRun) requestsIn(from, to int64) (n float64) {
	for _, e := range r.events {
		if e.sev < 0 && e.sec >= from && e.sec < to {
			n++
		}
	}
	return n
}

// TestRunHistoryMatchesCounting: the report's history, cut from the hour
// and the run's buckets, is exactly the plain count of every event.
func TestRunHistoryMatchesCounting(t *testing.T) {
	for _, r := range histRuns() {
		t.Run(r.name, func(t *testing.T) {
			got, want := r.history().snapshot(), naiveHistory(r.events)
			if got.Width != want.Width || !got.Start.Equal(want.Start) || !slices.Equal(got.Buckets, want.Buckets) {
				t.Errorf("history %v × %v from %v, want %v × %v from %v", len(got.Buckets), got.Width, got.Start,
					len(want.Buckets), want.Width, want.Start)
			}
		})
	}
}

// TestRunHistoryRequests: the timeline's and a range's count is exact
// within the hour and over whole buckets before it, in proportion over a
// bucket cut by the range, and a partition of the run counts every
// request once (the hour and the buckets never both hold one).
func TestRunHistoryRequests(t *testing.T) {
	for _, r := range histRuns() {
		t.Run(r.name, func(t *testing.T) {
			h := r.history()
			if !h.hourOn {
				t.Fatal("no requests counted")
			}
			// A partition in steps that cut the buckets anywhere.
			for _, step := range []int64{1, 7, 37, 600, 86400} {
				total := 0.0
				for s := h.first; s <= h.last; s += step {
					n, _ := h.requests(s, s+step)
					total += n
				}
				if want := r.requestsIn(h.first, h.last+1); math.Abs(total-want) > 1e-6*want {
					t.Errorf("steps of %d s count %.3f requests, want %.0f", step, total, want)
				}
			}
			// Within the hour: every second exact.
			for s := max(h.first, h.hourFrom()); s <= h.cur+1; s += 13 {
				n, exact := h.requests(s, s+13)
				if want := r.requestsIn(s, s+13); n != want || !exact {
					t.Fatalf("[%d, +13): %v (exact %v), want %v", s-h.first, n, exact, want)
				}
			}
			if h.width == 0 {
				return
			}
			// Before it: whole buckets exact, a cut one in proportion.
			for i := range h.n {
				// A bucket's requests lie after the run's first event.
				bs := max(h.start+int64(i)*h.width, h.first)
				be := min(h.start+int64(i+1)*h.width, h.hourFrom())
				if be <= bs {
					continue
				}
				n, exact := h.requests(bs, be)
				if want := r.requestsIn(bs, be); n != want || !exact {
					t.Fatalf("bucket %d: %v (exact %v), want %v", i, n, exact, want)
				}
				if be-bs < 2 || n == 0 {
					continue
				}
				mid := bs + (be-bs)/2
				half, exact := h.requests(bs, mid)
				if want := n * float64(mid-bs) / float64(be-bs); exact || math.Abs(half-want) > 1e-9 {
					t.Fatalf("half of bucket %d: %v (exact %v), want %v spread evenly", i, half, exact, want)
				}
			}
		})
	}
}

// TestActivityOverLongRun: past the hour the dashboard's timeline reads
// the run's buckets: the hour zoom is exact per step, the whole run's
// steps add up to every request, each close to its true count.
func TestActivityOverLongRun(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	// Three hours: one request every 2 s, and a burst of 500 in the
	// first hour's 20th minute.
	var reqs []Request
	for s := 0; s < 3*3600; s += 2 {
		reqs = append(reqs, rq(float64(s), "api.example.com", ""))
	}
	for i := range 500 {
		reqs = append(reqs, rq(1200+float64(i)/100, "api.example.com", ""))
	}
	feed(t, e, reqs...)
	truth := func(from, to time.Time) (n float64) {
		for i := range reqs {
			if !reqs[i].Time.Before(from) && reqs[i].Time.Before(to) {
				n++
			}
		}
		return n
	}
	a := e.SnapshotFor(Query{Span: time.Hour, Buckets: 30}).Activity
	for i, n := range a.Requests {
		bs := a.Start.Add(time.Duration(i) * a.Step)
		if want := truth(bs, bs.Add(a.Step)); n != want {
			t.Errorf("hour zoom, step %d: %v requests, want %v", i, n, want)
		}
	}
	a = e.SnapshotFor(Query{Span: SpanAll, Buckets: 30}).Activity
	sum := 0.0
	for i, n := range a.Requests {
		sum += n
		bs := a.Start.Add(time.Duration(i) * a.Step)
		// Before the hour a bucket of the run (10 s here: 5 requests, or
		// the burst's 500) may be cut by a step's edges and spread.
		if want := truth(bs, bs.Add(a.Step)); math.Abs(n-want) > 500 {
			t.Errorf("all, step %d (%v): %.1f requests, want %v", i, a.Step, n, want)
		}
	}
	if want := float64(len(reqs)); math.Abs(sum-want) > 1e-6 {
		t.Errorf("the whole run's steps count %.3f requests, want %v", sum, want)
	}
	burst := a.Bucket(t0.Add(1200 * time.Second))
	if n := a.Requests[burst]; n < 500 {
		t.Errorf("the burst's step counts %v requests", n)
	}
	// A range before the hour is counted from the buckets, and says so.
	from, to := t0.Add(1195*time.Second), t0.Add(1301*time.Second)
	s := e.SnapshotFor(Query{From: from, To: to})
	if want := truth(from, to); math.Abs(float64(s.Matched)-want) > 10 || !strings.Contains(s.Coverage.Matched.Why, "spreads the requests of each 10s") {
		t.Errorf("range before the hour: %d requests (%q), want about %v", s.Matched, s.Coverage.Matched.Why, want)
	}
	from, to = t0.Add(1190*time.Second), t0.Add(1310*time.Second)
	if s := e.SnapshotFor(Query{From: from, To: to}); float64(s.Matched) != truth(from, to) || s.Coverage.Matched.Why != "" {
		t.Errorf("range of whole buckets: %d requests (%q), want %v", s.Matched, s.Coverage.Matched.Why, truth(from, to))
	}
}

// TestRunHistoryRequestAllocates: counting a request allocates nothing,
// in order, late, or after a jump that folds the whole hour.
func TestRunHistoryRequestAllocates(t *testing.T) {
	h := new(runHistory)
	i := 0
	steps := []time.Duration{time.Millisecond, time.Second, -2 * time.Hour, 5 * time.Hour, 0}
	at := t0
	if n := testing.AllocsPerRun(2000, func() {
		at = at.Add(steps[i%len(steps)])
		h.request(at)
		h.alert(at, SeverityMedium)
		i++
	}); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}

// TestRunHistoryBytes: the history's size is fixed, whatever the run; the
// file's comment quotes it.
func TestRunHistoryBytes(t *testing.T) {
	const want = 39_032
	if n := unsafe.Sizeof(runHistory{}); n != want {
		t.Errorf("runHistory is %d bytes, the comment in history.go says %d: update both", n, want)
	}
}

// BenchmarkRunHistoryRequest is the history's part of a request's cost.
func BenchmarkRunHistoryRequest(b *testing.B) {
	h := new(runHistory)
	at := t0
	for b.Loop() {
		at = at.Add(time.Millisecond)
		h.request(at)
	}
}
