package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"golang.org/x/net/http2/hpack"
)

// h2cTestKey is the API key helpers.go's h2c client sends in the recording
// (a test value, not a secret).
const h2cTestKey = "h2c-test-key-not-a-secret"

// The recording end to end: curl and Go's client, :authority as Host, the
// status from the server's HEADERS, the key from an HPACK-coded header.
func TestH2CRecording(t *testing.T) {
	r := readPath(t, rebindFile(t, "h2c.pcap"), Options{Ports: []uint16{8080}, Keys: keys.NewExtractor(keys.DefaultConfig())})
	if r.err != nil || r.parse != 0 || len(r.problems) != 0 {
		t.Fatalf("err %v parse %d problems %v", r.err, r.parse, r.problems)
	}
	if fmt.Sprint(r.counters) != "map[h2c_streams:4]" {
		t.Errorf("counters %v", r.counters)
	}
	fp := keys.Fingerprint("", h2cTestKey)
	want := []string{
		`127.0.0.66 GET "evil.rebind.test:8080" "/h2/one" HTTP/2.0 origin="http://evil.rebind.test:8080" ua="curl/7.88.1" key= 200`,
		`127.0.0.67 GET "api.rebind.test:8080" "/h2/ok" HTTP/2.0 origin="" ua="curl/7.88.1" key= 200`,
		`127.0.0.1 GET "evil.rebind.test:8080" "/h2/go1" HTTP/2.0 origin="http://evil.rebind.test:8080" ua="Go-http-client/2.0" key=` + fp + ` 200`,
		`127.0.0.1 GET "evil.rebind.test:8080" "/h2/go2?page=2" HTTP/2.0 origin="http://evil.rebind.test:8080" ua="Go-http-client/2.0" key=` + fp + ` 200`,
	}
	var got []string
	for i, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %s %q %q %s origin=%q ua=%q key=%s %d", q.Client.Addr(), q.Method, q.Host, q.Target, q.Proto, q.Origin, q.UserAgent, q.Key, q.Status))
		if !q.HasHost || q.DupHost || q.Server.String() != "127.0.0.1:8080" {
			t.Errorf("request %d: %+v", i, q)
		}
		if i > 0 && q.Time.Before(r.reqs[i-1].Time) {
			t.Errorf("request %d out of time order", i)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// h2w writes one direction of an HTTP/2 connection.
type h2w struct {
	b   []byte
	enc *hpack.Encoder
	hb  bytes.Buffer
}

func newH2W(client bool) *h2w {
	w := &h2w{}
	w.enc = hpack.NewEncoder(&w.hb)
	if client {
		w.b = append(w.b, h2Preface...)
	}
	return w.frame(h2Settings, 0, 0, nil)
}

func (w *h2w) frame(typ, flags byte, stream uint32, payload []byte) *h2w {
	n := len(payload)
	w.b = append(w.b, byte(n>>16), byte(n>>8), byte(n), typ, flags)
	w.b = binary.BigEndian.AppendUint32(w.b, stream)
	w.b = append(w.b, payload...)
	return w
}

// block HPACK-encodes name, value pairs.
func (w *h2w) block(kv ...string) []byte {
	w.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		_ = w.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return slices.Clone(w.hb.Bytes())
}

// headers writes a HEADERS frame with END_HEADERS (and END_STREAM).
func (w *h2w) headers(stream uint32, kv ...string) *h2w {
	return w.frame(h2Headers, h2FlagEndHeaders|h2FlagEndStream, stream, w.block(kv...))
}

func (w *h2w) get(stream uint32, authority, path string, more ...string) *h2w {
	return w.headers(stream, append([]string{":method", "GET", ":scheme", "http", ":authority", authority, ":path", path}, more...)...)
}

func (w *h2w) status(stream uint32, code string) *h2w {
	return w.headers(stream, ":status", code, "content-type", "text/plain")
}

func (w *h2w) s() string { return string(w.b) }

// sgEv is a piece of a direction's bytes; skip > 0 is a gap before it.
type sgEv struct {
	dir  int
	data string
	skip int
}

// runSG feeds pieces to one SYN-started connection through conn.segment,
// as the assembler would, 1 ms apart, then ends it.
func runSG(t testing.TB, events []sgEv, opts Options) ([]detect.Request, *testTally) {
	opts = opts.withDefaults()
	p := newTestPipeline(&opts, "test")
	c := &conn{sh: p.http, client: -1}
	c.addr[0], c.addr[1] = testClient, testServer
	c.setClient(0)
	c.firm = true
	at := synthEpoch
	for _, e := range events {
		c.segment(&segment{dir: e.dir, data: []byte(e.data), at: at.UnixNano(), skip: e.skip})
		at = at.Add(time.Millisecond)
		p.f.now = at.UnixNano()
	}
	c.complete()
	var out []detect.Request
	for p.ord.len() > 0 {
		out = append(out, p.ord.pop().req)
	}
	return out, p.tally()
}

// pieces cuts a direction's bytes into events of n bytes.
func pieces(dir int, s string, n int) []sgEv {
	var out []sgEv
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, sgEv{dir: dir, data: s[:k]})
		s = s[k:]
	}
	return out
}

func h2Summary(r detect.Request) string {
	s := summary(r)
	if r.UserAgent != "" {
		s += " ua=" + r.UserAgent
	}
	if r.Referer != "" {
		s += " referer=" + r.Referer
	}
	return s
}

func TestH2CStream(t *testing.T) {
	kx := keys.NewExtractor(keys.DefaultConfig())
	fp := keys.Fingerprint("", "k3y")
	type tc struct {
		name   string
		events []sgEv
		want   []string
		parse  uint64
		counts map[string]uint64
	}
	var cases []tc
	add := func(name string, events []sgEv, parse uint64, want ...string) {
		cases = append(cases, tc{name: name, events: events, want: want, parse: parse})
	}
	both := func(c, s *h2w) []sgEv { return []sgEv{{0, c.s(), 0}, {1, s.s(), 0}} }

	add("one_request", both(newH2W(true).get(1, "evil.test", "/x"), newH2W(false).status(1, "200")), 0,
		"GET /x HTTP/2.0 host=evil.test 200")
	{
		c := newH2W(true).get(1, "a.test", "/1", "user-agent", "ua/1", "x-api-key", "k3y").
			get(3, "a.test", "/2", "user-agent", "ua/1", "x-api-key", "k3y") // the second is mostly table indexes
		add("dynamic_table", both(c, newH2W(false).status(3, "404").status(1, "200")), 0,
			"GET /1 HTTP/2.0 host=a.test key="+fp+" 200 ua=ua/1", "GET /2 HTTP/2.0 host=a.test key="+fp+" 404 ua=ua/1")
	}
	{
		c := newH2W(true)
		blk := c.block(":method", "POST", ":scheme", "http", ":authority", "evil.test", ":path", "/c", "origin", "http://evil.test", "referer", "http://evil.test/p?api_key=k3y")
		c.frame(h2Headers, 0, 1, blk[:5]).frame(h2Continuation, 0, 1, blk[5:9]).frame(h2Continuation, h2FlagEndHeaders, 1, blk[9:])
		add("continuation", both(c, newH2W(false).status(1, "201")), 0,
			"POST /c HTTP/2.0 host=evil.test origin=http://evil.test 201 referer=http://evil.test/p?api_key="+keys.Redacted)
	}
	{
		c := newH2W(true)
		blk := c.block(":method", "GET", ":scheme", "http", ":authority", "p.test", ":path", "/pad")
		payload := append([]byte{3}, 0x80, 0, 0, 1, 16) // pad length, then stream dependency and weight
		payload = append(append(payload, blk...), 0, 0, 0)
		c.frame(h2Headers, h2FlagEndHeaders|h2FlagPadded|h2FlagPriority, 1, payload)
		add("padded_priority", both(c, newH2W(false).status(1, "200")), 0, "GET /pad HTTP/2.0 host=p.test 200")
	}
	add("host_without_authority", both(newH2W(true).headers(1, ":method", "GET", ":scheme", "http", ":path", "/h", "host", "h.test"), newH2W(false).status(1, "200")), 0,
		"GET /h HTTP/2.0 host=h.test 200")
	add("authority_and_other_host", both(newH2W(true).get(1, "a.test", "/d", "host", "evil.test"), newH2W(false).status(1, "200")), 0,
		"GET /d HTTP/2.0 host=a.test duphost 200")
	add("no_authority_no_host", both(newH2W(true).headers(1, ":method", "GET", ":scheme", "http", ":path", "/n"), newH2W(false).status(1, "400")), 0,
		"GET /n HTTP/2.0 400")
	add("connect", both(newH2W(true).headers(1, ":method", "CONNECT", ":authority", "inner.test:443"), newH2W(false).status(1, "200")), 0,
		"CONNECT inner.test:443 HTTP/2.0 host=inner.test:443 200")
	add("key_in_path_redacted", both(newH2W(true).get(1, "a.test", "/q?api_key=k3y&x=1"), newH2W(false).status(1, "200")), 0,
		"GET /q?api_key="+keys.Redacted+"&x=1 HTTP/2.0 host=a.test key="+fp+" 200")
	add("interim_then_final", both(newH2W(true).get(1, "a.test", "/e"), newH2W(false).status(1, "103").status(1, "204")), 0,
		"GET /e HTTP/2.0 host=a.test 204")
	{
		c := newH2W(true)
		c.frame(h2Headers, h2FlagEndHeaders, 1, c.block(":method", "POST", ":scheme", "http", ":authority", "a.test", ":path", "/t")).
			frame(h2Data, 0, 1, []byte("body")).
			frame(h2Headers, h2FlagEndHeaders|h2FlagEndStream, 1, c.block("x-trailer", "1"))
		add("request_trailers", both(c, newH2W(false).status(1, "200")), 0, "POST /t HTTP/2.0 host=a.test 200")
	}
	add("reset_stream", both(newH2W(true).get(1, "a.test", "/r"), newH2W(false).frame(h2RSTStream, 0, 1, []byte{0, 0, 0, 8})), 0,
		"GET /r HTTP/2.0 host=a.test 0")
	{
		srv := newH2W(false)
		first := srv.s()
		srv.status(1, "200")
		add("server_settings_first", []sgEv{{1, first, 0}, {0, newH2W(true).get(1, "a.test", "/s").s(), 0}, {1, srv.s()[len(first):], 0}}, 0,
			"GET /s HTTP/2.0 host=a.test 200")
	}
	add("preface_split", append(pieces(0, newH2W(true).get(1, "a.test", "/p").s(), 17), sgEv{1, newH2W(false).status(1, "200").s(), 0}), 0,
		"GET /p HTTP/2.0 host=a.test 200")
	add("everything_byte_by_byte", append(pieces(0, newH2W(true).get(1, "a.test", "/b").s(), 1),
		sgEv{1, newH2W(false).status(1, "200").s(), 0}), 0) // the first piece is too short to tell: HTTP/1 path, which faults
	{
		// A status that arrives before its request was reassembled.
		add("status_before_request", []sgEv{{1, newH2W(false).status(1, "302").s(), 0}, {0, newH2W(true).get(1, "a.test", "/early").s(), 0}}, 0,
			"GET /early HTTP/2.0 host=a.test 302")
	}
	{
		// A peer that allowed a 200 kB table: the encoder switches to it.
		c := newH2W(true)
		c.enc.SetMaxDynamicTableSizeLimit(200000)
		c.enc.SetMaxDynamicTableSize(200000)
		c.get(1, "a.test", "/big-table")
		srv := newH2W(false)
		srv.b = srv.b[:0]
		srv.frame(h2Settings, 0, 0, []byte{0, 1, 0, 3, 0x0d, 0x40}).status(1, "200")
		add("table_size_announced", []sgEv{{1, srv.s(), 0}, {0, c.s(), 0}}, 0, "GET /big-table HTTP/2.0 host=a.test 200")
		c2 := newH2W(true)
		c2.enc.SetMaxDynamicTableSizeLimit(200000)
		c2.enc.SetMaxDynamicTableSize(200000)
		c2.get(1, "a.test", "/big-table")
		add("table_size_not_announced", both(c2, newH2W(false).status(1, "200")), 1)
	}
	// h2c upgrade (RFC 7540 §3.2): the HTTP/1.1 request is stream 1, the
	// 101 switches both directions to HTTP/2, the client then sends its
	// preface; the server's response to stream 1 comes in HTTP/2.
	{
		up := "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nX-API-Key: k3y\r\n\r\n"
		sw := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
		srv := newH2W(false).status(1, "200").status(3, "404").s()
		cli := newH2W(true).get(3, "evil.test", "/second").s()
		cases = append(cases, tc{name: "upgrade_h2c",
			events: []sgEv{{0, up, 0}, {1, sw + srv[:20], 0}, {0, cli, 0}, {1, srv[20:], 0}},
			want:   []string{"GET /up HTTP/1.1 host=a.test key=" + fp + " 200", "GET /second HTTP/2.0 host=evil.test 404"},
			counts: map[string]uint64{"h2c_upgrades": 1, "tunnels": 0, "h2c_streams": 1}})
		// The 101 and the server's SETTINGS in separate segments.
		cases = append(cases, tc{name: "upgrade_h2c_101_alone",
			events: []sgEv{{0, up, 0}, {1, sw, 0}, {1, srv, 0}, {0, cli, 0}},
			want:   []string{"GET /up HTTP/1.1 host=a.test key=" + fp + " 200", "GET /second HTTP/2.0 host=evil.test 404"},
			counts: map[string]uint64{"h2c_upgrades": 1}})
		// A server that declines answers in HTTP/1.1: no switch.
		add("upgrade_h2c_declined", []sgEv{{0, up, 0}, {1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0},
			{0, "GET /next HTTP/1.1\r\nHost: a.test\r\n\r\n", 0}, {1, "HTTP/1.1 204 No Content\r\n\r\n", 0}}, 0,
			"GET /up HTTP/1.1 host=a.test key="+fp+" 200", "GET /next HTTP/1.1 host=a.test 204")
		// A 101 to another protocol (WebSocket) stays a tunnel.
		cases = append(cases, tc{name: "upgrade_websocket_is_a_tunnel",
			events: []sgEv{{0, "GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 0},
				{1, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + srv, 0}, {0, cli, 0}},
			want:   []string{"GET /ws HTTP/1.1 host=a.test 101"},
			counts: map[string]uint64{"h2c_upgrades": 0, "tunnels": 1}})
		// What follows the 101 is not HTTP/2: given up, counted.
		add("upgrade_h2c_then_garbage", []sgEv{{0, up, 0}, {1, sw, 0}, {0, "GET /x HTTP/1.1\r\n\r\n", 0}}, 1,
			"GET /up HTTP/1.1 host=a.test key="+fp+" 0")
	}
	// Hostile.
	add("bad_preface", both(&h2w{b: []byte("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + newH2W(true).get(1, "a.test", "/x").s()[24:])}, newH2W(false).status(1, "200")), 1)
	add("hpack_invalid_index", both(newH2W(true).frame(h2Headers, h2FlagEndHeaders, 1, []byte{0xff, 0xff, 0x7f}), newH2W(false)), 1)
	add("hpack_truncated_block", both(newH2W(true).frame(h2Headers, h2FlagEndHeaders, 1, []byte{0x40, 0x0a, 'a'}), newH2W(false)), 1)
	{
		c := newH2W(true)
		blk := c.block(":method", "GET", ":authority", "a.test", ":path", "/i")
		c.frame(h2Headers, 0, 1, blk[:3]).frame(h2Data, 0, 1, []byte("x")).frame(h2Continuation, h2FlagEndHeaders, 1, blk[3:])
		add("frame_inside_header_block", both(c, newH2W(false)), 1)
	}
	{
		c := newH2W(true)
		blk := c.block(":method", "GET", ":authority", "a.test", ":path", "/i")
		c.frame(h2Headers, 0, 1, blk[:3]).frame(h2Continuation, h2FlagEndHeaders, 3, blk[3:])
		add("continuation_of_another_stream", both(c, newH2W(false)), 1)
	}
	add("continuation_alone", both(newH2W(true).frame(h2Continuation, h2FlagEndHeaders, 1, []byte{0x82}), newH2W(false)), 1)
	add("padding_longer_than_frame", both(newH2W(true).frame(h2Headers, h2FlagEndHeaders|h2FlagPadded, 1, []byte{9, 0x82}), newH2W(false)), 1)
	add("headers_on_stream_0", both(newH2W(true).frame(h2Headers, h2FlagEndHeaders, 0, []byte{0x82}), newH2W(false)), 1)
	add("push_promise_from_client", both(newH2W(true).frame(h2PushPromise, h2FlagEndHeaders, 1, []byte{0, 0, 0, 2, 0x82}), newH2W(false)), 1)
	add("settings_not_multiple_of_6", both(newH2W(true).frame(h2Settings, 0, 0, []byte{1, 2, 3}), newH2W(false)), 1)
	add("no_method", both(newH2W(true).headers(1, ":authority", "a.test", ":path", "/m"), newH2W(false).status(1, "400")), 1)
	{
		// 100 kB of fields over CONTINUATION frames: the request still
		// counts, the fields past 64 KiB are not read, memory stays bounded.
		c := newH2W(true)
		kv := []string{":method", "GET", ":scheme", "http", ":authority", "big.test", ":path", "/big"}
		for i := 0; i < 100; i++ {
			kv = append(kv, fmt.Sprintf("x-f%d", i), strings.Repeat("v", 1000))
		}
		kv = append(kv, "user-agent", "after-the-limit")
		blk := c.block(kv...)
		c.frame(h2Headers, 0, 1, blk[:16384])
		for blk = blk[16384:]; len(blk) > 16384; blk = blk[16384:] {
			c.frame(h2Continuation, 0, 1, blk[:16384])
		}
		c.frame(h2Continuation, h2FlagEndHeaders, 1, blk)
		add("huge_continuation", both(c, newH2W(false).status(1, "431")), 1, "GET /big HTTP/2.0 host=big.test 431")
	}
	{
		c := newH2W(true)
		var want []string
		for s := uint32(1); s <= 2*(maxH2Streams+44); s += 2 {
			c.get(s, "a.test", "/")
			want = append(want, "GET / HTTP/2.0 host=a.test 0")
		}
		cases = append(cases, tc{name: "too_many_open_streams", events: both(c, newH2W(false)), want: want, counts: map[string]uint64{"pipeline_overflow": 44, "h2c_streams": maxH2Streams + 44}})
	}
	{
		c := newH2W(true).get(1, "a.test", "/before")
		add("gap_gives_up", []sgEv{{0, c.s(), 0}, {0, newH2W(true).get(3, "a.test", "/after").s()[24:], 100}, {1, newH2W(false).status(1, "200").status(3, "200").s(), 0}}, 0,
			"GET /before HTTP/2.0 host=a.test 0")
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reqs, tl := runSG(t, tc.events, Options{Keys: kx})
			var got []string
			for _, r := range reqs {
				got = append(got, h2Summary(r))
				checkH2Request(t, r)
			}
			if tc.name == "everything_byte_by_byte" {
				return // only that nothing breaks
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tl.parseErrors != tc.parse {
				t.Errorf("%d parse errors, want %d (problems %v)", tl.parseErrors, tc.parse, tl.problems)
			}
			for k, v := range tc.counts {
				if tl.c[counterIndex(k)] != v {
					t.Errorf("%s = %d, want %d", k, tl.c[counterIndex(k)], v)
				}
			}
		})
	}
}

func counterIndex(name string) counter {
	for i, n := range counterNames {
		if n == name {
			return counter(i)
		}
	}
	panic("no counter " + name)
}

// checkH2Request asserts what holds for any request the h2c parser makes.
func checkH2Request(t testing.TB, r detect.Request) {
	t.Helper()
	// HTTP/1.1: the request of an h2c upgrade, or a connection that
	// stayed HTTP/1.1.
	if r.Method == "" || r.Proto != "HTTP/2.0" && r.Proto != "HTTP/1.1" || r.Host != "" && !r.HasHost || r.Origin != "" && !r.HasOrigin {
		t.Fatalf("malformed request %+v", r)
	}
	if r.Key != "" && len(r.Key) != keys.FingerprintLen {
		t.Fatalf("key %q is not a fingerprint", r.Key)
	}
}

// h2cStreams returns the client and server bytes of the connection of
// h2c.pcap from Go's client (two requests, dynamic table in use).
func h2cStreams(t testing.TB) (client, server []byte) {
	recordedPayloads(t, "h2c.pcap", func(pk gopacket.Packet) []byte {
		ip, _ := pk.NetworkLayer().(*layers.IPv4)
		tc, _ := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tc == nil || !ip.SrcIP.Equal(ip.DstIP) { // Go's client: 127.0.0.1 to 127.0.0.1
			return nil
		}
		if tc.DstPort == 8080 {
			client = append(client, tc.Payload...)
		} else {
			server = append(server, tc.Payload...)
		}
		return nil
	})
	if !bytes.HasPrefix(client, h2Preface) || len(server) == 0 {
		t.Fatal("h2c.pcap: no h2c connection from 127.0.0.1")
	}
	return client, server
}

// FuzzH2C feeds a client and a server byte stream, each cut in two, to one
// connection through the reassembly hook. Nothing may panic or hang, and
// every request must be well formed and sanitised.
func FuzzH2C(f *testing.F) {
	c, s := h2cStreams(f)
	f.Add(c, s, uint16(30), uint16(20))
	f.Add(c, s, uint16(len(c)/2), uint16(len(s)/2))
	w := newH2W(true)
	blk := w.block(":method", "GET", ":authority", "a.test", ":path", "/", "x-api-key", "k")
	w.frame(h2Headers, h2FlagPadded|h2FlagPriority, 1, append(append([]byte{1, 0, 0, 0, 0, 0}, blk[:4]...), 0)).frame(h2Continuation, h2FlagEndHeaders, 1, blk[4:])
	f.Add(w.b, newH2W(false).status(1, "200").b, uint16(40), uint16(5))
	kx := keys.NewExtractor(keys.DefaultConfig())
	f.Fuzz(func(t *testing.T, client, server []byte, cs, ss uint16) {
		if !bytes.HasPrefix(client, h2Preface[:16]) {
			client = append(slices.Clone(h2Preface), client...)
		}
		ci, si := int(cs)%(len(client)+1), int(ss)%(len(server)+1)
		ev := []sgEv{{0, string(client[:ci]), 0}, {1, string(server[:si]), 0}, {0, string(client[ci:]), 0}, {1, string(server[si:]), 0}}
		reqs, _ := runSG(t, ev, Options{Keys: kx})
		for _, r := range reqs {
			if r.Proto == "HTTP/2.0" {
				checkH2Request(t, r)
			}
		}
	})
}

func BenchmarkH2C(b *testing.B) {
	c, s := h2cStreams(b)
	kx := keys.NewExtractor(keys.DefaultConfig())
	ev := []sgEv{{0, string(c), 0}, {1, string(s), 0}}
	b.ReportAllocs()
	for b.Loop() {
		if reqs, _ := runSG(b, ev, Options{Keys: kx}); len(reqs) != 2 {
			b.Fatalf("%d requests", len(reqs))
		}
	}
}

// FuzzH2CUpgrade: an HTTP/1.1 request that asks for h2c, a 101 that
// grants it, then whatever both sides send: nothing may panic or hang, and
// every request is well formed.
func FuzzH2CUpgrade(f *testing.F) {
	up := "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
	sw := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	f.Add([]byte(newH2W(true).get(3, "b.test", "/2").s()), []byte(newH2W(false).status(1, "200").status(3, "404").s()), uint16(10), uint16(20))
	f.Add([]byte("GET /x HTTP/1.1\r\n\r\n"), []byte("<html>"), uint16(3), uint16(3))
	kx := keys.NewExtractor(keys.DefaultConfig())
	f.Fuzz(func(t *testing.T, client, server []byte, cs, ss uint16) {
		ci, si := int(cs)%(len(client)+1), int(ss)%(len(server)+1)
		ev := []sgEv{{0, up, 0}, {1, sw + string(server[:si]), 0}, {0, string(client[:ci]), 0}, {0, string(client[ci:]), 0}, {1, string(server[si:]), 0}}
		reqs, _ := runSG(t, ev, Options{Keys: kx})
		if len(reqs) == 0 || reqs[0].Target != "/up" {
			t.Fatalf("the upgrade request is lost: %+v", reqs)
		}
		for _, r := range reqs {
			checkH2Request(t, r)
		}
	})
}
