package allowimport

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// alertSink records which subjects each detector flagged.
type alertSink struct{ flagged map[string]bool }

func (s *alertSink) Request(*detect.Request) error { return nil }
func (s *alertSink) Alert(a *detect.Alert) error {
	s.flagged[a.Detector+" "+a.Subject] = true
	return nil
}

// verdicts runs Host and Origin values through rebindwatch's engine
// configured with the import, and reports which it allows.
func verdicts(t *testing.T, r Result, hosts, origins []string) (map[string]bool, map[string]bool) {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts, cfg.AllowedOrigins = r.Hosts, r.Origins
	sink := &alertSink{flagged: map[string]bool{}}
	e, err := detect.NewEngine(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := func(i int) detect.Request {
		return detect.Request{Time: t0.Add(time.Duration(i) * time.Second), Source: "test", Method: "GET", Target: "/",
			Proto: "HTTP/1.1", Client: netip.MustParseAddrPort("192.0.2.1:40000")}
	}
	var b detect.Batch
	for i, h := range hosts {
		rq := req(i)
		rq.Host, rq.HasHost = h, true
		b.Requests = append(b.Requests, rq)
	}
	for i, o := range origins {
		rq := req(len(hosts) + i)
		rq.Host, rq.HasHost = r.Hosts[0], true
		rq.Origin, rq.HasOrigin = o, true
		b.Requests = append(b.Requests, rq)
	}
	if err := e.Observe(&b); err != nil {
		t.Fatal(err)
	}
	hv, ov := map[string]bool{}, map[string]bool{}
	for _, h := range hosts {
		hv[h] = !sink.flagged[detect.DetUnexpectedHost+" "+detect.NormalizeHost(h)]
	}
	for _, o := range origins {
		ov[o] = !sink.flagged[detect.DetForeignOrigin+" "+detect.NormalizeOrigin(o)]
	}
	return hv, ov
}

// TestImportedPatternsBehaveLikeTheApp feeds Host and Origin values to
// rebindwatch configured with each testdata import, and checks it allows
// what the application allows (by the rules cited in each converter) and
// flags what the application refuses. Documented approximations (a Rails
// ".domain" one level deep, IP ranges, any-port origins) are left out.
func TestImportedPatternsBehaveLikeTheApp(t *testing.T) {
	type probe struct {
		file    string
		hosts   map[string]bool
		origins map[string]bool
	}
	for _, p := range []probe{
		{"settings.py", map[string]bool{
			"api.example.com": true, "API.example.com:8000": true, "shop.example.com": true, "eu.shop.example.com": true,
			"a.b.shop.example.com": true, "example.com": true, "example.com.": true, "[::1]:8000": true, "127.0.0.1": true,
			"admin.example.com": true, "www.example.com": false, "evil.com": false, "api.example.com.evil.com": false,
			"shop.example.com.evil.com": false, "evilshop.example.com": false,
		}, map[string]bool{
			"https://app.example.com": true, "https://eu.shop.example.com": true, "https://shop.example.com": true,
			"http://localhost:3000": true, "https://api.example.com": true, "https://evil.com": false,
			"http://localhost:4000": false, "null": false,
		}},
		{"flask_config.py", map[string]bool{
			"api.example.com": true, "api.example.com:8443": true, "internal.example.com": true, "x.internal.example.com": true,
			"orders.example.com:1234": true, "localhost:5000": true, "healthz.example.com": true,
			"evilinternal.example.com": false, "example.com": false, "dev.local": false,
		}, nil},
		{"production.rb", map[string]bool{
			"example.com": true, "example.com:3000": true, "www.example.com": true, "api.example.com": true,
			"v1.api.example.com": true, "status.example.com:8443": true, "192.0.2.10": true,
			"admin.example.com": true, "ops.example.com:80": true, "staging.example.net": true, "qa.example.net:3000": true,
			"example.com.evil.net": false, "prod.example.net": false, "example.org": false,
		}, nil},
		{"vite.config.ts", map[string]bool{
			"app.example.test:5173": true, "trycloudflare.com": true, "abc-def.trycloudflare.com": true,
			"localhost:5173": true, "foo.localhost": true, "dev.example.test": true, "evil.com": false,
			"hmr.example.test": false,
		}, nil},
		{"webpack.config.js", map[string]bool{
			"host.com:8080": true, "x.host2.com": true, "host2.com": true, "subdomain.host.com": false,
			"localhost:8080": true, "evil.host.com": false,
		}, nil},
		{"mcp_server.py", map[string]bool{
			"localhost:8000": true, "localhost:1234": true, "127.0.0.1:8000": true, "127.0.0.1:9000": false,
			"[::1]:8000": true, "mcp.example.com": true, "evil.com:8000": false,
		}, map[string]bool{
			"https://claude.ai": true, "http://127.0.0.1:8000": true, "http://127.0.0.1:9000": false, "https://evil.com": false,
		}},
		{"mcp_server.ts", map[string]bool{
			"127.0.0.1:3000": true, "localhost:3000": true, "localhost:3001": false, "127.0.0.1": false,
		}, map[string]bool{
			"http://localhost:5173": true, "https://inspector.example.com": true, "http://localhost:5174": false,
		}},
		{"nginx.conf", map[string]bool{
			"api.example.com:8443": true, "www.example.com": true, "example.org": true, "a.b.example.org": true,
			"x.static.example.net": true, "example.net": false, "example.io": true, "www.example.io": true,
			"mail.example.io": false, "alice.example.net": true, "www7.example.com": false, "evil.com": false,
		}, nil},
	} {
		t.Run(p.file, func(t *testing.T) {
			r, err := Import(filepath.Join("testdata", p.file))
			if err != nil {
				t.Fatal(err)
			}
			hosts, origins := keys(p.hosts), keys(p.origins)
			hv, ov := verdicts(t, r, hosts, origins)
			for h, want := range p.hosts {
				if hv[h] != want {
					t.Errorf("Host %q: rebindwatch allows=%v, the application allows=%v (hosts %q)", h, hv[h], want, r.Hosts)
				}
			}
			for o, want := range p.origins {
				if ov[o] != want {
					t.Errorf("Origin %q: rebindwatch allows=%v, the application allows=%v (origins %q)", o, ov[o], want, r.Origins)
				}
			}
		})
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFlaskAgainstWerkzeug asks the real werkzeug (Debian's python3-flask)
// whether it trusts each Host under the TRUSTED_HOSTS of
// testdata/flask_config.py, and checks rebindwatch agrees. werkzeug's
// host_is_trusted() has had the same port and dot rules since 0.9, so the
// packaged 2.x answers as Flask 3.1's does.
func TestFlaskAgainstWerkzeug(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("SKIPPED: no /usr/bin/python3 (Debian package python3-werkzeug), so rebindwatch is not compared with werkzeug")
	}
	if err := exec.Command(py, "-c", "import werkzeug.sansio.utils").Run(); err != nil {
		t.Skip("SKIPPED: werkzeug is not installed for /usr/bin/python3 (Debian package python3-werkzeug), so rebindwatch is not compared with it")
	}
	// Every TRUSTED_HOSTS entry of the file, merged as the import merges them.
	trusted := []string{"api.example.com", ".internal.example.com", "orders.example.com:8443",
		"localhost", "127.0.0.1", "healthz.example.com"}
	// No upper-case probes: werkzeug compares the bytes, rebindwatch (like
	// browsers, which send host names lower-cased) compares case-insensitively.
	probes := []string{"api.example.com", "api.example.com:8443", "internal.example.com",
		"x.internal.example.com", "a.b.internal.example.com", "evilinternal.example.com", "orders.example.com",
		"orders.example.com:9", "localhost", "localhost:5000", "127.0.0.1:80", "healthz.example.com", "example.com",
		"evil.com", "api.example.com.evil.com"}
	script := `import json, sys
from werkzeug.sansio.utils import host_is_trusted
trusted, probes = json.load(sys.stdin)
print(json.dumps({p: host_is_trusted(p, trusted) for p in probes}))`
	in, _ := json.Marshal([]any{trusted, probes})
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("werkzeug: %v", err)
	}
	var want map[string]bool
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("werkzeug output %q: %v", out, err)
	}
	r, err := Import(filepath.Join("testdata", "flask_config.py"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := verdicts(t, r, probes, nil)
	for _, p := range probes {
		if got[p] != want[p] {
			t.Errorf("Host %q: rebindwatch allows=%v, werkzeug trusts=%v", p, got[p], want[p])
		}
	}
}
