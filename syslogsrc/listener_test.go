package syslogsrc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// collector runs a listener and keeps what it sends, so a test can wait
// for what it expects (never for a time).
type collector struct {
	mu       sync.Mutex
	changed  chan struct{}
	reqs     map[string][]detect.Request
	counters map[string]uint64
	notes    map[string]string
	states   map[string]detect.SourceState
	problems []detect.Problem
	parseErr uint64
	dropped  uint64
	done     chan error    // Run's result
	drained  chan struct{} // every batch collected
	once     sync.Once
	cancel   context.CancelFunc
}

func runListener(t *testing.T, spec string, o Options) (*Listener, *collector) {
	t.Helper()
	if o.Location == nil {
		o.Location = time.UTC
	}
	l, err := Listen(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{changed: make(chan struct{}, 1), reqs: map[string][]detect.Request{}, counters: map[string]uint64{},
		notes: map[string]string{}, states: map[string]detect.SourceState{}, done: make(chan error, 1),
		drained: make(chan struct{}), cancel: cancel}
	out := make(chan detect.Batch, 64)
	go func() {
		err := l.Run(ctx, out)
		close(out)
		c.done <- err
	}()
	go func() {
		defer close(c.drained)
		for b := range out {
			c.mu.Lock()
			c.reqs[b.Source] = append(c.reqs[b.Source], b.Requests...)
			for k, v := range b.Counters {
				c.counters[k] += v
			}
			if b.Note != "" {
				c.notes[b.Source] = b.Note
			}
			c.states[b.Source] = b.State
			c.problems = append(c.problems, b.Problems...)
			c.parseErr += b.ParseErrors
			c.dropped += b.Dropped
			c.mu.Unlock()
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { c.stop(t) })
	return l, c
}

// stop stops the listener and waits for its last batch.
func (c *collector) stop(t *testing.T) {
	c.once.Do(func() {
		c.cancel()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
			<-c.drained
		case <-time.After(10 * time.Second):
			t.Fatal("the listener did not stop within 10 s")
		}
	})
}

// waitFor waits until cond holds on the collected state, failing after
// limit (a daemon that never delivers), with what was collected.
func (c *collector) waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(limit)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-deadline:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("waited %v for %s; sources %v, counters %v, problems %v, notes %v", limit, what, c.count(), c.counters, c.problems, c.notes)
		}
	}
}

func (c *collector) count() map[string]int {
	m := map[string]int{}
	for k, v := range c.reqs {
		m[k] = len(v)
	}
	return m
}

func (c *collector) requests(src string) []detect.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]detect.Request(nil), c.reqs[src]...)
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
	fmt.Fprintf(u, "<190>%s", strings.Repeat("x", 2000))    // too long
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
	c.waitFor(t, "5 requests from each sender", 10*time.Second, func() bool {
		n := c.count()
		return n["syslog:web-1/api"] == 5 && n["syslog:web-2/api"] == 5 && n["syslog:web-3/api"] == 5 && n["syslog:127.0.0.1/api"] == 5
	})
	c.waitFor(t, "the counts", 5*time.Second, func() bool {
		return c.counters["syslog_too_long"] == 1 && c.parseErr == 1
	})
	c.mu.Lock()
	for _, p := range c.problems {
		if strings.Contains(p.Text, "sk_live") || strings.Contains(p.Text, "garbage") {
			t.Errorf("a problem quotes the message: %q", p.Text)
		}
	}
	if n := c.notes["syslog:web-1/api"]; !strings.Contains(n, "format: combined (auto)") {
		t.Errorf("note %q", n)
	}
	if n := c.notes["syslog://127.0.0.1:0"]; !strings.Contains(n, "listening on udp+tcp 127.0.0.1:") {
		t.Errorf("listener note %q", n)
	}
	c.mu.Unlock()
	for i, r := range c.requests("syslog:web-3/api") {
		if r.Target != fmt.Sprintf("/item/%d", i) || r.Source != "syslog:web-3/api" {
			t.Errorf("request %d: %s %s", i, r.Source, r.Target)
		}
	}
}

// TLS (RFC 5425: octet-counted over TLS); the certificate is made here.
func TestListenerTLS(t *testing.T) {
	cert, key := selfSigned(t)
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
	c.waitFor(t, "3 requests over TLS", 10*time.Second, func() bool { return c.count()["syslog:web-t/api"] == 3 })

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
	c.waitFor(t, "both connections read", 10*time.Second, func() bool {
		n := c.count()
		return n["syslog:web-0/api"] == 1 && n["syslog:web-1/api"] == 1
	})
	extra, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	fmt.Fprintf(extra, "<190>Nov 26 23:58:29 web-x api: %s\n", accessLine(0))
	c.waitFor(t, "the third connection refused", 10*time.Second, func() bool { return c.counters["syslog_connections_refused"] == 1 })
	if n := c.count()["syslog:web-x/api"]; n != 0 {
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
	c.waitFor(t, "the first message", 10*time.Second, func() bool { return c.counters["syslog_messages"] > 0 })
	c.stop(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if got := len(c.reqs["syslog:web-s/api"]); got != n {
		t.Errorf("%d of %d requests handed over by the stop", got, n)
	}
	for src, st := range c.states {
		if st != detect.StateStopped {
			t.Errorf("%s ended %v, want stopped", src, st)
		}
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rebindwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
