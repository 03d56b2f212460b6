package detect

import (
	"fmt"
	"testing"
)

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://app.example.com", "https://app.example.com"},
		{"HTTPS://App.Example.COM:443", "https://app.example.com"},
		{"http://a.b:80/", "http://a.b"},
		{"http://a.b:8080/path?q", "http://a.b:8080"},
		{"http://user@a.b", "http://a.b"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://evil.test.", "http://evil.test"},
		{"null", "null"},
		{"NULL", "null"},
	}
	for _, tc := range tests {
		if got := NormalizeOrigin(tc.in); got != tc.want {
			t.Errorf("NormalizeOrigin(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, name, port string }{
		{"a.b", "a.b", ""},
		{"a.b:80", "a.b", "80"},
		{"[::1]", "[::1]", ""},
		{"[::1]:8080", "[::1]", "8080"},
		{"::1", "::1", ""},
		{"[::1", "[::1", ""},
		{"a.b:", "a.b", ""},
	}
	for _, tc := range tests {
		n, p := SplitHostPort(tc.in)
		if n != tc.name || p != tc.port {
			t.Errorf("SplitHostPort(%q) = %q, %q; want %q, %q", tc.in, n, p, tc.name, tc.port)
		}
	}
}

func TestNormalizeHostDoesNotAllocateWhenClean(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = NormalizeHost("api.example.com:8080") }); n != 0 {
		t.Errorf("clean host costs %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = NormalizeOrigin("https://app.example.com") }); n != 0 {
		t.Errorf("clean origin costs %v allocations", n)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"API.example.com.:80", "[::1]:8080", "http://A.b:80/x", "null", "*.a.b", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := NormalizeHost(s)
		if NormalizeHost(h) != h {
			t.Fatalf("NormalizeHost not idempotent: %q -> %q -> %q", s, h, NormalizeHost(h))
		}
		o := NormalizeOrigin(s)
		_ = RefererOrigin(s)
		if p, err := compileHostPattern(s); err == nil {
			n, port := SplitHostPort(h)
			_ = p.match(n, port)
		}
		_ = o
	})
}

func TestHostPatternValidation(t *testing.T) {
	for _, bad := range []string{"[::1", "::1]:80", "host:99999", "host:0", "host:", "ho\\st", "a\u2028b.test", "a\x1b.test", "a\u202e.test", "*.", "a*.test", `a"b.test`,
		// Text after the brackets, a name or a zone in them, empty labels.
		"[::1]x", "[::1]x:80", "[api.test]", "[127.0.0.1]", "[fe80::1%eth0]", "a..b.test", ".a.test", "*..a.test"} {
		if _, err := compileHostPattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for pat, host := range map[string]string{
		"bücher.example":      "xn--bcher-kva.example",
		"BÜCHER.example:8080": "xn--bcher-kva.example:8080",
		"*.bücher.example":    "shop.xn--bcher-kva.example",
		"[::1]:8080":          "[::1]:8080",
		"api.example.com:*":   "api.example.com:9999",
		"_svc.example.com":    "_svc.example.com",
	} {
		l, err := compileHosts([]string{pat})
		if err != nil {
			t.Errorf("%q: %v", pat, err)
			continue
		}
		if !l.allows(host) {
			t.Errorf("%q does not allow %q", pat, host)
		}
	}
}

// TestHostAllowlistIsIndexed: a 100,000-entry allowlist costs a few map
// lookups per Host, not a scan.
func TestHostAllowlistIsIndexed(t *testing.T) {
	var list []string
	for i := range 50_000 {
		list = append(list, fmt.Sprintf("h%d.example.com", i), fmt.Sprintf("*.w%d.example.net", i))
	}
	l, err := compileHosts(list)
	if err != nil {
		t.Fatal(err)
	}
	if !l.allows("h49999.example.com") || !l.allows("a.b.w49999.example.net:443") || l.allows("w1.example.net") || l.allows("x.example.com") {
		t.Fatal("lookups")
	}
	// Indexed, not listed: the benchmark says what a scan costs.
	if len(l.exact) != 50_000 || len(l.wild) != 50_000 {
		t.Errorf("index: %d exact names, %d wildcard domains; want 50000 each", len(l.exact), len(l.wild))
	}
	if n := testing.AllocsPerRun(100, func() { l.allows("a.b.w49999.example.net:443") }); n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}

func BenchmarkHostAllowlist100k(b *testing.B) {
	var list []string
	for i := range 50_000 {
		list = append(list, fmt.Sprintf("h%d.example.com", i), fmt.Sprintf("*.w%d.example.net", i))
	}
	l, _ := compileHosts(list)
	for b.Loop() {
		l.allows("evil.rebind.test:8080")
	}
}

// TestOriginAllowlistIDN: an allowed origin with an internationalised name
// matches the punycode browsers put in Origin, its letters folded like a
// host pattern's; its host is checked by the host pattern rules.
func TestOriginAllowlistIDN(t *testing.T) {
	for pat, origin := range map[string]string{
		"https://bücher.example":      "https://xn--bcher-kva.example",
		"https://BÜCHER.example:8443": "https://xn--bcher-kva.example:8443",
		"https://*.bücher.example":    "https://shop.xn--bcher-kva.example",
		"http://[::1]:8080":           "http://[::1]:8080",
		"HTTPS://App.Example.com:443": "https://app.example.com",
	} {
		l, err := compileOrigins([]string{pat})
		if err != nil {
			t.Errorf("%q: %v", pat, err)
			continue
		}
		if !l.allows(origin) {
			t.Errorf("%q does not allow %q", pat, origin)
		}
	}
	for _, bad := range []string{`https://a"b.test`, "https://a\u2028b.test", "https://a.test:99999", "https://[::1]x", "https://*"} {
		if _, err := compileOrigins([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestOriginAllowlistPorts: what each kind of [origins] entry allows, port
// by port, now that entries are looked up by scheme and host rather than
// tried one by one.
func TestOriginAllowlistPorts(t *testing.T) {
	l, err := compileOrigins([]string{
		"https://app.example.com", "null", "http://localhost:*", "https://*.shop.test",
		"https://*.pay.test:8443", "http://api.example.com:8080",
	})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"https://app.example.com":      true,
		"https://app.example.com:8443": false,
		"http://app.example.com":       false,
		"null":                         true,
		"http://localhost":             true,
		"http://localhost:5173":        true,
		"http://sub.localhost:5173":    false,
		"https://a.shop.test":          true,
		"https://a.b.shop.test":        true,
		"https://shop.test":            false,
		"https://a.shop.test:8443":     false, // no port in the entry: the default only
		"https://a.pay.test:8443":      true,
		"https://a.pay.test":           false,
		"http://api.example.com:8080":  true,
		"http://api.example.com":       false,
		"http://other.test":            false,
		"ftp://a.shop.test":            false,
	} {
		if got := l.allows(origin); got != want {
			t.Errorf("allows(%q) = %v, want %v", origin, got, want)
		}
	}
	every, err := compileOrigins([]string{"https://*:*"})
	if err != nil || !every.allows("https://anything.test:9") || !every.allows("https://a.test") || every.allows("http://a.test") {
		t.Errorf("https://*:* must take every https origin and no other: %v", err)
	}
	if _, err := compileOrigins([]string{"http://localhost:8080:*"}); err == nil {
		t.Error("an origin with two ports accepted")
	}
}

// TestOriginAllowlistIsIndexed: a 100,000-entry [origins] list costs a few
// map lookups per Origin, with no allocation.
func TestOriginAllowlistIsIndexed(t *testing.T) {
	l, err := compileOrigins(hundredThousandOrigins())
	if err != nil {
		t.Fatal(err)
	}
	if !l.allows("https://h49999.example.com") || !l.allows("https://a.b.w49999.example.net") || l.allows("https://w1.example.net") || l.allows("http://h1.example.com") {
		t.Fatal("lookups")
	}
	// Indexed, not listed (a scan of 100,000 entries cost 3 ms an Origin;
	// BenchmarkOriginAllowlist100k).
	if h := l.patterns["https"]; len(l.exact) != 50_000 || h == nil || len(h.wild) != 50_000 {
		t.Errorf("index: %d exact origins, pattern lists for %d schemes", len(l.exact), len(l.patterns))
	}
	if n := testing.AllocsPerRun(100, func() { l.allows("https://a.b.w49999.example.net:443") }); n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}

func hundredThousandOrigins() []string {
	var list []string
	for i := range 50_000 {
		list = append(list, fmt.Sprintf("https://h%d.example.com", i), fmt.Sprintf("https://*.w%d.example.net", i))
	}
	return list
}

func BenchmarkOriginAllowlist100k(b *testing.B) {
	l, _ := compileOrigins(hundredThousandOrigins())
	for b.Loop() {
		l.allows("https://evil.rebind.test:8080")
	}
}
