package syslogsrc

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/state"
)

// runListener binds spec and collects what the listener sends.
func runListener(t *testing.T, spec string, o Options) (*Listener, *testkit.Collector) {
	t.Helper()
	if o.Location == nil {
		o.Location = time.UTC
	}
	l, err := Listen(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	return l, testkit.Collect(t, l.Run)
}

func accessLine(i int) string {
	return fmt.Sprintf(`127.0.0.%d - - [26/Nov/2026:23:58:29 +0100] "GET /item/%d HTTP/1.1" 200 3 "-" "curl/7.88.1"`, 1+i%200, i)
}

// Go clients over every transport: UDP, TCP with both framings, TLS; a
// sender without a host in its header is named by its address; a message
// over the limit is skipped and counted; bad headers are counted with a
// problem that quotes nothing of the message.
func TestListenerTransports(t *testing.T) {
	l, c := runListener(t, "syslog://127.0.0.1:0", Options{MaxMessage: 1024})
	u, err := net.Dial("udp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i := range 5 {
		fmt.Fprintf(u, "<190>Nov 26 23:58:29 web-1 api: %s", accessLine(i))
	}
	fmt.Fprintf(u, "<190>%s", strings.Repeat("x", 2000))          // too long
	fmt.Fprintf(u, "garbage with a key sk_live_0123456789abcdef") // no PRI
	tc, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	for i := range 5 {
		fmt.Fprintf(tc, "<190>Nov 26 23:58:29 web-2 api: %s\n", accessLine(i))
		m := fmt.Sprintf("<190>1 2026-11-26T23:58:29Z web-3 api - - - %s", accessLine(i))
		fmt.Fprintf(tc, "%d %s", len(m), m)
		fmt.Fprintf(tc, "<190>Nov 26 23:58:29 api: %s\n", accessLine(i)) // no host: the sender's address
	}
	c.WaitFor(t, "5 requests from each sender", 10*time.Second, func(v testkit.View) bool {
		n := v.Count()
		return n["syslog:web-1/api"] == 5 && n["syslog:web-2/api"] == 5 && n["syslog:web-3/api"] == 5 && n["syslog:127.0.0.1/api"] == 5
	})
	c.WaitFor(t, "the counts", 5*time.Second, func(v testkit.View) bool {
		return v.Counters["syslog_too_long"] == 1 && v.ParseErrors == 1
	})
	v := c.View()
	for _, p := range v.Problems {
		if strings.Contains(p.Text, "sk_live") || strings.Contains(p.Text, "garbage") {
			t.Errorf("a problem quotes the message: %q", p.Text)
		}
	}
	if n := v.Notes["syslog:web-1/api"]; !strings.Contains(n, "format: combined (auto)") {
		t.Errorf("note %q", n)
	}
	if n := v.Notes["syslog://127.0.0.1:0"]; !strings.Contains(n, "listening on udp+tcp 127.0.0.1:") {
		t.Errorf("listener note %q", n)
	}
	for i, r := range v.Requests["syslog:web-3/api"] {
		if r.Target != fmt.Sprintf("/item/%d", i) || r.Source != "syslog:web-3/api" {
			t.Errorf("request %d: %s %s", i, r.Source, r.Target)
		}
	}
}

// TLS (RFC 5425: octet-counted over TLS); the certificate is made here.
func TestListenerTLS(t *testing.T) {
	cert, key := testkit.SelfSigned(t)
	l, c := runListener(t, "syslog+tls://127.0.0.1:0", Options{CertFile: cert, KeyFile: key})
	conn, err := tls.Dial("tcp", l.Addr(), &tls.Config{InsecureSkipVerify: true}) // the test's own certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 3 {
		m := fmt.Sprintf("<190>1 2026-11-26T23:58:29Z web-t api - - - %s", accessLine(i))
		fmt.Fprintf(conn, "%d %s", len(m), m)
	}
	c.WaitFor(t, "3 requests over TLS", 10*time.Second, func(v testkit.View) bool { return v.Count()["syslog:web-t/api"] == 3 })

	if _, err := Listen("syslog+tls://127.0.0.1:0", Options{}); err == nil || !strings.Contains(err.Error(), "--listen-cert") {
		t.Errorf("TLS without a certificate: %v", err)
	}
	if _, err := Listen("syslog://127.0.0.1:0", Options{CertFile: cert, KeyFile: key}); err == nil {
		t.Error("a certificate for plain syslog was accepted")
	}
	for _, bad := range []string{"syslog:/x", "syslog://nohost", "http://127.0.0.1:1", "syslog://127.0.0.1:1/path"} {
		if _, err := Listen(bad, Options{}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Listen(%q) = %v, want an error naming it", bad, err)
		}
	}
}

// Connections over the limit are refused and counted; the ones inside it
// work.
func TestListenerMaxConns(t *testing.T) {
	l, c := runListener(t, "syslog+tcp://127.0.0.1:0", Options{MaxConns: 2})
	var conns []net.Conn
	for range 2 {
		conn, err := net.Dial("tcp", l.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns = append(conns, conn)
	}
	for i, conn := range conns {
		fmt.Fprintf(conn, "<190>Nov 26 23:58:29 web-%d api: %s\n", i, accessLine(i))
	}
	c.WaitFor(t, "both connections read", 10*time.Second, func(v testkit.View) bool {
		n := v.Count()
		return n["syslog:web-0/api"] == 1 && n["syslog:web-1/api"] == 1
	})
	extra, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprintf(extra, "<190>Nov 26 23:58:29 web-x api: %s\n", accessLine(0))
	c.WaitFor(t, "the third connection refused", 10*time.Second, func(v testkit.View) bool { return v.Counters["syslog_connections_refused"] == 1 })
	if n := c.View().Count()["syslog:web-x/api"]; n != 0 {
		t.Errorf("a refused connection delivered %d requests", n)
	}
}

// The stop rule: whatever was sent before the stop is handed over, on
// every transport, and every source ends stopped.
func TestListenerStopDrains(t *testing.T) {
	l, c := runListener(t, "syslog://127.0.0.1:0", Options{})
	tc, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	const n = 2000
	var b strings.Builder
	for i := range n {
		m := fmt.Sprintf("<190>1 2026-11-26T23:58:29Z web-s api - - - %s", accessLine(i))
		fmt.Fprintf(&b, "%d %s", len(m), m)
	}
	if _, err := tc.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	// The first message is in: the rest is on its way or in the kernel.
	c.WaitFor(t, "the first message", 10*time.Second, func(v testkit.View) bool { return v.Counters["syslog_messages"] > 0 })
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	if got := len(v.Requests["syslog:web-s/api"]); got != n {
		t.Errorf("%d of %d requests handed over by the stop", got, n)
	}
	for src, st := range v.States {
		if st != detect.StateStopped {
			t.Errorf("%s ended %v, want stopped", src, st)
		}
	}
}

// --state: a listener's next run says for how long it was not listening.
func TestListenerState(t *testing.T) {
	store, err := state.Open(filepath.Join(t.TempDir(), "rw.state"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, c := runListener(t, "syslog+udp://127.0.0.1:0", Options{State: store})
	c.WaitFor(t, "the first note", 5*time.Second, func(v testkit.View) bool { return v.Notes["syslog+udp://127.0.0.1:0"] != "" })
	if n := c.View().Notes["syslog+udp://127.0.0.1:0"]; strings.Contains(n, "not listening") {
		t.Errorf("a first run says %q", n)
	}
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	_, c = runListener(t, "syslog+udp://127.0.0.1:0", Options{State: store})
	c.WaitFor(t, "the note of the time away", 5*time.Second, func(v testkit.View) bool {
		return strings.Contains(v.Notes["syslog+udp://127.0.0.1:0"], "not listening from ") &&
			strings.Contains(v.Notes["syslog+udp://127.0.0.1:0"], "what was sent over UDP then is lost")
	})
}
