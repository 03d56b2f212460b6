package suggest

import (
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
)

// FuzzCollector: whatever Host, Origin and Referer bytes arrive, the
// suggestion parses with config.Parse, writes no fingerprint, and proposes a
// fuzzed Host only when it is a plain DNS name.
func FuzzCollector(f *testing.F) {
	// Seeds from the recordings (testdata/rec) and hostile spellings.
	for _, s := range [][3]string{
		{"api.rebind.test", "https://app.rebind.test", "https://app.rebind.test/dashboard"},
		{"api.rebind.test:8080", "", ""},
		{"EVIL.Rebind.Test.:8080", "http://evil.rebind.test", "http://evil.rebind.test/page"},
		{"127.0.0.1:8080", "null", "http://evil.rebind.test:8080/steal?x=1"},
		{"eu.api.rebind.test:8080", "https://APP.rebind.test:443", ""},
		{"localhost", "", "android-app://com.example/"},
		{"[::1]:8080", "http://[::1]:3000", "file:///etc/passwd"},
		{"evil\x1b[2J.test", "https://a\"b", "ht tp://x/"},
		{"\xff\xfe", "\u202ehttps://x", "https://u:p@h.test:443/x"},
		{"", "https://*.x.test", "://"},
		{"a.b.c.d:*", "https://x.test:99999", "h://[::1"},
	} {
		f.Add(s[0], s[1], s[2], uint8(0))
	}
	f.Fuzz(func(t *testing.T, h, o, ref string, blindBits uint8) {
		// The allocation-free Referer lookup keys on a prefix that must
		// give the origin the engine derives from the whole Referer.
		want := detect.RefererOrigin(ref)
		if p := refererPrefix(ref); (p == "") != (want == "") || p != "" && detect.NormalizeOrigin(p) != want {
			t.Fatalf("refererPrefix(%q) = %q -> %q, engine %q", ref, p, detect.NormalizeOrigin(p), want)
		}
		c := New(Options{MaxValues: 50, MaxKeys: 50})
		feed := func(r detect.Request) {
			if err := c.Request(&r); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			feed(mk(host("api.example.com"), key(fp(i%3)), origin("https://app.example.com"), at(time.Duration(i)*time.Second)))
		}
		// The fuzzed values carry most of the keyed traffic, so that they
		// are proposed whenever the rules allow it.
		for i := range 30 {
			r := mk(host(h), key(fp(i%3)), at(time.Duration(i)*time.Millisecond))
			if o != "" {
				r.Origin, r.HasOrigin = o, true
			}
			r.Referer = ref
			r.Blind = detect.Blindness(blindBits) & (detect.BlindHost | detect.BlindOrigin | detect.BlindReferer | detect.BlindKey)
			feed(r)
		}
		feed(mk(host(h), origin(o), referer(ref)))
		feed(mk(noHost(), referer(ref), key(fp(5))))
		out := c.Config("fuzz\x1b" + h)
		cfg, err := config.Parse("suggested.toml", []byte(out))
		if err != nil {
			t.Fatalf("suggestion does not parse: %v\n%s", err, out)
		}
		if strings.Contains(out, "\x1b") {
			t.Fatal("raw escape in output")
		}
		// Fingerprints are never written (unless the fuzzed text itself
		// spells one: fp(i) is "f" and ten zeros before its digit).
		if !strings.Contains(h+o+ref, "0000") {
			for i := range 6 {
				if strings.Contains(out, fp(i)) {
					t.Fatal("fingerprint in output")
				}
			}
		}
		for _, a := range cfg.Hosts.Allowed {
			name, _ := detect.SplitHostPort(a)
			name = strings.TrimPrefix(name, "*.")
			if !validHostName(name) || isIPLiteral(name) || isLocalhost(name) {
				t.Fatalf("proposed %q", a)
			}
		}
	})
}
