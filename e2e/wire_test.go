package e2e

// The recordings of testdata/wire (record.sh there): request lines that
// are not textbook HTTP/1.1 against nginx, h2c upgrades, ClientHellos over
// several segments, and a capture holding our API and an outside server on
// the same port.

import (
	"fmt"
	"strings"
	"testing"
)

const wire = "../testdata/wire/"

// runWire runs the binary on a wire recording and checks no wire key leaks.
func runWire(t *testing.T, args ...string) result {
	t.Helper()
	r := runBin(t, append([]string{"--no-tui"}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, l := range leaks(strings.Fields(readFile(t, wire+"keys.txt")), r.stdout+r.stderr) {
		t.Errorf("leak: %s", l)
	}
	return r
}

func counter(t *testing.T, r result, name string) float64 {
	t.Helper()
	c, _ := r.summary(t)["counters"].(map[string]any)
	n, _ := c[name].(float64)
	return n
}

// TestWireLenient: every request line lenient_client.py sent to nginx
// comes out once, in order, with the method, Host, target and reason of
// the manifest; text and binary on the port stay parse errors.
func TestWireLenient(t *testing.T) {
	r := runWire(t, "-c", wire+"wire.toml", "--emit", "request,summary", "-r", wire+"lenient.pcap")
	var want, got []string
	notRequests := 0
	for _, l := range strings.Split(readFile(t, wire+"lenient_manifest.tsv"), "\n") {
		f := strings.Split(l, "\t")
		if f[0] == "-" {
			notRequests++
			continue
		}
		target := strings.Replace(f[3], "api_key=wire-key-alpha-0001", "api_key=REDACTED", 1)
		want = append(want, fmt.Sprintf("%s host=%q target=%q malformed=%q", f[1], f[2], target, f[0]))
	}
	for _, q := range r.ofType("request") {
		m, _ := q["malformed"].(string)
		got = append(got, fmt.Sprintf("%s host=%q target=%q malformed=%q", q["method"], q["host"], q["target"], m))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant (lenient_manifest.tsv):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The text line is a parse error; the connection that opens with
	// binary bytes is not HTTP at all.
	s := r.summary(t)
	if pe, nh := s["parse_errors"].(float64), counter(t, r, "non_http_streams"); notRequests != 2 || pe != 1 || nh != 1 {
		t.Errorf("parse_errors %v, non_http_streams %v: want 1 each (the text line, the binary connection)", pe, nh)
	}
	if n := counter(t, r, "malformed_requests"); n != float64(len(want)-1) {
		t.Errorf("malformed_requests %v, want %d (all but FOO-BAR)", n, len(want)-1)
	}
	// nginx answered the lines without a version as HTTP/0.9 (a bare
	// body): those have no status; the others have nginx's.
	for _, q := range r.ofType("request") {
		_, has := q["status"]
		if q["proto"] == "HTTP/0.9" && has && q["method"] != "CONNECT" {
			t.Errorf("an HTTP/0.9 answer has a status: %v", q)
		}
		if q["proto"] != "HTTP/0.9" && !has {
			t.Errorf("no status: %v", q)
		}
	}
}

// TestWireH2CUpgrade: curl --http2 and nghttp -u upgraded to h2c: each
// upgrade request is reported once with the status of stream 1 (not the
// 101), the request after it on the same connection too, and the
// rebinding name is caught in the upgrade request.
func TestWireH2CUpgrade(t *testing.T) {
	r := runWire(t, "-c", wire+"wire.toml", "--emit", "alert,request,summary", "-r", wire+"h2c_upgrade.pcap")
	var got []string
	for _, q := range r.ofType("request") {
		got = append(got, fmt.Sprintf("%s %s %s %s %v", q["proto"], q["method"], q["host"], q["target"], q["status"]))
	}
	want := []string{
		"HTTP/1.1 GET api.wire.test:8080 /v1/items 200",
		"HTTP/2.0 GET api.wire.test:8080 /health 200",
		"HTTP/1.1 GET cb00710a.0a580002.rbndr.us:8080 /v1/items 200",
		"HTTP/1.1 GET 10.88.0.2:8080 /v1/items 401",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := counter(t, r, "h2c_upgrades"); n != 3 {
		t.Errorf("h2c_upgrades %v, want 3", n)
	}
	if n := counter(t, r, "tunnels"); n != 0 {
		t.Errorf("tunnels %v: an h2c upgrade is followed, not a tunnel", n)
	}
	found := false
	for _, a := range r.ofType("alert") {
		if a["detector"] == "unexpected_host" && a["subject"] == "cb00710a.0a580002.rbndr.us:8080" && a["outcome"] == "served" {
			found = true
		}
	}
	if !found {
		t.Errorf("no served unexpected_host for the rebinding name: %v", r.ofType("alert"))
	}
}

// TestWireSplitClientHello: three ClientHellos the server's 160-byte MSS
// cut into several segments each: the two foreign server names raise
// unexpected_sni, the allowed one nothing.
func TestWireSplitClientHello(t *testing.T) {
	r := runWire(t, "-c", wire+"wire.toml", "--emit", "alert,summary", "-r", wire+"tls_split.pcap")
	var subjects []string
	for _, a := range r.ofType("alert") {
		if a["detector"] != "unexpected_sni" {
			t.Errorf("unexpected alert %v", a)
		}
		subjects = append(subjects, a["subject"].(string))
	}
	long := "evil-" + strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + ".rebind.test"
	if strings.Join(subjects, " ") != long+" cb00710a.0a580002.rbndr.us" {
		t.Errorf("unexpected_sni subjects %q", subjects)
	}
	if n := counter(t, r, "tls_client_hellos"); n != 3 {
		t.Errorf("tls_client_hellos %v, want 3", n)
	}
}

// TestWireOtherServers (issue 17 item 3): a client-side capture holds the
// outside server that first answered the rebinding name (90 requests, no
// key) and our API that answered it next (30 requests with the victim's
// key). With [capture] servers, the Host alerts' key, target and outcome
// are those of the requests to our API, and the others are only counted.
// Without it, the first request to the outside server makes the alert.
func TestWireOtherServers(t *testing.T) {
	const charlie = "1d9758456928" // sha256("wire-key-charlie-0003")[:12]
	hostAlerts := func(r result) []map[string]any {
		var out []map[string]any
		for _, a := range r.ofType("alert") {
			if a["subject"] != "cb00710a.0a580002.rbndr.us" {
				t.Errorf("alert about something else: %v", a)
				continue
			}
			out = append(out, a)
		}
		return out
	}
	r := runWire(t, "-c", wire+"wire.toml", "--emit", "alert,summary", "-r", wire+"servers.pcap")
	as := hostAlerts(r)
	if len(as) != 2 {
		t.Fatalf("%d alerts, want unexpected_host and host_served: %v", len(as), as)
	}
	for _, a := range as {
		if a["key"] != charlie || a["target"] != "/admin" || a["status"] != 200.0 || a["outcome"] != "served" {
			t.Errorf("%s: key %v target %v status %v outcome %v, want the victim's key on /admin, served 200 by our API", a["detector"], a["key"], a["target"], a["status"], a["outcome"])
		}
	}
	if s := r.summary(t); s["requests"] != 36.0 || counter(t, r, "requests_other_servers") != 90 {
		t.Errorf("requests %v, requests_other_servers %v: want 36 to our API and 90 others counted", s["requests"], counter(t, r, "requests_other_servers"))
	}

	// Without [capture] servers: the outside server's first answer is
	// the evidence (what issue 17 found).
	r = runWire(t, "-c", wire+"wire_any.toml", "--emit", "alert,summary", "-r", wire+"servers.pcap")
	for _, a := range hostAlerts(r) {
		if a["key"] != "" || a["target"] != "/" {
			t.Errorf("without servers, %s: key %v target %v; want the outside server's page (no key, /), as the README says", a["detector"], a["key"], a["target"])
		}
	}
	if s := r.summary(t); s["requests"] != 126.0 {
		t.Errorf("requests %v, want 126", s["requests"])
	}
}
