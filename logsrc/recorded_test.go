package logsrc

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin even where the system has no zone files

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// The logs in ../testdata/logs were recorded from real servers by
// record_logs.sh (traefik.log is written from Traefik's documentation by
// make_traefik_log.py). Every server got the same requests.

const logsDir = "../testdata/logs/"

func berlin(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked in: this cannot be for want of zone files
	}
	return loc
}

// parseAll parses every line of a recorded log; lines the format skips
// (banners) are left out, lines that do not parse are returned as errors.
func parseAll(t *testing.T, file, spec string, loc *time.Location) (reqs []detect.Request, errs []string, skipped int) {
	t.Helper()
	p := mustCompile(t, spec)
	p.SetLocation(loc)
	kx := testKeys()
	for i, line := range readLines(t, logsDir+file) {
		line = strings.TrimSuffix(line, "\r")
		if isBlank([]byte(line)) {
			continue
		}
		var r detect.Request
		err := p.Parse([]byte(line), kx, &r)
		switch {
		case errors.Is(err, ErrNotRequest):
			skipped++
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s:%d: %v", file, i+1, err))
		default:
			reqs = append(reqs, r)
		}
	}
	return reqs, errs, skipped
}

// keyMode is how a log shows the request's key.
type keyMode int

const (
	keyQueryOnly keyMode = iota // no key column: only kx in the query string
	keyWhole                    // a key header column: the whole key
	keySuffix                   // a key log field: the last 8 characters
)

func TestRecordedLogs(t *testing.T) {
	loc := berlin(t)
	cases := []struct {
		file, spec   string
		auto         string // auto-detection's choice; "" = none expected
		kx           keyMode
		bearer       bool // the Authorization: Bearer key is visible
		host, origin bool
		port         string // the server's port, as in Host headers
		ipv6         bool   // one request came from ::1
	}{
		{"apache_common.log", "apache:LogFormat \"%h %l %u %t \\\"%r\\\" %>s %O\" common", "common", keyQueryOnly, false, false, false, "18510", true},
		{"apache_combined.log", "apache-combined", "combined", keyQueryOnly, false, false, false, "18510", true},
		{"apache_vhost_combined.log", "vhost_combined", "vhost_combined", keyQueryOnly, false, false, false, "18510", true},
		{"apache_full.log", "apache:" + readFile(t, logsDir+"apache_full.fmt"), "", keySuffix, true, true, true, "18510", true},
		{"apache_strftime.log", "apache:" + readFile(t, logsDir+"apache_strftime.fmt"), "", keyQueryOnly, false, true, false, "18510", false},
		{"apache_epoch.log", "apache:" + readFile(t, logsDir+"apache_epoch.fmt"), "", keyQueryOnly, false, false, true, "18510", true},
		{"apache_snippet.log", "apache:" + readFile(t, logsDir+"snippets/apache.conf"), nameExt, keySuffix, true, true, true, "18510", true},
		{"gunicorn_default.log", "gunicorn", "combined", keyQueryOnly, false, false, false, "18520", false},
		{"gunicorn_custom.log", "gunicorn:" + readFile(t, logsDir+"gunicorn_custom.fmt"), "", keyWhole, true, true, true, "18521", false},
		{"gunicorn_snippet.log", "gunicorn:" + readFile(t, logsDir+"snippets/gunicorn.conf.py"), nameExt, keySuffix, true, true, true, "18522", false},
		{"caddy.log", "caddy", nameCaddy, keyWhole, false, true, true, "18530", false},
		{"werkzeug_color.log", "werkzeug", nameWerkzeug, keyQueryOnly, false, false, false, "18540", false},
		{"flask_snippet.log", "rebindwatch", nameExt, keySuffix, true, true, true, "18540", false},
		{"nginx_snippet.log", "nginx:" + readFile(t, logsDir+"snippets/nginx.conf"), nameExt, keySuffix, true, true, true, "18550", true},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".log"), func(t *testing.T) {
			reqs, errs, _ := parseAll(t, c.file, c.spec, loc)
			if len(errs) > 0 {
				t.Errorf("%d lines did not parse:\n%s", len(errs), strings.Join(errs, "\n"))
			}
			if len(reqs) < 15 {
				t.Fatalf("%d requests, want at least 15", len(reqs))
			}
			checkRecorded(t, reqs, c.kx, c.bearer, c.host, c.origin, c.port, c.ipv6)
			if c.auto != "" {
				checkAuto(t, c.file, c.auto, len(reqs), loc)
			}
		})
	}
}

// checkRecorded checks the requests of one recorded run of traffic() in
// record_logs.sh.
func checkRecorded(t *testing.T, reqs []detect.Request, kx keyMode, bearer, host, origin bool, port string, ipv6 bool) {
	client := ipv6 || !strings.Contains(t.Name(), "strftime")
	t.Helper()
	key := func(k string) string {
		switch kx {
		case keyWhole:
			return fp(k)
		case keySuffix:
			return fp(k[len(k)-8:])
		}
		return ""
	}
	find := func(what string, pred func(*detect.Request) bool) *detect.Request {
		t.Helper()
		for i := range reqs {
			if pred(&reqs[i]) {
				return &reqs[i]
			}
		}
		t.Fatalf("no %s request", what)
		return nil
	}
	for i := range reqs {
		r := &reqs[i]
		if r.Time.Before(time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)) || r.Time.After(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("request %d time %v is not when it was recorded", i, r.Time)
		}
		if (!r.Client.IsValid() && client) || r.Method == "" || r.Target == "" || r.Status == 0 {
			t.Errorf("request %d incomplete: %+v", i, viewOf(r))
		}
		if r.Key != "" && len(r.Key) != keys.FingerprintLen {
			t.Errorf("request %d key %q", i, r.Key)
		}
		if r.Blind.Has(detect.BlindHost) == host || r.Blind.Has(detect.BlindOrigin) == origin {
			t.Errorf("request %d Blind %b, want host %v origin %v visible", i, r.Blind, host, origin)
		}
	}
	r := find("rebinding", func(r *detect.Request) bool { return r.Target == "/admin" })
	if r.Key != key("fake-key-alpha-0001") {
		t.Errorf("rebinding request key %q, want %q", r.Key, key("fake-key-alpha-0001"))
	}
	if host && r.Host != "evil.rebind.test" {
		t.Errorf("rebinding request Host %q", r.Host)
	}
	if origin && r.Origin != "http://evil.rebind.test" {
		t.Errorf("rebinding request Origin %q", r.Origin)
	}
	r = find("query key", func(r *detect.Request) bool {
		return strings.HasSuffix(r.Target, "api_key="+keys.Redacted+"&q=a%20b")
	})
	if want := map[keyMode]string{keyQueryOnly: fp("fake-key-delta-0003"), keyWhole: fp("fake-key-delta-0003"), keySuffix: fp("lta-0003")}[kx]; r.Key != want {
		t.Errorf("query key request key %q, want %q", r.Key, want)
	}
	r = find("bearer", func(r *detect.Request) bool { return r.Method == "POST" })
	if want := map[bool]string{true: key("fake-token-bravo-0002"), false: ""}[bearer]; r.Key != want {
		t.Errorf("bearer request key %q, want %q", r.Key, want)
	}
	if host && r.Host != "api.example.test:"+port {
		t.Errorf("bearer request Host %q", r.Host)
	}
	r = find("all three keys", func(r *detect.Request) bool { return r.Target == "/v1/items?api_key="+keys.Redacted })
	want := fp("fake-key-delta-0003") // the query only
	if kx != keyQueryOnly {
		want = key("fake-key-alpha-0001") // X-API-Key wins
	}
	if r.Key != want {
		t.Errorf("three-key request key %q, want %q", r.Key, want)
	}
	r = find("HTTP/1.0", func(r *detect.Request) bool { return r.Proto == "HTTP/1.0" })
	if r.HasHost {
		t.Errorf("HTTP/1.0 request without Host has Host %q", r.Host)
	}
	r = find("DELETE", func(r *detect.Request) bool { return r.Method == "DELETE" })
	if r.Key != key("fake-key-echo-0004") || r.Target != "/v1/items/7" {
		t.Errorf("DELETE request %+v", viewOf(r))
	}
	if origin {
		find("Origin null", func(r *detect.Request) bool { return r.Origin == "null" && r.HasOrigin })
	}
	if ipv6 {
		r = find("IPv6", func(r *detect.Request) bool { return r.Client.Addr().Is6() })
		if r.Client.Addr().String() != "::1" || (host && r.Host != "[::1]:"+port) {
			t.Errorf("IPv6 request %+v", viewOf(r))
		}
	}
}

// checkAuto runs the file through Run with auto-detection.
func checkAuto(t *testing.T, file, want string, n int, loc *time.Location) {
	t.Helper()
	bs, err := runFile(t, logsDir+file, Options{Format: "auto", Keys: testKeys(), Location: loc})
	if err != nil {
		t.Fatalf("auto: %v", err)
	}
	reqs, perr, probs := sum(bs)
	if reqs != n || perr != 0 {
		t.Errorf("auto: %d requests, %d parse errors (%v); want %d, 0", reqs, perr, probs, n)
	}
	if note := bs[len(bs)-1].Note; note != "format: "+want+" (auto)" {
		t.Errorf("auto: note %q, want format %s", note, want)
	}
}

// TestRecordedSnippetsKeepKeysOut: the logs the snippets wrote never hold a
// whole key that came in a header (query kx are in the request line, as
// in any access log), and a key of 8 characters is not logged at all.
func TestRecordedSnippetsKeepKeysOut(t *testing.T) {
	for _, f := range []string{"apache_snippet.log", "gunicorn_snippet.log", "flask_snippet.log", "nginx_snippet.log"} {
		b, err := os.ReadFile(logsDir + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"fake-key-alpha-0001", "fake-token-bravo-0002", "fake-key-echo-0004", "fake-key-foxtrot-0006", "shortkey"} {
			if strings.Contains(string(b), k) {
				t.Errorf("%s has the whole key %q", f, k)
			}
		}
		if !strings.Contains(string(b), `key="pha-0001"`) {
			t.Errorf("%s has no key suffix", f)
		}
	}
}

// TestRecordedTimesAgree: the clocks of one line agree (Apache's %t,
// strftime pieces, %{end:sec}t, %{msec}t), and werkzeug's zoneless time read
// in the server's zone matches the Flask snippet's line for the same request.
func TestRecordedTimesAgree(t *testing.T) {
	loc := berlin(t)
	full := readLines(t, logsDir+"apache_full.log")
	for i, line := range full {
		parts := strings.Split(line, "|")
		var ts []time.Time
		for _, spec := range []string{
			"apache:%a|%{c}a|%A|%h|%l|%u|%t|%{x}e",                                               // %t, whole seconds
			"apache:%a|%{c}a|%A|%h|%l|%u|%{x}e|%{%Y-%m-%dT%H:%M:%S}t.%{usec_frac}t %{%z}t|%{x}e", // µs
			"apache:%{x}e|%{end:sec}t|%{x}e",
		} {
			p := mustCompile(t, spec)
			var r detect.Request
			var in string
			switch {
			case strings.Contains(spec, "%t|"):
				in = strings.Join(parts[:7], "|") + "|x"
			case strings.Contains(spec, "usec_frac"):
				in = strings.Join(parts[:6], "|") + "|x|" + parts[7] + "|x"
			default:
				in = "x|" + parts[8] + "|x"
			}
			if err := p.Parse([]byte(in), nil, &r); err != nil {
				t.Fatalf("line %d %q: %v", i+1, in, err)
			}
			ts = append(ts, r.Time)
		}
		for _, tm := range ts[1:] {
			if d := tm.Sub(ts[0]); d < -time.Second || d > 2*time.Second {
				t.Errorf("line %d: times %v disagree", i+1, ts)
			}
		}
	}

	wz, _, skipped := parseAll(t, "werkzeug_color.log", "werkzeug", loc)
	fl, _, _ := parseAll(t, "flask_snippet.log", "rebindwatch", nil)
	if skipped != 5 {
		t.Errorf("werkzeug: %d banner lines skipped, want 5", skipped)
	}
	if len(wz) != len(fl) {
		t.Fatalf("werkzeug %d requests, snippet %d", len(wz), len(fl))
	}
	for i := range wz {
		// werkzeug logs the target decoded to an IRI (caf%C3%A9 as café).
		path := func(s string) string { p, _, _ := strings.Cut(s, "?"); return p }
		if d := fl[i].Time.Sub(wz[i].Time); d < -time.Second || d > time.Second || path(wz[i].Target) != path(fl[i].Target) {
			t.Errorf("request %d: werkzeug %v %s, snippet %v %s", i, wz[i].Time, wz[i].Target, fl[i].Time, fl[i].Target)
		}
	}
	// Read in UTC instead, werkzeug's times are an hour off.
	wzUTC, _, _ := parseAll(t, "werkzeug_color.log", "werkzeug", time.UTC)
	if d := wzUTC[0].Time.Sub(wz[0].Time); d != time.Hour {
		t.Errorf("Location ignored: UTC reading differs by %v", d)
	}
}

// TestRecordedTraefik reads the Traefik lines made from its documentation.
func TestRecordedTraefik(t *testing.T) {
	reqs, errs, _ := parseAll(t, "traefik.log", "traefik", nil)
	if len(errs) > 0 || len(reqs) != 6 {
		t.Fatalf("%d requests, errors %v", len(reqs), errs)
	}
	want := []view{
		{Time: "2026-11-26T22:13:19.123456789Z", Client: "203.0.113.7", Method: "GET", Host: "api.example.test", HasHost: true,
			Target: "/v1/items?page=1", Proto: "HTTP/1.1", Status: 200},
		{Time: "2026-11-26T22:13:19.223456789Z", Client: "203.0.113.7", Method: "GET", Host: "api.example.test", HasHost: true,
			Target: "/v1/items?api_key=" + keys.Redacted, Proto: "HTTP/1.1", Status: 200, Key: fp("fake-key-delta-0003")},
		{Time: "2026-11-26T22:13:20.5Z", Client: "203.0.113.9", Method: "GET", Host: "evil.rebind.test:8080", HasHost: true,
			Target: "/admin", Proto: "HTTP/1.1", Origin: "http://evil.rebind.test", HasOrigin: true, Status: 403, Key: fp("fake-key-alpha-0001"),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		{Time: "2026-11-26T22:13:21Z", Client: "2001:db8::7", Method: "POST", Host: "api.example.test", HasHost: true,
			Target: "/v1/items", Proto: "HTTP/1.1", Status: 200, Key: fp("fake-token-bravo-0002"), UserAgent: "curl/8.5.0"},
		{Time: "2026-11-26T22:13:22.000000001Z", Client: "203.0.113.7", Method: "GET", Host: "api.example.test", HasHost: true,
			Target: "/v1/me", Proto: "HTTP/1.1", Status: 200, Origin: "null", HasOrigin: true, UserAgent: "curl/8.5.0"},
		{Time: "2026-11-26T22:13:23Z", Client: "203.0.113.7", Method: "GET", Host: "api.example.test", HasHost: true,
			Target: "/v1/items", Proto: "HTTP/1.1", Status: 200, Origin: "https://\u202eapp.example.test", HasOrigin: true,
			UserAgent: "term\x1b[31mred\x1b[0m \"quoted\" \\back", Key: fp("fake-key-echo-0004")},
	}
	for i := range reqs {
		if got := viewOf(&reqs[i]); got != want[i] {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got, want[i])
		}
		// Headers dropped (lines 1-2): blind to Origin; kept: not.
		if blind := reqs[i].Blind.Has(detect.BlindOrigin); blind != (i < 2) {
			t.Errorf("line %d: BlindOrigin %v", i+1, blind)
		}
		if reqs[i].Client.Port() == 0 {
			t.Errorf("line %d: no client port", i+1)
		}
	}
	checkAuto(t, "traefik.log", nameTraefik, 6, nil)
}

// TestRecordedNginxJSONAuto: nginx's escape=json log (recorded by
// testdata/record_nginx.sh) is read by auto-detection's common key names.
func TestRecordedNginxJSONAuto(t *testing.T) {
	bs, err := runFile(t, "testdata/nginx_json.log", Options{Format: "auto", Keys: testKeys()})
	if err != nil {
		t.Fatal(err)
	}
	reqs, perr, _ := sum(bs)
	if reqs != 26 || perr != 3 || bs[len(bs)-1].Note != "format: json (auto)" {
		t.Errorf("%d requests, %d errors, note %q", reqs, perr, bs[len(bs)-1].Note)
	}
	var admin *detect.Request
	for _, b := range bs {
		for i := range b.Requests {
			if b.Requests[i].Target == "/admin" {
				admin = &b.Requests[i]
			}
		}
	}
	if admin == nil || admin.Host != "evil.rebind.test" || admin.Origin != "http://evil.rebind.test" || admin.Key != fp("fake-key-alpha-0001") {
		t.Errorf("admin request: %+v", admin)
	}
}
