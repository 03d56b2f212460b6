package ui

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// fakeBackend returns fixed snapshots and records the controls it receives.
type fakeBackend struct {
	mu        sync.Mutex
	snap      detect.Snapshot
	alerts    map[uint64]detect.Alert
	incidents map[string]detect.IncidentDetail
	keys      map[string]detect.KeyDetail
	allowed   [][2]string
	clears    int
	snaps     int
	queries   []detect.Query
	panicOn   bool // Snapshot panics (to test the crash path)
}

// SnapshotFor returns the fixed snapshot, its clock at q.Now when that is
// later (as the engine does), and records the query.
func (f *fakeBackend) SnapshotFor(q detect.Query) detect.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicOn {
		panic("fake backend: boom")
	}
	f.snaps++
	f.queries = append(f.queries, q)
	s := f.snap
	s.Now = s.EventTime
	if q.Now.After(s.Now) {
		s.Now = q.Now
	}
	if s.Activity.Step == 0 {
		s.Activity = fakeActivity(&s, q)
	}
	return s
}

// fakeActivity is the engine's timeline as far as a fixed snapshot can
// tell: its last 60 s of History and its alerts, in q.Buckets buckets.
func fakeActivity(s *detect.Snapshot, q detect.Query) detect.Activity {
	n := q.Buckets
	if n <= 0 {
		n = 60
	}
	step := time.Duration((60+n-1)/n) * time.Second
	end := s.Now.Truncate(time.Second).Add(time.Second)
	a := detect.Activity{Start: end.Add(-step * time.Duration(n)), Step: step, Requests: make([]float64, n), Alerts: make([][]int, n)}
	for i, c := range s.History {
		if b := a.Bucket(end.Add(time.Duration(i-len(s.History)) * time.Second)); b >= 0 {
			a.Requests[b] += c
		}
	}
	for _, al := range s.Alerts {
		b := a.Bucket(al.Time)
		d := slices.Index(detect.Detectors, al.Detector)
		if b < 0 || d < 0 {
			continue
		}
		if a.Alerts[b] == nil {
			a.Alerts[b] = make([]int, len(detect.Detectors))
		}
		a.Alerts[b][d]++
	}
	return a
}

// Snapshot is SnapshotFor with the engine's default query (tests).
func (f *fakeBackend) Snapshot() detect.Snapshot { return f.SnapshotFor(detect.Query{}) }

// lastQuery is the query of the latest snapshot taken.
func (f *fakeBackend) lastQuery() detect.Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		return detect.Query{}
	}
	return f.queries[len(f.queries)-1]
}

func (f *fakeBackend) IncidentDetail(id string) (detect.IncidentDetail, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.incidents[id]
	return d, ok
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
	f.snap.Alerts, f.snap.Incidents = nil, nil
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
		Incidents: []detect.Incident{
			{ID: "inc-5", Opened: ago(8 * time.Second), Last: ago(2 * time.Second), Severity: detect.SeverityCritical,
				Detectors: []string{detect.DetKeyBurst, detect.DetKeySpread}, Subject: fpEvil,
				Keys: []string{fpEvil}, Clients: []string{"10.0.0.7"}, Alerts: []uint64{5, 6}, Count: 4},
			{ID: "inc-3", Opened: ago(20 * time.Second), Last: ago(2 * time.Second), Severity: detect.SeverityMedium,
				Detectors: []string{detect.DetForeignOrigin}, Subject: "null",
				Keys: []string{fpApp}, Clients: []string{"10.0.0.9"}, Alerts: []uint64{4}, Count: 7},
			{ID: "inc-2", Opened: ago(40 * time.Second), Last: ago(0), Severity: detect.SeverityCritical,
				Detectors: []string{detect.DetUnexpectedHost, detect.DetHostServed, detect.DetForeignOrigin, detect.DetDNSRebind},
				Outcome:   detect.OutcomeServed, Class: detect.ClassRebinding, Subject: "evil.rebind.test", Names: []string{"evil.rebind.test"},
				Keys: []string{fpEvil}, Clients: []string{"10.0.0.7"}, Alerts: []uint64{8, 2, 3, 7}, Count: 34},
			{ID: "inc-1", Opened: ago(70 * time.Second), Last: ago(50 * time.Second), Severity: detect.SeverityLow,
				Detectors: []string{detect.DetUnexpectedHost}, Outcome: detect.OutcomeOther, Class: detect.ClassScanner,
				Subject: "192.168.1.50:8080", Names: []string{"192.168.1.50"}, Clients: []string{"10.0.0.12"}, Alerts: []uint64{1}, Count: 2},
		},
		IncidentsOpened: 5,
		Recent:          recent,
		Sources: []detect.SourceStatus{
			{Name: "demo.pcap", State: detect.StateReplaying, Done: 450_000, Total: 1_000_000, Requests: 1234, Off: []string{}, Blind: []detect.Blind{}},
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
func demoBackend() *fakeBackend { return backendFor(demoSnapshot()) }

// backendFor is a fake backend over s with alert evidence, incident
// details and key details.
func backendFor(s detect.Snapshot) *fakeBackend {
	f := &fakeBackend{snap: s, alerts: map[uint64]detect.Alert{}, keys: map[string]detect.KeyDetail{}, incidents: map[string]detect.IncidentDetail{}}
	for _, a := range s.Alerts {
		switch a.Detector {
		case detect.DetKeyStuffing, detect.DetPrivateNetworkPreflight:
			a.Evidence = []detect.Request{s.Recent[7]}
		case detect.DetDNSRebind:
			// What the engine once sent with a DNS alert: a request with
			// nothing in it. It must not show as a blank "(no Host)" row.
			a.Evidence = []detect.Request{{}, s.Recent[0]}
		default:
			a.Evidence = []detect.Request{s.Recent[1], s.Recent[0]}
		}
		f.alerts[a.ID] = a
	}
	for _, inc := range s.Incidents {
		d := detect.IncidentDetail{Incident: inc}
		for _, id := range inc.Alerts {
			d.Alerts = append(d.Alerts, f.alerts[id])
		}
		d.Timeline = detect.Timeline(d.Alerts...)
		f.incidents[inc.ID] = d
	}
	for _, k := range s.Keys {
		d := detect.KeyDetail{Key: k.Key, Stat: k, History: s.History}
		if k.Key == fpEvil {
			d.Hosts = []detect.Count{{Value: "evil.rebind.test", N: 400}, {Value: "evil.rebind.test:8080", N: 150}, {Value: "localhost:5000", N: 50}, {Value: "7f000001.c0a80132.rbndr.us", N: 40}}
			d.Clients = []detect.Count{{Value: "10.0.0.7", N: 600}, {Value: "10.0.0.8", N: 40}}
			d.Origins = []detect.Count{{Value: "http://evil.rebind.test"}, {Value: "http://7f000001.c0a80132.rbndr.us"}} // the engine keeps no counts
			for _, r := range s.Recent {
				if r.Key == fpEvil {
					d.Recent = append(d.Recent, r)
				}
			}
		}
		f.keys[k.Key] = d
	}
	return f
}

// serviceSnapshot adds what the new detectors raise to the demo: a
// rebinding service's name (rbndr, its addresses decoded) as a Host and
// as the page behind a granted Private Network Access preflight, and a
// client trying 14 keys, 12 of them refused.
func serviceSnapshot() detect.Snapshot {
	s := demoSnapshot()
	rb := "7f000001.c0a80132.rbndr.us"
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.168.1.50")}
	svc := []detect.Alert{
		{ID: 21, Time: ago(5 * time.Second), LastSeen: ago(5 * time.Second), Detector: detect.DetPrivateNetworkPreflight, Severity: detect.SeverityCritical,
			Subject: "http://" + rb, Key: fpEvil, Client: "10.0.0.7", Host: "api.example.com", Origin: "http://" + rb, Count: 1,
			Outcome: detect.OutcomeGranted, Class: detect.ClassRebindingService, Tool: detect.ToolRbndr, Addrs: addrs, Incident: "inc-7",
			Message: "a page at http://" + rb + " asked the browser to reach this private server; the server granted it"},
		{ID: 22, Time: ago(6 * time.Second), LastSeen: ago(1 * time.Second), Detector: detect.DetKeyStuffing, Severity: detect.SeverityHigh,
			Subject: "203.0.113.66", Client: "203.0.113.66", Key: "0000feedbeef", Count: 3, Keys: 14, Rejected: 12, Incident: "inc-8",
			Message: "client 203.0.113.66 presented more than 10 distinct keys within 5m0s; the server refused 12 of them"},
		{ID: 20, Time: ago(6 * time.Second), LastSeen: ago(6 * time.Second), Detector: detect.DetUnexpectedHost, Severity: detect.SeverityCritical,
			Subject: rb, Key: fpEvil, Client: "10.0.0.7", Host: rb, Origin: "http://" + rb, Target: "/", Status: 502, Count: 1,
			Outcome: detect.OutcomeOther, Class: detect.ClassRebindingService, Tool: detect.ToolRbndr, Addrs: addrs, Incident: "inc-7",
			Message: "Host " + rb + " is a rbndr rebinding name (127.0.0.1, 192.168.1.50)"},
	}
	s.Alerts = append(svc, s.Alerts...)
	s.Incidents = append([]detect.Incident{
		{ID: "inc-7", Opened: ago(6 * time.Second), Last: ago(5 * time.Second), Severity: detect.SeverityCritical,
			Detectors: []string{detect.DetUnexpectedHost, detect.DetPrivateNetworkPreflight}, Outcome: detect.OutcomeGranted,
			Class: detect.ClassRebindingService, Subject: rb, Names: []string{rb}, Keys: []string{fpEvil}, Clients: []string{"10.0.0.7"},
			Alerts: []uint64{20, 21}, Count: 2},
		{ID: "inc-8", Opened: ago(6 * time.Second), Last: ago(1 * time.Second), Severity: detect.SeverityHigh,
			Detectors: []string{detect.DetKeyStuffing}, Subject: "203.0.113.66", Keys: []string{"0000feedbeef"},
			Clients: []string{"203.0.113.66"}, Alerts: []uint64{22}, Count: 3},
	}, s.Incidents...)
	s.AlertsByDetector[detect.DetPrivateNetworkPreflight] = 1
	s.AlertsByDetector[detect.DetKeyStuffing] = 1
	s.AlertsByDetector[detect.DetUnexpectedHost]++
	return s
}

// zeroConfigSnapshot is a first run without a config: no allowlist, so the
// Host and Origin checks are off; only key and DNS detectors fire; an
// origin seen only in Referers (check_referer).
func zeroConfigSnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.HostCheck = "off: no allowed hosts configured ([hosts] allowed or --allow-host)"
	s.OriginCheck = "off: no allowed origins configured ([origins] allowed or --allow-origin)"
	s.AllowedHosts, s.AllowedOrigins, s.AddedHosts = nil, nil, nil
	var alerts []detect.Alert
	for _, a := range s.Alerts {
		if a.Detector == detect.DetKeyBurst || a.Detector == detect.DetKeySpread || a.Detector == detect.DetDNSRebind {
			alerts = append(alerts, a)
		}
	}
	s.Alerts = alerts
	s.Incidents = []detect.Incident{s.Incidents[0], s.Incidents[2]}
	s.Incidents[1].Detectors = []string{detect.DetDNSRebind}
	s.Incidents[1].Alerts = []uint64{8}
	s.AlertsByDetector = map[string]int{detect.DetKeyBurst: 1, detect.DetKeySpread: 1, detect.DetDNSRebind: 1}
	for i := range s.Hosts {
		s.Hosts[i].Allowed = false
	}
	for i := range s.Origins {
		s.Origins[i].Allowed = false
	}
	s.Origins = append(s.Origins, detect.ValueStat{Value: "https://docs.example.org", Requests: 12, Keys: 2, LastSeen: ago(9 * time.Second), FromReferer: true})
	return s
}

func withProposal(f func() Proposal) testOpt { return func(o *Options) { o.Proposal = f } }

// demoProposal is what package suggest proposes for the demo's traffic.
func demoProposal() Proposal {
	return Proposal{Requests: 1234, Keyed: 1200, Keys: 4,
		Hosts: []ProposalEntry{
			{Value: "api.example.com", Proposed: true, Requests: 900, Keyed: 880, Keys: 3, Ports: []string{"8443"}},
			{Value: "*.api.example.com", Proposed: true, Requests: 120, Keyed: 120, Keys: 3, Members: []string{"us.api.example.com", "eu.api.example.com", "ap.api.example.com"}},
			{Value: "evil.rebind.test", Requests: 200, Keyed: 200, Keys: 1, Ports: []string{"8080"}, Reason: "a single key (the service's names are used by several)"},
			{Value: "localhost", Requests: 64, Keyed: 64, Keys: 1, Ports: []string{"5000"}, Reason: "localhost: only pages on the server itself use it; looks like a scanner or a rebinding attempt"},
			{Value: "192.168.1.50", Requests: 30, Ports: []string{"8080"}, Reason: "IP literal: looks like a scanner or a rebinding attempt"},
		},
		Origins: []ProposalEntry{
			{Value: "https://app.example.com", Proposed: true, Requests: 500, Keyed: 500, Keys: 2},
			{Value: "http://evil.rebind.test", Requests: 150, Keyed: 150, Keys: 1, Reason: "a single key (the service's own front ends are used by several)"},
			{Value: "https://docs.example.org", Referer: 12, Reason: "seen only in a Referer (no Origin header)"},
		}}
}

// blindSnapshot is a followed combined log run with --allow-host: the
// allowlist is there, but the log has no Host, Origin or key column.
func blindSnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.Alerts, s.Incidents, s.Hosts, s.Origins, s.Keys, s.AlertsByDetector = nil, nil, nil, nil, nil, map[string]int{}
	s.AddedHosts = nil
	s.AllowedHosts = []string{"api.example.com"}
	s.OriginCheck = "off: no allowed origins configured ([origins] allowed or --allow-origin)"
	s.Sources = []detect.SourceStatus{{Name: "/var/log/nginx/access.log", State: detect.StateFollowing, Requests: 1234,
		Note: "format: combined (auto-detected)",
		Off: []string{"unexpected_host: the source has no Host field", "foreign_origin: the source has no Origin field",
			"key_burst, key_spread: the source has no key field"},
		Blind: []detect.Blind{{Detectors: []string{detect.DetUnexpectedHost}, Field: "Host"},
			{Detectors: []string{detect.DetForeignOrigin}, Field: "Origin"},
			{Detectors: []string{detect.DetKeyBurst, detect.DetKeySpread}, Field: "key"}}}}
	for i := range s.Recent {
		s.Recent[i].Host, s.Recent[i].HasHost, s.Recent[i].Origin, s.Recent[i].HasOrigin, s.Recent[i].Key = "", false, "", false, ""
		s.Recent[i].Blind = detect.BlindHost | detect.BlindOrigin | detect.BlindKey
	}
	return s
}

// lookalikeSnapshot has names that pass for others: a Cyrillic letter in a
// Latin name, a name wholly in Cyrillic look-alikes, and two long names
// that differ only in their ends.
func lookalikeSnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.AllowedHosts = append(s.AllowedHosts, "app.example.test:8443")
	s.Hosts = []detect.ValueStat{
		{Value: "app.example.test:8443", Requests: 400, Keys: 3, Allowed: true, LastSeen: ago(0)},
		{Value: "app.example.test.evil.net", Requests: 7, Keys: 1, LastSeen: ago(3 * time.Second)},
		{Value: "pаypal.example.com", Requests: 5, Keys: 1, LastSeen: ago(4 * time.Second)},
		{Value: "аррӏе.com:8443", Requests: 2, Keys: 1, LastSeen: ago(9 * time.Second)},
	}
	s.Origins = []detect.ValueStat{
		{Value: "https://app.example.test:8443", Requests: 300, Keys: 3, Allowed: true, LastSeen: ago(0)},
		{Value: "https://app.example.test.evil.net", Requests: 7, Keys: 1, LastSeen: ago(3 * time.Second)},
		{Value: "https://аpp.example.test", Requests: 3, Keys: 1, LastSeen: ago(5 * time.Second)},
	}
	s.Recent = []detect.Request{
		fxRequest(0, "10.0.0.7:51234", "GET", "app.example.test:8443", "/api/v1/items", "https://app.example.test:8443", fpApp, 200),
		fxRequest(3*time.Second, "10.0.0.8:40000", "GET", "app.example.test.evil.net", "/api/v1/keys", "https://app.example.test.evil.net", fpEvil, 200),
		fxRequest(4*time.Second, "10.0.0.8:40001", "GET", "pаypal.example.com", "/api/v1/keys", "https://аpp.example.test", fpEvil, 403),
	}
	return s
}
