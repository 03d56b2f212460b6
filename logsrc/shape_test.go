package logsrc

import (
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

func TestShapeOf(t *testing.T) {
	tests := []struct{ name, line, want string }{
		{"combined_bad_status",
			`127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /v1/items?api_key=sk_live_abc&page=2 HTTP/1.1" 2OO 5 "-" "curl/7.88.1" "k-alice-3f9a1c" 0.004`,
			`127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /v1/items?api_key=…&page=… HTTP/1.1" 2OO 5 "-" "<text:11>" "<text:14>" 0.004`},
		{"json", `{"time":"2026-11-26T21:01:10Z","key":"abcdefghijklmn","status":200}`,
			`{"time":"2026-11-26T21:01:10Z","key":"<text:14>","status":200}`},
		{"name_value", `host="api.example.test" xkey="0123456789" rt=0.004`, `host="<text:16>" xkey="<number:10>" rt=0.004`},
		{"werkzeug", `127.0.0.1 - - [26/Nov/2026 21:01:10] "GET /v1/keys/sk_live_K2zzSxxnF1eKUpTXYgwMzqHx HTTP/1.1" 200 -`,
			`127.0.0.1 - - [26/Nov/2026 21:01:10] "GET /v1/keys/<text:32> HTTP/1.1" 200 -`},
		{"control_bytes", "a\x1b[31mb", `<text:2>[31mb`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := shapeOf([]byte(tc.line), 400); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestShapeHidesKeysOfAnyLength is the key matrix of the red-team issue:
// keys of 6 to 40 characters, of every character class, in every kind of
// column a log can have, in lines that do not parse (a bad status, a lost
// quote, a cut line); no 8-character piece (or, for shorter keys, the key
// itself) may survive into the quote.
func TestShapeHidesKeysOfAnyLength(t *testing.T) {
	classes := map[string]string{
		"lower":  "abcdefghijklmnopqrstuvwxyzabcdefghijklmn",
		"digits": "3141592653589793238462643383279502884197",
		"mixed":  "k-alice-3f9a1cZq7Wm2Xk9Lp4Rt8Vb6Nc1Dg5Hj",
		"upper":  "AKIAIOSFODNN7EXAMPLEAKIAIOSFODNN7EXAMPLE",
		"b64":    "c2tfbGl2ZV9NV0tZ/cw==c2tfbGl2ZV9NV0tZcw==",
	}
	columns := map[string]string{
		"header_column":  `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 2OO 5 "-" "curl/8" "KEY" 0.004`,
		"bearer":         `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" auth="Bearer	KEY"`,
		"cookie":         `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" cookie="sid=KEY; theme=dark"`,
		"query_odd":      `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /?api_key%00=KEY&key[]=KEY HTTP/1.1" 200 5 "-" "curl/8"`,
		"query_bare":     `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /feed?KEY HTTP/1.1" 2OO 5 "-" "curl/8"`,
		"query_bare_2nd": `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /feed?page=2&KEY HTTP/1.1" 2OO 5 "-" "curl/8"`,
		"lost_quote":     `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" KEY" "https://app.example"`,
		"json":           `{"ts":1764191270.1,"request":{"method":"GET","uri":"/","headers":{"X-Api-Key":["KEY"]}},"status":2OO}`,
		"werkzeug":       `127.0.0.1 - - [26/Nov/2026 21:01:10] "GET /v1/items/KEY HTTP/1.1" 2OO -`,
		"bare_tail":      `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" KEY`,
	}
	n := 0
	for cname, col := range columns {
		for class, src := range classes {
			for _, l := range []int{6, 7, 8, 10, 12, 14, 16, 20, 24, 32, 40} {
				key := src[:l]
				line := strings.ReplaceAll(col, "KEY", key)
				for _, cut := range []int{len(line), len(line) - 3, len(line) / 2} {
					got := shapeOf([]byte(line[:cut]), 200)
					n++
					if leak := leaked(got, key); leak != "" {
						t.Fatalf("%s/%s/%d (cut at %d): %q survives in %s", cname, class, l, cut, leak, got)
					}
				}
			}
		}
	}
	if n < 396 {
		t.Fatalf("only %d cases", n)
	}
}

// leaked returns a piece of key found in out: the key itself when shorter
// than 8, else any 8-character piece of it.
func leaked(out, key string) string {
	if len(key) < 8 {
		if strings.Contains(out, key) {
			return key
		}
		return ""
	}
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(out, key[i:i+8]) {
			return key[i : i+8]
		}
	}
	return ""
}

func FuzzShapeOf(f *testing.F) {
	f.Add(`127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET /?a=1 HTTP/1.1" 200 5 "-" "curl/8"`, "sk_live_K2zzSxxn")
	f.Add(`{"a":"KEY"}`, "0123456789")
	f.Fuzz(func(t *testing.T, line, key string) {
		// A key as the red-team matrix writes them: 6 to 40 token
		// characters, planted as a column of its own.
		if len(key) < 6 || len(key) > 40 || strings.ContainsFunc(key, func(r rune) bool { return !isKeyRune(r) }) {
			t.Skip()
		}
		got := shapeOf([]byte(line+` "`+key+`"`), 4096)
		if leak := leaked(got, key); leak != "" && !strings.Contains(line, leak) {
			t.Fatalf("%q survives in %s", leak, got)
		}
	})
}

func isKeyRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

// TestLostQuoteIsAParseError: a line whose columns moved (its key column
// lost its opening quote, so the key lands where the Origin is read) is
// not a request: the key would otherwise reach every output as an Origin.
func TestLostQuoteIsAParseError(t *testing.T) {
	p, err := Compile(`nginx:$remote_addr - $remote_user [$time_iso8601] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_origin" "$http_x_api_key" $request_time`)
	if err != nil {
		t.Fatal(err)
	}
	good := `127.0.0.2 - - [2026-11-26T22:23:27+00:00] "GET /v1/items HTTP/1.1" 200 118 "-" "curl/8" "https://app.rebind.test" "k-alice-3f9a1c" 0.004`
	lost := `127.0.0.2 - - [2026-11-26T22:23:27+00:00] "GET /v1/items HTTP/1.1" 200 118 "-" "curl/8" k-alice-3f9a1c" "https://app.rebind.test" 0.004`
	var r detect.Request
	if err := p.Parse([]byte(good), testKeys(), &r); err != nil || r.Origin != "https://app.rebind.test" {
		t.Fatalf("good line: %v %q", err, r.Origin)
	}
	r = detect.Request{}
	if err := p.Parse([]byte(lost), testKeys(), &r); err == nil || strings.Contains(r.Origin, "alice") {
		t.Fatalf("a line out of line read as a request with Origin %q (err %v)", r.Origin, err)
	}
}
