package detect

import (
	"net/netip"
	"slices"
	"testing"
)

// collectIncidents is a sink that keeps alerts and incident news.
type collectIncidents struct {
	collect
	news []Incident
}

func (c *collectIncidents) Incident(i *Incident) error { c.news = append(c.news, *i); return nil }

// TestRebindingAttackIsOneIncident: DNS answer, ClientHello, foreign Host
// served, foreign Origin: five detectors, one incident; a burst on another
// key is another.
func TestRebindingAttackIsOneIncident(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	cfg.BurstMax = 5
	c := &collectIncidents{}
	e, err := NewEngine(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	srv := netip.MustParseAddrPort("127.0.0.1:8080")
	attack := rq(2, "evil.rebind.test:8080", "k1")
	attack.Server, attack.Status = srv, 200
	attack.Origin, attack.HasOrigin = "http://evil.rebind.test:8080", true
	hello := TLSHello{Time: t0.Add(1500e6), Source: "test", Client: attack.Client, Server: srv, SNI: "EVIL.rebind.test"}
	b := Batch{Source: "test", DNS: []DNSAnswer{answer(0, "evil.rebind.test", 1, "93.184.216.34"), answer(1, "evil.rebind.test", 1, "127.0.0.1")},
		TLS: []TLSHello{hello}, Requests: append([]Request{attack}, burst(10, 0.1, 6, "k2")...)}
	if err := e.Observe(&b); err != nil {
		t.Fatal(err)
	}
	byInc := map[string][]string{}
	for _, a := range c.alerts {
		if a.Incident == "" {
			t.Fatalf("alert %s has no incident", a.Detector)
		}
		byInc[a.Incident] = append(byInc[a.Incident], a.Detector)
	}
	if len(byInc) != 2 {
		t.Fatalf("incidents %v, want 2 (the attack, the burst)", byInc)
	}
	s := e.Snapshot()
	var attackInc Incident
	for _, inc := range s.Incidents {
		if slices.Contains(inc.Detectors, DetDNSRebind) {
			attackInc = inc
		}
	}
	want := []string{DetUnexpectedHost, DetHostServed, DetForeignOrigin, DetDNSPrivateAnswer, DetDNSRebind, DetUnexpectedSNI}
	if !slices.Equal(attackInc.Detectors, want) || attackInc.Severity != SeverityCritical || attackInc.Outcome != OutcomeServed ||
		!slices.Equal(attackInc.Names, []string{"evil.rebind.test"}) || attackInc.Count != 6 {
		t.Errorf("attack incident %+v", attackInc)
	}
	// News: each incident opened once; the attack's escalated as served
	// and dns_rebind raised it.
	var opened int
	for _, n := range c.news {
		if n.Change == IncidentOpened {
			opened++
		}
	}
	if opened != 2 || c.news[len(c.news)-1].Change == "" {
		t.Errorf("incident news %+v", c.news)
	}
	// The last news of each incident is the whole of it: every detector
	// that joined was news, even at the same severity.
	lastNews := map[string]Incident{}
	for _, n := range c.news {
		lastNews[n.ID] = n
	}
	if got := lastNews[attackInc.ID]; !slices.Equal(got.Detectors, want) {
		t.Errorf("the attack's last incident news lists %v, want %v", got.Detectors, want)
	}
	d, ok := e.IncidentDetail(attackInc.ID)
	if !ok || len(d.Alerts) != 6 {
		t.Fatalf("detail: %v, %d alerts", ok, len(d.Alerts))
	}
	var kinds []string
	for _, x := range d.Timeline {
		switch {
		case x.DNS != nil:
			kinds = append(kinds, "dns")
		case x.TLS != nil:
			kinds = append(kinds, "tls")
		case x.Request != nil:
			kinds = append(kinds, "request")
		}
	}
	if !slices.Equal(kinds, []string{"dns", "dns", "tls", "request"}) {
		t.Errorf("timeline %v, want the two answers, the hello and the request once, in time order", kinds)
	}
}

// TestIncidentWindow: the same name after the de-duplication window is a
// new incident.
func TestIncidentWindow(t *testing.T) {
	e, c := newTestEngine(t, nil)
	feed(t, e, rq(0, "evil.rebind.test", ""), rq(30, "evil.rebind.test:8080", ""), rq(200, "evil.rebind.test", ""))
	var ids []string
	for _, a := range c.alerts {
		ids = append(ids, a.Incident)
	}
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] == ids[2] {
		t.Errorf("incidents %v: want the first two together, the third apart", ids)
	}
}

func TestRebindingServiceWithoutAllowlist(t *testing.T) {
	e, c := newTestEngine(t, func(c *Config) { c.AllowedHosts, c.AllowedOrigins = nil, nil })
	r := rq(0, "7f000001.c0a80001.rbndr.us:8080", "k1")
	r.Status = 200
	feed(t, e, r, rq(1, "evil.rebind.test", "k1"))
	if len(c.alerts) != 2 {
		t.Fatalf("alerts %v, want unexpected_host and host_served for the rbndr name only", subjects(c.alerts, DetUnexpectedHost))
	}
	a := c.alerts[0]
	if a.Detector != DetUnexpectedHost || a.Severity != SeverityCritical || a.Class != ClassRebindingService || a.Tool != ToolRbndr ||
		len(a.Addrs) != 2 || a.Addrs[1] != netip.MustParseAddr("192.168.0.1") {
		t.Errorf("alert %+v", a)
	}
}

func TestPrivateNetworkPreflight(t *testing.T) {
	tests := []struct {
		name         string
		origin       string
		pna, granted bool
		method       string
		want         Severity // -1: none
		outcome      string
	}{
		{"foreign_denied", "https://evil.example.net", true, false, "OPTIONS", SeverityMedium, OutcomeDenied},
		{"foreign_granted", "https://evil.example.net", true, true, "OPTIONS", SeverityHigh, OutcomeGranted},
		{"allowed_origin", "https://app.example.com", true, true, "OPTIONS", -1, ""},
		{"no_pna_header", "https://evil.example.net", false, false, "OPTIONS", -1, ""},
		{"not_a_preflight", "https://evil.example.net", true, false, "GET", -1, ""},
		{"rebinding_page", "http://s-1.2.3.4-127.0.0.1-7-fs-e.attacker.example", true, true, "OPTIONS", SeverityCritical, OutcomeGranted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			r := rq(0, "api.example.com", "")
			r.Method, r.Origin, r.HasOrigin, r.PNARequest, r.PNAGranted = tc.method, tc.origin, true, tc.pna, tc.granted
			feed(t, e, r)
			var got []Alert
			for _, a := range c.alerts {
				if a.Detector == DetPrivateNetworkPreflight {
					got = append(got, a)
				}
			}
			switch {
			case tc.want < 0 && len(got) > 0:
				t.Errorf("got %+v, want none", got)
			case tc.want >= 0 && (len(got) != 1 || got[0].Severity != tc.want || got[0].Outcome != tc.outcome):
				t.Errorf("got %+v, want %s %s", got, tc.want, tc.outcome)
			}
		})
	}
}

// TestKeyStuffing: one client presenting more than max_keys distinct keys
// within the window, most refused; at the threshold, or spread over more
// than the window, nothing.
func TestKeyStuffing(t *testing.T) {
	run := func(n int, step float64, refused int) []Alert {
		e, c := newTestEngine(t, func(c *Config) { c.StuffingMaxKeys = 10 })
		var reqs []Request
		for i := range n {
			r := rq(float64(i)*step, "api.example.com", "key"+string(rune('a'+i)))
			r.Status = 200
			if i < refused {
				r.Status = 401
			}
			reqs = append(reqs, r)
		}
		feed(t, e, reqs...)
		var out []Alert
		for _, a := range c.alerts {
			if a.Detector == DetKeyStuffing {
				out = append(out, a)
			}
		}
		return out
	}
	if got := run(10, 1, 10); len(got) != 0 {
		t.Errorf("10 keys, max 10: %+v", got)
	}
	got := run(11, 1, 8)
	if len(got) != 1 || got[0].Subject != "10.0.0.7" || got[0].Keys != 11 || got[0].Rejected != 8 || got[0].Severity != SeverityHigh {
		t.Errorf("11 keys, 8 refused: %+v", got)
	}
	if got := run(11, 1, 0); len(got) != 1 || got[0].Severity != SeverityMedium {
		t.Errorf("11 keys all accepted: %+v", got)
	}
	if got := run(11, 31, 11); len(got) != 0 { // 11 keys over 310 s: never more than 10 within 5 min
		t.Errorf("11 keys over more than the window: %+v", got)
	}
}

// A fleet's processes number incidents each on its own: a prefix keeps
// their IDs apart.
func TestIncidentPrefix(t *testing.T) {
	e, c := newTestEngine(t, nil)
	e.SetIncidentPrefix("inc-web03-4711-")
	feed(t, e, rq(1, "evil.rebind.test", "k1"))
	if len(c.alerts) == 0 || c.alerts[0].Incident != "inc-web03-4711-1" {
		t.Errorf("alerts %+v", c.alerts)
	}
}
