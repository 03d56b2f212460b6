package syslogsrc

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

// The real thing, on loopback: nginx logs to the listener over syslog
// (UDP, RFC 3164), and to rsyslog, which forwards over TCP with octet
// counting in RFC 5424 (RSYSLOG_SyslogProtocol23Format). Every request
// arrives once on each path, under the source its header names.
func TestNginxAndRsyslog(t *testing.T) {
	nginx, rsyslogd := need(t, "nginx", "/usr/sbin/nginx"), need(t, "rsyslogd", "/usr/sbin/rsyslogd")
	l, c := runListener(t, "syslog://127.0.0.1:0", Options{})
	_, lport, _ := net.SplitHostPort(l.Addr())
	dir := t.TempDir()
	rport := freeUDPPort(t)
	httpPort := freeTCPPort(t)

	rconf := filepath.Join(dir, "rsyslog.conf")
	write(t, rconf, `global(workDirectory="`+dir+`")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="`+rport+`")
action(type="omfwd" target="127.0.0.1" port="`+lport+`" protocol="tcp" TCP_Framing="octet-counted"
       template="RSYSLOG_SyslogProtocol23Format")
`)
	start(t, exec.Command(rsyslogd, "-n", "-f", rconf, "-i", filepath.Join(dir, "rsyslogd.pid")))

	nconf := filepath.Join(dir, "nginx.conf")
	temp := func(name string) string { return name + " " + filepath.Join(dir, name) + ";\n" }
	write(t, nconf, `daemon off;
master_process off;
worker_processes 1;
pid `+filepath.Join(dir, "nginx.pid")+`;
error_log `+filepath.Join(dir, "error.log")+`;
events { worker_connections 64; }
http {
  `+temp("client_body_temp_path")+temp("proxy_temp_path")+temp("fastcgi_temp_path")+temp("uwsgi_temp_path")+temp("scgi_temp_path")+`
  server {
    listen 127.0.0.1:`+httpPort+`;
    access_log syslog:server=127.0.0.1:`+lport+`,tag=api combined;
    access_log syslog:server=127.0.0.1:`+rport+`,tag=viarsyslog combined;
    location / { return 200 "ok\n"; }
  }
}
`)
	start(t, exec.Command(nginx, "-c", nconf, "-p", dir))

	base := "http://127.0.0.1:" + httpPort
	waitHTTP(t, base+"/ready")
	const n = 50
	for i := range n {
		get(t, fmt.Sprintf("%s/r/%d", base, i))
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	direct, forwarded := "syslog:"+host+"/api", "syslog:"+host+"/viarsyslog"
	c.WaitFor(t, "every request on both paths", 20*time.Second, func(v testkit.View) bool {
		got := v.Count()
		return got[direct] >= n+1 && got[forwarded] >= n+1 // and /ready
	})
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	for _, src := range []string{direct, forwarded} {
		var targets []string
		for _, r := range v.Requests[src] {
			if r.Target != "/ready" {
				targets = append(targets, r.Target)
			}
			if r.Source != src || r.Method != "GET" || r.Status != 200 {
				t.Errorf("%s: request %+v", src, r)
			}
		}
		slices.Sort(targets)
		var want []string
		for i := range n {
			want = append(want, "/r/"+strconv.Itoa(i))
		}
		slices.Sort(want)
		if !slices.Equal(targets, want) {
			t.Errorf("%s: %d requests %v, want each of %d once", src, len(targets), targets, n)
		}
		if note := v.Notes[src]; !strings.Contains(note, "format: combined (auto)") {
			t.Errorf("%s: note %q", src, note)
		}
	}
}

// gunicorn's own syslog (Python's SysLogHandler over UDP: "<PRI>TAG: [PID]
// MSG", no time, no host): its access lines arrive once each under
// syslog:ADDRESS/gunicorn.api.access, its error log's lines are noted as
// unread under their own tag.
func TestGunicorn(t *testing.T) {
	gunicorn := need(t, "gunicorn", "/usr/bin/gunicorn")
	l, c := runListener(t, "syslog+udp://127.0.0.1:0", Options{})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "app.py"), `def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
`)
	httpPort := freeTCPPort(t)
	start(t, exec.Command(gunicorn, "--chdir", dir, "--bind", "127.0.0.1:"+httpPort, "--workers", "1",
		"--log-syslog", "--log-syslog-to", "udp://"+l.Addr(), "--log-syslog-prefix", "api", "app:app"))
	base := "http://127.0.0.1:" + httpPort
	waitHTTP(t, base+"/ready")
	const n = 20
	for i := range n {
		get(t, fmt.Sprintf("%s/g/%d", base, i))
	}
	src := "syslog:127.0.0.1/gunicorn.api.access"
	c.WaitFor(t, "every request", 20*time.Second, func(v testkit.View) bool { return len(v.Requests[src]) >= n+1 })
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	onceEach(t, v.Requests[src], "/g/", n)
	if note := v.Notes["syslog:127.0.0.1/gunicorn.api.error"]; !strings.Contains(note, "not read") {
		t.Errorf("the error log's note %q", note)
	}
}

// HAProxy logging to the listener over UDP (RFC 3164 without a host) in
// the log-format the README gives, which captures the Host and Origin
// headers in the shape auto-detection knows: every request once, with the
// Host and Origin it was sent with.
func TestHAProxy(t *testing.T) {
	haproxy := need(t, "haproxy", "/usr/sbin/haproxy")
	l, c := runListener(t, "syslog+udp://127.0.0.1:0", Options{})
	dir := t.TempDir()
	httpPort := freeTCPPort(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	write(t, cfg, `global
    log `+l.Addr()+` local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend api
    bind 127.0.0.1:`+httpPort+`
`+haproxyLogFormat+`
    http-request return status 200 content-type text/plain string ok
`)
	start(t, exec.Command(haproxy, "-db", "-f", cfg))
	base := "http://127.0.0.1:" + httpPort
	waitHTTP(t, base+"/ready")
	const n = 20
	for i := range n {
		req, err := http.NewRequest("GET", fmt.Sprintf("%s/h/%d", base, i), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "api.example.test"
		req.Header.Set("Origin", "https://app.example.test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	src := "syslog:127.0.0.1/haproxy"
	c.WaitFor(t, "every request", 20*time.Second, func(v testkit.View) bool { return len(v.Requests[src]) >= n+1 })
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	v := c.View()
	onceEach(t, v.Requests[src], "/h/", n)
	for _, r := range v.Requests[src] {
		if r.Target != "/ready" && (r.Host != "api.example.test" || r.Origin != "https://app.example.test" || r.Blind.Has(detect.BlindHost)) {
			t.Errorf("request %s: Host %q Origin %q blind %v", r.Target, r.Host, r.Origin, r.Blind)
		}
	}
}

// haproxyLogFormat is the README's HAProxy snippet: the request's Host,
// Origin, Referer and User-Agent captured and logged in the shape of
// --print-log-config's (the key comes from the query string).
const haproxyLogFormat = `    http-request capture req.hdr(host) len 128
    http-request capture req.hdr(origin) len 128
    http-request capture req.hdr(referer) len 256
    http-request capture req.hdr(user-agent) len 256
    log-format "%ci - - [%trg] \"%HM %HU %HV\" %ST %B \"%[capture.req.hdr(2)]\" \"%[capture.req.hdr(3)]\" host=\"%[capture.req.hdr(0)]\" origin=\"%[capture.req.hdr(1)]\" key=\"-\""`

// util-linux's logger, as Apache's piped CustomLog runs it: over TCP with
// octet counting and RFC 5424, and over UDP in RFC 3164, each line once
// under syslog:HOST/TAG.
func TestLogger(t *testing.T) {
	logger := need(t, "logger", "/usr/bin/logger")
	l, c := runListener(t, "syslog://127.0.0.1:0", Options{})
	host, port, _ := net.SplitHostPort(l.Addr())
	var lines strings.Builder
	for i := range 10 {
		fmt.Fprintf(&lines, "127.0.0.%d - - [26/Nov/2026:23:58:29 +0100] \"GET /l/%d HTTP/1.1\" 200 3 \"-\" \"curl/7.88.1\"\n", i+1, i)
	}
	for _, args := range [][]string{
		{"-n", host, "-P", port, "-T", "--octet-count", "--rfc5424", "-t", "apache-tcp"},
		{"-n", host, "-P", port, "-d", "--rfc3164", "-t", "apache-udp"},
	} {
		cmd := exec.Command(logger, args...)
		cmd.Stdin = strings.NewReader(lines.String()) // one message a line, as a piped log does
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v: %s", args, err, out)
		}
	}
	me, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	tcp, udp := "syslog:"+me+"/apache-tcp", "syslog:"+me+"/apache-udp"
	c.WaitFor(t, "ten lines each", 10*time.Second, func(v testkit.View) bool {
		return len(v.Requests[tcp]) == 10 && len(v.Requests[udp]) == 10
	})
	for _, src := range []string{tcp, udp} {
		for i, r := range c.View().Requests[src] {
			if r.Target != fmt.Sprintf("/l/%d", i) {
				t.Errorf("%s: request %d is %s", src, i, r.Target)
			}
		}
	}
}

// onceEach fails unless reqs hold each of the targets prefix0 to
// prefix(n-1) exactly once (and any others, /ready, as they come).
func onceEach(t *testing.T, reqs []detect.Request, prefix string, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range reqs {
		seen[r.Target]++
	}
	for i := range n {
		if k := prefix + strconv.Itoa(i); seen[k] != 1 {
			t.Errorf("%s seen %d times", k, seen[k])
		}
	}
}

// need returns the path of a daemon the test runs, skipping loudly when
// it is not installed (.ci/run installs it).
func need(t *testing.T, name, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		t.Skipf("SKIPPED: %s is not installed (apt-get install %s; .ci/run does)", name, name)
	}
	return path
}

// start starts a daemon in the foreground and stops it at the end of the
// test (SIGTERM, which a master passes to its workers; SIGKILL after 5 s),
// showing its output if the test failed.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second // a worker left holding the output does not hold the test
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s said:\n%s", filepath.Base(cmd.Path), out.String())
		}
	})
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get fetches url to its end (a server logs a request once its answer
// is sent: gunicorn logs none for a client that hung up first).
func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// waitHTTP waits for a server to answer.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %v", url, err)
		}
	}
}

// freeTCPPort and freeUDPPort return a loopback port free at the moment.
func freeTCPPort(t *testing.T) string { return freePort(t, "tcp") }
func freeUDPPort(t *testing.T) string { return freePort(t, "udp") }

func freePort(t *testing.T, network string) string {
	t.Helper()
	var addr net.Addr
	if network == "udp" {
		c, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		addr = c.LocalAddr()
	} else {
		l, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addr = l.Addr()
	}
	_, p, _ := net.SplitHostPort(addr.String())
	return p
}
