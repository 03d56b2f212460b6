package capture

import (
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/keys"
)

// Wire line in, lenient reading out: what each malformed request line is
// taken as, and what stays a parse error.
func TestParseLenientLine(t *testing.T) {
	type want struct {
		ok                    bool
		method, target, proto string
		why                   string
		http09                bool
	}
	tests := []struct {
		name string
		line string
		want want
	}{
		{"http09", "GET /path", want{true, "GET", "/path", "HTTP/0.9", malformedNoVersion, true}},
		{"http09_query", "GET /a?b=c", want{true, "GET", "/a?b=c", "HTTP/0.9", malformedNoVersion, true}},
		{"http09_absolute", "GET http://evil.test/x", want{true, "GET", "http://evil.test/x", "HTTP/0.9", malformedNoVersion, true}},
		{"http09_asterisk", "OPTIONS *", want{true, "OPTIONS", "*", "HTTP/0.9", malformedNoVersion, true}},
		{"connect_authority", "CONNECT api.example.com:443", want{true, "CONNECT", "api.example.com:443", "HTTP/0.9", malformedNoVersion, true}},
		{"http09_space_in_target", "GET /a b", want{true, "GET", "/a b", "HTTP/0.9", malformedNoVersion, true}},
		// nginx and Zeek read the glued version as part of the target.
		{"glued_version", "GET /HTTP/1.1", want{true, "GET", "/HTTP/1.1", "HTTP/0.9", malformedGluedProto, true}},
		{"glued_version_path", "GET /adminHTTP/1.0", want{true, "GET", "/adminHTTP/1.0", "HTTP/0.9", malformedGluedProto, true}},
		{"no_target", "GET HTTP/1.1", want{true, "GET", "", "HTTP/1.1", malformedNoTarget, false}},
		{"bad_version_minor", "GET / HTTP/1.x", want{true, "GET", "/", "HTTP/1.x", malformedBadVersion, false}},
		{"bad_version_two", "GET / HTTP/2.0", want{true, "GET", "/", "HTTP/2.0", malformedBadVersion, false}},
		{"bad_version_lower", "GET / http/1.1", want{true, "GET", "/", "http/1.1", malformedBadVersion, false}},
		{"bad_version_long", "GET / HTTP/1.1111111111111111111", want{true, "GET", "/", "HTTP/1.111111111", malformedBadVersion, false}},
		{"space_in_target", "GET /a b HTTP/1.1", want{true, "GET", "/a b", "HTTP/1.1", malformedSpaceTarget, false}},
		{"text_after_version", "GET / HTTP/1.1 x", want{true, "GET", "/", "HTTP/1.1", malformedAfterProto, false}},
		{"double_space", "GET  /  HTTP/1.1", want{true, "GET", "/", "HTTP/1.1", malformedWhitespace, false}},
		{"tabs", "GET\t/\tHTTP/1.1", want{true, "GET", "/", "HTTP/1.1", malformedWhitespace, false}},
		{"trailing_space", "GET / HTTP/1.1 ", want{true, "GET", "/", "HTTP/1.1", malformedWhitespace, false}},
		{"odd_method_token", "M-SEARCH * HTTP/1.x", want{true, "M-SEARCH", "*", "HTTP/1.x", malformedBadVersion, false}},
		// Not requests: what a server would not take as one either.
		{"strict_is_not_lenient", "GET / HTTP/1.1", want{}},
		{"h2_preface", "PRI * HTTP/2.0", want{}},
		{"text", "hello there", want{}},
		{"short_method_no_version", "GO /x", want{}},
		{"method_only", "GET", want{}},
		{"method_and_spaces", "GET   ", want{}},
		{"no_space_after_method", "GET/x HTTP/1.1", want{}},
		{"leading_space", " GET / HTTP/1.1", want{}},
		{"ctl_in_target", "GET /a\x01b HTTP/1.1", want{}},
		{"nul", "GET /\x00 HTTP/1.1", want{}},
		{"del", "GET /\x7f", want{}},
		{"binary", "\x16\x03\x01\x02\x00\x01\x00", want{}},
		{"non_token_method", "G(ET / HTTP/1.1", want{}},
		{"long_method", strings.Repeat("A", maxMethodLen+1) + " / HTTP/1.x", want{}},
		{"connect_without_port", "CONNECT host", want{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok := parseLenientLine([]byte(tt.line))
			got := want{ok, string(l.method), string(l.target), string(l.proto), l.why, l.http09}
			if !ok {
				got = want{}
			}
			if got != tt.want {
				t.Errorf("%q:\n got  %+v\n want %+v", tt.line, got, tt.want)
			}
		})
	}
}

// Wire text in, requests out: malformed request lines in whole
// connections, with their responses (an HTTP/0.9 response is a bare body
// up to the close).
func TestStreamLenient(t *testing.T) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	ok200 := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	tests := []struct {
		name      string
		events    []ev
		want      []string
		parseErrs uint64
		counters  map[counter]uint64
	}{
		{name: "http09_bare_body_response",
			events:   []ev{cl("GET /index.html\r\n"), sv("<html>hello</html>\n")},
			want:     []string{"GET /index.html HTTP/0.9 malformed=no_version 0"},
			counters: map[counter]uint64{cMalformedRequests: 1, cNonHTTPStreams: 0}},
		{name: "http09_answered_with_status_line",
			events: []ev{cl("GET /x\r\n"), sv("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")},
			want:   []string{"GET /x HTTP/0.9 malformed=no_version 400"}},
		// Zeek reads header lines that came with a line without a version.
		{name: "no_version_with_headers",
			events: []ev{cl("GET /x\r\nHost: evil.test\r\nX-API-Key: k1\r\n\r\n"), sv("<html>")},
			want:   []string{"GET /x HTTP/0.9 host=evil.test key=" + keys.Fingerprint("", "k1") + " malformed=no_version 0"}},
		{name: "glued_version_with_headers",
			events: []ev{cl("GET /adminHTTP/1.1\r\nHost: a\r\n\r\n")},
			want:   []string{"GET /adminHTTP/1.1 HTTP/0.9 host=a malformed=no_space_before_version 0"}},
		{name: "no_target_keeps_headers_and_keepalive",
			events:   []ev{cl("GET HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"), sv("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + ok200)},
			want:     []string{"GET  HTTP/1.1 host=a malformed=no_target 400", "GET /next HTTP/1.1 host=a 200"},
			counters: map[counter]uint64{cMalformedRequests: 1}},
		{name: "bad_version_body_by_content_length",
			events: []ev{cl("POST /p HTTP/1.x\r\nHost: a\r\nContent-Length: 5\r\n\r\nGET /GET /next HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:   []string{"POST /p HTTP/1.x host=a malformed=bad_version 0", "GET /next HTTP/1.1 host=a 0"}},
		{name: "connect_authority_no_version",
			events: []ev{cl("CONNECT api.example.com:443\r\n\r\n")},
			want:   []string{"CONNECT api.example.com:443 HTTP/0.9 malformed=no_version 0"}},
		{name: "tab_separated_first_line_of_connection",
			events: []ev{cl("GET\t/t\tHTTP/1.1\r\nHost: a\r\n\r\n"), sv(ok200)},
			want:   []string{"GET /t HTTP/1.1 host=a malformed=whitespace 200"}},
		{name: "http09_line_by_line",
			events: append(splitEvents(0, "GET /slow\r\n"), sv("body")),
			want:   []string{"GET /slow HTTP/0.9 malformed=no_version 0"}},
		// Still not requests.
		{name: "binary_on_http_port",
			events:   []ev{cl("\x00\x01\x02GET /x\r\n\r\n")},
			counters: map[counter]uint64{cNonHTTPStreams: 1}},
		{name: "text_line_then_request",
			events:    []ev{cl("hello there\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:      []string{"GET /x HTTP/1.1 host=a 0"},
			parseErrs: 1},
		// Resynchronising after garbage looks for strict lines only: a
		// body that holds "GET /x" lines makes no request.
		{name: "resync_stays_strict",
			events:    []ev{cl("POST / HTTP/1.1\r\nContent-Length: zz\r\n\r\nGET /inside\r\nGET /ok HTTP/1.1\r\n\r\n")},
			want:      []string{"POST / HTTP/1.1 0", "GET /ok HTTP/1.1 0"},
			parseErrs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, tl := runStream(t, tt.events, Options{Keys: kx}, false)
			var got []string
			for _, r := range reqs {
				got = append(got, summary(r))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("requests:\n got  %q\n want %q", got, tt.want)
			}
			if tl.parseErrors != tt.parseErrs {
				t.Errorf("parse errors %d, want %d (problems %v)", tl.parseErrors, tt.parseErrs, tl.problems)
			}
			for c, n := range tt.counters {
				if tl.c[c] != n {
					t.Errorf("%s = %d, want %d", counterNames[c], tl.c[c], n)
				}
			}
		})
	}
}

// FuzzLenientLine: the lenient reading never panics, never takes what the
// strict parse takes, and what it takes is a method token, a target free
// of control bytes and a version.
func FuzzLenientLine(f *testing.F) {
	for _, s := range []string{"GET /x", "GET /HTTP/1.1", "GET HTTP/1.1", "GET / HTTP/1.x", "GET /a b HTTP/1.1",
		"GET / HTTP/1.1 x", "GET\t/\tHTTP/1.1", "CONNECT h:443", "PRI * HTTP/2.0", "hello there", "\x16\x03\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		l, ok := parseLenientLine(line)
		_, _, _, strict := parseRequestLine(line)
		if !ok {
			return
		}
		if strict {
			t.Fatalf("%q: strict and lenient both take it", line)
		}
		if !validToken(l.method) || len(l.proto) == 0 || len(l.proto) > maxProtoLen || l.why == "" {
			t.Fatalf("%q: %+v", line, l)
		}
		if len(l.target) == 0 && l.why != malformedNoTarget {
			t.Fatalf("%q: empty target for %s", line, l.why)
		}
		for _, c := range l.target {
			if c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("%q: control byte in target %q", line, l.target)
			}
		}
	})
}
