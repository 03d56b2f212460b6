package e2e

// Sources that are not files, through the binary: the syslog listener
// (--listen) with several senders, each a source, the detectors working
// across them; a journal file through journalctl.

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestListenSyslogAcrossSenders: three web servers send their access
// lines (the --print-log-config nginx shape) to one listener, one over
// UDP and two over TCP; one key comes from more clients than [spread]
// allows, spread over the three, and one request carries a foreign Host.
// The alerts are raised, each request names its sender, and SIGTERM ends
// the run with every sender in the summary.
func TestListenSyslogAcrossSenders(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--no-tui", "-c", rec+"rebindwatch.toml", "--emit", "alert,request,summary", "--listen", "syslog://"+addr)
	var out, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, cmd, "the listener", func() bool { return strings.Contains(stderr.String(), "listening on udp+tcp") })

	line := func(i int, host string) string {
		return fmt.Sprintf(`10.0.0.%d - - [26/Nov/2026:23:58:%02d +0100] "GET /v1/items HTTP/1.1" 200 3 "-" "curl/7.88.1" host="%s" origin="-" key="spread01"`,
			i+1, i, host)
	}
	udp, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	var tcp [2]net.Conn
	for i := range tcp {
		if tcp[i], err = net.Dial("tcp", addr); err != nil {
			t.Fatal(err)
		}
		defer tcp[i].Close()
	}
	const n = 24
	for i := range n {
		host := "api.rebind.test"
		if i == 7 {
			host = "evil.rebind.test"
		}
		switch i % 3 {
		case 0:
			fmt.Fprintf(udp, "<190>Nov 26 23:58:29 web-1 api: %s", line(i, host))
		case 1:
			fmt.Fprintf(tcp[0], "<190>Nov 26 23:58:29 web-2 api: %s\n", line(i, host))
		case 2:
			m := "<190>1 2026-11-26T23:58:29+01:00 web-3 api - - - " + line(i, host)
			fmt.Fprintf(tcp[1], "%d %s", len(m), m)
		}
	}
	waitUntil(t, cmd, "every request", func() bool { return strings.Count(out.String(), `"type":"request"`) == n })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(t, cmd); err != nil {
		t.Fatalf("after SIGTERM: %v; stderr: %s", err, stderr.String())
	}
	r := parseResult(t, 0, out.String(), stderr.String())
	bySource := map[string]int{}
	for _, req := range r.ofType("request") {
		bySource[req["source"].(string)]++
	}
	if bySource["syslog:web-1/api"] != n/3 || bySource["syslog:web-2/api"] != n/3 || bySource["syslog:web-3/api"] != n/3 {
		t.Errorf("requests by source %v", bySource)
	}
	detectors := map[string]bool{}
	for _, a := range r.ofType("alert") {
		detectors[a["detector"].(string)] = true
	}
	if !detectors["unexpected_host"] || !detectors["key_spread"] {
		t.Errorf("alerts from %v, want unexpected_host and key_spread; stdout:\n%s", detectors, r.stdout)
	}
	sum := r.summary(t)
	names := map[string]bool{}
	for _, s := range sum["sources"].([]any) {
		names[s.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{"syslog://" + addr, "syslog:web-1/api", "syslog:web-2/api", "syslog:web-3/api"} {
		if !names[want] {
			t.Errorf("summary sources %v lack %s", names, want)
		}
	}
}

// TestJournalFileThroughBinary: the recorded journal read through the
// binary (journal-file:, --no-follow): each unit is a source with its own
// format, and the run ends by itself with the summary.
func TestJournalFileThroughBinary(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("SKIPPED: journalctl is not installed (Debian package systemd)")
	}
	zr, err := gzip.NewReader(strings.NewReader(readFile(t, "../testdata/journal/apps.journal.gz")))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "apps.journal")
	writeFile(t, path, string(raw), 0o644)
	r := runBin(t, "--no-tui", "--no-follow", "--tz", "UTC", "--emit", "request,summary", "journal-file:"+path)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	bySource := map[string]int{}
	for _, req := range r.ofType("request") {
		bySource[req["source"].(string)]++
	}
	gunicorn, flask := "journal-file:"+path+":gunicorn.service", "journal-file:"+path+":flaskapp.service"
	if bySource[gunicorn] != 16 || bySource[flask] != 16 {
		t.Errorf("requests by source %v", bySource)
	}
	if !strings.Contains(r.stderr, flask+": ended; format: werkzeug (auto)") {
		t.Errorf("stderr does not say flask's format: %s", r.stderr)
	}
	r.summary(t)
}
