package suggest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// reqOpt sets one field of a synthetic request.
type reqOpt func(*detect.Request)

func host(h string) reqOpt    { return func(r *detect.Request) { r.Host, r.HasHost = h, true } }
func origin(o string) reqOpt  { return func(r *detect.Request) { r.Origin, r.HasOrigin = o, true } }
func referer(s string) reqOpt { return func(r *detect.Request) { r.Referer = s } }
func key(k string) reqOpt     { return func(r *detect.Request) { r.Key = k } }
func client(a string) reqOpt {
	return func(r *detect.Request) { r.Client = netip.MustParseAddrPort(a) }
}
func at(d time.Duration) reqOpt       { return func(r *detect.Request) { r.Time = t0.Add(d) } }
func blind(b detect.Blindness) reqOpt { return func(r *detect.Request) { r.Blind = b } }
func noHost() reqOpt                  { return func(r *detect.Request) { r.Host, r.HasHost = "", false } }

func mk(opts ...reqOpt) detect.Request {
	r := detect.Request{Time: t0, Method: "GET", Target: "/", Proto: "HTTP/1.1", Client: netip.MustParseAddrPort("10.0.0.1:40000")}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// fp makes the i-th synthetic key fingerprint (12 hex digits).
func fp(i int) string { return fmt.Sprintf("f%011x", i) }

func clientN(i int) string { return fmt.Sprintf("10.%d.%d.%d:5000", i>>16&255, i>>8&255, i&255) }

// repeat returns n requests built by f(i).
func repeat(n int, f func(i int) detect.Request) []detect.Request {
	out := make([]detect.Request, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// service is a regional API used by 40 keys, with scanners on IP literals
// without keys, a rebinding attempt on evil.test (one key, once), Origin
// null, a Referer-only origin and a localhost probe.
func service() []detect.Request {
	var rs []detect.Request
	hosts := []string{"api.example.com", "API.Example.com.", "api.example.com:8443", "eu.api.example.com", "us.api.example.com", "ap.api.example.com"}
	rs = append(rs, repeat(2000, func(i int) detect.Request {
		opts := []reqOpt{host(hosts[i%len(hosts)]), key(fp(i % 40)), at(time.Duration(i) * 300 * time.Millisecond), client(clientN(1 + i%40))}
		switch i % 3 {
		case 0:
			opts = append(opts, origin("https://app.example.com"))
		case 1:
			opts = append(opts, referer("https://app.example.com/dash"))
		}
		return mk(opts...)
	})...)
	for i := range 50 { // scanners: IP literals, no key
		rs = append(rs, mk(host("203.0.113.9"), at(time.Duration(i)*time.Second), client("198.51.100.7:1234")))
		rs = append(rs, mk(host("[2001:db8::1]:80"), at(time.Duration(i)*time.Second), client("198.51.100.7:1234")))
	}
	rs = append(rs, mk(host("evil.test"), key(fp(3)), origin("http://evil.test"), at(30*time.Second), client("192.0.2.50:1")))
	for i := range 5 {
		rs = append(rs, mk(host("api.example.com"), key(fp(i)), origin("null"), at(time.Duration(i)*time.Second)))
		rs = append(rs, mk(host("api.example.com"), key(fp(i)), referer("https://docs.example.org/guide?x=1"), at(time.Duration(i)*time.Second)))
	}
	rs = append(rs, mk(host("localhost:8080"), key(fp(1)), at(40*time.Second)))
	// In event-time order, as a capture delivers them.
	slices.SortStableFunc(rs, func(a, b detect.Request) int { return a.Time.Compare(b.Time) })
	return rs
}

// keyedOn returns n requests to h (with opts) spread over k keys.
func keyedOn(n, k int, h string, opts ...reqOpt) []detect.Request {
	return repeat(n, func(i int) detect.Request {
		return mk(append([]reqOpt{host(h), key(fp(i % k)), at(time.Duration(i) * time.Second), client(clientN(i % k))}, opts...)...)
	})
}

func cat(parts ...[]detect.Request) []detect.Request { return slices.Concat(parts...) }

func suggestOf(t testing.TB, opts Options, rs []detect.Request) (string, config.Config) {
	t.Helper()
	c := New(opts)
	for i := range rs {
		r := rs[i]
		if err := c.Request(&r); err != nil {
			t.Fatal(err)
		}
	}
	out := c.Config("synthetic")
	cfg, err := config.Parse("suggested.toml", []byte(out))
	if err != nil {
		t.Fatalf("suggestion does not parse: %v\n%s", err, out)
	}
	return out, cfg
}

// flat joins wrapped comment lines, so that a test can look for a sentence
// wherever the wrapping broke it.
func flat(out string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "# ") && !strings.HasPrefix(l, `# "`) {
			b.WriteString(strings.TrimPrefix(l, "# "))
			b.WriteByte(' ')
			continue
		}
		b.WriteString("\n" + l + "\n")
	}
	return b.String()
}

// has reports whether out holds s as written or across wrapped comments.
func has(out, s string) bool { return strings.Contains(out, s) || strings.Contains(flat(out), s) }

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	if l == nil {
		l = []string{}
	}
	return l
}

func TestSuggestions(t *testing.T) {
	hostile := []string{"evil\x1b[2J.test", "a\"b.test", "x\ny.test", "\xff\xfe.test", "\u202eevil.test", `back\slash.test`, "sp ace.test", "*.wild.test"}
	for _, tc := range []struct {
		name        string
		reqs        []detect.Request
		hosts       []string
		origins     []string
		contains    []string
		notContains []string
	}{{
		name:    "regional_service",
		reqs:    service(),
		hosts:   []string{"api.example.com", "*.api.example.com"},
		origins: []string{"https://app.example.com"},
		contains: []string{
			`# "203.0.113.9", # 50 requests, none with a key: IP literal: looks like a scanner or a rebinding attempt`,
			`# "[2001:db8::1]", # 50 requests, none with a key; port 80: IP literal`,
			`# "evil.test", # 1 request, 1 with a key, 1 key: a single key`,
			`# "localhost", # 1 request, 1 with a key, 1 key; port 8080: localhost:`,
			`# "http://evil.test", # 1 request with this Origin, 1 with a key, 1 key: a single key`,
			`# "https://docs.example.org", # the Referer of 5 requests without an Origin, 5 with a key: seen only in a Referer`,
			"Origin: null on 5 requests (5 with a key)",
			"allow_null = false",
			"3 names under api.example.com carry keyed traffic",
			"seen as api.example.com, api.example.com:8443: the name without a port matches any port",
			"Keys: 40 distinct keys, on 2012 of 2112 requests (95.3%)",
		},
	}, {
		name: "rebind_one_key_once_small_input",
		// 5% of the keyed requests, but one key once: not the service's.
		reqs:        cat(keyedOn(20, 4, "api.small.test"), []detect.Request{mk(host("evil.test:8080"), key(fp(99)), origin("http://evil.test:8080"))}),
		hosts:       []string{"api.small.test"},
		notContains: []string{`  "evil.test",`},
		contains:    []string{`# "evil.test", # 1 request, 1 with a key, 1 key; port 8080: a single key`},
	}, {
		name:     "port_only",
		reqs:     keyedOn(30, 3, "api.x.test:8443"),
		hosts:    []string{"api.x.test"},
		contains: []string{"seen as api.x.test:8443: the name without a port matches any port"},
	}, {
		name:     "unkeyed_only_name",
		reqs:     cat(keyedOn(30, 3, "api.x.test"), repeat(100, func(i int) detect.Request { return mk(host("status.x.test")) })),
		hosts:    []string{"api.x.test"},
		contains: []string{`# "status.x.test", # 100 requests, none with a key: seen only without a key`},
	}, {
		name:  "two_subdomains_stay_names",
		reqs:  cat(keyedOn(50, 5, "eu.api.x.test"), keyedOn(40, 5, "us.api.x.test")),
		hosts: []string{"eu.api.x.test", "us.api.x.test"},
	}, {
		name:  "wildcard_not_on_public_suffix",
		reqs:  cat(keyedOn(50, 5, "shop.co.uk"), keyedOn(40, 5, "news.co.uk"), keyedOn(40, 5, "mail.co.uk")),
		hosts: []string{"shop.co.uk", "news.co.uk", "mail.co.uk"},
	}, {
		name: "wildcard_notes_what_it_also_covers",
		reqs: cat(keyedOn(50, 5, "eu.api.x.test"), keyedOn(40, 5, "us.api.x.test"), keyedOn(40, 5, "ap.api.x.test"),
			[]detect.Request{mk(host("zz.api.x.test"), key(fp(77)))}),
		hosts:    []string{"*.api.x.test"},
		contains: []string{"Note: it also matches zz.api.x.test (1 request, a single key"},
	}, {
		name:     "single_key_dev_setup",
		reqs:     keyedOn(100, 1, "api.dev.test"),
		hosts:    []string{"api.dev.test"},
		contains: []string{`"api.dev.test", # 100 requests, 100 with a key, 1 key, 100.0% of the keyed requests to names`},
	}, {
		name: "numeric_and_local_hosts",
		reqs: cat(keyedOn(50, 5, "api.x.test"), keyedOn(30, 5, "2130706433"), keyedOn(30, 5, "0x7f.1"), keyedOn(30, 5, "127.1"),
			keyedOn(30, 5, "[::1]:8080"), keyedOn(30, 5, "LOCALHOST."), keyedOn(30, 5, "app.localhost:3000")),
		hosts: []string{"api.x.test"},
		contains: []string{`# "2130706433", # 30 requests, 30 with a key, 5 keys: IP literal`, `# "0x7f.1", #`, `# "127.1", #`,
			`# "[::1]", # 30 requests, 30 with a key, 5 keys; port 8080: IP literal`, `# "localhost", #`, `# "app.localhost", #`},
	}, {
		name: "hostile_bytes_are_listed_not_proposed",
		reqs: func() []detect.Request {
			var rs []detect.Request
			for _, h := range hostile {
				rs = append(rs, keyedOn(10, 5, h, origin("https://"+h))...)
			}
			return append(rs, keyedOn(100, 5, "api.x.test", origin("https://app.x.test"))...)
		}(),
		hosts:       []string{"api.x.test"},
		origins:     []string{"https://app.x.test"},
		contains:    []string{`# "evil\\x1b[2j.test", #`, `# "a\"b.test", #`, `# "x\\ny.test", #`, `# "\\xff\\xfe.test", #`, `# "\\u202eevil.test", #`, "not a valid host name", "not an origin"},
		notContains: []string{"\x1b", "\u202e", "x\ny"},
	}, {
		name:     "no_keys_seen",
		reqs:     repeat(50, func(i int) detect.Request { return mk(host("api.x.test"), origin("https://app.x.test")) }),
		contains: []string{"Keys: no request carried a key", "seen only without a key", "the default 100 is kept", "max_hosts = 3", "max_clients = 20"},
	}, {
		name: "key_and_host_blind_log",
		// A combined log: no Host, Origin or key column; Referers only.
		reqs: cat(
			repeat(50, func(i int) detect.Request {
				return mk(noHost(), blind(detect.BlindHost|detect.BlindOrigin|detect.BlindKey), referer("https://app.x.test/page"))
			}),
			[]detect.Request{mk(noHost(), blind(detect.BlindHost|detect.BlindOrigin|detect.BlindKey), referer("https://other.test/"))}),
		origins:  []string{"https://app.x.test"},
		contains: []string{"Keys: none visible", "The source has no Host field", "The source has no Origin field", `# "https://other.test", #`},
	}, {
		name: "origin_blind_log_with_keys",
		reqs: repeat(60, func(i int) detect.Request {
			return mk(host("api.x.test"), key(fp(i%4)), blind(detect.BlindOrigin), referer("https://app.x.test/p"))
		}),
		hosts:   []string{"api.x.test"},
		origins: []string{"https://app.x.test"},
	}, {
		name: "local_and_ip_origins_not_proposed",
		reqs: cat(keyedOn(50, 5, "api.x.test", origin("http://192.168.1.10:3000")), keyedOn(50, 5, "api.x.test", origin("http://localhost:3000")),
			keyedOn(10, 5, "api.x.test", origin("not a url"))),
		hosts:    []string{"api.x.test"},
		contains: []string{`# "http://192.168.1.10:3000", #`, `# "http://localhost:3000", #`, "IP literal or localhost origin", `# "not a url", #`},
	}, {
		name:    "origin_normalised",
		reqs:    keyedOn(30, 3, "api.x.test", origin("HTTPS://App.X.Test:443")),
		hosts:   []string{"api.x.test"},
		origins: []string{"https://app.x.test"},
	}, {
		name:     "empty_input",
		contains: []string{"Read 0 requests.", "No request had a Host header", "No request had an Origin", "max_requests = 100"},
	}, {
		name:     "missing_host",
		reqs:     cat(keyedOn(30, 3, "api.x.test"), []detect.Request{mk(noHost()), mk(noHost(), func(r *detect.Request) { r.Proto = "HTTP/1.0" })}),
		hosts:    []string{"api.x.test"},
		contains: []string{"2 requests had no Host header (1 of them HTTP/1.1"},
	}, {
		name:     "empty_host_header",
		reqs:     cat(keyedOn(30, 3, "api.x.test"), keyedOn(5, 5, "")),
		hosts:    []string{"api.x.test"},
		contains: []string{`# (no name), # 5 requests, 5 with a key, 5 keys: empty Host header`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, cfg := suggestOf(t, Options{}, tc.reqs)
			if got, want := sorted(cfg.Hosts.Allowed), sorted(tc.hosts); !slices.Equal(got, want) {
				t.Errorf("hosts allowed = %q, want %q\n%s", got, want, out)
			}
			if got, want := sorted(cfg.Origins.Allowed), sorted(tc.origins); !slices.Equal(got, want) {
				t.Errorf("origins allowed = %q, want %q\n%s", got, want, out)
			}
			for _, s := range tc.contains {
				if !has(out, s) {
					t.Errorf("output lacks %q\n%s", s, out)
				}
			}
			for _, s := range tc.notContains {
				if strings.Contains(out, s) {
					t.Errorf("output has %q\n%s", s, out)
				}
			}
			for i := range tc.reqs {
				if k := tc.reqs[i].Key; k != "" && strings.Contains(out, k) {
					t.Fatalf("output holds the fingerprint %s", k)
				}
			}
			if cfg.Origins.AllowNull || !cfg.Origins.CheckReferer {
				t.Errorf("allow_null %v check_referer %v, want false true", cfg.Origins.AllowNull, cfg.Origins.CheckReferer)
			}
			// The live proposal is made by the same rules.
			p := proposalOf(t, tc.reqs)
			if got := proposed(p.Hosts); !slices.Equal(got, sorted(cfg.Hosts.Allowed)) {
				t.Errorf("Proposal hosts %q, Config %q", got, cfg.Hosts.Allowed)
			}
			if got := proposed(p.Origins); !slices.Equal(got, sorted(cfg.Origins.Allowed)) {
				t.Errorf("Proposal origins %q, Config %q", got, cfg.Origins.Allowed)
			}
		})
	}
}

// TestServiceFeedback: on the same traffic, the suggested config raises no
// burst or spread alert (under 1000 keys the thresholds sit above the
// maxima), and Host and Origin alerts only for what was not proposed.
func TestServiceFeedback(t *testing.T) {
	rs := service()
	_, cfg := suggestOf(t, Options{}, rs)
	alerts := runEngine(t, cfg, []detect.Batch{{Source: "synthetic", Requests: rs}})
	var got []string
	for _, a := range alerts {
		got = append(got, a.Detector+" "+a.Subject)
	}
	slices.Sort(got)
	want := []string{
		"foreign_origin http://evil.test",
		"foreign_origin https://docs.example.org",
		"foreign_origin null",
		"unexpected_host 203.0.113.9",
		"unexpected_host [2001:db8::1]:80",
		"unexpected_host evil.test",
		"unexpected_host localhost:8080",
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts on the same traffic:\n got %q\nwant %q", got, want)
	}
}

func TestThresholds(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		opts                  Options
		reqs                  []detect.Request
		burst, hosts, clients int
		contains              []string
	}{{
		name: "one_busy_key",
		reqs: cat(
			repeat(60, func(i int) detect.Request {
				return mk(host("api.x.test"), key(fp(0)), at(time.Duration(i)*80*time.Millisecond))
			}),
			repeat(60, func(i int) detect.Request {
				return mk(host("api.x.test"), key(fp(1+i%20)), at(time.Duration(i)*time.Second))
			})),
		burst: 100, hosts: 2, clients: 3,
		contains: []string{"over 21 keys: median 1, p99 60, p99.9 60, max 60 (under 1000 keys", "p99.9 60 x 1.5 headroom = 90, rounded up to 100"},
	}, {
		name: "outlier_above_p999",
		reqs: cat(
			repeat(2000*5, func(i int) detect.Request {
				return mk(host("api.x.test"), key(fp(i/5)), at(time.Duration(i%5)*100*time.Millisecond))
			}),
			repeat(500, func(i int) detect.Request {
				return mk(host("api.x.test"), key(fp(99999)), at(time.Duration(i)*10*time.Millisecond))
			})),
		burst: 10, hosts: 2, clients: 3,
		contains: []string{"over 2001 keys: median 5, p99 5, p99.9 5, max 500.", "raised to the minimum, 10"},
	}, {
		name: "spread_hosts_and_clients",
		reqs: repeat(50, func(i int) detect.Request {
			return mk(host(fmt.Sprintf("r%d.api.x.test", i%5)), key(fp(0)), client(clientN(i%10)), at(time.Duration(i)*time.Second))
		}),
		burst: 20, hosts: 8, clients: 15,
	}, {
		name: "spread_counts_only_inside_the_window",
		opts: Options{SpreadWindow: time.Minute},
		reqs: repeat(5, func(i int) detect.Request {
			return mk(host(fmt.Sprintf("r%d.api.x.test", i)), key(fp(0)), at(time.Duration(i)*2*time.Minute))
		}),
		burst: 10, hosts: 2, clients: 3,
		contains: []string{`window = "1m"`},
	}, {
		name: "spread_capped_per_key",
		reqs: repeat(200, func(i int) detect.Request {
			return mk(host(fmt.Sprintf("h%d.x.test", i)), key(fp(0)), client(clientN(i)), at(time.Duration(i)*time.Second))
		}),
		burst: 20, hosts: 48, clients: 48,
		contains: []string{"At most 32 values are tracked per key"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, cfg := suggestOf(t, tc.opts, tc.reqs)
			if cfg.Burst.MaxRequests != tc.burst || cfg.Spread.MaxHosts != tc.hosts || cfg.Spread.MaxClients != tc.clients {
				t.Errorf("burst %d hosts %d clients %d, want %d %d %d\n%s", cfg.Burst.MaxRequests, cfg.Spread.MaxHosts, cfg.Spread.MaxClients,
					tc.burst, tc.hosts, tc.clients, out)
			}
			for _, s := range tc.contains {
				if !has(out, s) {
					t.Errorf("output lacks %q\n%s", s, out)
				}
			}
		})
	}
}

// TestBurstBounds: the bucketed per-key maximum is never under the exact
// sliding-window maximum, and never over the exact maximum of a window
// one bucket longer.
func TestBurstBounds(t *testing.T) {
	const w = 10 * time.Second
	seed := uint64(1)
	rnd := func(n uint64) uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return (seed >> 33) % n }
	exact := func(times []time.Duration, win time.Duration) int {
		best := 0
		for i := range times {
			n := 0
			for j := i; j >= 0 && times[i]-times[j] < win; j-- {
				n++
			}
			best = max(best, n)
		}
		return best
	}
	for trial := range 200 {
		var times []time.Duration
		cur := time.Duration(0)
		for range 1 + rnd(200) {
			cur += time.Duration(rnd(uint64(3 * time.Second)))
			times = append(times, cur)
		}
		c := New(Options{BurstWindow: w})
		for _, d := range times {
			r := mk(host("a.test"), key(fp(1)), at(d+time.Duration(trial)*time.Hour))
			c.Request(&r)
		}
		got := int(c.keys.states[0].bmax)
		lo, hi := exact(times, w), exact(times, w+w/burstSlots+1)
		if got < lo || got > hi {
			t.Fatalf("trial %d: bucketed max %d, exact %d, one bucket longer %d", trial, got, lo, hi)
		}
	}
}

// TestMemoryBounded: distinct values and keys beyond the caps are counted,
// not kept; idle keys are retired into the histograms to make room.
func TestMemoryBounded(t *testing.T) {
	opts := Options{MaxValues: 64, MaxKeys: 32, BurstWindow: time.Second, SpreadWindow: 10 * time.Second}
	c := New(opts)
	const n = 20000
	for i := range n {
		r := mk(host(fmt.Sprintf("h%d.x.test", i)), origin(fmt.Sprintf("https://o%d.x.test", i)), referer("https://r.x.test/"),
			key(fp(i)), client(clientN(i)), at(time.Duration(i)*100*time.Millisecond))
		c.Request(&r)
	}
	if len(c.hosts.m) > 64 || len(c.origins.m) > 64 || len(c.keys.states) > 32 {
		t.Fatalf("caps exceeded: hosts %d origins %d keys %d", len(c.hosts.m), len(c.origins.m), len(c.keys.states))
	}
	if c.keys.retired == 0 {
		t.Fatal("no key was retired to make room")
	}
	if got := c.keys.keyCount() + int(c.keys.untrackedReqs); got != n {
		t.Errorf("keys counted %d + untracked requests %d != %d", c.keys.keyCount(), c.keys.untrackedReqs, n)
	}
	out := c.Config("big")
	if _, err := config.Parse("s.toml", []byte(out)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"had a Host beyond the first 64 distinct values", "had an origin beyond the first 64 distinct values"} {
		if !has(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	// All keys busy at once: the table stays full, the rest is counted.
	c = New(opts)
	for i := range 1000 {
		r := mk(host("a.x.test"), key(fp(i)), at(0))
		c.Request(&r)
	}
	if len(c.keys.states) != 32 || c.keys.untrackedReqs != 1000-32 {
		t.Errorf("keys %d untracked %d", len(c.keys.states), c.keys.untrackedReqs)
	}
	if out := c.Config("busy"); !has(out, "keys beyond the 32 tracked") {
		t.Errorf("output does not say keys were left out\n%s", out)
	}
}

// TestSteadyStateAllocs: once its values and key are known, a request costs
// no allocation, non-normalised spellings and Referers included.
func TestSteadyStateAllocs(t *testing.T) {
	reqs := benchRequests()
	c := New(Options{})
	for i := range reqs {
		c.Request(&reqs[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r := &reqs[i%len(reqs)]
		r.Time = t0.Add(time.Duration(i) * time.Millisecond)
		c.Request(r)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per request, want 0", allocs)
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"plain", `q"uote`, `back\slash`, "esc\x1b[31m", "nl\nx", "tab\tx", "del\x7f", "bad\xff", "bidi\u202e", "nul\x00", "é", "\u2028"} {
		var v struct{ V string }
		doc := "V = " + quote(s)
		if _, err := toml.Decode(doc, &v); err != nil {
			t.Errorf("%q: %s does not decode: %v", s, doc, err)
			continue
		}
		if v.V != sanitize.String(s) {
			t.Errorf("%q: decoded %q, want %q", s, v.V, sanitize.String(s))
		}
	}
}

func TestNiceUp(t *testing.T) {
	for in, want := range map[uint64]uint64{0: 0, 9: 9, 10: 10, 11: 12, 13: 15, 16: 20, 21: 25, 26: 30, 31: 40, 41: 50, 51: 60, 61: 80, 81: 100, 90: 100, 101: 120, 225: 250, 1001: 1200, 7999: 8000} {
		if got := niceUp(in); got != want {
			t.Errorf("niceUp(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestKeyID(t *testing.T) {
	ids := map[uint64]string{}
	for _, k := range []string{"0123456789ab", "123456789ab", "a", "0a", "ZZZ", "zzz", "0123456789abcdef0", ""} {
		id := keyID(k)
		if prev, ok := ids[id]; ok {
			t.Errorf("keyID(%q) == keyID(%q)", k, prev)
		}
		ids[id] = k
	}
}
