package capture

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// tcpCase runs a synthetic conversation through ReadFile after mutate and
// returns "target status" per request and the counters.
func tcpCase(t *testing.T, c *convo, mutate func([]pkt) []pkt) ([]string, map[string]uint64) {
	t.Helper()
	r := readBytes(t, writePcap(t, mutate(slices.Clone(c.pkts)), linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for _, q := range r.reqs {
		got = append(got, fmt.Sprintf("%s %d", q.Target, q.Status))
	}
	return got, r.counters
}

// findPkt returns the index of the first packet whose payload starts with prefix.
func findPkt(t *testing.T, p []pkt, prefix string) int {
	t.Helper()
	for i, x := range p {
		if strings.HasPrefix(string(x.payload), prefix) {
			return i
		}
	}
	t.Fatalf("no packet starts with %q", prefix)
	return -1
}

// Data sent twice under the same sequence numbers with different bytes
// is counted (an IDS evasion: observer and server may keep different
// copies); the first copy seen is the one parsed. Honest retransmissions
// and keep-alive probes are not counted.
func TestOverlapConflicts(t *testing.T) {
	base := func() *convo {
		return newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /safe HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
			req("GET /next HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
	}
	evil := func(x pkt) pkt {
		x.payload = []byte(strings.Replace(string(x.payload), "/safe", "/evil", 1))
		return x
	}
	tests := []struct {
		name      string
		mutate    func([]pkt) []pkt
		want      []string
		conflicts uint64
	}{
		{"resent_with_other_bytes", func(p []pkt) []pkt {
			i := findPkt(t, p, "GET /safe")
			return slices.Insert(p, i+1, evil(p[i]))
		}, []string{"/safe 200", "/next 200"}, 1},
		{"resent_same_bytes", func(p []pkt) []pkt {
			i := findPkt(t, p, "GET /safe")
			return slices.Insert(p, i+1, p[i])
		}, []string{"/safe 200", "/next 200"}, 0},
		{"resent_covering_two_segments_other_bytes", func(p []pkt) []pkt {
			// The request in two segments, then one retransmission of both
			// with a changed byte in the first.
			i := findPkt(t, p, "GET /safe")
			a, b := p[i], p[i]
			a.payload, b.payload = p[i].payload[:10], p[i].payload[10:]
			b.seq += 10
			both := evil(p[i])
			return slices.Insert(slices.Replace(p, i, i+1, a, b), i+2, both)
		}, []string{"/safe 200", "/next 200"}, 1},
		{"queued_overlap_other_bytes", func(p []pkt) []pkt {
			// The second half arrives first, then a different copy of it,
			// then the first half.
			i := findPkt(t, p, "GET /safe")
			a, b := p[i], p[i]
			a.payload, b.payload = p[i].payload[:10], p[i].payload[10:]
			b.seq += 10
			b2 := b
			b2.payload = []byte(strings.Replace(string(b.payload), "Host: a", "Host: z", 1))
			return slices.Replace(p, i, i+1, b, b2, a)
		}, []string{"/safe 200", "/next 200"}, 1},
		{"queued_duplicate", func(p []pkt) []pkt {
			i := findPkt(t, p, "GET /safe")
			a, b := p[i], p[i]
			a.payload, b.payload = p[i].payload[:10], p[i].payload[10:]
			b.seq += 10
			return slices.Replace(p, i, i+1, b, b, a)
		}, []string{"/safe 200", "/next 200"}, 0},
		{"keepalive_probe", func(p []pkt) []pkt {
			// One garbage byte just before the stream: a keep-alive probe.
			i := findPkt(t, p, "GET /next")
			probe := p[i]
			probe.seq--
			probe.payload = []byte{0}
			return slices.Insert(p, i, probe)
		}, []string{"/safe 200", "/next 200"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, counters := tcpCase(t, base(), tt.mutate)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q (counters %v)", got, tt.want, counters)
			}
			if counters["overlap_conflicts"] != tt.conflicts {
				t.Errorf("overlap_conflicts %d, want %d (counters %v)", counters["overlap_conflicts"], tt.conflicts, counters)
			}
		})
	}
}

// RST and FIN end connections as the receiver would; a RST off the
// expected sequence number is ignored (RFC 5961); a new SYN on a reused
// 4-tuple starts a new connection; a connection open at the end of the
// capture still gives its requests.
func TestConnectionEnds(t *testing.T) {
	rst := func(c *convo, fromClient bool, seqOff uint32) {
		if fromClient {
			c.add(pkt{src: c.cli, dst: c.srv, seq: c.cseq + seqOff, rst: true})
		} else {
			c.add(pkt{src: c.srv, dst: c.cli, seq: c.sseq + seqOff, rst: true})
		}
	}
	t.Run("rst_from_server_releases_waiting_request", func(t *testing.T) {
		c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
			req("GET /reset HTTP/1.1\r\nHost: a\r\n\r\n")
		rst(c, false, 0)
		got, counters := tcpCase(t, c, func(p []pkt) []pkt { return p })
		if want := []string{"/ok 200", "/reset 0"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q (%v)", got, want, counters)
		}
	})
	t.Run("rst_with_wrong_seq_ignored", func(t *testing.T) {
		c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
		rst(c, false, 5000) // a blind reset (RFC 5961 section 3)
		c.resp(resp200).req("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
		got, counters := tcpCase(t, c, func(p []pkt) []pkt { return p })
		if want := []string{"/1 200", "/2 200"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q (%v)", got, want, counters)
		}
	})
	t.Run("fin_with_data_and_queued_fin", func(t *testing.T) {
		c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n").resp("HTTP/1.0 200 OK\r\n\r\nbody until close")
		// The server's FIN arrives before its last data segment.
		last := len(c.pkts) - 1
		fin := pkt{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq, fin: true, ackFlag: true, ts: c.pkts[last].ts}
		c.pkts = slices.Insert(c.pkts, last, fin)
		c.t = c.t.Add(c.step)
		c.sseq++
		got, counters := tcpCase(t, c, func(p []pkt) []pkt { return p })
		if want := []string{"/1 200"}; !slices.Equal(got, want) || counters["incomplete_messages"] != 0 {
			t.Errorf("got %q, want %q (%v)", got, want, counters)
		}
	})
	t.Run("syn_reuses_tuple", func(t *testing.T) {
		a := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /first HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
		// No FIN seen; the client reconnects from the same port.
		b := newConvo("10.0.0.7:51234", "10.0.0.1:80", a.t)
		b.cseq, b.sseq = 90000, 70000
		b.handshake().req("GET /second HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200)
		c := &convo{pkts: append(slices.Clone(a.pkts), b.pkts...)}
		got, counters := tcpCase(t, c, func(p []pkt) []pkt { return p })
		if want := []string{"/first 200", "/second 200"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q (%v)", got, want, counters)
		}
	})
	t.Run("open_at_end_of_capture", func(t *testing.T) {
		c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
			req("GET /open HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).
			req("GET /unanswered HTTP/1.1\r\nHost: a\r\n\r\n")
		got, _ := tcpCase(t, c, func(p []pkt) []pkt { return p })
		if want := []string{"/open 200", "/unanswered 0"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// Reordering by more than the queue may hold: the cap is counted and the
// gap skipped early; the requests after it are still read.
func TestReorderBufferCap(t *testing.T) {
	c := newConvo("10.0.0.7:51234", "10.0.0.1:80", synthEpoch).handshake().
		req("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n").req(strings.Repeat("b", 3000), 500).
		req("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").resp(resp200).resp(resp200)
	var p []pkt
	held := -1
	for i, x := range c.pkts {
		if held < 0 && strings.HasPrefix(string(x.payload), "bbbb") {
			held = i // the first body segment never arrives
			continue
		}
		p = append(p, x)
	}
	r := readBytes(t, writePcap(t, p, linkSpec{link: layers.LinkTypeEthernet}, pcapOpts{}), Options{MaxStreamBuffer: 1200})
	var got []string
	for _, q := range r.reqs {
		got = append(got, q.Target)
	}
	if !slices.Contains(got, "/after") || r.counters["reorder_buffer_full"] == 0 || r.counters["gaps"] == 0 {
		t.Fatalf("got %q, counters %v", got, r.counters)
	}
}
