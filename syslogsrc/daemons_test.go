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
	"testing"
	"time"

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
		resp, err := http.Get(fmt.Sprintf("%s/r/%d", base, i))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
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
// test, showing its output if the test failed.
func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
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

// waitHTTP waits for a server to answer.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %v", url, err)
		}
	}
}

func freeTCPPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func freeUDPPort(t *testing.T) string {
	t.Helper()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.LocalAddr().String())
	return p
}
