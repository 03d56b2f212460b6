package ui

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// fakeBackend returns fixed snapshots and records the controls it receives.
type fakeBackend struct {
	mu      sync.Mutex
	snap    detect.Snapshot
	alerts  map[uint64]detect.Alert
	keys    map[string]detect.KeyDetail
	allowed [][2]string
	clears  int
	snaps   int
	panicOn bool // Snapshot panics (to test the crash path)
}

func (f *fakeBackend) Snapshot() detect.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicOn {
		panic("fake backend: boom")
	}
	f.snaps++
	return f.snap
}

func (f *fakeBackend) AlertDetail(id uint64) (detect.Alert, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.alerts[id]
	return a, ok
}

func (f *fakeBackend) KeyDetail(fp string) (detect.KeyDetail, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.keys[fp]
	return d, ok
}

func (f *fakeBackend) Allow(kind, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.ContainsAny(value, "\" ") {
		return fmt.Errorf("%q is not a host name", value)
	}
	f.allowed = append(f.allowed, [2]string{kind, value})
	return nil
}

func (f *fakeBackend) ClearAlerts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clears++
}

func (f *fakeBackend) setSnap(s detect.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap = s
}

// Fixture time: every time in the fixture is relative to the event clock.
var fxNow = time.Date(2026, 11, 26, 21, 1, 10, 0, time.UTC)

func ago(d time.Duration) time.Time { return fxNow.Add(-d) }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

const (
	fpEvil  = "3f2a9c1b7d4e"
	fpApp   = "a1b2c3d4e5f6"
	fpBatch = "0badc0ffee00"
	fpOld   = "9e8d7c6b5a43"
)

func fxRequest(d time.Duration, client, method, host, target, origin, key string, status int) detect.Request {
	return detect.Request{
		Time: ago(d), Source: "pcap", Client: ap(client), Server: ap("10.0.0.1:80"),
		Method: method, Host: host, HasHost: host != "", Target: target, Proto: "HTTP/1.1",
		Origin: origin, HasOrigin: origin != "", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
		Key: key, Status: status,
	}
}

// demoSnapshot is a mid-run replay of the demo capture: a rebinding attack
// from evil.rebind.test (foreign Host, foreign Origin), a null origin, a
// burst and a spread on one key, and an allowlist addition not yet saved.
func demoSnapshot() detect.Snapshot {
	hist := make([]float64, 60)
	for i := range hist {
		hist[i] = float64(3 + i%4)
	}
	for i := 40; i < 50; i++ {
		hist[i] = float64(20 + (i-40)*13)
	}
	hist[59] = 37
	recent := []detect.Request{
		fxRequest(0, "10.0.0.7:51234", "GET", "evil.rebind.test", "/admin/export?format=csv", "http://evil.rebind.test", fpEvil, 200),
		fxRequest(1*time.Second, "10.0.0.7:51233", "GET", "evil.rebind.test:8080", "/api/v1/users", "http://evil.rebind.test", fpEvil, 200),
		fxRequest(2*time.Second, "10.0.0.9:40100", "POST", "api.example.com", "/api/v1/orders", "null", fpApp, 201),
		fxRequest(2*time.Second, "10.0.0.12:33000", "GET", "api.example.com", "/api/v1/items?page=2", "https://app.example.com", fpBatch, 200),
		fxRequest(3*time.Second, "10.0.0.7:51230", "GET", "localhost:5000", "/api/v1/keys", "", fpEvil, 403),
		fxRequest(4*time.Second, "10.0.0.12:33001", "GET", "api.example.com", "/healthz", "", "", 200),
		fxRequest(5*time.Second, "[2001:db8::7]:443", "DELETE", "api.example.com", "/api/v1/items/17", "https://app.example.com", fpApp, 204),
		fxRequest(6*time.Second, "10.0.0.7:51228", "GET", "7f000001.c0a80132.rbndr.us", "/", "http://7f000001.c0a80132.rbndr.us", fpEvil, 502),
	}
	return detect.Snapshot{
		EventTime: fxNow,
		Requests:  1234,
		RateNow:   37,
		History:   hist,
		AlertsByDetector: map[string]int{
			detect.DetUnexpectedHost: 2, detect.DetHostServed: 1, detect.DetForeignOrigin: 2, detect.DetKeyBurst: 1, detect.DetKeySpread: 1,
			detect.DetDNSRebind: 1,
		},
		Alerts: []detect.Alert{
			{ID: 6, Time: ago(2 * time.Second), LastSeen: ago(2 * time.Second), Detector: detect.DetKeySpread, Severity: detect.SeverityHigh,
				Subject: fpEvil, Dimension: "host", Key: fpEvil, Client: "10.0.0.7", Host: "7f000001.c0a80132.rbndr.us",
				Message: "key " + fpEvil + " seen under 4 Host values in 10m", Count: 1},
			{ID: 5, Time: ago(8 * time.Second), LastSeen: ago(3 * time.Second), Detector: detect.DetKeyBurst, Severity: detect.SeverityCritical,
				Subject: fpEvil, Key: fpEvil, Client: "10.0.0.7", Host: "evil.rebind.test", Message: "key " + fpEvil + " made 150 requests in 10s (limit 100)", Count: 3},
			{ID: 4, Time: ago(20 * time.Second), LastSeen: ago(2 * time.Second), Detector: detect.DetForeignOrigin, Severity: detect.SeverityMedium,
				Subject: "null", Key: fpApp, Client: "10.0.0.9", Host: "api.example.com", Origin: "null", Target: "/api/v1/orders",
				Message: "Origin null is not allowed", Count: 7},
			{ID: 3, Time: ago(35 * time.Second), LastSeen: ago(0), Detector: detect.DetUnexpectedHost, Severity: detect.SeverityCritical,
				Subject: "evil.rebind.test", Key: fpEvil, Client: "10.0.0.7", Host: "evil.rebind.test", Origin: "http://evil.rebind.test",
				Target: "/admin/export?format=csv", Status: 200, Message: "Host evil.rebind.test is not an allowed name; the server answered 200", Count: 12,
				Outcome: detect.OutcomeServed, Class: detect.ClassRebinding},
			{ID: 2, Time: ago(36 * time.Second), LastSeen: ago(1 * time.Second), Detector: detect.DetForeignOrigin, Severity: detect.SeverityHigh,
				Subject: "http://evil.rebind.test", Key: fpEvil, Client: "10.0.0.7", Host: "evil.rebind.test", Origin: "http://evil.rebind.test",
				Message: "Origin http://evil.rebind.test is not allowed", Count: 9},
			{ID: 7, Time: ago(34 * time.Second), LastSeen: ago(0), Detector: detect.DetHostServed, Severity: detect.SeverityCritical,
				Subject: "evil.rebind.test", Key: fpEvil, Client: "10.0.0.7", Host: "evil.rebind.test", Origin: "http://evil.rebind.test",
				Target: "/admin/export?format=csv", Status: 200, Outcome: detect.OutcomeServed, Count: 12,
				Message: "Host evil.rebind.test was served (200 for GET /admin/export?format=csv): the application does not validate Host"},
			{ID: 8, Time: ago(40 * time.Second), LastSeen: ago(40 * time.Second), Detector: detect.DetDNSRebind, Severity: detect.SeverityCritical,
				Subject: "evil.rebind.test", Client: "10.0.0.7", Host: "evil.rebind.test", Count: 1,
				Message: "evil.rebind.test answered 203.0.113.66 then 127.0.0.1 (TTL 1s): DNS rebinding",
				DNS: []detect.DNSAnswer{
					{Time: ago(61 * time.Second), Client: ap("10.0.0.7:5353"), Server: ap("10.0.0.53:53"), Name: "evil.rebind.test",
						Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.66")}, TTL: 1},
					{Time: ago(40 * time.Second), Client: ap("10.0.0.7:5353"), Server: ap("10.0.0.53:53"), Name: "evil.rebind.test",
						CNAMEs: []string{"a.rbndr.us"}, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, TTL: 1, Private: true, Flipped: true},
				}},
			{ID: 1, Time: ago(70 * time.Second), LastSeen: ago(50 * time.Second), Detector: detect.DetUnexpectedHost, Severity: detect.SeverityLow,
				Subject: "192.168.1.50:8080", Client: "10.0.0.12", Host: "192.168.1.50:8080", Message: "Host 192.168.1.50:8080 is not an allowed name",
				Count: 2, Allowed: true, Outcome: detect.OutcomeOther, Class: detect.ClassScanner},
		},
		Keys: []detect.KeyStat{
			{Key: fpBatch, Requests: 250, RateNow: 2.5, PeakRate: 6, Hosts: 1, Clients: 3, Origins: 1, FirstSeen: ago(5 * time.Minute), LastSeen: ago(2 * time.Second)},
			{Key: fpEvil, Requests: 640, RateNow: 30, PeakRate: 150, Hosts: 4, Clients: 2, Origins: 2, FirstSeen: ago(4 * time.Minute), LastSeen: ago(0),
				Fired: []string{detect.DetUnexpectedHost, detect.DetHostServed, detect.DetForeignOrigin, detect.DetKeyBurst, detect.DetKeySpread}},
			{Key: fpOld, Requests: 44, PeakRate: 2, Hosts: 1, Clients: 1, FirstSeen: ago(9 * time.Minute), LastSeen: ago(5 * time.Minute)},
			{Key: fpApp, Requests: 300, RateNow: 4, PeakRate: 9, Hosts: 1, Clients: 1, Origins: 2, FirstSeen: ago(5 * time.Minute), LastSeen: ago(2 * time.Second),
				Fired: []string{detect.DetForeignOrigin}},
		},
		Hosts: []detect.ValueStat{
			{Value: "evil.rebind.test", Requests: 200, Keys: 1, LastSeen: ago(0)},
			{Value: "api.example.com", Requests: 900, Keys: 3, Allowed: true, LastSeen: ago(2 * time.Second)},
			{Value: "7f000001.c0a80132.rbndr.us", Requests: 40, Keys: 1, LastSeen: ago(6 * time.Second)},
			{Value: "192.168.1.50:8080", Requests: 30, Keys: 0, Allowed: true, LastSeen: ago(50 * time.Second)},
			{Value: "localhost:5000", Requests: 64, Keys: 1, LastSeen: ago(3 * time.Second)},
		},
		Origins: []detect.ValueStat{
			{Value: "https://app.example.com", Requests: 500, Keys: 2, Allowed: true, LastSeen: ago(2 * time.Second)},
			{Value: "null", Requests: 20, Keys: 1, LastSeen: ago(2 * time.Second)},
			{Value: "http://evil.rebind.test", Requests: 150, Keys: 1, LastSeen: ago(0)},
		},
		Recent: recent,
		Sources: []detect.SourceStatus{
			{Name: "demo.pcap", State: detect.StateReplaying, Done: 450_000, Total: 1_000_000, Requests: 1234},
		},
		ParseErrors:    0,
		Evicted:        map[string]uint64{"keys": 0},
		Counters:       map[string]uint64{"truncated_packets": 2},
		AllowedHosts:   []string{"api.example.com", "192.168.1.50:8080"},
		AllowedOrigins: []string{"https://app.example.com"},
		AddedHosts:     []string{"192.168.1.50:8080"},
	}
}

// demoBackend is a fake backend over demoSnapshot with alert evidence and
// key details.
func demoBackend() *fakeBackend {
	s := demoSnapshot()
	f := &fakeBackend{snap: s, alerts: map[uint64]detect.Alert{}, keys: map[string]detect.KeyDetail{}}
	for _, a := range s.Alerts {
		a.Evidence = []detect.Request{s.Recent[1], s.Recent[0]}
		f.alerts[a.ID] = a
	}
	for _, k := range s.Keys {
		d := detect.KeyDetail{Key: k.Key, Stat: k, History: s.History}
		if k.Key == fpEvil {
			d.Hosts = []detect.Count{{Value: "evil.rebind.test", N: 400}, {Value: "evil.rebind.test:8080", N: 150}, {Value: "localhost:5000", N: 50}, {Value: "7f000001.c0a80132.rbndr.us", N: 40}}
			d.Clients = []detect.Count{{Value: "10.0.0.7", N: 600}, {Value: "10.0.0.8", N: 40}}
			d.Origins = []detect.Count{{Value: "http://evil.rebind.test", N: 590}, {Value: "http://7f000001.c0a80132.rbndr.us", N: 40}}
			d.Recent = []detect.Request{s.Recent[0], s.Recent[1], s.Recent[4], s.Recent[7]}
		}
		f.keys[k.Key] = d
	}
	return f
}
