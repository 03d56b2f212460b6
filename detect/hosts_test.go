package detect

import "testing"

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
