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
