package kafka

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
)

// These tests run the binary's client code (Run, the publishers) against
// kfake, franz-go's in-process Kafka: the real protocol (ApiVersions,
// Metadata, Produce, Fetch, the classic group protocol with JoinGroup,
// SyncGroup, Heartbeat, OffsetCommit, OffsetFetch, LeaveGroup), no broker
// process.

var t0 = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

// waitFor polls cond until it holds, failing after a generous deadline: the
// events it waits on (records observed, a rebalance) are named by cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newCluster(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// recorder is a sink that keeps what an engine observed and raised.
type recorder struct {
	mu     sync.Mutex
	reqs   map[string]int // request target -> times observed
	alerts []detect.Alert
}

func newRecorder() *recorder { return &recorder{reqs: map[string]int{}} }

func (r *recorder) Request(q *detect.Request) error {
	r.mu.Lock()
	r.reqs[q.Target]++
	r.mu.Unlock()
	return nil
}

func (r *recorder) Alert(a *detect.Alert) error {
	r.mu.Lock()
	r.alerts = append(r.alerts, *a)
	r.mu.Unlock()
	return nil
}

func (r *recorder) seen() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.reqs {
		out[k] = v
	}
	return out
}

// member is one rebindwatch process of a fleet: an engine fed by a
// consumer group member, as app wires them.
type member struct {
	c      *consumer
	engine *detect.Engine
	rec    *recorder
	cancel context.CancelFunc
	done   chan struct{}
}

func detectConfig(mod func(*detect.Config)) detect.Config {
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.test", "*.api.test"}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

func startMember(t *testing.T, o Options, cfg detect.Config, sinks ...detect.Sink) *member {
	t.Helper()
	rec := newRecorder()
	m := &member{rec: rec}
	m.c, m.engine, m.cancel, m.done = startStage(t, o, cfg, append([]detect.Sink{rec}, sinks...)...)
	t.Cleanup(func() { m.stop() })
	return m
}

// startStage runs a consumer into an engine (with the reorder window) as
// app does: cancel asks for a stop, done closes once the engine is done.
func startStage(tb testing.TB, o Options, cfg detect.Config, sinks ...detect.Sink) (c *consumer, e *detect.Engine, cancel context.CancelFunc, done chan struct{}) {
	tb.Helper()
	e, err := detect.NewEngine(cfg, sinks...)
	if err != nil {
		tb.Fatal(err)
	}
	e.SetReorder(2 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	batches := make(chan detect.Batch, 64)
	if c, err = newConsumer(ctx, o, batches); err != nil {
		cancel()
		tb.Fatal(err)
	}
	done = make(chan struct{})
	go func() {
		c.run(ctx)
		close(batches)
	}()
	go func() {
		e.Run(batches)
		close(done)
	}()
	return c, e, cancel, done
}

// stop stops the member by the stop rule and waits for its engine.
func (m *member) stop() {
	m.cancel()
	<-m.done
}

// kill ends the member as a crash would: no commit, no leave (it is a
// static member, so the broker notices only when its session times out).
func (m *member) kill() {
	m.c.mu.Lock()
	m.c.crashHook = true
	m.c.mu.Unlock()
	m.stop()
}

func (m *member) owned() []int32 {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	var ps []int32
	for p := range m.c.owned {
		ps = append(ps, p)
	}
	return ps
}

// req is a request of test traffic: its target names it.
func req(i int, key, host, node string) detect.Request {
	return detect.Request{
		Time: t0.Add(time.Duration(i) * 10 * time.Millisecond), Source: node,
		Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.7"), 0),
		Method: "GET", Host: host, HasHost: true, Target: fmt.Sprintf("/r/%d", i), Proto: "HTTP/1.1",
		UserAgent: "curl/8.0", Key: keys.Fingerprint("", key), Status: 200,
	}
}

func publishRequests(t *testing.T, p *RequestPublisher, reqs []detect.Request) {
	t.Helper()
	for i := range reqs {
		p.Request(&reqs[i])
	}
	if err := p.WaitBarrier(context.Background(), p.Barrier()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Dropped+s.Failed > 0 {
		t.Fatalf("publisher: %+v", s)
	}
}

func newAlertPublisher(t *testing.T, brokers []string) *AlertPublisher {
	t.Helper()
	p, err := NewAlertPublisher(PublisherOptions{Brokers: brokers, Topic: "alerts"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func newRequestPublisher(t *testing.T, c *kfake.Cluster, topic, node string) *RequestPublisher {
	t.Helper()
	p, err := NewRequestPublisher(PublisherOptions{Brokers: c.ListenAddrs(), Topic: topic, Node: node})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// Two detect processes share a topic's partitions; one is killed
// mid-stream. Its partitions move to the other, which reads them from the
// offsets the dead one committed: nothing is lost, and what is read twice
// is exactly what the dead one had observed since its last commit. Its
// alerts repeat some of the dead one's, and de-duplicating the alerts
// topic by record key (detector|subject|dimension) gives each alert once.
func TestDetectStageSurvivesAMemberKilledMidStream(t *testing.T) {
	c := newCluster(t, 6, "requests", "alerts")
	brokers := c.ListenAddrs()
	pub := newRequestPublisher(t, c, "requests", "")
	// Each process has its own alert publisher.
	alertsA, alertsB := newAlertPublisher(t, brokers), newAlertPublisher(t, brokers)
	opts := func(instance string, every time.Duration, alerts *AlertPublisher) Options {
		o := Options{Brokers: brokers, Topic: "requests", Group: "rebindwatch-detect", Every: every, Flushers: []Flusher{alerts},
			Opts: []kgo.Opt{kgo.SessionTimeout(time.Second), kgo.HeartbeatInterval(100 * time.Millisecond)}}
		if instance != "" {
			o.Opts = append(o.Opts, kgo.InstanceID(instance))
		}
		return o
	}
	cfg := detectConfig(nil)
	// a commits only when told (every hour), so what it observed after its
	// last commit is known exactly; b commits every 50 ms.
	a := startMember(t, opts("a", time.Hour, alertsA), cfg, alertsA)
	b := startMember(t, opts("", 50*time.Millisecond, alertsB), cfg, alertsB)
	if _, err := c.WaitGroupStable(context.Background(), "rebindwatch-detect", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both members assigned", func() bool { return len(a.owned()) > 0 && len(b.owned()) > 0 })

	const keysN = 24
	traffic := func(from, to int, foreign bool) []detect.Request {
		var out []detect.Request
		for i := from; i < to; i++ {
			k := fmt.Sprintf("key-%d", i%keysN)
			host := "api.test"
			if foreign && i%10 == 0 {
				host = fmt.Sprintf("evil-%d.rebind.test", i%keysN) // unexpected_host, one subject per key
			}
			r := req(i, k, host, fmt.Sprintf("web-%d", i%3))
			r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i%keysN)}), 0) // a client per key
			out = append(out, r)
		}
		return out
	}
	all := func(m map[string]int, from, to int) bool {
		for i := from; i < to; i++ {
			if m[fmt.Sprintf("/r/%d", i)] == 0 {
				return false
			}
		}
		return true
	}
	union := func() map[string]int {
		u := a.rec.seen()
		for k, v := range b.rec.seen() {
			u[k] += v
		}
		return u
	}

	// Phase 1: both read; a commits everything it observed.
	publishRequests(t, pub, traffic(0, 1000, false))
	waitFor(t, "phase 1 observed", func() bool { return all(union(), 0, 1000) })
	aOwned := a.owned()
	waitFor(t, "a's phase-1 records observed", func() bool { return a.c.inflight() == 0 })
	if err := a.c.commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	phase1A := a.rec.seen()

	// Phase 2: a observes its share and dies before committing it.
	publishRequests(t, pub, traffic(1000, 1500, true))
	waitFor(t, "phase 2 observed", func() bool { return all(union(), 1000, 1500) })
	waitFor(t, "a's phase-2 records observed", func() bool { return a.c.inflight() == 0 })
	uncommitted := map[string]bool{}
	for k := range a.rec.seen() {
		if phase1A[k] == 0 {
			uncommitted[k] = true
		}
	}
	if len(uncommitted) == 0 {
		t.Fatal("a observed nothing in phase 2: the test would prove nothing")
	}
	a.kill()
	// Its session times out (1 s); b is given a's partitions.
	waitFor(t, "b owns every partition", func() bool { return len(b.owned()) == 6 })

	// Phase 3: b alone.
	publishRequests(t, pub, traffic(1500, 2000, true))
	waitFor(t, "everything observed", func() bool { return all(union(), 0, 2000) })
	// b reads a's partitions from a's commit: exactly a's uncommitted
	// records come twice, and nothing else.
	waitFor(t, "a's uncommitted records read again by b", func() bool {
		bs := b.rec.seen()
		for k := range uncommitted {
			if bs[k] == 0 {
				return false
			}
		}
		return true
	})
	u := union()
	dups := 0
	for k, n := range u {
		if n > 1 {
			dups++
			if !uncommitted[k] || n != 2 {
				t.Errorf("%s observed %d times; only a's uncommitted records may come twice", k, n)
			}
		}
	}
	if dups != len(uncommitted) {
		t.Errorf("%d records read twice; a had %d observed and not committed", dups, len(uncommitted))
	}
	t.Logf("a owned %v; %d of its records were observed and not committed when it died, and were read again by b", aOwned, dups)

	// The note says b's new partitions start cold.
	b.stop()
	for _, s := range b.engine.Summary().Sources {
		if strings.HasPrefix(s.Name, "kafka:requests/") && (!strings.Contains(s.Note, "start cold") || !s.HasLag) {
			t.Errorf("%s: note %q, lag %d (%v): want the cold windows said and the lag", s.Name, s.Note, s.Lag, s.HasLag)
		}
	}

	// Alerts: both members published theirs; a consumer of the alerts topic
	// de-duplicates by record key.
	for _, p := range []*AlertPublisher{alertsA, alertsB} {
		if err := p.WaitBarrier(context.Background(), p.Barrier()); err != nil {
			t.Fatal(err)
		}
	}
	recs := readAll(t, brokers, "alerts", 24)
	byKey := map[string]int{}
	for _, r := range recs {
		byKey[string(r.Key)]++
	}
	want := map[string]bool{}
	for i := 1000; i < 2000; i += 10 {
		want[fmt.Sprintf("%s|evil-%d.rebind.test|", detect.DetUnexpectedHost, i%keysN)] = true
	}
	for k := range want {
		if byKey[k] == 0 {
			t.Errorf("alert %s missing", k)
		}
	}
	repeated := 0
	for k, n := range byKey {
		if strings.HasPrefix(k, detect.DetUnexpectedHost) && !want[k] {
			t.Errorf("unexpected alert %s", k)
		}
		repeated += n - 1
	}
	t.Logf("%d alert records, %d distinct after de-duplication by key (%d repeats across the rebalance)", len(recs), len(byKey), repeated)
}

// readAll reads a topic from its start: at least least records (waiting
// for them up to a deadline), then whatever else comes before it goes
// quiet.
func readAll(t *testing.T, brokers []string, topic string, least int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		n := 0
		f.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if n == 0 && (len(out) >= least || time.Now().After(deadline)) {
			return out
		}
	}
}

// A leaked key used from four producing hosts under four Host names: the
// shippers partition by host, so two processes detecting on the raw topic
// each see two of the hosts and neither raises key_spread; the parse stage
// republishes by key fingerprint and one detect process sees all four.
func TestKeySpreadAcrossHostsNeedsTheKeyPartitioning(t *testing.T) {
	c := newCluster(t, 4, "access-logs", "requests")
	brokers := c.ListenAddrs()
	cfg := detectConfig(func(cfg *detect.Config) { cfg.SpreadMaxHosts = 3 })
	ship, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer ship.Close()
	const leaked = "sk_live_LeakedKeyForTheSpreadTest01"
	var recs []*kgo.Record
	for h := range 4 {
		node := fmt.Sprintf("web-%02d", h)
		for i := range 5 {
			at := t0.Add(time.Duration(h*5+i) * time.Second)
			line := fmt.Sprintf(`192.0.2.%d - - [%s] "GET /v1/items?api_key=%s HTTP/1.1" 200 12 "-" "curl/8.0" host="%s.api.test" origin="-" key="-"`,
				10+h, at.Format("02/Jan/2006:15:04:05 -0700"), leaked, []string{"eu", "us", "ap", "sa"}[h])
			// Vector's json codec, keyed by host (key_field = "host"),
			// partitioned by host as a shipper does.
			v := fmt.Sprintf(`{"file":"/var/log/nginx/api.log","host":%q,"message":%q,"source_type":"file","timestamp":%q}`,
				node, line, at.Format(time.RFC3339))
			recs = append(recs, &kgo.Record{Topic: "access-logs", Partition: int32(h), Key: []byte(node), Value: []byte(v)})
		}
	}
	lines := &logsrc.FeederOptions{Location: time.UTC}
	spreads := func(ms ...*member) int {
		n := 0
		for _, m := range ms {
			m.rec.mu.Lock()
			for _, a := range m.rec.alerts {
				if a.Detector == detect.DetKeySpread && a.Dimension == "host" {
					n++
				}
			}
			m.rec.mu.Unlock()
		}
		return n
	}
	total := func(ms ...*member) int {
		n := 0
		for _, m := range ms {
			for _, v := range m.rec.seen() {
				n += v
			}
		}
		return n
	}

	// Detecting on the raw topic directly, two processes.
	direct := Options{Brokers: brokers, Topic: "access-logs", Group: "direct", Lines: lines}
	d1 := startMember(t, direct, cfg)
	d2 := startMember(t, direct, cfg)
	if _, err := c.WaitGroupStable(context.Background(), "direct", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both assigned", func() bool { return len(d1.owned()) > 0 && len(d2.owned()) > 0 })
	if err := ship.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the raw lines observed", func() bool { return total(d1, d2) == 20 })
	if len(d1.owned()) != 2 || len(d2.owned()) != 2 {
		t.Fatalf("partitions split %d/%d, want 2/2", len(d1.owned()), len(d2.owned()))
	}
	d1.stop()
	d2.stop()
	if n := spreads(d1, d2); n != 0 {
		t.Errorf("detecting on the raw topic: %d key_spread alerts; each process sees two hosts", n)
	}

	// The two stages: parse republishes keyed by fingerprint.
	pub := newRequestPublisher(t, c, "requests", "")
	parse := startMember(t, Options{Brokers: brokers, Topic: "access-logs", Group: "parse", Lines: lines,
		Republish: true, Flushers: []Flusher{pub}}, cfg, pub)
	detectOpts := Options{Brokers: brokers, Topic: "requests", Group: "detect"}
	m1 := startMember(t, detectOpts, cfg)
	m2 := startMember(t, detectOpts, cfg)
	waitFor(t, "the requests observed by the detect stage", func() bool { return total(m1, m2) == 20 })
	m1.stop()
	m2.stop()
	parse.stop()
	if n := spreads(m1, m2); n != 1 {
		t.Errorf("two stages: %d key_spread alerts, want 1", n)
	}
	for _, m := range []*member{m1, m2} {
		for target := range m.rec.seen() {
			if strings.Contains(target, leaked) || !strings.Contains(target, "api_key=REDACTED") {
				t.Errorf("target %q", target)
			}
		}
	}
	// Nothing on the requests topic holds the key, and every request
	// names its producing host.
	nodes := map[string]bool{}
	for _, r := range readAll(t, brokers, "requests", 20) {
		if strings.Contains(string(r.Value), leaked[8:16]) {
			t.Errorf("a published request holds the key: %s", r.Value)
		}
		nodes[strings.SplitN(strings.SplitN(string(r.Value), `"node":"`, 2)[1], `"`, 2)[0]] = true
	}
	if len(nodes) != 4 {
		t.Errorf("producing hosts on the wire: %v", nodes)
	}
}

// The consumer reports each partition's lag with its batches: what waits
// behind the records handed over.
func TestLagPerPartition(t *testing.T) {
	c := newCluster(t, 2, "requests")
	brokers := c.ListenAddrs()
	pub, err := NewRequestPublisher(PublisherOptions{Brokers: brokers, Topic: "requests",
		Opts: []kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner())}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(context.Background())
	reqs := make([]detect.Request, 100)
	for i := range reqs {
		reqs[i] = req(i, "key-1", "api.test", "web-1")
	}
	publishRequests(t, pub, reqs) // ManualPartitioner: every record to partition 0

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan detect.Batch)
	co, err := newConsumer(ctx, Options{Brokers: brokers, Topic: "requests", Group: "lag", MaxPoll: 10}, out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- co.run(ctx); close(out) }()
	var lags []int64
	for b := range out {
		if b.Source == "kafka:requests/0" && len(b.Requests) > 0 {
			lags = append(lags, b.Lag)
			if b.Commit != nil {
				b.Commit()
			}
			if b.Lag == 0 {
				cancel()
			}
		} else if b.Commit != nil {
			b.Commit()
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(lags) < 2 || lags[0] != 90 || lags[len(lags)-1] != 0 {
		t.Errorf("lags %v: want 90 after the first 10 records, down to 0", lags)
	}
	// The commit at stop is what the engine observed: all 100.
	g := c.GroupInfo("lag")
	if g == nil || g.Commits["requests"][0].Offset != 100 {
		t.Errorf("committed %+v, want offset 100 on partition 0", g)
	}
}

// gate is a Flusher whose room a test opens.
type gate struct{ open atomic.Bool }

func (g *gate) Barrier() uint64                           { return 0 }
func (g *gate) WaitBarrier(context.Context, uint64) error { return nil }
func (g *gate) Room() int {
	if g.open.Load() {
		return 1 << 20
	}
	return 0
}

// A consumer fetches nothing while its publishers have no room: a parse
// stage catching up waits for the broker instead of dropping requests.
func TestBackpressureFromThePublishers(t *testing.T) {
	c := newCluster(t, 1, "requests")
	pub := newRequestPublisher(t, c, "requests", "")
	reqs := make([]detect.Request, 50)
	for i := range reqs {
		reqs[i] = req(i, "key-1", "api.test", "web-1")
	}
	publishRequests(t, pub, reqs)
	g := &gate{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan detect.Batch, 64)
	co, err := newConsumer(ctx, Options{Brokers: c.ListenAddrs(), Topic: "requests", Group: "bp", Flushers: []Flusher{g}}, out)
	if err != nil {
		t.Fatal(err)
	}
	go func() { co.run(ctx); close(out) }()
	got := 0
	timeout := time.After(500 * time.Millisecond)
closed:
	for {
		select {
		case b := <-out:
			got += len(b.Requests)
		case <-timeout:
			break closed
		}
	}
	if got != 0 {
		t.Fatalf("%d requests fetched while the publisher had no room", got)
	}
	g.open.Store(true)
	for got < 50 {
		b := <-out
		got += len(b.Requests)
		if b.Commit != nil {
			b.Commit()
		}
	}
}

// A member that gives partitions up in a rebalance (another joins) or
// stops by the stop rule commits what its engine observed of them first:
// the next owner reads none of it again. a never commits on its own here
// (every hour), so only the revocation's and the stop's commits count.
func TestGracefulHandoverReadsNothingTwice(t *testing.T) {
	c := newCluster(t, 6, "requests")
	brokers := c.ListenAddrs()
	pub := newRequestPublisher(t, c, "requests", "")
	traffic := func(from, to int) []detect.Request {
		var out []detect.Request
		for i := from; i < to; i++ {
			out = append(out, req(i, fmt.Sprintf("key-%d", i%24), "api.test", "web-1"))
		}
		return out
	}
	opts := Options{Brokers: brokers, Topic: "requests", Group: "handover", Every: time.Hour,
		Opts: []kgo.Opt{kgo.SessionTimeout(time.Second), kgo.HeartbeatInterval(100 * time.Millisecond)}}
	cfg := detectConfig(nil)
	a := startMember(t, opts, cfg)
	publishRequests(t, pub, traffic(0, 600))
	waitFor(t, "a observed phase 1", func() bool { return len(a.rec.seen()) == 600 && a.c.inflight() == 0 })

	b := startMember(t, opts, cfg) // a gives some partitions to b
	waitFor(t, "the partitions shared", func() bool { return len(a.owned()) > 0 && len(b.owned()) > 0 && len(a.owned())+len(b.owned()) == 6 })
	publishRequests(t, pub, traffic(600, 1200))
	union := func(ms ...*member) map[string]int {
		u := map[string]int{}
		for _, m := range ms {
			for k, v := range m.rec.seen() {
				u[k] += v
			}
		}
		return u
	}
	waitFor(t, "phase 2 observed", func() bool { return len(union(a, b)) == 1200 })

	a.stop() // by the stop rule: commits, leaves; b takes everything
	waitFor(t, "b owns every partition", func() bool { return len(b.owned()) == 6 })
	publishRequests(t, pub, traffic(1200, 1500))
	waitFor(t, "phase 3 observed", func() bool { return len(union(a, b)) == 1500 })
	time.Sleep(200 * time.Millisecond) // nothing more may come
	for k, n := range union(a, b) {
		if n != 1 {
			t.Errorf("%s observed %d times", k, n)
		}
	}
}
