package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/keys"
)

var t0 = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

// collect is a Sink that keeps what it gets.
type collect struct {
	reqs   int
	alerts []Alert
}

func (c *collect) Request(*Request) error { c.reqs++; return nil }
func (c *collect) Alert(a *Alert) error   { c.alerts = append(c.alerts, *a); return nil }

func newTestEngine(t *testing.T, mod func(*Config)) (*Engine, *collect) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com", "*.example.com", "api.example.com:8443", "[::1]:8080"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	if mod != nil {
		mod(&cfg)
	}
	c := &collect{}
	e, err := NewEngine(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// rq builds a request at t0+at seconds.
func rq(at float64, host, key string) Request {
	return Request{
		Time:    t0.Add(time.Duration(at * float64(time.Second))),
		Source:  "test",
		Client:  netip.MustParseAddrPort("10.0.0.7:51234"),
		Method:  "GET",
		Host:    host,
		HasHost: host != "",
		Target:  "/v1/items",
		Proto:   "HTTP/1.1",
		Key:     key,
	}
}

func feed(t *testing.T, e *Engine, reqs ...Request) {
	t.Helper()
	if err := e.Observe(&Batch{Source: "test", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
}

func subjects(as []Alert, det string) []string {
	var out []string
	for _, a := range as {
		if a.Detector == det {
			s := a.Subject
			if a.Dimension != "" {
				s += "/" + a.Dimension
			}
			out = append(out, s)
		}
	}
	return out
}

func TestUnexpectedHost(t *testing.T) {
	tests := []struct {
		name  string
		host  string
		proto string
		want  string // subject, "" = no alert
	}{
		{"exact_name", "api.example.com", "", ""},
		{"name_any_port", "api.example.com:9999", "", ""},
		{"mixed_case", "API.Example.COM", "", ""},
		{"trailing_dot", "api.example.com.", "", ""},
		{"trailing_dot_port", "api.example.com.:80", "", ""},
		{"wildcard_sub", "eu.example.com", "", ""},
		{"wildcard_deep", "a.b.example.com:8080", "", ""},
		{"wildcard_not_apex", "example.com", "", "example.com"},
		{"wildcard_not_suffix_trick", "evilexample.com", "", "evilexample.com"},
		{"foreign_domain", "evil.rebind.test", "", "evil.rebind.test"},
		{"foreign_keeps_port", "Evil.Rebind.Test.:8080", "", "evil.rebind.test:8080"},
		{"localhost", "localhost", "", "localhost"},
		{"ip_literal_port", "127.0.0.1:8080", "", "127.0.0.1:8080"},
		{"ipv6_allowed_port", "[::1]:8080", "", ""},
		{"ipv6_other_port", "[::1]:9090", "", "[::1]:9090"},
		{"ipv6_no_port", "[::1]", "", "[::1]"},
		{"missing_http11", "", "HTTP/1.1", "(missing)"},
		{"missing_http10", "", "HTTP/1.0", ""},
		{"empty_host_header", "\x00", "", "\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			r := rq(0, tc.host, "")
			if tc.proto != "" {
				r.Proto = tc.proto
			}
			feed(t, e, r)
			got := subjects(c.alerts, DetUnexpectedHost)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("Host %q: got alerts %q, want none", tc.host, got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("Host %q: got %q, want [%q]", tc.host, got, tc.want)
			}
		})
	}
}

func TestHostPortPattern(t *testing.T) {
	e, c := newTestEngine(t, func(c *Config) { c.AllowedHosts = []string{"api.example.com:8443"} })
	feed(t, e, rq(0, "api.example.com:8443", ""), rq(1, "api.example.com", ""), rq(2, "api.example.com:443", ""))
	if got := subjects(c.alerts, DetUnexpectedHost); fmt.Sprint(got) != "[api.example.com api.example.com:443]" {
		t.Errorf("name:port pattern: got %q", got)
	}
}

func TestNoAllowedHostsSaysSo(t *testing.T) {
	e, c := newTestEngine(t, func(c *Config) { c.AllowedHosts = nil })
	feed(t, e, rq(0, "evil.rebind.test", ""))
	if len(c.alerts) != 0 {
		t.Errorf("with no allowed hosts: got %d alerts, want none", len(c.alerts))
	}
	if e.Snapshot().HostCheck == "" {
		t.Error("with no allowed hosts the snapshot must say the Host check is off")
	}
}

func TestBlindSourceSkipsHost(t *testing.T) {
	e, c := newTestEngine(t, nil)
	r := rq(0, "", "")
	r.Blind = BlindHost | BlindOrigin
	feed(t, e, r)
	if len(c.alerts) != 0 {
		t.Errorf("a source without a Host field must not raise unexpected_host: %v", c.alerts)
	}
	if off := e.Snapshot().Sources[0].Off; len(off) == 0 {
		t.Error("the source must be reported with its detectors off")
	}
}

func TestForeignOrigin(t *testing.T) {
	referer := func(c *Config) { c.CheckReferer = true }
	tests := []struct {
		name, origin, referer string
		mod                   func(*Config)
		want                  string
	}{
		{"allowed", "https://app.example.com", "", nil, ""},
		{"allowed_default_port", "https://APP.example.com:443", "", nil, ""},
		{"other_port", "https://app.example.com:8443", "", nil, "https://app.example.com:8443"},
		{"other_scheme", "http://app.example.com", "", nil, "http://app.example.com"},
		{"foreign", "http://evil.rebind.test", "", nil, "http://evil.rebind.test"},
		{"foreign_default_port_dropped", "HTTP://Evil.Rebind.Test:80", "", nil, "http://evil.rebind.test"},
		{"null", "null", "", nil, "null"},
		{"null_allowed", "null", "", func(c *Config) { c.AllowNull = true }, ""},
		{"referer_fallback", "", "http://evil.rebind.test/page?x=1", referer, "http://evil.rebind.test"},
		{"referer_allowed", "", "https://app.example.com/x", referer, ""},
		{"referer_own_host", "", "http://api.example.com:8080/docs", referer, ""},
		{"referer_allowed_host", "", "https://eu.example.com/page", referer, ""},
		{"referer_off_by_default", "", "http://evil.rebind.test/page", nil, ""},
		{"no_allowlist_no_check", "http://evil.rebind.test", "", func(c *Config) { c.AllowedOrigins = nil }, ""},
		{"no_allowlist_rebinding_service", "http://7f000001.c0a80001.rbndr.us", "", func(c *Config) { c.AllowedOrigins = nil }, "http://7f000001.c0a80001.rbndr.us"},
		{"origin_wins_over_referer", "https://app.example.com", "http://evil.rebind.test/", nil, ""},
		{"wildcard_origin", "https://x.example.org", "", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.org"} }, ""},
		{"any_port_origin", "http://localhost:5173", "", func(c *Config) { c.AllowedOrigins = []string{"http://localhost:*"} }, ""},
		{"any_port_origin_default", "http://localhost", "", func(c *Config) { c.AllowedOrigins = []string{"http://localhost:*"} }, ""},
		{"any_port_origin_other_scheme", "https://localhost:5173", "", func(c *Config) { c.AllowedOrigins = []string{"http://localhost:*"} }, "https://localhost:5173"},
		{"wildcard_origin_apex", "https://example.org", "", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.org"} }, "https://example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, tc.mod)
			r := rq(0, "api.example.com", "")
			r.Origin, r.HasOrigin, r.Referer = tc.origin, tc.origin != "", tc.referer
			feed(t, e, r)
			got := subjects(c.alerts, DetForeignOrigin)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Errorf("got %q, want none", got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("got %q, want [%q]", got, tc.want)
			case tc.referer != "" && tc.origin == "" && len(got) == 1 && c.alerts[0].Severity != SeverityLow:
				t.Errorf("a Referer is weak evidence: severity %s, want low", c.alerts[0].Severity)
			}
		})
	}
}

// burst sends n requests on key, one every step seconds from start.
func burst(start, step float64, n int, key string) []Request {
	out := make([]Request, n)
	for i := range out {
		out[i] = rq(start+float64(i)*step, "api.example.com", key)
	}
	return out
}

// perSecond sends n requests in each of secs whole seconds, as a log with
// second timestamps shows them.
func perSecond(n, secs int, key string) []Request {
	var out []Request
	for s := range secs {
		for range n {
			out = append(out, rq(float64(s), "api.example.com", key))
		}
	}
	return out
}

func TestKeyBurstBoundary(t *testing.T) {
	tests := []struct {
		name  string
		reqs  []Request
		count int
	}{
		{"exactly_max", burst(0, 0.01, 100, "k1"), 0},
		{"one_more", burst(0, 0.01, 101, "k1"), 1},
		{"window_slides", burst(0, 0.11, 300, "k1"), 0},        // 100 per 11 s: never 101 within 10 s
		{"just_inside_window", burst(0, 0.0999, 101, "k1"), 1}, // 101 within 9.99 s
		{"two_keys_split", append(burst(0, 0.01, 60, "k1"), burst(1, 0.01, 60, "k2")...), 0},
		// The counter is bucketed (burstState): wherever the window starts
		// against the buckets, the threshold holds.
		{"steady_at_limit", burst(0.37, 0.1, 900, "k1"), 0},         // 10/s for 90 s: exactly 100 in any 10 s
		{"steady_over_limit", burst(0.37, 0.0995, 900, "k1"), 1},    // 101 within 9.95 s, once
		{"unaligned_inside", burst(0.3131, 0.0999, 101, "k1"), 1},   // 101 within 9.99 s
		{"unaligned_outside", burst(0.3131, 0.10001, 101, "k1"), 0}, // 101 within 10.001 s
		{"log_seconds_at_limit", perSecond(10, 60, "k1"), 0},        // a log's whole seconds: 10 in each
		{"log_seconds_over_limit", perSecond(11, 60, "k1"), 1},
		{"late_inside", append(burst(5, 0.05, 100, "k1"), rq(4.99, "api.example.com", "k1")), 1},
		{"late_outside", append(burst(15, 0.05, 100, "k1"), rq(4.99, "api.example.com", "k1")), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			feed(t, e, tc.reqs...)
			if got := len(subjects(c.alerts, DetKeyBurst)); got != tc.count {
				t.Errorf("got %d burst alerts, want %d", got, tc.count)
			}
		})
	}
}

func TestKeyBurstRearms(t *testing.T) {
	e, c := newTestEngine(t, func(c *Config) { c.Dedupe = 30 * time.Second })
	feed(t, e, burst(0, 0.01, 150, "k1")...)   // episode 1
	feed(t, e, burst(20, 0.01, 150, "k1")...)  // quiet >10 s, then episode 2 inside dedupe
	feed(t, e, burst(100, 0.01, 150, "k1")...) // episode 3 after dedupe: a new alert
	got := subjects(c.alerts, DetKeyBurst)
	if len(got) != 2 {
		t.Fatalf("got %d burst alerts, want 2 (the second episode only counts)", len(got))
	}
	snap := e.Snapshot()
	var counts []int
	for _, a := range snap.Alerts {
		counts = append(counts, a.Count)
	}
	if fmt.Sprint(counts) != "[1 2]" {
		t.Errorf("alert counts newest first = %v, want [1 2]", counts)
	}
	if len(c.alerts[0].Evidence) == 0 || c.alerts[0].Evidence[0].Key != "k1" {
		t.Error("a burst alert must carry the key's requests as evidence")
	}
}

func TestKeySpread(t *testing.T) {
	hosts := func(n int) []Request {
		var out []Request
		for i := range n {
			out = append(out, rq(float64(i), fmt.Sprintf("h%d.example.com", i), "k1"))
		}
		return out
	}
	clients := func(n int, step float64) []Request {
		var out []Request
		for i := range n {
			r := rq(float64(i)*step, "api.example.com", "k2")
			r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i)}), 40000)
			out = append(out, r)
		}
		return out
	}
	tests := []struct {
		name string
		reqs []Request
		want []string
	}{
		{"three_hosts", hosts(3), nil},
		{"four_hosts", hosts(4), []string{"k1/host"}},
		{"twenty_clients", clients(20, 1), nil},
		{"twentyone_clients", clients(21, 1), []string{"k2/client"}},
		{"clients_outside_window", clients(21, 31), nil}, // 21 clients over 620 s > 10 min window
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			feed(t, e, tc.reqs...)
			if got := subjects(c.alerts, DetKeySpread); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDedupeCounts(t *testing.T) {
	e, c := newTestEngine(t, nil)
	feed(t, e, rq(0, "evil.test", ""), rq(30, "evil.test", ""), rq(59, "evil.test", ""), rq(61, "evil.test", ""))
	if len(c.alerts) != 2 {
		t.Fatalf("got %d alerts, want 2 (one, then one after the 60 s dedupe)", len(c.alerts))
	}
	if got := e.Snapshot().Alerts[1].Count; got != 3 {
		t.Errorf("first alert count = %d, want 3", got)
	}
	if got := e.Summary().Alerts[DetUnexpectedHost]; got != 2 {
		t.Errorf("summary counts %d unexpected_host alerts, want 2", got)
	}
}

func TestSeverityRisesWithEvidence(t *testing.T) {
	e, c := newTestEngine(t, nil)
	plain := rq(0, "a.evil.test", "")
	keyed := rq(0, "b.evil.test", "k1")
	served := rq(0, "c.evil.test", "k1")
	served.Status, served.Target = 200, "/admin/users"
	feed(t, e, plain, keyed, served)
	want := []Severity{SeverityMedium, SeverityHigh, SeverityCritical}
	var hostAlerts []Alert
	for _, a := range c.alerts {
		if a.Detector == DetUnexpectedHost {
			hostAlerts = append(hostAlerts, a)
		}
	}
	if len(hostAlerts) != len(want) {
		t.Fatalf("%d unexpected_host alerts, want %d", len(hostAlerts), len(want))
	}
	for i, a := range hostAlerts {
		if a.Severity != want[i] {
			t.Errorf("%s: severity %s, want %s", a.Subject, a.Severity, want[i])
		}
	}
}

func TestCapsEvict(t *testing.T) {
	e, _ := newTestEngine(t, func(c *Config) { c.Limits.Keys = 10; c.Limits.Values = 5; c.Limits.Alerts = 3 })
	var reqs []Request
	for i := range 50 {
		r := rq(float64(i), fmt.Sprintf("x%d.evil.test", i), fmt.Sprintf("key%d", i))
		r.Client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), 40000) // one key each: no stuffing
		reqs = append(reqs, r)
	}
	feed(t, e, reqs...)
	s := e.Snapshot()
	if len(s.Keys) != 10 || s.Evicted["keys"] != 40 {
		t.Errorf("keys: %d tracked, %d evicted; want 10, 40", len(s.Keys), s.Evicted["keys"])
	}
	if len(s.Hosts) != 5 || s.Evicted["hosts"] != 45 {
		t.Errorf("hosts: %d tracked, %d evicted; want 5, 45", len(s.Hosts), s.Evicted["hosts"])
	}
	if len(s.Alerts) != 3 || s.Evicted["alerts"] != 47 {
		t.Errorf("alerts: %d kept, %d evicted; want 3, 47", len(s.Alerts), s.Evicted["alerts"])
	}
	if s.AlertsByDetector[DetUnexpectedHost] != 50 {
		t.Errorf("alert totals must count evicted alerts too")
	}
}

func TestAllowMarksAlerts(t *testing.T) {
	e, c := newTestEngine(t, nil)
	feed(t, e, rq(0, "evil.test", ""))
	e.Allow("host", "Evil.Test")
	feed(t, e, rq(1, "evil.test", ""), rq(100, "evil.test", ""))
	if len(c.alerts) != 1 {
		t.Errorf("after allowing, got %d alerts, want 1", len(c.alerts))
	}
	s := e.Snapshot()
	if !s.Alerts[0].Allowed || fmt.Sprint(s.AddedHosts) != "[evil.test]" {
		t.Errorf("alert allowed=%v, added=%v", s.Alerts[0].Allowed, s.AddedHosts)
	}
}

// TestAllowRefusesWhatCannotMatch: Allow refuses a value no allowlist
// entry can match as sent (a quote, raw UTF-8) and says why, so the
// dashboard never says "allowed" while the status stays foreign; an
// internationalised Origin allowed is matched in punycode.
func TestAllowRefusesWhatCannotMatch(t *testing.T) {
	e, c := newTestEngine(t, nil)
	for _, h := range []string{`evil"x.test`, "bücher.example", "a b.test"} {
		feed(t, e, rq(0, h, ""))
		if err := e.Allow("host", h); err == nil {
			t.Errorf("Allow(host, %q) accepted", h)
		}
	}
	if err := e.Allow("origin", "https://bücher.example"); err == nil {
		t.Error("Allow(origin, raw UTF-8) accepted")
	}
	if err := e.Allow("origin", `https://evil"x.test`); err == nil {
		t.Error(`Allow(origin, https://evil"x.test) accepted`)
	}
	s := e.Snapshot()
	if len(s.AddedHosts)+len(s.AddedOrigins) != 0 {
		t.Errorf("refused values were added: %v %v", s.AddedHosts, s.AddedOrigins)
	}
	for _, h := range s.Hosts {
		if h.Allowed {
			t.Errorf("host %q shown allowed", h.Value)
		}
	}
	n := len(c.alerts)
	feed(t, e, rq(100, `evil"x.test`, ""))
	if len(c.alerts) == n {
		t.Error("a refused Host no longer alerts")
	}
}

func TestKeyDetail(t *testing.T) {
	e, _ := newTestEngine(t, nil)
	r := rq(0, "api.example.com", "k1")
	r2 := rq(1, "eu.example.com", "k1")
	r2.Origin, r2.HasOrigin = "https://app.example.com", true
	feed(t, e, r, r2, rq(2, "api.example.com", "k1"))
	d, ok := e.KeyDetail("k1")
	if !ok || d.Stat.Requests != 3 || len(d.Hosts) != 2 || d.Hosts[0].Value != "api.example.com" || len(d.Origins) != 1 || len(d.Recent) != 3 {
		t.Errorf("detail = %+v", d)
	}
}

func BenchmarkEngineObserve(b *testing.B) {
	cfg := DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com", "*.example.com"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	e, _ := NewEngine(cfg)
	fps := make([]string, 64)
	for i := range fps {
		fps[i] = keys.Fingerprint("", fmt.Sprint("key", i))
	}
	batch := make([]Request, 256)
	proto := rq(0, "api.example.com", "")
	proto.Origin, proto.HasOrigin = "https://app.example.com", true
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		for j := range batch {
			r := proto
			r.Time = t0.Add(time.Duration(i+j) * time.Millisecond)
			r.Key = fps[(i+j)%len(fps)]
			batch[j] = r
		}
		n := min(len(batch), b.N-i)
		e.Observe(&Batch{Source: "bench", Requests: batch[:n]})
		i += n
	}
}

// TestReorderMergesSources feeds two sources whose batches interleave out of
// time order: with a reorder window the burst (101 requests within 10 s when
// merged) is found exactly as in one time-ordered stream.
func TestReorderMergesSources(t *testing.T) {
	a := burst(0, 0.1, 60, "k1")    // 0 .. 5.9 s
	b := burst(0.05, 0.1, 41, "k1") // 0.05 .. 4.05 s
	for _, window := range []time.Duration{0, 5 * time.Second} {
		e, c := newTestEngine(t, nil)
		e.SetReorder(window)
		in := make(chan Batch, 4)
		in <- Batch{Source: "a.log", Requests: a[:30]}
		in <- Batch{Source: "b.log", Requests: b}
		in <- Batch{Source: "a.log", Requests: a[30:]}
		close(in)
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		got := len(subjects(c.alerts, DetKeyBurst))
		if got != 1 {
			t.Errorf("window %v: %d burst alerts, want 1", window, got)
		}
		if window > 0 && !c.alerts[0].Time.Equal(t0.Add(5900*time.Millisecond)) {
			// merged in time order, the 101st request is the last, at 5.9 s
			t.Errorf("window %v: burst at %v, want at +5.9s", window, c.alerts[0].Time.Sub(t0))
		}
	}
}

func TestReload(t *testing.T) {
	e, c := newTestEngine(t, nil)
	e.Allow("host", "kept.test")
	bad := DefaultConfig()
	bad.BurstMax = 0
	if err := e.Reload(bad); err == nil {
		t.Fatal("an invalid config must be refused")
	}
	next := DefaultConfig()
	next.AllowedHosts = []string{"new.example.com"}
	next.BurstMax = 5
	if err := e.Reload(next); err != nil {
		t.Fatal(err)
	}
	feed(t, e, rq(0, "new.example.com", ""), rq(1, "kept.test", ""), rq(2, "api.example.com", ""))
	feed(t, e, burst(10, 0.1, 6, "k9")...)
	if got := subjects(c.alerts, DetUnexpectedHost); fmt.Sprint(got) != "[api.example.com]" {
		t.Errorf("after reload, host alerts %q, want only the host no longer allowed", got)
	}
	if len(subjects(c.alerts, DetKeyBurst)) != 1 {
		t.Error("the new burst threshold must apply")
	}
}

func TestServedAndClasses(t *testing.T) {
	e, c := newTestEngine(t, nil)
	scan := rq(0, "203.0.113.9", "")
	scan.Target, scan.Status = "/.env", 404
	rebind := rq(1, "evil.rebind.test:8080", "k1")
	rebind.Status, rebind.Target = 200, "/v1/admin/users"
	blocked := rq(2, "blocked.test", "")
	blocked.Status = 421
	feed(t, e, scan, rebind, blocked)
	got := map[string]Alert{}
	for _, a := range c.alerts {
		got[a.Detector+" "+a.Subject] = a
	}
	if a := got["unexpected_host 203.0.113.9"]; a.Class != ClassScanner || a.Severity != SeverityLow || a.Outcome != OutcomeOther {
		t.Errorf("scanner: %+v", a)
	}
	if a := got["unexpected_host evil.rebind.test:8080"]; a.Class != ClassRebinding || a.Outcome != OutcomeServed {
		t.Errorf("rebinding: %+v", a)
	}
	if a, ok := got["host_served evil.rebind.test:8080"]; !ok || a.Severity != SeverityCritical || !strings.Contains(a.Message, "200 for GET /v1/admin/users") {
		t.Errorf("host_served missing or wrong: %+v", a)
	}
	if a := got["unexpected_host blocked.test"]; a.Outcome != OutcomeBlocked {
		t.Errorf("blocked: %+v", a)
	}
	if _, ok := got["host_served blocked.test"]; ok {
		t.Error("a blocked request is not served")
	}
	if _, ok := got["host_served 203.0.113.9"]; ok {
		t.Error("a 404 is not served")
	}
}

func TestAbsoluteFormHostWins(t *testing.T) {
	e, c := newTestEngine(t, nil)
	r := rq(0, "api.example.com", "")
	r.Target, r.URIHost = "http://evil.rebind.test/x", "evil.rebind.test"
	ok := rq(1, "evil.other", "")
	ok.Target, ok.URIHost = "http://api.example.com/x", "api.example.com"
	feed(t, e, r, ok)
	if got := subjects(c.alerts, DetUnexpectedHost); fmt.Sprint(got) != "[evil.rebind.test]" {
		t.Errorf("got %q", got)
	}
	if !strings.Contains(c.alerts[0].Message, "absolute-form") {
		t.Errorf("message %q should say the Host header differs", c.alerts[0].Message)
	}
}

// TestBurstLateEventIsNotABurst: an event older than the key's recent ones
// (merged files, stream order) must not look like a burst.
func TestBurstLateEventIsNotABurst(t *testing.T) {
	e, c := newTestEngine(t, nil)
	reqs := burst(100, 1, 100, "k1") // 100 requests over 99 s: no burst
	reqs = append(reqs, rq(0, "api.example.com", "k1"))
	feed(t, e, reqs...)
	if n := len(subjects(c.alerts, DetKeyBurst)); n != 0 {
		t.Errorf("a late event raised %d bursts", n)
	}
}

// TestProtectedServers: a capture that also holds the attacker's own web
// server's traffic (a gateway's, a client's): with [capture] servers, only
// requests to ours are detected on, so an alert's key and outcome are
// those of the requests that reached our API.
func TestProtectedServers(t *testing.T) {
	e, c := newTestEngine(t, func(c *Config) { c.Servers = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	theirs := rq(0, "attacker.rebind.test", "")
	theirs.Server, theirs.Status = netip.MustParseAddrPort("203.0.113.10:80"), 200
	ours := rq(1, "attacker.rebind.test:8080", "k1")
	ours.Server, ours.Status, ours.Target = netip.MustParseAddrPort("127.0.0.1:8080"), 200, "/admin"
	feed(t, e, theirs, ours)
	got := subjects(c.alerts, DetUnexpectedHost)
	if len(got) != 1 || c.alerts[0].Key != "k1" || c.alerts[0].Outcome != OutcomeServed || c.alerts[0].Target != "/admin" {
		t.Fatalf("alerts %+v", c.alerts)
	}
	s := e.Snapshot()
	if s.Requests != 1 || s.Counters["requests_other_servers"] != 1 || len(s.Recent) != 2 {
		t.Errorf("requests %d, other servers %d, recent %d", s.Requests, s.Counters["requests_other_servers"], len(s.Recent))
	}
}

// Run gives every observed batch's request array back, emptied, once the
// sinks have had the requests.
func TestRunRecyclesRequestArrays(t *testing.T) {
	e, err := NewEngine(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	spare := make(chan []Request, 1)
	in := make(chan Batch, 1)
	reqs := []Request{{Time: time.Unix(1, 0), Method: "GET", Target: "/", Host: "a", HasHost: true}}
	in <- Batch{Source: "t", Requests: reqs, Spare: spare}
	close(in)
	if err := e.Run(in); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-spare:
		if len(got) != 0 || cap(got) != 1 || &got[:1][0] != &reqs[0] {
			t.Fatalf("got back len %d cap %d, another array", len(got), cap(got))
		}
		if reqs[0].Host != "" {
			t.Fatal("the array came back still pointing at the requests' strings")
		}
	default:
		t.Fatal("Run did not give the array back")
	}
	if s := e.Summary(); s.Requests != 1 {
		t.Fatalf("requests = %d", s.Requests)
	}
}
