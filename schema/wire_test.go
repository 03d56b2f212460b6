package schema

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// The wire form carries everything the engine reads, and reads back to the
// same request: bytes as sent (invisible runes included), blindness, the
// flags the request line leaves out.
func TestWireRoundTrip(t *testing.T) {
	in := detect.Request{
		Time: time.Date(2026, 11, 26, 21, 1, 10, 123456000, time.UTC), Source: "/var/log/nginx/api.log",
		Client: netip.MustParseAddrPort("10.0.0.7:51234"), Server: netip.MustParseAddrPort("[2001:db8::1]:443"),
		Method: "GET", Host: "evil.rebind.test\u202e", HasHost: true, Target: "/admin?api_key=REDACTED", URIHost: "x.test",
		Proto: "HTTP/1.1", Origin: "", HasOrigin: true, Referer: "http://a/\x1b[2J", UserAgent: "curl/8.0",
		Key: "3f2a9c1b7d4e", Status: 200, DupHost: true, PNARequest: true, PNAGranted: true,
		Blind: detect.BlindReferer | detect.BlindKey,
	}
	line := AppendWireRequest(nil, &in, "web-03")
	if !strings.HasPrefix(string(line), `{"type":"request","time":"2026-11-26T21:01:10.123456Z","source":`) {
		t.Errorf("not the request line's shape: %s", line)
	}
	var out detect.Request
	node, err := ParseWireRequest(line, &out)
	if err != nil {
		t.Fatal(err)
	}
	if node != "web-03" || out != in {
		t.Errorf("round trip:\n got %+v (node %q)\nwant %+v", out, node, in)
	}
	// A log's client has no port and there is no server.
	in = detect.Request{Time: in.Time, Client: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 0), Method: "GET", Target: "/"}
	if _, err := ParseWireRequest(AppendWireRequest(nil, &in, ""), &out); err != nil || out != in {
		t.Errorf("log request: %+v %v", out, err)
	}
}

func TestWireRefusesWhatIsNotAWireRequest(t *testing.T) {
	for name, data := range map[string]string{
		"not_json":     `GET / HTTP/1.1`,
		"alert":        `{"type":"alert","time":"2026-11-26T21:01:10Z"}`,
		"bad_time":     `{"type":"request","time":"yesterday"}`,
		"bad_client":   `{"type":"request","time":"2026-11-26T21:01:10Z","client":"nowhere"}`,
		"raw_key":      `{"type":"request","time":"2026-11-26T21:01:10Z","key":"sk_live_CwBZWJOBrUgazX5M4W4Nc8OH"}`,
		"status_thing": `{"type":"request","time":"2026-11-26T21:01:10Z","status":"sk_live_K2zzSxxnF1eKUpTXYgwMzqHx"}`,
	} {
		var r detect.Request
		_, err := ParseWireRequest([]byte(data), &r)
		if !errors.Is(err, ErrWire) {
			t.Errorf("%s: err %v, want ErrWire", name, err)
			continue
		}
		if strings.Contains(err.Error(), "sk_live") {
			t.Errorf("%s: the error quotes the input: %v", name, err)
		}
	}
}

// The wire reader decodes strings as encoding/json does, and refuses what
// encoding/json refuses.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\udc00\ud800"`,
		`"\ud83d\u0041"`, "\"\xff\xfe\"", `"é"`, `"\u"`, `"x`, "\"\x01\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want string
		werr := json.Unmarshal(data, &want)
		s := jsonScanner{b: data}
		got, ok := s.str()
		ok = ok && s.end() == nil
		if (werr == nil) != ok {
			t.Fatalf("%q: encoding/json says %v, the wire reader %v", data, werr, ok)
		}
		if ok && string(got) != want {
			t.Fatalf("%q: %q, encoding/json %q", data, got, want)
		}
	})
}

// Any request's wire form reads back as the request; any bytes at all
// give a request or an error, never a panic.
func FuzzWireRequest(f *testing.F) {
	f.Add("evil.rebind.test\u202e", "/admin?api_key=REDACTED", "http://a/\x1b[2J", "Mozilla \"x\" \\", "web-03", 200, uint8(3))
	f.Add("", "", "", "", "", 0, uint8(0))
	f.Fuzz(func(t *testing.T, host, target, referer, ua, node string, status int, blind uint8) {
		valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
		in := detect.Request{Time: time.Date(2026, 11, 26, 21, 1, 10, 123456000, time.UTC), Method: "GET",
			Host: valid(host), HasHost: true, Target: valid(target), Referer: valid(referer), UserAgent: valid(ua),
			Status: status % 1000, Blind: detect.Blindness(blind & 15)}
		var out detect.Request
		got, err := ParseWireRequest(AppendWireRequest(nil, &in, valid(node)), &out)
		if err != nil || got != valid(node) || out != in {
			t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, out, in)
		}
		for _, junk := range [][]byte{[]byte(host), []byte(`{"type":"request","time":"2026-11-26T21:01:10Z",` + target + `}`)} {
			ParseWireRequest(junk, &out)
		}
	})
}
