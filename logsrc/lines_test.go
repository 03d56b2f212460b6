package logsrc

import (
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Lines reads a stream that arrives line by line from elsewhere as Run
// reads a file: auto-detection on its first lines, the same parsers, keys
// fingerprinted and their values redacted.
func TestLinesDecideThenParse(t *testing.T) {
	l, err := NewLines("", keys.NewExtractor(keys.DefaultConfig()), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := [][]byte{
		[]byte(""),
		[]byte(`192.0.2.1 - - [26/Nov/2026:21:00:00 +0000] "GET /v1/items?api_key=sk_live_CwBZWJOBrUgazX5M4W4Nc8OH HTTP/1.1" 200 12 "-" "curl/8.0"` + "\n"),
	}
	if l.Decided() || !l.Decide(first) || !l.Decided() || !strings.Contains(l.Note(), "(auto)") {
		t.Fatalf("decided %v, note %q", l.Decided(), l.Note())
	}
	r := detect.Request{Source: "web-01"}
	ok, err := l.Parse(first[1], &r)
	if !ok || err != nil || r.Source != "web-01" || r.Key == "" || strings.Contains(r.Target, "sk_live") ||
		r.Client.Addr().String() != "192.0.2.1" {
		t.Fatalf("ok %v err %v request %+v", ok, err, r)
	}
	if ok, err := l.Parse([]byte("\r\n"), &r); ok || err != nil {
		t.Errorf("a blank line: %v %v", ok, err)
	}
	if ok, err := l.Parse([]byte("not a log line"), &r); ok || err == nil {
		t.Errorf("garbage: %v %v", ok, err)
	}
	if q := Quote([]byte(`x "GET /?api_key=sk_live_CwBZWJOBrUgazX5M4W4Nc8OH HTTP/1.1"`)); strings.Contains(q, "CwBZWJOB") {
		t.Errorf("Quote leaks the key: %s", q)
	}
	// No format reads any of them: not decided, and the next lines are tried.
	l2, _ := NewLines("", nil, nil)
	if l2.Decide([][]byte{[]byte("garbage")}) || l2.Decided() {
		t.Error("garbage decided a format")
	}
}
