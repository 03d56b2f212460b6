package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/jsonl"
	"github.com/rebindwatch/rebindwatch/keys"
)

var t0 = time.Date(2026, 11, 26, 21, 0, 0, 123456789, time.UTC)

func alert(id uint64) *detect.Alert {
	return &detect.Alert{
		ID: id, Time: t0.Add(time.Duration(id) * time.Second), LastSeen: t0,
		Detector: detect.DetUnexpectedHost, Severity: detect.SeverityHigh,
		Subject: "evil.rebind.test", Key: "3f2a9c1b7d4e", Client: "10.0.0.7",
		Host: "evil.rebind.test", Origin: "http://evil.rebind.test", Target: "/admin?x=1",
		Status: 200, Message: "Host evil.rebind.test is not an allowed name", Count: 1,
		Evidence: []detect.Request{{Host: "evil.rebind.test", Target: "/admin?api_key=REDACTED"}},
	}
}

// jsonlLine is what jsonl.Writer writes for a, without the newline.
func jsonlLine(t testing.TB, a *detect.Alert) string {
	t.Helper()
	var buf bytes.Buffer
	w := jsonl.New(&buf, jsonl.Emit{Alert: true})
	if err := w.Alert(a); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// receiver is a real HTTP server on loopback that records what it gets and
// answers with what respond says for the n-th request (0-based).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	hosts   []string
	times   []time.Time
	accept  []string // bodies answered 2xx
	release chan struct{}
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{release: make(chan struct{})}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rc.mu.Lock()
		n := len(rc.bodies)
		rc.bodies = append(rc.bodies, string(body))
		rc.headers = append(rc.headers, r.Header.Clone())
		rc.hosts = append(rc.hosts, r.Host)
		rc.times = append(rc.times, time.Now())
		rc.mu.Unlock()
		code := 200
		if respond != nil {
			code = respond(n, w, r)
		}
		if code/100 == 2 {
			rc.mu.Lock()
			rc.accept = append(rc.accept, string(body))
			rc.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	// Cleanups run last-registered first: unblock handlers, then close.
	t.Cleanup(rc.Server.Close)
	t.Cleanup(func() {
		select {
		case <-rc.release:
		default:
			close(rc.release)
		}
	})
	return rc
}

func (rc *receiver) got() (bodies, accepted []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.bodies...), append([]string(nil), rc.accept...)
}

// block makes a respond function that waits for release (or the client
// giving up) before answering 200.
func (rc *receiver) block(w http.ResponseWriter, r *http.Request) int {
	select {
	case <-rc.release:
	case <-r.Context().Done():
	}
	return 200
}

// fast are options that keep retries in milliseconds.
func fast(url string) Options {
	return Options{URL: url, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 2 * time.Second, Drain: 2 * time.Second}
}

// start runs p until the test ends (or stop is called) and returns stop,
// which cancels Run and returns its error.
func start(t *testing.T, p *Poster) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustNew(t *testing.T, o Options) *Poster {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeliveredInOrder(t *testing.T) {
	rc := newReceiver(t, nil)
	o := fast(rc.URL + "/hook?token=s3cr3t")
	o.Headers = map[string]string{"Authorization": "Bearer hook-secret", "Host": "hooks.example"}
	o.UserAgent = "rebindwatch/1.2.3"
	p := mustNew(t, o)
	stop := start(t, p)
	const n = 20
	var want []string
	for i := range uint64(n) {
		a := alert(i + 1)
		want = append(want, jsonlLine(t, a))
		if err := p.Alert(a); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all sent", func() bool { return p.Stats().Sent == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	bodies, _ := rc.got()
	if len(bodies) != n {
		t.Fatalf("receiver got %d bodies, want %d", len(bodies), n)
	}
	for i := range bodies {
		if bodies[i] != want[i] {
			t.Errorf("body %d:\n got %s\nwant %s", i, bodies[i], want[i])
		}
	}
	h := rc.headers[0]
	for k, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "rebindwatch/1.2.3", "Authorization": "Bearer hook-secret"} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if rc.hosts[0] != "hooks.example" {
		t.Errorf("Host = %q, want the Headers override", rc.hosts[0])
	}
	if s := p.Stats(); s != (Stats{Sent: n}) {
		t.Errorf("stats %+v", s)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	rc := newReceiver(t, nil)
	p := mustNew(t, fast(rc.URL))
	start(t, p)
	_ = p.Alert(alert(1))
	waitFor(t, "sent", func() bool { return p.Stats().Sent == 1 })
	if ua := rc.headers[0].Get("User-Agent"); ua != "rebindwatch" {
		t.Errorf("User-Agent %q", ua)
	}
}

func TestRetriedAfter500(t *testing.T) {
	rc := newReceiver(t, func(n int, _ http.ResponseWriter, _ *http.Request) int {
		if n < 2 {
			return 500
		}
		return 200
	})
	p := mustNew(t, fast(rc.URL))
	start(t, p)
	_ = p.Alert(alert(1))
	_ = p.Alert(alert(2))
	waitFor(t, "sent", func() bool { return p.Stats().Sent == 2 })
	bodies, accepted := rc.got()
	if len(bodies) != 4 || bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("attempts: %q", bodies)
	}
	if len(accepted) != 2 || accepted[0] != jsonlLine(t, alert(1)) || accepted[1] != jsonlLine(t, alert(2)) {
		t.Errorf("delivered: %q", accepted)
	}
	if s := p.Stats(); s != (Stats{Sent: 2, Retries: 2}) {
		t.Errorf("stats %+v", s)
	}
}

func TestNotRetried(t *testing.T) {
	for _, code := range []int{400, 401, 404, 410, 302} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) int {
				if code == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				return code
			})
			var mu sync.Mutex
			var reasons []string
			o := fast(rc.URL + "/hook?token=s3cr3t")
			o.Headers = map[string]string{"Authorization": "Bearer hook-secret"}
			o.OnGiveUp = func(err error) {
				mu.Lock()
				defer mu.Unlock()
				reasons = append(reasons, err.Error())
			}
			p := mustNew(t, o)
			start(t, p)
			_ = p.Alert(alert(7))
			waitFor(t, "failed", func() bool { return p.Stats().Failed == 1 })
			if s := p.Stats(); s != (Stats{Failed: 1}) {
				t.Errorf("stats %+v", s)
			}
			if bodies, _ := rc.got(); len(bodies) != 1 {
				t.Errorf("receiver got %d requests, want 1 (no retry, no redirect)", len(bodies))
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reasons) != 1 || !strings.Contains(reasons[0], fmt.Sprint(code)) || !strings.Contains(reasons[0], "alert 7 (unexpected_host)") {
				t.Errorf("give-up reasons %q", reasons)
			}
			for _, r := range reasons {
				if strings.Contains(r, "s3cr3t") || strings.Contains(r, "hook-secret") {
					t.Errorf("reason leaks a credential: %q", r)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) int {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			return 429
		}
		return 200
	})
	o := fast(rc.URL)
	o.MaxBackoff = 3 * time.Second // Retry-After is capped by it
	p := mustNew(t, o)
	start(t, p)
	_ = p.Alert(alert(1))
	waitFor(t, "sent", func() bool { return p.Stats().Sent == 1 })
	rc.mu.Lock()
	gap := rc.times[1].Sub(rc.times[0])
	rc.mu.Unlock()
	if gap < 950*time.Millisecond || gap > 2500*time.Millisecond {
		t.Errorf("retried after %s, want Retry-After's 1s", gap)
	}
	if s := p.Stats(); s != (Stats{Sent: 1, Retries: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestHangingReceiver(t *testing.T) {
	var rc *receiver
	rc = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		if n == 0 {
			return rc.block(w, r) // hangs until the client gives up
		}
		return 200
	})
	o := fast(rc.URL)
	o.Timeout = 150 * time.Millisecond
	p := mustNew(t, o)
	start(t, p)
	began := time.Now()
	_ = p.Alert(alert(1))
	waitFor(t, "sent", func() bool { return p.Stats().Sent == 1 })
	if el := time.Since(began); el < o.Timeout {
		t.Errorf("sent after %s, before the attempt timeout", el)
	}
	if s := p.Stats(); s != (Stats{Sent: 1, Retries: 1}) {
		t.Errorf("stats %+v", s)
	}
}

func TestNetworkErrorRetriedThenFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	var reason error
	var mu sync.Mutex
	o := fast("http://" + addr + "/hook?token=s3cr3t")
	o.MaxRetries = 2
	o.OnGiveUp = func(err error) { mu.Lock(); reason = err; mu.Unlock() }
	p := mustNew(t, o)
	start(t, p)
	_ = p.Alert(alert(1))
	waitFor(t, "failed", func() bool { return p.Stats().Failed == 1 })
	if s := p.Stats(); s != (Stats{Failed: 1, Retries: 2}) {
		t.Errorf("stats %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if reason == nil || strings.Contains(reason.Error(), "s3cr3t") || !strings.Contains(reason.Error(), "3 attempts") {
		t.Errorf("reason %v", reason)
	}
}

// The engine must never wait for the receiver: with the receiver blocked and
// the queue full, Alert still returns at once, and drops are counted.
func TestQueueOverflow(t *testing.T) {
	var rc *receiver
	rc = newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) int { return rc.block(w, r) })
	o := fast(rc.URL)
	o.QueueSize = 4
	o.Timeout = 10 * time.Second
	p := mustNew(t, o)
	stop := start(t, p)
	_ = p.Alert(alert(1))
	waitFor(t, "first attempt in flight", func() bool { b, _ := rc.got(); return len(b) == 1 })

	const n = 2000
	var slowest time.Duration
	began := time.Now()
	for i := range uint64(n) {
		t1 := time.Now()
		_ = p.Alert(alert(i + 2))
		slowest = max(slowest, time.Since(t1))
	}
	total := time.Since(began)
	t.Logf("%d alerts into a full queue: %s total, slowest %s", n, total, slowest)
	if slowest > 50*time.Millisecond || total > time.Second {
		t.Errorf("Alert blocked: slowest %s, total %s", slowest, total)
	}
	s := p.Stats()
	if s.Dropped != n-4 || s.Queued != 5 {
		t.Errorf("stats %+v, want %d dropped and 5 queued (4 + 1 in flight)", s, n-4)
	}
	close(rc.release)
	waitFor(t, "queue drained", func() bool { return p.Stats().Sent == 5 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	s = p.Stats()
	if s.Sent+s.Failed+s.Dropped+uint64(s.Queued) != n+1 || s.Queued != 0 {
		t.Errorf("stats %+v do not account for %d alerts", s, n+1)
	}
}

// Cancelling Run delivers what is queued before returning.
func TestCancelDrains(t *testing.T) {
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
		time.Sleep(20 * time.Millisecond)
		return 200
	})
	p := mustNew(t, fast(rc.URL))
	for i := range uint64(5) {
		_ = p.Alert(alert(i + 1)) // queued before Run starts
	}
	stop := start(t, p)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s := p.Stats(); s != (Stats{Sent: 5}) {
		t.Errorf("stats %+v", s)
	}
	if _, acc := rc.got(); len(acc) != 5 {
		t.Errorf("receiver accepted %d", len(acc))
	}
	// After Run, alerts are dropped, not queued forever.
	_ = p.Alert(alert(9))
	if s := p.Stats(); s.Dropped != 1 || s.Queued != 0 {
		t.Errorf("after Run: %+v", s)
	}
}

// A receiver that never answers cannot hold the exit past the drain time.
func TestDrainDeadline(t *testing.T) {
	var rc *receiver
	rc = newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) int { return rc.block(w, r) })
	o := fast(rc.URL)
	o.Timeout = 10 * time.Second
	o.Drain = 200 * time.Millisecond
	p := mustNew(t, o)
	stop := start(t, p)
	for i := range uint64(3) {
		_ = p.Alert(alert(i + 1))
	}
	waitFor(t, "first attempt in flight", func() bool { b, _ := rc.got(); return len(b) == 1 })
	began := time.Now()
	err := stop()
	el := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), "3 alerts not delivered") {
		t.Errorf("Run: %v", err)
	}
	if el < o.Drain || el > o.Drain+2*time.Second {
		t.Errorf("Run returned %s after cancel, want about %s", el, o.Drain)
	}
	if s := p.Stats(); s != (Stats{Failed: 3}) {
		t.Errorf("stats %+v", s)
	}
}

// A second Run while the first is running fails. The first is known to
// run once it has delivered an alert, not after some sleep: a sleep that
// ends before its goroutine is scheduled lets the second Run go first.
func TestRunTwice(t *testing.T) {
	rc := newReceiver(t, nil)
	p := mustNew(t, fast(rc.URL))
	start(t, p)
	_ = p.Alert(alert(1))
	waitFor(t, "the first Run delivering", func() bool { return p.Stats().Sent == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx); err == nil {
		t.Error("second Run returned nil")
	}
}

func TestBodyMatchesJSONL(t *testing.T) {
	hostile := alert(3)
	hostile.Subject = "evil\x1b[2J\u202e.test\xff"
	hostile.Host = "a\"b\\c\n\r\t\x00\x7f\u0085\u2028\u2029"
	hostile.Message = "Host \u00e9vil.test \U0001F600 is not allowed"
	spread := alert(4)
	spread.Detector, spread.Dimension, spread.Status, spread.Count = detect.DetKeySpread, "host", 0, 42
	spread.Severity = detect.SeverityCritical
	empty := &detect.Alert{}
	served := alert(5)
	served.Outcome, served.Class = "served", "rebinding"
	rc := newReceiver(t, nil)
	p := mustNew(t, fast(rc.URL))
	cases := []*detect.Alert{alert(1), hostile, spread, empty, served}
	for _, a := range cases {
		_ = p.Alert(a)
	}
	start(t, p)
	waitFor(t, "all sent", func() bool { return p.Stats().Sent == uint64(len(cases)) })
	_, got := rc.got()
	for i, a := range cases {
		want := jsonlLine(t, a)
		if got[i] != want {
			t.Errorf("alert %d:\n got %s\nwant %s", i, got[i], want)
		}
		if !strings.HasPrefix(got[i], `{"type":"alert",`) || strings.HasSuffix(got[i], "\n") {
			t.Errorf("alert %d: not one JSON alert line: %q", i, got[i])
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got[i]), &v); err != nil {
			t.Errorf("alert %d: body is not JSON: %v", i, err)
		}
	}
}

// The body is a copy: the engine raising the alert's count later does not
// change what is posted.
func TestBodyIsCopied(t *testing.T) {
	rc := newReceiver(t, nil)
	p := mustNew(t, fast(rc.URL))
	a := alert(1)
	want := jsonlLine(t, a)
	_ = p.Alert(a)
	a.Count, a.Message = 99, "changed"
	start(t, p)
	waitFor(t, "sent", func() bool { return p.Stats().Sent == 1 })
	if _, acc := rc.got(); acc[0] != want {
		t.Errorf("posted %s, want %s", acc[0], want)
	}
	if strings.Contains(want, "REDACTED") {
		t.Error("evidence leaked into the body")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		headers map[string]string
		want    string // in the error
	}{
		{"empty", "", nil, "empty"},
		{"ftp", "ftp://hooks.example/x", nil, "http:// or https://"},
		{"no_scheme", "hooks.example/x", nil, "http:// or https://"},
		{"no_host", "http:///x", nil, "no host"},
		{"opaque", "http:hooks.example", nil, "no host"},
		{"port_only", "http://:8080/", nil, "no host"},
		{"bad_port", "http://hooks.example:99999/", nil, "invalid port"},
		{"control", "http://hooks.example/\x1b[2J", nil, "not a valid URL"},
		{"secret_in_bad_url", "ftp://user:s3cr3t@hooks.example/?token=s3cr3t", nil, "ftp://…@hooks.example/?…"},
		{"bad_header_name", "http://hooks.example/", map[string]string{"X Bad": "v"}, "X Bad"},
		{"crlf_header_value", "http://hooks.example/", map[string]string{"Authorization": "Bearer s3cr3t\r\nX-Evil: 1"}, "Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{URL: tt.url, Headers: tt.headers})
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if strings.Contains(msg, "s3cr3t") || strings.ContainsRune(msg, 0x1b) || strings.Contains(msg, "\n") {
				t.Errorf("error %q leaks a secret or a control character", msg)
			}
		})
	}
	for _, ok := range []string{"http://127.0.0.1:9000/hook", "https://hooks.example/x?token=1", "HTTPS://[::1]:443/", "http://user:pw@hooks.example"} {
		if _, err := New(Options{URL: ok}); err != nil {
			t.Errorf("New(%q): %v", ok, err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"1":                             time.Second,
		" 120 ":                         2 * time.Minute,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"99999999999":                   24 * time.Hour,
		"Thu, 26 Nov 2026 21:00:30 GMT": 30 * time.Second,
		"Thu, 26 Nov 2026 20:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := mustNew(t, Options{URL: "http://hooks.example/"})
	prevMax := time.Duration(0)
	for attempt := 1; attempt <= 12; attempt++ {
		d := min(DefaultMinBackoff<<(attempt-1), DefaultMaxBackoff)
		for range 50 {
			got := p.backoff(attempt)
			if got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, got, d/2, d)
			}
		}
		if d < prevMax {
			t.Fatalf("backoff shrinks at attempt %d", attempt)
		}
		prevMax = d
	}
	if got := p.backoff(1000); got > DefaultMaxBackoff {
		t.Errorf("backoff(1000) = %s, over the cap", got)
	}
}

// BenchmarkAlert measures queueing one alert (encoding it included); the
// worker is not running, so the queue is emptied by hand.
func BenchmarkAlert(b *testing.B) {
	p, err := New(Options{URL: "http://hooks.example/", QueueSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	a := alert(1)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Alert(a)
		<-p.queue
	}
}

// BenchmarkAlertDropped measures the path taken when the queue is full.
func BenchmarkAlertDropped(b *testing.B) {
	p, err := New(Options{URL: "http://hooks.example/", QueueSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	a := alert(1)
	_ = p.Alert(a)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Alert(a)
	}
}

// With a real engine: the receiver gets exactly the alert lines --no-tui
// writes, in order.
func TestWithEngine(t *testing.T) {
	rc := newReceiver(t, nil)
	p := mustNew(t, fast(rc.URL))
	var buf bytes.Buffer
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	e, err := detect.NewEngine(cfg, jsonl.New(&buf, jsonl.Emit{Alert: true}), p)
	if err != nil {
		t.Fatal(err)
	}
	start(t, p)
	// Requests as a source hands them over: key values already hidden
	// (keys.Redact), the key itself only as its fingerprint.
	mk := func(at int, host, origin string) detect.Request {
		return detect.Request{
			Time: t0.Add(time.Duration(at) * time.Second), Source: "pcap",
			Client: netip.MustParseAddrPort("10.0.0.7:51234"), Method: "GET",
			Host: host, HasHost: true, Target: "/admin?api_key=" + keys.Redacted, Proto: "HTTP/1.1",
			Origin: origin, HasOrigin: origin != "", Key: "3f2a9c1b7d4e", Status: 200,
		}
	}
	b := detect.Batch{Source: "pcap", Requests: []detect.Request{
		mk(0, "api.example.com", ""),
		mk(1, "evil.rebind.test", "http://evil.rebind.test"),
		mk(2, "evil.rebind.test", "http://evil.rebind.test"), // de-duplicated
		mk(3, "other.rebind.test", ""),
	}}
	if err := e.Observe(&b); err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(want) < 3 {
		t.Fatalf("the engine raised %d alerts, want at least 3:\n%s", len(want), buf.String())
	}
	waitFor(t, "all sent", func() bool { return p.Stats().Sent == uint64(len(want)) })
	_, got := rc.got()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("alert %d:\n got %s\nwant %s", i, got[i], want[i])
		}
		if !strings.Contains(got[i], `"key":"3f2a9c1b7d4e"`) {
			t.Errorf("the key's fingerprint did not reach the webhook: %s", got[i])
		}
	}
}

// A receiver that answers garbage: the failure is retried like a network
// error, and the reason handed to OnGiveUp holds no control characters.
func TestMalformedResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for range 10 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Read(make([]byte, 4096))
			_, _ = c.Write([]byte("\x1b[2J\x1b]0;pwned\x07HTTP/9 nope\r\n\r\n"))
			c.Close()
		}
	}()
	reasons := make(chan error, 1)
	o := fast("http://" + ln.Addr().String() + "/")
	o.MaxRetries = -1 // no retries
	o.OnGiveUp = func(err error) { reasons <- err }
	p := mustNew(t, o)
	start(t, p)
	_ = p.Alert(alert(1))
	select {
	case r := <-reasons:
		if msg := r.Error(); strings.ContainsAny(msg, "\x1b\x07\r\n") {
			t.Errorf("reason holds control characters: %q", msg)
		}
		var g *GiveUpError
		if !errors.As(r, &g) || g.Attempts != 1 || g.ID != 1 {
			t.Errorf("reason %#v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no give-up")
	}
	if s := p.Stats(); s != (Stats{Failed: 1}) {
		t.Errorf("stats %+v", s)
	}
}
