package syslogout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/schema"
)

var t0 = time.Date(2026, 11, 26, 21, 1, 10, 123456000, time.UTC)

func alerts() []detect.Alert {
	return []detect.Alert{
		{Time: t0, Detector: detect.DetUnexpectedHost, Severity: detect.SeverityCritical, Subject: "evil.rebind.test",
			Key: "3f2a9c1b7d4e", Client: "10.0.0.7", Host: "evil.rebind.test", Target: "/admin?api_key=REDACTED", Status: 200,
			Outcome: detect.OutcomeServed, Class: "rebinding", Incident: "inc-1", Count: 1,
			Message: "Host evil.rebind.test is not an allowed name; the server answered 200"},
		{Time: t0.Add(time.Second), Detector: detect.DetKeySpread, Severity: detect.SeverityMedium, Subject: "3f2a9c1b7d4e",
			Dimension: "host", Key: "3f2a9c1b7d4e", Count: 1, Message: "key seen under 4 Host names"},
		// Hostile: what ends a parameter, escapes, and terminal control.
		{Time: t0.Add(2 * time.Second), Detector: detect.DetForeignOrigin, Severity: detect.SeverityLow,
			Subject: `http://a"] [x@1 y="z\` + "\x1b[2J\u202e", Origin: `http://a"]`, Count: 2, Message: "line\nbreak"},
	}
}

// freePort returns a port that was free a moment ago on 127.0.0.1.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// rsyslog starts a real rsyslogd listening on network at a free port,
// parsing RFC 5424 (its default parser chain) and the structured data
// (mmpstrucdata), writing app-name, procid, msgid, pri, the parsed
// structured data as JSON and the message, one line per message.
func rsyslog(t *testing.T, network string) (addr, out string) {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		t.Skip("SKIPPED: rsyslogd is not installed (apt-get install rsyslog); the syslog output is not read back by rsyslog")
	}
	dir := t.TempDir()
	port := freePort(t, network)
	out = filepath.Join(dir, "out.log")
	input := map[string]string{"udp": "imudp", "tcp": "imtcp"}[network]
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load=%q)
module(load="mmpstrucdata")
input(type=%q address="127.0.0.1" port="%d")
template(name="fields" type="list") {
  property(name="app-name") constant(value="|")
  property(name="procid") constant(value="|")
  property(name="msgid") constant(value="|")
  property(name="pri") constant(value="|")
  property(name="$!rfc5424-sd") constant(value="|")
  property(name="msg") constant(value="\n")
}
action(type="mmpstrucdata")
action(type="omfile" file=%q template="fields")
`, dir, input, input, port, out)
	cfg := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", cfg, "-i", filepath.Join(dir, "pid"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr = "127.0.0.1:" + strconv.Itoa(port)
	// Wait until it listens: TCP accepts; UDP has no answer, so wait for
	// the socket to be bound (a probe message written to the file).
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if network == "tcp" {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return addr, out
			}
		} else {
			if c, err := net.Dial("udp", addr); err == nil {
				c.Write([]byte("<13>1 2026-11-26T21:00:00Z probe probe - PROBE - probe"))
				c.Close()
			}
			if data, _ := os.ReadFile(out); strings.Contains(string(data), "PROBE") {
				return addr, out
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rsyslogd did not start listening on %s %s", network, addr)
	return "", ""
}

// The messages are RFC 5424 as a real rsyslog reads them: its parser finds
// the app name, msgid and priority, and mmpstrucdata gives back every
// parameter as sent, hostile values included; nothing reaches the file
// that could drive a terminal.
func TestRsyslogReadsTheAlerts(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			addr, out := rsyslog(t, network)
			s, err := New(Options{URL: network + "://" + addr, Hostname: "gw-1"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			as := alerts()
			for i := range as {
				s.Alert(&as[i])
			}
			var lines []string
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				lines = readLines(t, out)
				if len(lines) >= len(as) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if len(lines) != len(as) {
				t.Fatalf("rsyslog wrote %d lines, want %d: %q", len(lines), len(as), lines)
			}
			for i, line := range lines {
				a := &as[i]
				f := strings.SplitN(line, "|", 6)
				if len(f) != 6 {
					t.Fatalf("line %q", line)
				}
				wantPri := strconv.Itoa(16*8 + severity(a.Severity))
				if f[0] != "rebindwatch" || f[1] != strconv.Itoa(os.Getpid()) || f[2] != a.Detector || f[3] != wantPri {
					t.Errorf("header: app %q procid %q msgid %q pri %q", f[0], f[1], f[2], f[3])
				}
				var sd map[string]map[string]string
				if err := json.Unmarshal([]byte(f[4]), &sd); err != nil {
					t.Fatalf("structured data %q: %v", f[4], err)
				}
				p := sd[sdID]
				if p["id"] != schema.AlertID(a) || p["detector"] != a.Detector || p["severity"] != a.Severity.String() ||
					p["count"] != strconv.Itoa(a.Count) || p["key"] != a.Key || p["incident"] != a.Incident {
					t.Errorf("parameters %v", p)
				}
				if i == 2 {
					// The hostile subject arrives whole, its control and
					// invisible characters escaped, not raw.
					want := `http://a"] [x@1 y="z\` + `\x1b[2J\u202e`
					if p["subject"] != want {
						t.Errorf("subject %q, want %q", p["subject"], want)
					}
				}
				if strings.ContainsAny(line, "\x1b\u202e") {
					t.Errorf("a raw control or invisible character reached rsyslog's file: %q", line)
				}
			}
			if st := s.Stats(); st.Sent != uint64(len(as)) || st.Dropped+st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "PROBE") {
			out = append(out, sc.Text())
		}
	}
	return out
}

func TestNewRefusesWhatIsNotASyslogURL(t *testing.T) {
	for _, u := range []string{"", "udp://host", "http://h:514", "tcp://:514/x", "h:514"} {
		if _, err := New(Options{URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

// A full queue drops and counts; the engine never waits.
func TestFullQueueDrops(t *testing.T) {
	s, err := New(Options{URL: "udp://127.0.0.1:9", Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	as := alerts()
	for i := range as {
		s.Alert(&as[i])
	}
	if st := s.Stats(); st.Dropped != 1 {
		t.Errorf("stats %+v, want 1 dropped", st)
	}
}
