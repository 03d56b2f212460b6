package capture

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
)

const (
	getA    = "GET /a?api_key=k1 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: t/1\r\n\r\n"
	resp200 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
)

func simpleConvo(cli, srv string) *convo {
	return newConvo(cli, srv, synthEpoch).handshake().req(getA).resp(resp200).close()
}

func checkOne(t *testing.T, r result, client, server string) {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.reqs) != 1 {
		t.Fatalf("got %d requests, want 1 (counters %v, problems %v)", len(r.reqs), r.counters, r.problems)
	}
	q := r.reqs[0]
	if q.Method != "GET" || q.Host != "api.example.com" || q.Target != "/a?api_key=k1" || q.Status != 200 || q.Source != "pcap" {
		t.Errorf("got %+v", q)
	}
	if q.Client.String() != client || q.Server.String() != server {
		t.Errorf("client %s server %s, want %s %s", q.Client, q.Server, client, server)
	}
	if !q.Time.Equal(synthEpoch.Add(3 * time.Millisecond)) {
		t.Errorf("time %v, want first byte at %v", q.Time, synthEpoch.Add(3*time.Millisecond))
	}
}

func TestLinkTypes(t *testing.T) {
	links := []linkSpec{
		{name: "ethernet", link: layers.LinkTypeEthernet},
		{name: "ethernet_vlan", link: layers.LinkTypeEthernet, vlan: 1},
		{name: "ethernet_qinq", link: layers.LinkTypeEthernet, vlan: 2},
		{name: "linux_sll", link: layers.LinkTypeLinuxSLL},
		{name: "linux_sll2", link: layers.LinkTypeLinuxSLL2},
		{name: "bsd_null_le", link: layers.LinkTypeNull},
		{name: "bsd_null_be", link: layers.LinkTypeNull, be: true},
		{name: "openbsd_loop", link: layers.LinkTypeLoop},
		{name: "raw_101", link: layers.LinkTypeRaw},
		{name: "raw_bsd_12", link: linkTypeRawBSD},
		{name: "ipv4_228", link: layers.LinkTypeIPv4},
		{name: "ipv6_229", link: layers.LinkTypeIPv6},
	}
	for _, ls := range links {
		for _, v6 := range []bool{false, true} {
			if (ls.link == layers.LinkTypeIPv4 && v6) || (ls.link == layers.LinkTypeIPv6 && !v6) {
				continue
			}
			name := ls.name + map[bool]string{false: "/ipv4", true: "/ipv6"}[v6]
			t.Run(name, func(t *testing.T) {
				cli, srv := "10.1.2.3:40000", "10.1.2.4:8080"
				if v6 {
					cli, srv = "[2001:db8::3]:40000", "[2001:db8::4]:8080"
				}
				c := simpleConvo(cli, srv)
				checkOne(t, readBytes(t, writePcap(t, c.pkts, ls, pcapOpts{}), Options{}), cli, srv)
			})
		}
	}
}

// Tunnels are followed to the HTTP inside them: the request's addresses
// are the inner ones.
func TestTunnels(t *testing.T) {
	for _, kind := range []string{"gre", "gre_eth", "ipip", "in6", "vxlan", "vxlan6"} {
		for _, v6 := range []bool{false, true} {
			name := kind + map[bool]string{false: "/ipv4", true: "/ipv6"}[v6]
			t.Run(name, func(t *testing.T) {
				cli, srv := "10.1.2.3:40000", "10.1.2.4:8080"
				if v6 {
					cli, srv = "[2001:db8::3]:40000", "[2001:db8::4]:8080"
				}
				c := simpleConvo(cli, srv)
				checkOne(t, readBytes(t, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet, tunnel: kind}, pcapOpts{}), Options{}), cli, srv)
			})
		}
	}
}

func TestPcapVariants(t *testing.T) {
	c := simpleConvo("10.0.0.7:51234", "10.0.0.1:80")
	eth := linkSpec{link: layers.LinkTypeEthernet}
	for _, o := range []pcapOpts{{}, {nano: true}, {be: true}, {nano: true, be: true}} {
		t.Run(fmt.Sprintf("nano=%v_be=%v", o.nano, o.be), func(t *testing.T) {
			checkOne(t, readBytes(t, writePcap(t, c.pkts, eth, o), Options{}), "10.0.0.7:51234", "10.0.0.1:80")
		})
	}
	t.Run("gzip", func(t *testing.T) {
		checkOne(t, readBytes(t, gz(t, writePcap(t, c.pkts, eth, pcapOpts{})), Options{}), "10.0.0.7:51234", "10.0.0.1:80")
	})
	t.Run("pcapng_gzip", func(t *testing.T) {
		var ng []ngPkt
		for _, p := range c.pkts {
			ng = append(ng, ngPkt{p, 0})
		}
		checkOne(t, readBytes(t, gz(t, writePcapng(t, []linkSpec{eth}, ng)), Options{}), "10.0.0.7:51234", "10.0.0.1:80")
	})
	t.Run("nanosecond_time_kept", func(t *testing.T) {
		c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch.Add(123456789)).handshake().req(getA).resp(resp200)
		r := readBytes(t, writePcap(t, c.pkts, eth, pcapOpts{nano: true}), Options{})
		if len(r.reqs) != 1 || !r.reqs[0].Time.Equal(synthEpoch.Add(123456789+3*time.Millisecond)) {
			t.Fatalf("got %v", r.reqs)
		}
	})
}

// A pcapng file with interfaces of different link types: each packet is
// decoded by its own interface's link type.
func TestPcapngMixedLinkTypes(t *testing.T) {
	ifaces := []linkSpec{{link: layers.LinkTypeEthernet}, {link: layers.LinkTypeRaw}, {link: layers.LinkTypeLinuxSLL2}}
	a := newConvo("10.0.0.1:1000", "10.0.0.9:80", synthEpoch).handshake().req("GET /eth HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	b := newConvo("10.0.0.2:1000", "10.0.0.9:80", synthEpoch.Add(time.Second)).handshake().req("GET /raw HTTP/1.1\r\nHost: b\r\n\r\n").resp(resp200)
	c := newConvo("[::1]:1000", "[::1]:8080", synthEpoch.Add(2*time.Second)).handshake().req("GET /sll2 HTTP/1.1\r\nHost: c\r\n\r\n").resp(resp200)
	var pk []ngPkt
	for i, cv := range []*convo{a, b, c} {
		for _, p := range cv.pkts {
			pk = append(pk, ngPkt{p, i})
		}
	}
	r := readBytes(t, writePcapng(t, ifaces, pk), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %s %d", q.Host, q.Target, q.Status))
	}
	want := []string{"a /eth 200", "b /raw 200", "c /sll2 200"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
}

func TestReassemblyEdgeCases(t *testing.T) {
	eth := linkSpec{link: layers.LinkTypeEthernet}
	req := "POST /upload HTTP/1.1\r\nHost: api.example.com\r\nX-API-Key: abc\r\nContent-Length: 30\r\n\r\n" + strings.Repeat("b", 30) +
		"GET /next HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
	resps := resp200 + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	base := func() *convo {
		return newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().req(req, 10).resp(resps, 30)
	}
	want := []string{"POST /upload 200", "GET /next 404"}
	tests := []struct {
		name     string
		mutate   func(c *convo) []pkt
		want     []string
		counters map[string]uint64
	}{
		{"in_order", func(c *convo) []pkt { return c.pkts }, want, nil},
		{"client_segments_reversed", func(c *convo) []pkt {
			p := slices.Clone(c.pkts)
			var data []int
			for i, x := range p {
				if x.src == c.cli && len(x.payload) > 0 {
					data = append(data, i)
				}
			}
			// Reverse the payloads' order but keep timestamps increasing.
			segs := make([]pkt, len(data))
			for j, i := range data {
				segs[len(data)-1-j] = p[i]
			}
			for j, i := range data {
				ts := p[i].ts
				p[i] = segs[j]
				p[i].ts = ts
			}
			return p
		}, want, nil},
		{"duplicated_segments", func(c *convo) []pkt {
			var p []pkt
			for _, x := range c.pkts {
				p = append(p, x)
				if len(x.payload) > 0 {
					p = append(p, x)
				}
			}
			return p
		}, want, nil},
		{"overlapping_retransmission", func(c *convo) []pkt {
			var p []pkt
			for i, x := range c.pkts {
				p = append(p, x)
				if i == 5 && len(x.payload) > 0 {
					// A retransmission covering this segment and the next.
					y := x
					y.payload = append(slices.Clone(x.payload), c.pkts[6].payload...)
					p = append(p, y)
				}
			}
			return p
		}, want, nil},
		{"lost_client_segment_in_body", func(c *convo) []pkt {
			// The 10th client data segment (bytes 90-99) is inside the
			// 30-byte body (bytes 83-112).
			var p []pkt
			n := 0
			for _, x := range c.pkts {
				if x.src == c.cli && len(x.payload) > 0 {
					n++
					if n == 10 {
						continue
					}
				}
				p = append(p, x)
			}
			return p
		}, want, map[string]uint64{"missing_bytes": 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			r := readBytes(t, writePcap(t, tt.mutate(c), eth, pcapOpts{}), Options{Keys: keys.NewExtractor(keys.DefaultConfig())})
			if r.err != nil {
				t.Fatal(r.err)
			}
			var got []string
			for _, q := range r.reqs {
				got = append(got, fmt.Sprintf("%s %s %d", q.Method, q.Target, q.Status))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q (counters %v problems %v)", got, tt.want, r.counters, r.problems)
			}
			if r.reqs[0].Key != keys.Fingerprint("", "abc") {
				t.Errorf("key %q", r.reqs[0].Key)
			}
			for k, v := range tt.counters {
				if r.counters[k] != v {
					t.Errorf("%s = %d, want %d (all %v)", k, r.counters[k], v, r.counters)
				}
			}
			if r.counters["overlap_conflicts"] != 0 {
				t.Errorf("honest retransmissions counted as overlap conflicts: %v", r.counters)
			}
		})
	}
}

// A lost segment holding a whole request: the requests around it are
// reported, the lost one's response does not go to the next request.
func TestGapLosesRequest(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 201 A\r\nContent-Length: 0\r\n\r\n").
		req("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 202 B\r\nContent-Length: 0\r\n\r\n").
		req("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 203 C\r\nContent-Length: 0\r\n\r\n")
	var p []pkt
	for _, x := range c.pkts {
		if strings.HasPrefix(string(x.payload), "GET /2") {
			continue
		}
		p = append(p, x)
	}
	r := readBytes(t, writePcap(t, p, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	if want := []string{"/1 201", "/3 203"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
	if r.counters["missing_bytes"] == 0 || r.counters["unmatched_responses"] != 1 {
		t.Errorf("counters %v", r.counters)
	}
}

// A lost segment is known lost as soon as the other end acknowledges past
// it: the requests after it are read before their responses, so a HEAD
// response is not taken to have a body and every status is right.
func TestAckedUnseenData(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 201 A\r\nContent-Length: 0\r\n\r\n").
		req("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 202 B\r\nContent-Length: 0\r\n\r\n").
		req("HEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 200 C\r\nContent-Length: 100000\r\n\r\n").
		req("GET /4 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 204 D\r\n\r\n")
	var p []pkt
	for _, x := range c.pkts {
		if !strings.HasPrefix(string(x.payload), "GET /2") {
			p = append(p, x)
		}
	}
	r := readBytes(t, writePcap(t, p, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	if want := []string{"/1 201", "/3 200", "/4 204"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
	if r.counters["gaps"] != 1 || r.counters["incomplete_messages"] != 0 || r.counters["unmatched_responses"] != 1 {
		t.Errorf("counters %v", r.counters)
	}
}

// Packets cut by a small snap length: a cut inside a body keeps the stream
// in step; the cut bytes are counted.
func TestSnapLength(t *testing.T) {
	body := strings.Repeat("x", 3000)
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n").req(body, 1000).
		resp(resp200).
		req("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	r := readBytes(t, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{snaplen: 200}), Options{})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	if want := []string{"/big 200", "/after 200"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
	if r.counters["truncated_packets"] != 3 || r.counters["missing_bytes"] != 3*(1000-146) {
		t.Errorf("counters %v", r.counters)
	}
}

// A request head cut by the snap length is not invented from the next one.
func TestSnapLengthCutsHead(t *testing.T) {
	long := "GET /cut HTTP/1.1\r\nHost: a\r\nUser-Agent: " + strings.Repeat("u", 300) + "\r\n\r\n"
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req(long).resp(resp200).req("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	r := readBytes(t, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{snaplen: 120}), Options{})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	if want := []string{"/ok 200"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v, problems %v)", got, want, r.counters, r.problems)
	}
	if r.parse != 1 {
		t.Errorf("parse errors %d, want 1", r.parse)
	}
}

func TestTruncatedFile(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
		req("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	full := writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{})
	last := len(frame(t, c.pkts[len(c.pkts)-1], linkSpec{link: layers.LinkTypeEthernet}))
	for _, cut := range []int{1, last / 2, last, last + 8} { // into data, all data, into the record header
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			r := readBytes(t, full[:len(full)-cut], Options{})
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.counters["truncated_file"] != 1 {
				t.Errorf("counters %v", r.counters)
			}
			if len(r.reqs) != 2 || r.reqs[0].Status != 200 || r.reqs[1].Target != "/2" {
				t.Errorf("requests %+v", r.reqs)
			}
			if b := r.batches[len(r.batches)-1]; b.State != detect.StateDone {
				t.Errorf("last state %v", b.State)
			}
		})
	}
	t.Run("inside_file_header", func(t *testing.T) {
		r := readBytes(t, full[:10], Options{})
		if r.err != nil || r.counters["truncated_file"] != 1 {
			t.Fatalf("err %v counters %v", r.err, r.counters)
		}
	})
	t.Run("pcapng_cut", func(t *testing.T) {
		var ng []ngPkt
		for _, p := range c.pkts {
			ng = append(ng, ngPkt{p, 0})
		}
		b := writePcapng(t, []linkSpec{{link: layers.LinkTypeEthernet}}, ng)
		r := readBytes(t, b[:len(b)-30], Options{})
		if r.err != nil || r.counters["truncated_file"] != 1 || len(r.reqs) != 2 {
			t.Fatalf("err %v counters %v reqs %d", r.err, r.counters, len(r.reqs))
		}
	})
}

func TestNotCapture(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"access.log": `127.0.0.1 - - [26/Nov/2026:21:01:10 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"` + "\n",
		"empty":      "",
		"tiny":       "ab",
		"esc\x1b[2J": "not a capture at all",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		out := make(chan detect.Batch, 4)
		err := ReadFile(context.Background(), path, Options{}, out)
		if !errors.Is(err, ErrNotCapture) {
			t.Fatalf("%q: err %v, want ErrNotCapture", name, err)
		}
		want := path + " is not a pcap or pcapng capture"
		if err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
		if len(out) != 0 {
			t.Errorf("%q: %d batches sent", name, len(out))
		}
	}
	if err := ReadFile(context.Background(), filepath.Join(dir, "missing.pcap"), Options{}, make(chan detect.Batch, 1)); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotCapture) {
		t.Errorf("missing file: %v", err)
	}
}

func TestMidstreamCapture(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n"+strings.Repeat("z", 4000), 1000).
		req("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	// Start the capture inside the first response's body.
	r := readBytes(t, writePcap(t, c.pkts[6:], linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %s>%s %d", q.Target, q.Client, q.Server, q.Status))
	}
	if want := []string{"/2 10.0.0.7:51234>10.0.0.1:80 200"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
	if r.counters["midstream_streams"] != 1 || r.parse != 0 {
		t.Errorf("counters %v parse %d", r.counters, r.parse)
	}
}

// Joined mid-connection, roles guessed from ports are wrong when the
// client's port is the configured one: the request line decides.
func TestMidstreamRolesFromData(t *testing.T) {
	c := newConvo("10.0.0.7:8080", "10.0.0.1:40000", synthEpoch).handshake().req(getA).resp(resp200)
	r := readBytes(t, writePcap(t, c.pkts[3:], linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{Ports: []uint16{8080}})
	if len(r.reqs) != 1 || r.reqs[0].Client.String() != "10.0.0.7:8080" || r.reqs[0].Status != 200 {
		t.Fatalf("got %+v (counters %v)", r.reqs, r.counters)
	}
}

func TestAnyPort(t *testing.T) {
	http := newConvo("10.0.0.7:40000", "10.0.0.1:9999", synthEpoch).handshake().req(getA).resp(resp200).close()
	tls := newConvo("10.0.0.7:40001", "10.0.0.1:9443", synthEpoch.Add(time.Second)).handshake().
		req("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03").resp("\x16\x03\x03\x00\x5a\x02").close()
	mid := newConvo("10.0.0.7:40002", "10.0.0.1:7000", synthEpoch.Add(2*time.Second)).handshake().
		req("GET /mid HTTP/1.1\r\nHost: m\r\n\r\n").resp(resp200)
	pk := append(append(slices.Clone(http.pkts), tls.pkts...), mid.pkts[3:]...)
	data := writePcap(t, pk, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{})

	r := readBytes(t, data, Options{Ports: []uint16{80}})
	if len(r.reqs) != 0 {
		t.Errorf("ports only: %d requests", len(r.reqs))
	}
	r = readBytes(t, data, Options{AnyPort: true})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %s %d", q.Server, q.Target, q.Status))
	}
	if want := []string{"10.0.0.1:9999 /a?api_key=k1 200", "10.0.0.1:7000 /mid 200"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q (counters %v)", got, want, r.counters)
	}
	if r.counters["non_http_streams"] != 1 {
		t.Errorf("counters %v", r.counters)
	}
}

// Requests are emitted by the time of their first byte, across connections.
func TestEventTimeOrder(t *testing.T) {
	// Connection A starts its request first but finishes it last.
	a := newConvo("10.0.0.7:1001", "10.0.0.1:80", synthEpoch).handshake()
	a.step = 0
	b := newConvo("10.0.0.8:1002", "10.0.0.1:80", synthEpoch).handshake()
	b.step = 0
	var pk []pkt
	a.t = synthEpoch.Add(10 * time.Millisecond)
	a.req("GET /a HTTP/1.1\r\n")
	pk = append(pk, a.pkts...)
	b.t = synthEpoch.Add(20 * time.Millisecond)
	b.req("GET /b HTTP/1.1\r\nHost: b\r\n\r\n")
	b.t = synthEpoch.Add(21 * time.Millisecond)
	b.resp(resp200)
	pk = append(pk, b.pkts...)
	a.pkts = nil
	a.t = synthEpoch.Add(30 * time.Millisecond)
	a.req("Host: a\r\n\r\n")
	a.t = synthEpoch.Add(31 * time.Millisecond)
	a.resp(resp200)
	pk = append(pk, a.pkts...)
	slices.SortStableFunc(pk, func(x, y pkt) int { return x.ts.Compare(y.ts) })
	r := readBytes(t, writePcap(t, pk, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	if len(r.reqs) != 2 || r.reqs[0].Target != "/a" || r.reqs[1].Target != "/b" {
		t.Fatalf("got %+v", r.reqs)
	}
	if !r.reqs[0].Time.Equal(synthEpoch.Add(10 * time.Millisecond)) {
		t.Errorf("time of /a %v", r.reqs[0].Time)
	}
}

// More connections than MaxStreams: the oldest are closed early and
// counted, and none of their requests is lost.
func TestStreamEviction(t *testing.T) {
	var pk []pkt
	const n = 40
	var convos []*convo
	for i := 0; i < n; i++ {
		c := newConvo(fmt.Sprintf("10.0.0.%d:4000", i+1), "10.0.0.200:80", synthEpoch.Add(time.Duration(i)*time.Millisecond)).handshake()
		c.req(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i))
		convos = append(convos, c)
	}
	for _, c := range convos {
		pk = append(pk, c.pkts...)
	}
	slices.SortStableFunc(pk, func(x, y pkt) int { return x.ts.Compare(y.ts) })
	r := readBytes(t, writePcap(t, pk, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{MaxStreams: 8})
	if len(r.reqs) != n {
		t.Fatalf("got %d requests, want %d (counters %v)", len(r.reqs), n, r.counters)
	}
	if r.counters["streams_evicted"] < n-8 {
		t.Errorf("counters %v", r.counters)
	}
	for i := 1; i < len(r.reqs); i++ {
		if r.reqs[i].Time.Before(r.reqs[i-1].Time) {
			t.Fatalf("out of order at %d", i)
		}
	}
}

func TestBatches(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake()
	for i := 0; i < 5; i++ {
		c.req(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)).resp(resp200)
	}
	data := writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{})
	r := readBytes(t, data, Options{BatchSize: 2})
	if r.err != nil || len(r.reqs) != 5 {
		t.Fatalf("err %v, %d requests", r.err, len(r.reqs))
	}
	for i, b := range r.batches {
		if len(b.Requests) > 2 || b.Source != "pcap" || b.Total != int64(len(data)) {
			t.Errorf("batch %d: %d requests source %q total %d", i, len(b.Requests), b.Source, b.Total)
		}
		want := detect.StateReplaying
		if i == len(r.batches)-1 {
			want = detect.StateDone
		}
		if b.State != want {
			t.Errorf("batch %d state %v", i, b.State)
		}
	}
	if last := r.batches[len(r.batches)-1]; last.Done != last.Total {
		t.Errorf("done %d of %d", last.Done, last.Total)
	}
}

func TestStdin(t *testing.T) {
	c := simpleConvo("10.0.0.7:51234", "10.0.0.1:80")
	path := filepath.Join(t.TempDir(), "in.pcap")
	if err := os.WriteFile(path, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	r := readPath(t, "-", Options{})
	checkOne(t, r, "10.0.0.7:51234", "10.0.0.1:80")
	if last := r.batches[len(r.batches)-1]; last.Total != 0 {
		t.Errorf("stdin total %d", last.Total)
	}
}

// A paused pacer stepped past the first two requests: they reach the
// engine before ReadFile blocks on the third, and cancelling ends it.
func TestPacerPausedFlushesFirst(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake()
	for i := 0; i < 3; i++ {
		c.req(fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)).resp(resp200)
		c.t = c.t.Add(time.Second)
	}
	path := filepath.Join(t.TempDir(), "p.pcap")
	if err := os.WriteFile(path, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), 0o644); err != nil {
		t.Fatal(err)
	}
	pacer := source.NewPacer(0)
	pacer.Wait(context.Background(), synthEpoch) // the replay starts here
	pacer.SetPaused(true)
	pacer.Step(1500 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan detect.Batch, 16)
	errc := make(chan error, 1)
	go func() { errc <- ReadFile(ctx, path, Options{Ports: []uint16{80}, Pacer: pacer, BatchSize: 100}, out) }()
	var got []string
	deadline := time.After(5 * time.Second)
	for len(got) < 2 {
		select {
		case b := <-out:
			for _, r := range b.Requests {
				got = append(got, r.Target)
			}
		case err := <-errc:
			t.Fatalf("returned while paused: %v", err)
		case <-deadline:
			t.Fatalf("only %q reached the engine", got)
		}
	}
	select {
	case err := <-errc:
		t.Fatalf("returned while paused: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if !slices.Equal(got, []string{"/0", "/1"}) {
		t.Errorf("before the pause: %q", got)
	}
	// Stopping ends the pause and loses nothing already read: the third
	// request was waiting for the pacer, so it still reaches the engine,
	// and the last batch says the replay was stopped.
	cancel()
	var last detect.Batch
	for b := range drainUntil(errc, out) {
		for _, r := range b.Requests {
			got = append(got, r.Target)
		}
		last = b
	}
	if err := <-errc; err != nil {
		t.Fatalf("err %v", err)
	}
	if !slices.Equal(got, []string{"/0", "/1", "/2"}) || last.State != detect.StateStopped {
		t.Errorf("after the stop: %q, last state %v", got, last.State)
	}
}

// drainUntil yields the batches on out until the source's error arrives on
// errc (which it puts back for the caller), then those still buffered.
func drainUntil(errc chan error, out chan detect.Batch) func(func(detect.Batch) bool) {
	return func(yield func(detect.Batch) bool) {
		for {
			select {
			case b := <-out:
				if !yield(b) {
					return
				}
			case err := <-errc:
				errc <- err
				for len(out) > 0 {
					if !yield(<-out) {
						return
					}
				}
				return
			}
		}
	}
}

// A replay told to stop before it starts reads no further than its first
// packet and still ends by the source rule: a last batch that says stopped.
func TestCancelled(t *testing.T) {
	c := simpleConvo("10.0.0.7:51234", "10.0.0.1:80")
	path := filepath.Join(t.TempDir(), "c.pcap")
	os.WriteFile(path, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := make(chan detect.Batch, 16)
	if err := ReadFile(ctx, path, Options{Ports: []uint16{80}}, out); err != nil {
		t.Fatalf("err %v", err)
	}
	close(out)
	n, last := 0, detect.Batch{}
	for b := range out {
		n += len(b.Requests)
		last = b
	}
	if n != 0 || last.State != detect.StateStopped {
		t.Errorf("%d requests, last state %v; want 0 and stopped", n, last.State)
	}
}

// A request whose response never comes is emitted, without a status, once
// responseWait of packet time has passed, not only at the end; requests
// answered meanwhile wait behind it, to keep time order.
func TestResponseWait(t *testing.T) {
	a := newConvo("10.0.0.7:1001", "10.0.0.1:80", synthEpoch).handshake().req("GET /unanswered HTTP/1.1\r\nHost: a\r\n\r\n")
	b := newConvo("10.0.0.8:1002", "10.0.0.1:80", synthEpoch.Add(time.Second)).handshake()
	for i := 0; i < 8; i++ {
		b.req(fmt.Sprintf("GET /b%d HTTP/1.1\r\nHost: b\r\n\r\n", i)).resp(resp200)
		b.t = b.t.Add(time.Second)
	}
	pk := append(slices.Clone(a.pkts), b.pkts...)
	slices.SortStableFunc(pk, func(x, y pkt) int { return x.ts.Compare(y.ts) })

	opts := Options{Ports: []uint16{80}, BatchSize: 1}.withDefaults()
	p := newTestPipeline(&opts, "pcap")
	eth := linkSpec{link: layers.LinkTypeEthernet}
	var before []string // emitted while packets were still coming
	for _, x := range pk {
		data := frame(t, x, eth)
		p.packet(data, gopacketCI(x.ts, len(data)), layers.LinkTypeEthernet)
	}
	for _, b := range p.tally().batches {
		for _, r := range b.Requests {
			before = append(before, fmt.Sprintf("%s %d", r.Target, r.Status))
		}
	}
	if len(before) < 3 || before[0] != "/unanswered 0" || before[1] != "/b0 200" {
		t.Fatalf("emitted before the end: %q", before)
	}
}

// More malformed requests than maxProblems: all are counted, a sample is kept.
func TestProblemsCapped(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake()
	for i := 0; i < 30; i++ {
		c.req("GET /x?api_key=SECRETKEY HTTP/1.1\r\nHost: a\r\nbroken line\r\n\r\n")
	}
	r := readBytes(t, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	if len(r.reqs) != 30 || r.parse != 30 || len(r.problems) != source.DefaultMaxProblems {
		t.Fatalf("%d requests, %d parse errors, %d problems", len(r.reqs), r.parse, len(r.problems))
	}
	for _, pr := range r.problems {
		if strings.Contains(pr.Text, "SECRETKEY") || pr.Source != "pcap" || !strings.HasPrefix(pr.Where, "packet ") {
			t.Fatalf("problem %+v", pr)
		}
	}
}

// A stream buffer cap below the header block limit: an oversized head is
// dropped and counted, the next request is still read.
func TestStreamBufferCap(t *testing.T) {
	big := "GET /big HTTP/1.1\r\nHost: a\r\nX-Pad: " + strings.Repeat("p", 600) + "\r\n\r\n"
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req(big, 100).resp(resp200).req("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	r := readBytes(t, writePcap(t, c.pkts, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{MaxStreamBuffer: 300})
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	if !slices.Equal(got, []string{"/ok 200"}) || r.counters["stream_bytes_capped"] == 0 || r.parse == 0 {
		t.Fatalf("got %q, counters %v, parse errors %d", got, r.counters, r.parse)
	}
}
