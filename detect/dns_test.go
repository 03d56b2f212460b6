package detect

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func answer(at float64, name string, ttl uint32, addrs ...string) DNSAnswer {
	a := DNSAnswer{
		Time:   t0.Add(time.Duration(at * float64(time.Second))),
		Source: "test",
		Client: netip.MustParseAddrPort("10.0.0.7:40000"),
		Server: netip.MustParseAddrPort("10.0.0.53:53"),
		Name:   name,
		TTL:    ttl,
	}
	for _, s := range addrs {
		a.Addrs = append(a.Addrs, netip.MustParseAddr(s))
	}
	return a
}

func TestPrivateAddr(t *testing.T) {
	for s, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "172.32.0.1": false, "192.168.1.1": true,
		"169.254.169.254": true, "100.64.0.1": true, "100.128.0.1": false, "0.0.0.0": true, "::1": true,
		"fc00::1": true, "fd12::1": true, "fe80::1": true, "::ffff:127.0.0.1": true, "93.184.216.34": false, "2001:db8::1": false,
	} {
		if got := PrivateAddr(netip.MustParseAddr(s)); got != want {
			t.Errorf("PrivateAddr(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestDNSPrivateAnswer(t *testing.T) {
	tests := []struct {
		name    string
		answers []DNSAnswer
		want    []string // subjects
		sev     Severity
	}{
		{"public", []DNSAnswer{answer(0, "www.example.com", 300, "93.184.216.34")}, nil, 0},
		{"private_long_ttl", []DNSAnswer{answer(0, "evil.rebind.test", 300, "127.0.0.1")}, []string{"evil.rebind.test"}, SeverityMedium},
		{"private_short_ttl", []DNSAnswer{answer(0, "Evil.Rebind.Test.", 1, "192.168.1.10")}, []string{"evil.rebind.test"}, SeverityHigh},
		{"flip", []DNSAnswer{answer(0, "evil.rebind.test", 1, "93.184.216.34"), answer(2, "evil.rebind.test", 1, "127.0.0.1")}, []string{"evil.rebind.test"}, SeverityCritical},
		{"internal_suffix", []DNSAnswer{answer(0, "db.internal", 1, "10.0.0.5")}, nil, 0},
		{"cname_localhost", []DNSAnswer{func() DNSAnswer { a := answer(0, "x.evil.test", 1); a.CNAMEs = []string{"localhost."}; return a }()}, []string{"x.evil.test"}, SeverityHigh},
		// The service's own names may resolve to private addresses: internal
		// APIs and split-horizon DNS do (the test engine allows
		// api.example.com and *.example.com).
		{"allowed_name_private", []DNSAnswer{answer(0, "api.example.com", 30, "127.0.0.1")}, nil, 0},
		{"allowed_wildcard_private", []DNSAnswer{answer(0, "EU.Example.COM.", 30, "10.0.0.8")}, nil, 0},
		{"allowed_name_case_0x20", []DNSAnswer{answer(0, "aPi.ExAmPlE.cOm", 1, "192.168.1.2")}, nil, 0},
		{"zero_address_bypass", []DNSAnswer{answer(0, "evil.rebind.test", 1, "0.0.0.0")}, []string{"evil.rebind.test"}, SeverityHigh},
		{"v6_unspecified", []DNSAnswer{answer(0, "evil.rebind.test", 300, "::")}, []string{"evil.rebind.test"}, SeverityMedium},
		{"rebinding_service", []DNSAnswer{answer(0, "7f000001.5db8d822.rbndr.us", 300, "127.0.0.1")}, []string{"7f000001.5db8d822.rbndr.us"}, SeverityCritical},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			if err := e.Observe(&Batch{Source: "test", DNS: tc.answers}); err != nil {
				t.Fatal(err)
			}
			got := subjects(c.alerts, DetDNSPrivateAnswer)
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if len(got) > 0 && c.alerts[0].Severity != tc.sev {
				t.Errorf("severity %s, want %s", c.alerts[0].Severity, tc.sev)
			}
		})
	}
}

func TestDNSRebindChain(t *testing.T) {
	req := func(at float64, server string) Request {
		r := rq(at, "evil.rebind.test:8080", "")
		r.Server = netip.MustParseAddrPort(server)
		return r
	}
	tests := []struct {
		name string
		dns  []DNSAnswer
		reqs []Request
		want int
	}{
		{"chain", []DNSAnswer{answer(0, "evil.rebind.test", 300, "93.184.216.34"), answer(5, "evil.rebind.test", 1, "127.0.0.1")}, []Request{req(6, "127.0.0.1:8080")}, 1},
		{"private_within_ttl", []DNSAnswer{answer(0, "evil.rebind.test", 1, "127.0.0.1")}, []Request{req(30, "127.0.0.1:8080")}, 1},
		{"private_expired_no_flip", []DNSAnswer{answer(0, "evil.rebind.test", 1, "127.0.0.1")}, []Request{req(300, "127.0.0.1:8080")}, 0},
		{"public_server", []DNSAnswer{answer(0, "evil.rebind.test", 1, "127.0.0.1")}, []Request{req(1, "93.184.216.34:80")}, 0},
		{"no_dns", nil, []Request{req(1, "127.0.0.1:8080")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, nil)
			if err := e.Observe(&Batch{Source: "test", DNS: tc.dns, Requests: tc.reqs}); err != nil {
				t.Fatal(err)
			}
			got := subjects(c.alerts, DetDNSRebind)
			if len(got) != tc.want {
				t.Fatalf("got %q, want %d dns_rebind alerts", got, tc.want)
			}
			// Every dns_rebind alert, wherever it falls among the
			// alerts the same requests raise.
			for _, al := range c.alerts {
				if al.Detector != DetDNSRebind {
					continue
				}
				a, ok := e.AlertDetail(al.ID)
				if !ok || len(a.DNS) == 0 || len(a.Evidence) == 0 || a.Severity != SeverityCritical {
					t.Errorf("dns_rebind alert must carry DNS answers and requests: %+v (found %v)", a, ok)
				}
			}
		})
	}
}

// With no allowed hosts the engine cannot tell the service's own internal
// names from an attacker's: a name that only ever resolved privately
// (split-horizon DNS, an internal API) raises nothing; a flip from public to
// private, or a rebinding service's name, still raises the chain.
func TestDNSZeroConfig(t *testing.T) {
	req := func(at float64, host string) Request {
		r := rq(at, host+":8080", "")
		r.Server = netip.MustParseAddrPort("10.0.0.1:8080")
		return r
	}
	rb := "7f000001.5db8d822.rbndr.us"
	tests := []struct {
		name string
		dns  []DNSAnswer
		reqs []Request
		want []string // detectors raised
	}{
		{"internal_only_private", []DNSAnswer{answer(0, "api.corp.test", 2, "10.0.0.1"), answer(3, "api.corp.test", 2, "10.0.0.1")},
			[]Request{req(1, "api.corp.test"), req(4, "api.corp.test")}, nil},
		{"flip", []DNSAnswer{answer(0, "evil.rebind.test", 1, "93.184.216.34"), answer(2, "evil.rebind.test", 1, "10.0.0.1")},
			[]Request{req(3, "evil.rebind.test")}, []string{DetDNSPrivateAnswer, DetDNSRebind}},
		{"rebinding_service", []DNSAnswer{answer(0, rb, 1, "10.0.0.1")},
			[]Request{req(1, rb)}, []string{DetDNSPrivateAnswer, DetDNSRebind}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, c := newTestEngine(t, func(c *Config) { c.AllowedHosts, c.AllowedOrigins = nil, nil })
			if err := e.Observe(&Batch{Source: "test", DNS: tc.dns, Requests: tc.reqs}); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range c.alerts {
				if (a.Detector == DetDNSPrivateAnswer || a.Detector == DetDNSRebind) && !slices.Contains(got, a.Detector) {
					got = append(got, a.Detector)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("raised %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnexpectedSNI(t *testing.T) {
	hello := func(sni string, port uint16) TLSHello {
		return TLSHello{Time: t0, Source: "test", Client: netip.MustParseAddrPort("10.0.0.7:50000"),
			Server: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), port), SNI: sni}
	}
	e, c := newTestEngine(t, nil)
	hellos := []TLSHello{hello("api.example.com", 443), hello("EU.example.com.", 443), hello("api.example.com", 8443),
		hello("evil.rebind.test", 443), hello("", 443), hello("[::1]", 8080)}
	if err := e.Observe(&Batch{Source: "test", TLS: hellos}); err != nil {
		t.Fatal(err)
	}
	if got := subjects(c.alerts, DetUnexpectedSNI); len(got) != 1 || got[0] != "evil.rebind.test" {
		t.Errorf("got %q, want [evil.rebind.test]", got)
	}
}

// TestDNSOwnNameIsNotRebinding: the allowed API name resolving to 127.0.0.1
// and a request to it raise nothing; the same chain under a foreign name,
// asked in DNS 0x20 mixed case, is still found.
func TestDNSOwnNameIsNotRebinding(t *testing.T) {
	e, c := newTestEngine(t, nil)
	own := rq(1, "api.example.com:8080", "k1")
	own.Server = netip.MustParseAddrPort("127.0.0.1:8080")
	foreign := rq(3, "Evil.Rebind.Test:8080", "k1")
	foreign.Server = own.Server
	b := Batch{Source: "test",
		DNS:      []DNSAnswer{answer(0, "api.example.com", 1, "127.0.0.1"), answer(2, "EvIl.ReBiNd.TeSt", 1, "127.0.0.1")},
		Requests: []Request{own, foreign}}
	if err := e.Observe(&b); err != nil {
		t.Fatal(err)
	}
	if got := subjects(c.alerts, DetDNSPrivateAnswer); len(got) != 1 || got[0] != "evil.rebind.test" {
		t.Errorf("dns_private_answer %q, want only the foreign name", got)
	}
	if got := subjects(c.alerts, DetDNSRebind); len(got) != 1 || got[0] != "evil.rebind.test" {
		t.Errorf("dns_rebind %q, want only the foreign name", got)
	}
}
