package e2e

// Other sensors' and the clouds' logs: a Zeek directory gives the whole
// rebinding chain (DNS answer, ClientHello, request) to the detectors, and
// a load balancer's gzip logs are read as delivered.

import (
	"strings"
	"testing"
)

const sensors = "../testdata/sensors/"

// TestZeekDirectoryRebinding: dns_rebind and unexpected_sni from a Zeek
// directory (a synthetic chain in Zeek's own TSV: see the README there).
func TestZeekDirectoryRebinding(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "--allow-host", "api.example.com", "--allow-origin", "https://app.example.com",
		"--emit", "alert,summary", "zeek:"+sensors+"zeek-rebind")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := map[string]bool{}
	for _, a := range r.ofType("alert") {
		got[a["detector"].(string)] = true
	}
	for _, d := range []string{"dns_rebind", "dns_private_answer", "unexpected_sni", "unexpected_host", "foreign_origin"} {
		if !got[d] {
			t.Errorf("no %s alert; got %v\nstderr: %s", d, got, r.stderr)
		}
	}
	if s := r.summary(t); s["requests"].(float64) != 2 {
		t.Errorf("summary: %v", s)
	}
	if !strings.Contains(r.stderr, "zeek: http.log, dns.log, ssl.log") {
		t.Errorf("stderr does not say which logs it reads: %s", r.stderr)
	}
}

// TestCloudLogsAsDelivered: gzip logs from ALB and CloudFront, detected
// and read as the provider delivers them; a directory that is not Zeek's
// is a usage error naming it.
func TestCloudLogsAsDelivered(t *testing.T) {
	r := runBin(t, "--no-tui", "--no-follow", "--emit", "request,summary", sensors+"cloud/alb.log.gz", sensors+"cloud/cloudfront.log.gz")
	if r.code != 0 || len(r.ofType("request")) != 11 {
		t.Fatalf("exit %d, %d requests; stderr: %s", r.code, len(r.ofType("request")), r.stderr)
	}
	for _, want := range []string{"format: alb (auto)", "format: cloudfront (auto)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	r = runBin(t, "--no-tui", "--no-follow", "zeek:"+sensors+"cloud")
	if r.code != 2 || !strings.Contains(r.stderr, "zeek:"+sensors+"cloud") {
		t.Errorf("a directory without Zeek logs: exit %d, %s", r.code, r.stderr)
	}
}
