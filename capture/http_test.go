package capture

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Wire text in, struct out: request heads.
func TestParseRequestHead(t *testing.T) {
	type want struct {
		fault                 fault
		method, target, proto string
		host                  string
		hasHost, dupHost      bool
		origin                string
		hasOrigin             bool
		referer, ua           string
		badLines              int
		body                  bodyKind
		length                int64
		ambiguous             bool
		malformed             string
	}
	tests := []struct {
		name string
		wire string
		want want
	}{
		{"simple", "GET /a?b=c HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8\r\n\r\n",
			want{method: "GET", target: "/a?b=c", proto: "HTTP/1.1", host: "api.example.com", hasHost: true, ua: "curl/8"}},
		{"two_host_headers", "GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: evil.test\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "api.example.com", hasHost: true, dupHost: true}},
		{"host_case_insensitive", "GET / HTTP/1.1\r\nhOsT: a.test\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a.test", hasHost: true}},
		{"empty_host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", hasHost: true}},
		{"obs_fold", "GET / HTTP/1.1\r\nHost: a.test\r\nUser-Agent: one\r\n  two\r\n\tthree\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a.test", hasHost: true, ua: "one two three"}},
		{"fold_before_first_field", "GET / HTTP/1.1\r\n Host: smuggled\r\nHost: a.test\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a.test", hasHost: true, badLines: 1}},
		{"bare_lf", "GET /x HTTP/1.1\nHost: a.test\nOrigin: http://o.test\n\n",
			want{method: "GET", target: "/x", proto: "HTTP/1.1", host: "a.test", hasHost: true, origin: "http://o.test", hasOrigin: true}},
		{"http10_no_host", "GET / HTTP/1.0\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.0"}},
		{"absolute_form", "GET http://evil.test/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
			want{method: "GET", target: "http://evil.test/x", proto: "HTTP/1.1", host: "api.example.com", hasHost: true}},
		{"authority_form_connect", "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n",
			want{method: "CONNECT", target: "api.example.com:443", proto: "HTTP/1.1", host: "api.example.com:443", hasHost: true}},
		{"asterisk_form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
			want{method: "OPTIONS", target: "*", proto: "HTTP/1.1", host: "a", hasHost: true}},
		{"extension_method", "PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n",
			want{method: "PROPFIND", target: "/dav", proto: "HTTP/1.1", host: "a", hasHost: true}},
		{"origin_null", "GET / HTTP/1.1\r\nHost: a\r\nOrigin: null\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a", hasHost: true, origin: "null", hasOrigin: true}},
		{"empty_origin", "GET / HTTP/1.1\r\nOrigin:   \r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", hasOrigin: true}},
		{"referer", "GET / HTTP/1.1\r\nReferer: http://r.test/p\r\nReferer: http://second\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", referer: "http://r.test/p"}},
		{"ows_trimmed", "GET / HTTP/1.1\r\nHost: \t a.test \t\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a.test", hasHost: true}},
		{"space_before_colon", "GET / HTTP/1.1\r\nHost : evil.test\r\nHost: a.test\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a.test", hasHost: true, badLines: 1}},
		{"line_without_colon", "GET / HTTP/1.1\r\nnonsense\r\nHost: a\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "a", hasHost: true, badLines: 1}},
		{"content_length", "POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyLength, length: 12}},
		{"content_length_list_same", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyLength, length: 5}},
		{"smuggle_two_contentlen", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"negative_content_length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"content_length_plus", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"content_length_overflow", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"content_length_zero", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyNone}},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyChunked}},
		{"chunked_case_and_list", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: , CHUNKED\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyChunked}},
		{"content_length_and_chunked", "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyChunked, ambiguous: true}},
		{"te_not_final_chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"te_chunked_twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"te_identity", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.1", body: bodyBroken}},
		{"http10_with_te", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
			want{method: "POST", target: "/", proto: "HTTP/1.0", body: bodyBroken}},
		// Request lines the strict parse refuses are read leniently
		// (lenient.go; more cases in lenient_test.go).
		{"two_spaces_lenient", "GET  / HTTP/1.1\r\n\r\n", want{method: "GET", target: "/", proto: "HTTP/1.1", malformed: "whitespace"}},
		{"http09_lenient", "GET /\r\n\r\n", want{method: "GET", target: "/", proto: "HTTP/0.9", malformed: "no_version"}},
		{"bad_request_line_http2", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", want{fault: faultRequestLine}},
		{"bad_request_line_method", "G(ET / HTTP/1.1\r\n\r\n", want{fault: faultRequestLine}},
		{"lower_proto_lenient", "GET / http/1.1\r\n\r\n", want{method: "GET", target: "/", proto: "http/1.1", malformed: "bad_version"}},
		{"bad_request_line_text", "hello there\r\n\r\n", want{fault: faultRequestLine}},
		{"target_with_ctl", "GET /a\x01b HTTP/1.1\r\n\r\n", want{fault: faultRequestLine}},
		{"nul_in_head", "GET / HTTP/1.1\r\nHost: a\x00\x00\r\n\r\n", want{fault: faultBinary}},
		{"utf8_host_kept", "GET / HTTP/1.1\r\nHost: bücher.test\r\n\r\n",
			want{method: "GET", target: "/", proto: "HTTP/1.1", host: "bücher.test", hasHost: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := []byte(tt.wire)
			end, _ := headEnd(wire, 0)
			if end < 0 {
				t.Fatalf("headEnd found no end in %q", tt.wire)
			}
			var h reqHead
			var fold []byte
			_, f := parseRequestAt(wire[:end], &h, nil, &fold)
			body, n := h.requestBody()
			got := want{
				fault: f, method: string(h.method), target: string(h.target), proto: string(h.proto),
				host: string(h.host), hasHost: h.hasHost, dupHost: h.dupHost,
				origin: string(h.origin), hasOrigin: h.hasOrigin, referer: string(h.referer), ua: string(h.userAgent),
				badLines: h.badLines, body: body, length: n, ambiguous: h.ambiguous, malformed: h.malformed,
			}
			if f != faultNone {
				got = want{fault: f}
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHeadEndIncremental(t *testing.T) {
	wire := []byte("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\nBODY")
	want := len(wire) - len("BODY")
	for split := 0; split <= len(wire); split++ {
		end, next := headEnd(wire[:split], 0)
		if end >= 0 {
			if end != want {
				t.Fatalf("split %d: end %d, want %d", split, end, want)
			}
			continue
		}
		end, _ = headEnd(wire, next)
		if end != want {
			t.Fatalf("split %d: resumed at %d, end %d, want %d", split, next, end, want)
		}
	}
}

func TestParseStatusLine(t *testing.T) {
	tests := []struct {
		line string
		code int
		ok   bool
	}{
		{"HTTP/1.1 200 OK", 200, true},
		{"HTTP/1.0 404 Not Found", 404, true},
		{"HTTP/1.1 204", 204, true},
		{"HTTP/1.1 101 Switching Protocols", 101, true},
		{"HTTP/1.1 99 Low", 0, false},
		{"HTTP/1.1 2000 OK", 0, false},
		{"HTTP/2 200", 0, false},
		{"http/1.1 200 OK", 0, false},
		{"HTTP/1.1 20x OK", 0, false},
		{"HTTP/1.1", 0, false},
	}
	for _, tt := range tests {
		_, code, ok := parseStatusLine([]byte(tt.line))
		if code != tt.code || ok != tt.ok {
			t.Errorf("%q: got %d %v, want %d %v", tt.line, code, ok, tt.code, tt.ok)
		}
	}
}

func TestParseChunkSize(t *testing.T) {
	tests := []struct {
		line string
		n    int64
		ok   bool
	}{
		{"0", 0, true},
		{"1a", 26, true},
		{"1A;ext=1;other", 26, true},
		{"10 ;ext", 16, true},
		{"", 0, false},
		{"x", 0, false},
		{"-1", 0, false},
		{"1000000000000000", 0, false}, // 16 hex digits: beyond what we accept
		{"fffffffffffffff", 0xfffffffffffffff, true},
	}
	for _, tt := range tests {
		n, ok := parseChunkSize([]byte(tt.line))
		if n != tt.n || ok != tt.ok {
			t.Errorf("%q: got %d %v, want %d %v", tt.line, n, ok, tt.n, tt.ok)
		}
	}
}

func TestFindStart(t *testing.T) {
	tests := []struct {
		name      string
		b         string
		lineStart bool
		want      startKind
		at, keep  int
	}{
		{"at_start", "GET / HTTP/1.1\r\n", true, wantRequest, 0, 0},
		{"not_line_start", "GET / HTTP/1.1\r\nPOST /x HTTP/1.1\r\n", false, wantRequest, 16, 0},
		{"after_body", "xx\r\nyy\nGET /a HTTP/1.0\n", false, wantRequest, 7, 0},
		{"after_nul_padding", "User-Ag\x00\x00\x00GET /b HTTP/1.1\r\n", false, wantRequest, 10, 0},
		{"keep_partial", "junk\r\nGET /very/lo", false, wantRequest, -1, 6},
		{"drop_binary_tail", "junk\r\n\x16\x03\x01", false, wantRequest, -1, 9},
		{"status", "abc\r\nHTTP/1.1 200 OK\r\n", false, wantResponse, 5, 0},
		{"status_not_request", "abc\r\nHTTP/1.1 200 OK\r\n", false, wantRequest, -1, 22},
		{"either", "abc\r\nHTTP/1.1 200 OK\r\n", false, wantRequest | wantResponse, 5, 0},
		{"body_line_not_request", "send GET / HTTP/1.1 now\r\n", true, wantRequest, -1, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, kind, keep := findStart([]byte(tt.b), tt.lineStart, tt.want)
			if at != tt.at || (at < 0 && keep != tt.keep) || (at >= 0 && kind&tt.want == 0) {
				t.Errorf("got at=%d kind=%d keep=%d, want at=%d keep=%d", at, kind, keep, tt.at, tt.keep)
			}
		})
	}
}

// ev is one piece of a connection's byte stream in a stream test.
type ev struct {
	dir  int // 0 client, 1 server
	data string
}

func cl(s string) ev { return ev{0, s} }
func sv(s string) ev { return ev{1, s} }

var (
	testClient = netip.MustParseAddrPort("10.0.0.7:51234")
	testServer = netip.MustParseAddrPort("10.0.0.1:80")
)

// runStream feeds events to one connection without packets, 1 ms apart,
// ends it, and returns the requests in emission order with the tally.
// midstream starts it as a capture joined after the handshake.
func runStream(t testing.TB, events []ev, opts Options, midstream bool) ([]detect.Request, *testTally) {
	opts = opts.withDefaults()
	p := newTestPipeline(&opts, "test")
	c := &conn{sh: p.http, client: -1}
	c.addr[0], c.addr[1] = testClient, testServer
	c.setClient(0)
	c.firm = !midstream // a SYN settles who is the client
	c.h[0].syn, c.h[1].syn = !midstream, !midstream
	at := int64(1_700_000_000e9)
	for _, e := range events {
		h := &c.h[e.dir]
		if c.ignore {
			break
		}
		if !h.begun {
			c.begin(e.dir)
		}
		// A message carried over from an earlier piece keeps that
		// piece's time.
		t := at
		if len(h.buf) > 0 {
			t = h.bufAt
		}
		c.feed(e.dir, []byte(e.data), t)
		at += 1e6
		p.f.now = at
	}
	c.complete()
	var out []detect.Request
	for p.ord.len() > 0 {
		out = append(out, p.ord.pop().req)
	}
	return out, p.tally()
}

// summary is a request's fields that stream tests compare.
func summary(r detect.Request) string {
	s := fmt.Sprintf("%s %s %s", r.Method, r.Target, r.Proto)
	if r.HasHost {
		s += " host=" + r.Host
	}
	if r.DupHost {
		s += " duphost"
	}
	if r.URIHost != "" {
		s += " uri=" + r.URIHost
	}
	if r.HasOrigin {
		s += " origin=" + r.Origin
	}
	if r.Key != "" {
		s += " key=" + r.Key
	}
	if r.PNARequest {
		s += " pna"
	}
	if r.Malformed != "" {
		s += " malformed=" + r.Malformed
	}
	if r.PNAGranted {
		s += " granted"
	}
	return s + fmt.Sprintf(" %d", r.Status)
}

// Wire text in, requests out: whole connections, both directions.
func TestStreamParse(t *testing.T) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	fp := func(k string) string { return keys.Fingerprint("", k) }
	ok200 := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	tests := []struct {
		name      string
		events    []ev
		midstream bool
		want      []string
		parseErrs uint64
		counters  map[counter]uint64
	}{
		{name: "get_with_response",
			events: []ev{cl("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), sv(ok200)},
			want:   []string{"GET / HTTP/1.1 host=a 200"}},
		{name: "pipelined_three",
			events: []ev{
				cl("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n"),
				sv("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")},
			want: []string{"GET /1 HTTP/1.1 host=a 200", "GET /2 HTTP/1.1 host=a 404", "HEAD /3 HTTP/1.1 host=a 200"}},
		{name: "keep_alive_byte_by_byte",
			events: splitEvents(0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /q HTTP/1.1\r\nHost: b\r\n\r\n"),
			want:   []string{"POST /p HTTP/1.1 host=a 0", "GET /q HTTP/1.1 host=b 0"}},
		{name: "chunked_with_trailers",
			events: []ev{
				cl("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n"),
				sv(ok200), sv(ok200)},
			want: []string{"POST /c HTTP/1.1 host=a 200", "GET /after HTTP/1.1 host=a 200"}},
		{name: "chunked_body_that_looks_like_request",
			events: []ev{
				cl("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n14\r\nGET /no HTTP/1.1\r\n\r\n\r\n0\r\n\r\n"),
				sv(ok200)},
			want: []string{"POST /c HTTP/1.1 host=a 200"}},
		{name: "content_length_and_chunked",
			events: []ev{
				cl("POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:     []string{"POST /s HTTP/1.1 host=a 0", "GET /smuggled HTTP/1.1 host=a 0"},
			counters: map[counter]uint64{cAmbiguousFraming: 1}},
		{name: "smuggle_two_contentlen",
			events: []ev{
				cl("POST /s HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:      []string{"POST /s HTTP/1.1 host=a 0", "GET /next HTTP/1.1 host=a 0"},
			parseErrs: 1},
		{name: "negative_content_length",
			events:    []ev{cl("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n\r\nGET /n HTTP/1.1\r\n\r\n")},
			want:      []string{"POST / HTTP/1.1 0", "GET /n HTTP/1.1 0"},
			parseErrs: 1},
		{name: "two_host_headers",
			events: []ev{cl("GET / HTTP/1.1\r\nHost: api.example.com\r\nHost: evil.test\r\n\r\n"), sv("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")},
			want:   []string{"GET / HTTP/1.1 host=api.example.com duphost 400"}},
		{name: "http10_no_host_close_delimited",
			events: []ev{cl("GET /old HTTP/1.0\r\n\r\n"), sv("HTTP/1.0 200 OK\r\n\r\nbody until close HTTP/1.1 200 OK\r\n")},
			want:   []string{"GET /old HTTP/1.0 200"}},
		{name: "expect_100_continue",
			events: []ev{
				cl("PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"),
				sv("HTTP/1.1 100 Continue\r\n\r\n"), cl("abc"), sv("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")},
			want: []string{"PUT /u HTTP/1.1 host=a 201"}},
		{name: "early_hints_then_final",
			events: []ev{cl("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), sv("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
			want:   []string{"GET / HTTP/1.1 host=a 200"}},
		{name: "head_response_has_no_body",
			events: []ev{cl("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n"),
				sv("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nHTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")},
			want: []string{"HEAD /h HTTP/1.1 host=a 200", "GET /g HTTP/1.1 host=a 302"}},
		{name: "204_and_304_have_no_body",
			events: []ev{cl("DELETE /d HTTP/1.1\r\nHost: a\r\n\r\nGET /e HTTP/1.1\r\nHost: a\r\n\r\nGET /f HTTP/1.1\r\nHost: a\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n" + ok200)},
			want: []string{"DELETE /d HTTP/1.1 host=a 204", "GET /e HTTP/1.1 host=a 304", "GET /f HTTP/1.1 host=a 200"}},
		{name: "chunked_response",
			events: []ev{cl("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"),
				sv("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")},
			want: []string{"GET /1 HTTP/1.1 host=a 200", "GET /2 HTTP/1.1 host=a 500"}},
		{name: "no_response",
			events: []ev{cl("GET /lost HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:   []string{"GET /lost HTTP/1.1 host=a 0"}},
		{name: "upgrade_101",
			events: []ev{cl("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
				sv("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"), cl("\x81\x85GET / HTTP/1.1\r\n\r\n")},
			want:     []string{"GET /ws HTTP/1.1 host=a 101"},
			counters: map[counter]uint64{cTunnels: 1}},
		{name: "connect_tunnel",
			events:   []ev{cl("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), sv("HTTP/1.1 200 Connection established\r\n\r\n"), cl("\x16\x03\x01\x02\x00")},
			want:     []string{"CONNECT a:443 HTTP/1.1 host=a:443 200"},
			counters: map[counter]uint64{cTunnels: 1}},
		{name: "bare_lf",
			events: []ev{cl("GET /lf HTTP/1.1\nHost: a\n\nGET /lf2 HTTP/1.0\n\n"), sv("HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 201 OK\n\n")},
			want:   []string{"GET /lf HTTP/1.1 host=a 200", "GET /lf2 HTTP/1.0 201"}},
		{name: "leading_crlf_between_requests",
			events: []ev{cl("\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:   []string{"GET /x HTTP/1.1 host=a 0", "GET /y HTTP/1.1 host=a 0"}},
		{name: "huge_header",
			events:    []ev{cl("GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + strings.Repeat("p", 70<<10) + "\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:      []string{"GET /ok HTTP/1.1 host=a 0"},
			parseErrs: 1},
		{name: "huge_header_in_pieces",
			events: append(splitEvents(0, "GET /big HTTP/1.1\r\nX-Pad: "+strings.Repeat("p", 70<<10)+"\r\n\r\n", 1000),
				cl("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")),
			want:      []string{"GET /ok HTTP/1.1 host=a 0"},
			parseErrs: 1},
		{name: "garbage_then_request",
			events:    []ev{cl("hello there\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:      []string{"GET /x HTTP/1.1 host=a 0"},
			parseErrs: 1},
		{name: "tls_client_hello_is_not_http",
			events:   []ev{cl("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GET / HTTP/1.1\r\n\r\n")},
			counters: map[counter]uint64{cNonHTTPStreams: 1}},
		{name: "ssh_server_banner_is_not_http",
			events:   []ev{sv("SSH-2.0-OpenSSH_9.2\r\n"), cl("GET / HTTP/1.1\r\n\r\n")},
			counters: map[counter]uint64{cNonHTTPStreams: 1}},
		{name: "bad_chunk_size_resyncs",
			events:    []ev{cl("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nstuff\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:      []string{"POST /c HTTP/1.1 host=a 0", "GET /next HTTP/1.1 host=a 0"},
			parseErrs: 1},
		{name: "missing_crlf_after_chunk",
			events:    []ev{cl("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\nGET /n HTTP/1.1\r\n\r\n")},
			want:      []string{"POST /c HTTP/1.1 0", "GET /n HTTP/1.1 0"},
			parseErrs: 1},
		{name: "midstream_starts_at_next_request",
			midstream: true,
			events:    []ev{cl("dy of an earlier request\r\nGET /m HTTP/1.1\r\nHost: a\r\n\r\n"), sv("ly of an earlier response"), sv(ok200)},
			want:      []string{"GET /m HTTP/1.1 host=a 200"},
			counters:  map[counter]uint64{cMidstreamStreams: 1}},
		{name: "response_before_request_is_unmatched",
			midstream: true,
			events:    []ev{sv("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), cl("GET /late HTTP/1.1\r\nHost: a\r\n\r\n"), sv(ok200)},
			want:      []string{"GET /late HTTP/1.1 host=a 200"},
			counters:  map[counter]uint64{cMidstreamStreams: 1, cUnmatchedResponses: 1}},
		{name: "key_header_priority",
			events: []ev{cl("GET /?api_key=q HTTP/1.1\r\nAuthorization: Bearer second\r\nX-API-Key: first\r\n\r\n")},
			want:   []string{"GET /?api_key=" + keys.Redacted + " HTTP/1.1 key=" + fp("first") + " 0"}},
		{name: "key_authorization_bearer",
			events: []ev{cl("GET / HTTP/1.1\r\nAuthorization: Bearer tok\r\n\r\n")},
			want:   []string{"GET / HTTP/1.1 key=" + fp("tok") + " 0"}},
		{name: "key_unusable_header_falls_back_to_query",
			events: []ev{cl("GET /x?token=qq HTTP/1.1\r\nAuthorization: Digest x\r\n\r\n")},
			want:   []string{"GET /x?token=" + keys.Redacted + " HTTP/1.1 key=" + fp("qq") + " 0"}},
		{name: "key_from_query",
			events: []ev{cl("GET /x?a=1&api_key=s3cr%65t HTTP/1.1\r\n\r\n")},
			want:   []string{"GET /x?a=1&api_key=" + keys.Redacted + " HTTP/1.1 key=" + fp("s3cret") + " 0"}},
		{name: "absolute_form_uri_host_differs",
			events:   []ev{cl("GET http://evil.test/x HTTP/1.1\r\nHost: api.example.com\r\n\r\n"), sv(ok200)},
			want:     []string{"GET http://evil.test/x HTTP/1.1 host=api.example.com uri=evil.test 200"},
			counters: map[counter]uint64{cAbsoluteForm: 1, cAbsoluteFormHostMismatch: 1}},
		{name: "absolute_form_same_host_default_port",
			events:   []ev{cl("GET http://API.example.com:80/x HTTP/1.1\r\nHost: api.example.com.\r\n\r\n")},
			want:     []string{"GET http://API.example.com:80/x HTTP/1.1 host=api.example.com. uri=API.example.com:80 0"},
			counters: map[counter]uint64{cAbsoluteForm: 1, cAbsoluteFormHostMismatch: 0}},
		{name: "absolute_form_userinfo_dropped",
			events:   []ev{cl("GET https://user:pw@h.test:8443/?q HTTP/1.1\r\nHost: h.test:8443\r\n\r\n")},
			want:     []string{"GET https://user:pw@h.test:8443/?q HTTP/1.1 host=h.test:8443 uri=h.test:8443 0"},
			counters: map[counter]uint64{cAbsoluteForm: 1, cAbsoluteFormHostMismatch: 0}},
		{name: "absolute_form_no_host_header",
			events:   []ev{cl("GET http://[::1]:8080/ HTTP/1.1\r\n\r\n")},
			want:     []string{"GET http://[::1]:8080/ HTTP/1.1 uri=[::1]:8080 0"},
			counters: map[counter]uint64{cAbsoluteForm: 1, cAbsoluteFormHostMismatch: 0}},
		{name: "absolute_form_port_differs",
			events:   []ev{cl("GET http://a.test:8080/ HTTP/1.1\r\nHost: a.test\r\n\r\n")},
			want:     []string{"GET http://a.test:8080/ HTTP/1.1 host=a.test uri=a.test:8080 0"},
			counters: map[counter]uint64{cAbsoluteForm: 1, cAbsoluteFormHostMismatch: 1}},
		{name: "origin_form_with_scheme_in_query_is_not_absolute",
			events:   []ev{cl("GET /r?u=http://x.test/ HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:     []string{"GET /r?u=http://x.test/ HTTP/1.1 host=a 0"},
			counters: map[counter]uint64{cAbsoluteForm: 0}},
		{name: "connection_close_body_until_close",
			events: []ev{cl("GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
				sv("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody HTTP/1.1 500 not a response\r\n\r\n")},
			want: []string{"GET /c HTTP/1.1 host=a 200"}},
		{name: "options_asterisk",
			events: []ev{cl("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), sv("HTTP/1.1 204 No Content\r\nAllow: GET\r\n\r\n")},
			want:   []string{"OPTIONS * HTTP/1.1 host=a 204"}},
		{name: "http09_then_request",
			events:   []ev{cl("GET /\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:     []string{"GET / HTTP/0.9 malformed=no_version 0", "GET /ok HTTP/1.1 host=a 0"},
			counters: map[counter]uint64{cMalformedRequests: 1}},
		{name: "any_method_token",
			events: []ev{cl("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\nPURGE /x HTTP/1.1\r\nHost: a\r\n\r\n")},
			want:   []string{"M-SEARCH * HTTP/1.1 host=a 0", "PURGE /x HTTP/1.1 host=a 0"}},
		{name: "tls_on_http_port",
			events:   []ev{cl("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), sv("\x16\x03\x03\x00\x5a\x02")},
			counters: map[counter]uint64{cTLSStreams: 1, cNonHTTPStreams: 1}},
		{name: "head_just_under_64k",
			events: []ev{cl("GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + strings.Repeat("p", maxHeadBytes-len("GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n")) + "\r\n\r\n")},
			want:   []string{"GET /big HTTP/1.1 host=a 0"}},
		{name: "head_one_byte_over_64k",
			events:    []ev{cl("GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + strings.Repeat("p", maxHeadBytes+1-len("GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n")) + "\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")},
			want:      []string{"GET /ok HTTP/1.1 0"},
			parseErrs: 1},
		// Private Network Access: the preflight's request header, the
		// grant in its response (WICG draft; -Local-Network is its successor).
		{name: "pna_private_network_granted",
			events: []ev{cl("OPTIONS /v1/items/2 HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Method: PUT\r\nOrigin: http://evil.test\r\nAccess-Control-Request-Private-Network: true\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: http://evil.test\r\nAccess-Control-Allow-Private-Network: true\r\n\r\n")},
			want: []string{"OPTIONS /v1/items/2 HTTP/1.1 host=a origin=http://evil.test pna granted 204"}},
		{name: "pna_local_network_granted_by_local_header",
			events: []ev{cl("OPTIONS / HTTP/1.1\r\nHost: a\r\naccess-control-request-local-network: true\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\nACCESS-CONTROL-ALLOW-LOCAL-NETWORK: true\r\n\r\n")},
			want: []string{"OPTIONS / HTTP/1.1 host=a pna granted 204"}},
		{name: "pna_denied",
			events: []ev{cl("OPTIONS / HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Local-Network: true\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\n\r\n")},
			want: []string{"OPTIONS / HTTP/1.1 host=a pna 204"}},
		// Browsers compare the values byte for byte: "True" grants nothing.
		{name: "pna_values_not_true",
			events: []ev{cl("OPTIONS / HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Private-Network: yes\r\n\r\nOPTIONS /b HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Private-Network: true\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Private-Network: true\r\n\r\nHTTP/1.1 204 No Content\r\nAccess-Control-Allow-Private-Network: True\r\n\r\n")},
			want: []string{"OPTIONS / HTTP/1.1 host=a granted 204", "OPTIONS /b HTTP/1.1 host=a pna 204"}},
		// Each response's grant goes to its own request, in order.
		{name: "pna_pipelined_grant_pairs_in_order",
			events: []ev{cl("OPTIONS /a HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Private-Network: true\r\n\r\nOPTIONS /b HTTP/1.1\r\nHost: a\r\nAccess-Control-Request-Private-Network: true\r\n\r\n"),
				sv("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\nAccess-Control-Allow-Private-Network: true\r\n\r\n")},
			want: []string{"OPTIONS /a HTTP/1.1 host=a pna 204", "OPTIONS /b HTTP/1.1 host=a pna granted 204"}},
		// Requests hold the bytes as sent; the edges that draw them escape them.
		{name: "escape_sequences_as_sent",
			events: []ev{cl("GET / HTTP/1.1\r\nHost: a\x1b[31m.test\r\nOrigin: http://\u202eevil\r\n\r\n")},
			want:   []string{"GET / HTTP/1.1 host=a\x1b[31m.test origin=http://\u202eevil 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, tl := runStream(t, tt.events, Options{Keys: kx}, tt.midstream)
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

// splitEvents cuts s into pieces of n bytes (1 when n is omitted) for dir.
func splitEvents(dir int, s string, n ...int) []ev {
	size := 1
	if len(n) > 0 {
		size = n[0]
	}
	var out []ev
	for len(s) > 0 {
		k := min(size, len(s))
		out = append(out, ev{dir, s[:k]})
		s = s[k:]
	}
	return out
}

// headEnd and the one-pass head parsers agree with a line-by-line search
// for the empty line, on heads with every mix of line endings.
func TestHeadEndAgreement(t *testing.T) {
	slow := func(b []byte) int {
		for i := 0; i < len(b); i++ {
			if b[i] != '\n' {
				continue
			}
			switch {
			case i+1 < len(b) && b[i+1] == '\n':
				return i + 2
			case i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n':
				return i + 3
			}
		}
		return -1
	}
	parts := []string{"GET / HTTP/1.1", "Host: a", "X: y", "", "body", "\r\n", "Z: 1"}
	ends := []string{"\r\n", "\n"}
	var try func(s string, depth int)
	n := 0
	try = func(s string, depth int) {
		if depth == 0 {
			b := []byte(s)
			want := slow(b)
			if got, _ := headEnd(b, 0); got != want {
				t.Fatalf("%q: headEnd %d, want %d", s, got, want)
			}
			// The one-pass parsers find the same end (the parser is handed
			// a head only after leading empty lines were skipped).
			if len(b) > 0 && b[0] != '\r' && b[0] != '\n' {
				var h reqHead
				var rs respHead
				var fold []byte
				if got, _ := parseRequestAt(b, &h, nil, &fold); got != want {
					t.Fatalf("%q: parseRequestAt %d, want %d", s, got, want)
				}
				if got, _ := parseResponseAt(b, &rs, &fold); got != want {
					t.Fatalf("%q: parseResponseAt %d, want %d", s, got, want)
				}
			}
			n++
			return
		}
		for _, p := range parts {
			for _, e := range ends {
				try(s+p+e, depth-1)
			}
		}
	}
	try("", 4)
	t.Logf("%d heads", n)
}
