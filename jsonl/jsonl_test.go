package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

var t0 = time.Date(2026, 11, 26, 21, 1, 10, 123456000, time.UTC)

func TestRequestLine(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Emit{Request: true})
	r := &detect.Request{
		Time: t0, Source: "pcap",
		Client: netip.MustParseAddrPort("10.0.0.7:51234"), Server: netip.MustParseAddrPort("10.0.0.1:80"),
		Method: "GET", Host: "evil.rebind.test", HasHost: true, Target: "/admin?x=1", Proto: "HTTP/1.1",
		Origin: "http://evil.rebind.test", HasOrigin: true, UserAgent: "curl/8.0", Key: "3f2a9c1b7d4e", Status: 200,
	}
	if err := w.Request(r); err != nil {
		t.Fatal(err)
	}
	w.BatchEnd()
	want := `{"type":"request","time":"2026-11-26T21:01:10.123456Z","source":"pcap","client":"10.0.0.7:51234",` +
		`"server":"10.0.0.1:80","method":"GET","host":"evil.rebind.test","target":"/admin?x=1",` +
		`"proto":"HTTP/1.1","origin":"http://evil.rebind.test","referer":"","user_agent":"curl/8.0",` +
		`"key":"3f2a9c1b7d4e","status":200}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestLogClientHasNoPortAndNoServer(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Emit{Request: true})
	w.Request(&detect.Request{Time: t0, Client: netip.AddrPortFrom(netip.MustParseAddr("::ffff:10.0.0.7"), 0)})
	w.BatchEnd()
	if !strings.Contains(buf.String(), `"client":"10.0.0.7","server":""`) {
		t.Errorf("got %s", buf.String())
	}
}

func TestHostileStringsStayOneValidLine(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Emit{Request: true, Alert: true})
	hostile := "a\"b\\c\nd\re\x1b[31m\x00\xff\u2028\u009b\u202e\u200d"
	w.Request(&detect.Request{Time: t0, Host: hostile, Target: hostile, UserAgent: hostile})
	w.Alert(&detect.Alert{Time: t0, Detector: "unexpected_host", Subject: hostile, Message: hostile, Count: 1})
	w.BatchEnd()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d: %q", len(lines), buf.String())
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("not JSON: %v: %s", err, l)
		}
		if strings.ContainsAny(l, "\x1b\x00\r\u2028\u009b\u202e\u200d") {
			t.Errorf("raw control characters in %q", l)
		}
		if !strings.HasPrefix(l, `{"type":`) {
			t.Errorf("type is not first: %s", l)
		}
	}
}

func TestSummaryAndDNS(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Emit{Summary: true, DNS: true})
	w.DNS(&detect.DNSAnswer{Time: t0, Name: "evil.rebind.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, TTL: 1, Private: true})
	w.Summary(detect.Summary{Requests: 3, Alerts: map[string]int{detect.DetKeyBurst: 1}, Evicted: map[string]uint64{"keys": 2}})
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines = append(lines, m)
	}
	if lines[0]["type"] != "dns" || lines[0]["addrs"].([]any)[0] != "127.0.0.1" {
		t.Errorf("dns line %v", lines[0])
	}
	al := lines[1]["alerts"].(map[string]any)
	if lines[1]["type"] != "summary" || al[detect.DetKeyBurst] != float64(1) || al[detect.DetUnexpectedHost] != float64(0) {
		t.Errorf("summary %v: every detector must be listed", lines[1])
	}
}

func TestParseEmit(t *testing.T) {
	e, err := ParseEmit("alert, request,summary,dns")
	if err != nil || !e.Alert || !e.Request || !e.Summary || !e.DNS {
		t.Errorf("%+v %v", e, err)
	}
	if _, err := ParseEmit("alert,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("want an error naming bogus, got %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestWriteErrorsAreReported(t *testing.T) {
	w := New(failWriter{}, Emit{Alert: true})
	if err := w.Alert(&detect.Alert{Time: t0}); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Errorf("got %v", err)
	}
}

func BenchmarkRequestLine(b *testing.B) {
	var buf bytes.Buffer
	w := New(&buf, Emit{Request: true})
	r := &detect.Request{Time: t0, Source: "pcap", Client: netip.MustParseAddrPort("10.0.0.7:51234"), Method: "GET",
		Host: "api.example.com", HasHost: true, Target: "/v1/items/1", Proto: "HTTP/1.1", UserAgent: "curl/8.0", Key: "3f2a9c1b7d4e", Status: 200}
	b.ReportAllocs()
	for b.Loop() {
		w.Request(r)
		if buf.Len() > 1<<20 {
			w.BatchEnd()
			buf.Reset()
		}
	}
}
