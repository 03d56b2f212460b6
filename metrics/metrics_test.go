package metrics

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

var t0 = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

// record is a Sink that keeps the alerts, to compare with what is scraped.
type record struct {
	mu     sync.Mutex
	alerts []detect.Alert
}

func (r *record) Request(*detect.Request) error { return nil }
func (r *record) Alert(a *detect.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, *a)
	return nil
}

// wire holds every value of the test traffic that came "off the wire": none
// of them may appear in the metrics, as a label or anywhere else.
var wire = []string{
	"evil.rebind.test", "api.example.com", "attacker.test", "app.example.com",
	"3f2a9c1b7d4e", "a1b2c3d4e5f6", "/admin", "/v1/items", "10.0.0.7", "10.0.0.8", "curl/8.0",
}

func req(at float64, src, host, origin, key, client string) detect.Request {
	return detect.Request{
		Time:      t0.Add(time.Duration(at * float64(time.Second))),
		Source:    src,
		Client:    netip.MustParseAddrPort(client + ":51234"),
		Method:    "GET",
		Host:      host,
		HasHost:   host != "",
		Target:    "/v1/items",
		Proto:     "HTTP/1.1",
		Origin:    origin,
		HasOrigin: origin != "",
		UserAgent: "curl/8.0",
		Key:       key,
		Status:    200,
	}
}

// newEngine returns an engine with the exporter and a recorder as sinks.
func newEngine(t testing.TB, hosts ...string) (*detect.Engine, *Exporter, *record) {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = hosts
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	cfg.BurstMax = 3
	cfg.SpreadMaxHosts = 1
	rec := &record{}
	var e *detect.Engine
	x := New(func() detect.Summary { return e.Summary() })
	e, err := detect.NewEngine(cfg, x, rec)
	if err != nil {
		t.Fatal(err)
	}
	return e, x, rec
}

// feedAttack sends traffic that trips all four detectors, from two sources,
// with parse errors, drops and a source counter.
func feedAttack(t testing.TB, e *detect.Engine) {
	t.Helper()
	const logPath = "/var/log/nginx/access.log"
	batches := []detect.Batch{
		{Source: "pcap", State: detect.StateReplaying, ParseErrors: 2, Dropped: 1,
			Counters: map[string]uint64{"truncated_packets": 4},
			Requests: []detect.Request{
				req(0, "pcap", "api.example.com", "https://app.example.com", "3f2a9c1b7d4e", "10.0.0.7"),
				req(1, "pcap", "evil.rebind.test", "", "3f2a9c1b7d4e", "10.0.0.7"),
				req(2, "pcap", "api.example.com", "http://attacker.test", "", "10.0.0.8"),
			}},
		{Source: logPath, State: detect.StateFollowing, ParseErrors: 3,
			Problems: []detect.Problem{{Source: logPath, Where: logPath + ":7", Text: "garbage"}},
			Requests: []detect.Request{
				req(3, logPath, "api.example.com", "", "a1b2c3d4e5f6", "10.0.0.8"),
				req(3.1, logPath, "api.example.com", "", "a1b2c3d4e5f6", "10.0.0.8"),
				req(3.2, logPath, "api.example.com", "", "a1b2c3d4e5f6", "10.0.0.8"),
				req(3.3, logPath, "api.example.com", "", "a1b2c3d4e5f6", "10.0.0.8"),
			}},
	}
	for i := range batches {
		if err := e.Observe(&batches[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func listen(t *testing.T, x *Exporter) string {
	t.Helper()
	serve, addr, err := x.ListenAddr("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("serve did not return after cancel")
		}
	})
	return "http://" + addr.String()
}

var client = &http.Client{Timeout: 5 * time.Second}

func scrape(t *testing.T, base string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	return fams, string(body)
}

// value returns the value of name's series with exactly the given labels
// (as "k=v" pairs); ok false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, v float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("%s%v: no such series", name, labels)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

func TestScrapeAfterAttack(t *testing.T) {
	e, x, rec := newEngine(t, "api.example.com")
	base := listen(t, x)
	feedAttack(t, e)
	fams, body := scrape(t, base)

	want(t, fams, 7, nameRequests)
	want(t, fams, 5, nameParseErrors)
	want(t, fams, 1, nameDropped)
	want(t, fams, 3, nameSourceRequests, "source=pcap")
	want(t, fams, 4, nameSourceRequests, "source=/var/log/nginx/access.log")
	want(t, fams, 4, nameInputEvents, "counter=truncated_packets")
	want(t, fams, 1, nameHostCheck)
	want(t, fams, float64(t0.Add(3300*time.Millisecond).UnixNano())/1e9, nameEventTime)
	for _, table := range []string{"keys", "hosts", "origins", "alerts", "dedupe"} {
		want(t, fams, 0, nameEvictions, "table="+table)
	}

	// Alerts: what the recorder saw, by detector and severity; every
	// other pair of the fixed set is present at zero.
	if len(rec.alerts) == 0 {
		t.Fatal("the test traffic raised no alerts")
	}
	counts := map[[2]string]float64{}
	fired := map[string]bool{}
	for _, a := range rec.alerts {
		counts[[2]string{a.Detector, a.Severity.String()}]++
		fired[a.Detector] = true
	}
	for _, d := range []string{detect.DetUnexpectedHost, detect.DetForeignOrigin, detect.DetKeyBurst, detect.DetKeySpread} {
		if !fired[d] {
			t.Errorf("the test traffic did not trip %s", d)
		}
	}
	for _, d := range detect.Detectors {
		for _, s := range severities {
			want(t, fams, counts[[2]string{d, s.String()}], nameAlerts, "detector="+d, "severity="+s.String())
		}
	}
	if n := len(fams[nameAlerts].GetMetric()); n != len(detect.Detectors)*len(severities) {
		t.Errorf("%s has %d series, want %d", nameAlerts, n, len(detect.Detectors)*len(severities))
	}

	// Nothing from the wire anywhere: not as a label value, not in help.
	for _, w := range wire {
		if strings.Contains(body, w) {
			t.Errorf("the scrape contains wire value %q", w)
		}
	}
	allowed := map[string]bool{"detector": true, "severity": true, "table": true, "counter": true, "source": true}
	for name, f := range fams {
		if !strings.HasPrefix(name, "rebindwatch_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !allowed[l.GetName()] {
					t.Errorf("%s has label %q outside the allowed set", name, l.GetName())
				}
			}
		}
	}
	for _, std := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := fams[std]; !ok {
			t.Errorf("no %s: Go/process collectors missing", std)
		}
	}
}

func TestHostCheckOff(t *testing.T) {
	e, x, _ := newEngine(t) // no allowed hosts
	base := listen(t, x)
	feedAttack(t, e)
	fams, _ := scrape(t, base)
	want(t, fams, 0, nameHostCheck)
	want(t, fams, 0, nameAlerts, "detector="+detect.DetUnexpectedHost, "severity=high")
}

// A source name from the command line is a label value: whatever bytes it
// holds, the scrape must stay valid and show no control characters.
func TestHostileSourceNames(t *testing.T) {
	names := map[string]string{
		"escape":       "/tmp/\x1b[31mred.log",
		"invalid_utf8": "/tmp/\xff\xfe.log",
		"newline":      "/tmp/a\nb.log",
		"quote":        `/tmp/"q".log`,
		"bidi":         "/tmp/\u202egol.txt",
	}
	for name, src := range names {
		t.Run(name, func(t *testing.T) {
			e, x, _ := newEngine(t, "api.example.com")
			base := listen(t, x)
			b := detect.Batch{Source: src, Requests: []detect.Request{req(0, src, "api.example.com", "", "", "10.0.0.7")}}
			if err := e.Observe(&b); err != nil {
				t.Fatal(err)
			}
			fams, body := scrape(t, base)
			want(t, fams, 1, nameSourceRequests, "source="+sanitize.String(src))
			for _, c := range body {
				if c < 0x20 && c != '\n' || c == 0x7f || sanitize.Invisible(c) {
					t.Fatalf("scrape holds control character %U", c)
				}
			}
		})
	}
}

// Two sources that sanitise to the same label are summed, not a duplicate
// series (which would make the whole scrape fail).
func TestSourcesSanitisingAlike(t *testing.T) {
	e, x, _ := newEngine(t, "api.example.com")
	base := listen(t, x)
	for _, src := range []string{"/tmp/\x1b.log", `/tmp/\x1b.log`} {
		b := detect.Batch{Source: src, Requests: []detect.Request{req(0, src, "api.example.com", "", "", "10.0.0.7")}}
		if err := e.Observe(&b); err != nil {
			t.Fatal(err)
		}
	}
	fams, _ := scrape(t, base)
	want(t, fams, 2, nameSourceRequests, `source=/tmp/\x1b.log`)
}

// A Kafka partition's lag is a gauge per source; sources without one
// have no series.
func TestSourceLag(t *testing.T) {
	e, x, _ := newEngine(t, "api.example.com")
	base := listen(t, x)
	for _, b := range []detect.Batch{
		{Source: "kafka:requests/3", Lag: 120, HasLag: true, Requests: []detect.Request{req(0, "", "api.example.com", "", "", "10.0.0.7")}},
		{Source: "kafka:requests/3", Lag: 7, HasLag: true},
		{Source: "a.log", Requests: []detect.Request{req(0, "", "api.example.com", "", "", "10.0.0.7")}},
	} {
		if err := e.Observe(&b); err != nil {
			t.Fatal(err)
		}
	}
	fams, _ := scrape(t, base)
	want(t, fams, 7, nameSourceLag, "source=kafka:requests/3")
	if f := fams[nameSourceLag]; f == nil || len(f.GetMetric()) != 1 {
		t.Errorf("lag series: %v", f)
	}
}

func TestNoSummary(t *testing.T) {
	x := New(nil)
	base := listen(t, x)
	r := req(5, "pcap", "api.example.com", "", "", "10.0.0.7")
	_ = x.Request(&r)
	_ = x.Alert(&detect.Alert{Detector: "future_detector", Severity: detect.Severity(9)})
	fams, _ := scrape(t, base)
	want(t, fams, 1, nameRequests)
	want(t, fams, 1, nameAlerts, "detector=future_detector", "severity=unknown")
	if _, ok := fams[nameParseErrors]; ok {
		t.Error("parse errors exported without a summary")
	}
}

func TestWatchWebhook(t *testing.T) {
	x := New(nil)
	x.WatchWebhook(func() DeliveryStats { return DeliveryStats{Sent: 5, Failed: 1, Dropped: 2, Retries: 3, Queued: 4} })
	fams, _ := scrape(t, listen(t, x))
	want(t, fams, 5, "rebindwatch_webhook_sent_total")
	want(t, fams, 1, "rebindwatch_webhook_failed_total")
	want(t, fams, 2, "rebindwatch_webhook_dropped_total")
	want(t, fams, 3, "rebindwatch_webhook_retries_total")
	want(t, fams, 4, "rebindwatch_webhook_queue_length")
}

func TestOtherPaths(t *testing.T) {
	base := listen(t, New(nil))
	for path, code := range map[string]int{"/": 200, "/nope": 404, "/metrics/x": 404} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, addr := range map[string]string{
		"busy":    busy.Addr().String(),
		"no_port": "127.0.0.1",
		"bad_ip":  "999.1.1.1:9464",
		"escape":  "\x1b[2J:9464",
	} {
		t.Run(name, func(t *testing.T) {
			serve, err := New(nil).Listen(addr)
			if err == nil {
				t.Fatalf("Listen(%q) succeeded", addr)
			}
			if serve != nil {
				t.Error("a serve function with an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, sanitize.String(addr)) || strings.ContainsRune(msg, 0x1b) {
				t.Errorf("error %q does not name the address, sanitised", msg)
			}
			if strings.Count(msg, "listen tcp") > 0 {
				t.Errorf("error %q repeats the op", msg)
			}
		})
	}
	// Serve returns the listen error at once, too.
	done := make(chan error, 1)
	go func() { done <- New(nil).Serve(context.Background(), busy.Addr().String()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve on a busy port returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve on a busy port did not return")
	}
}

// Scrapes while the engine is busy: run with -race.
func TestConcurrentScrape(t *testing.T) {
	e, x, _ := newEngine(t, "api.example.com")
	base := listen(t, x)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in := make(chan detect.Batch)
	done := make(chan error, 1)
	go func() { done <- e.Run(in) }()
	const batches = 50
	go func() {
		defer close(in)
		for i := range batches {
			reqs := make([]detect.Request, 20)
			for j := range reqs {
				reqs[j] = req(float64(i)+float64(j)/100, "pcap", fmt.Sprintf("h%d.evil.test", j), "", "3f2a9c1b7d4e", "10.0.0.7")
			}
			select {
			case in <- detect.Batch{Source: "pcap", Requests: reqs}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range 5 {
		scrape(t, base)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fams, _ := scrape(t, base)
	want(t, fams, batches*20, nameRequests)
}

func TestRequestAllocs(t *testing.T) {
	x := New(nil)
	r := req(0, "pcap", "api.example.com", "", "3f2a9c1b7d4e", "10.0.0.7")
	if n := testing.AllocsPerRun(1000, func() {
		r.Time = r.Time.Add(time.Millisecond)
		_ = x.Request(&r)
	}); n != 0 {
		t.Errorf("Request allocates %v times", n)
	}
	a := detect.Alert{Detector: detect.DetKeyBurst, Severity: detect.SeverityHigh}
	if n := testing.AllocsPerRun(1000, func() { _ = x.Alert(&a) }); n != 0 {
		t.Errorf("Alert allocates %v times for a known detector", n)
	}
}

func BenchmarkRequest(b *testing.B) {
	x := New(nil)
	r := req(0, "pcap", "api.example.com", "", "3f2a9c1b7d4e", "10.0.0.7")
	b.ReportAllocs()
	for b.Loop() {
		r.Time = r.Time.Add(time.Microsecond)
		_ = x.Request(&r)
	}
}

// BenchmarkScrape measures one scrape of a busy engine's metrics, summary
// included, without HTTP.
func BenchmarkScrape(b *testing.B) {
	e, x, _ := newEngine(b, "api.example.com")
	feedAttack(b, e)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
