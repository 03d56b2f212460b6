package capture

import (
	"net/netip"
	"reflect"
	"testing"
)

// TestRecycledConnStartsClean completes a connection left in every kind of
// state (a request waiting for its response, a response without a
// request, a body half read, data queued out of order) and checks that
// the state a new connection then reuses (the assembler's tcpConn and
// the HTTP conn) is the same as a newly made one's.
func TestRecycledConnStartsClean(t *testing.T) {
	opts := Options{Ports: []uint16{80}}.withDefaults()
	p := newTestPipeline(&opts, "test")
	a := p.asm
	other := netip.MustParseAddrPort("10.0.0.9:40000")
	seg := func(src, dst netip.AddrPort, seq uint32, flags string, data string) {
		t.Helper()
		tcp := tcpHdr{Seq: seq, Payload: []byte(data)}
		for _, f := range flags {
			switch f {
			case 'S':
				tcp.SYN = true
			case 'A':
				tcp.ACK = true
			case 'F':
				tcp.FIN = true
			}
		}
		a.assemble(&tcp, src, dst, p.f.flowHash(src, dst), 1, 1, 1)
	}
	// A connection whose server answers before its request is seen (an
	// orphan, which the first request takes), whose client's second
	// request waits with its body half sent, and whose server has data
	// queued ahead of a gap.
	seg(testClient, testServer, 100, "S", "")
	seg(testServer, testClient, 500, "SA", "")
	seg(testServer, testClient, 501, "A", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	seg(testClient, testServer, 101, "A", "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345")
	seg(testServer, testClient, 900, "A", "HTTP/1.1 204 No Content\r\n\r\n")
	if a.conns.n != 1 || len(a.waiting) != 1 {
		t.Fatalf("setup: %d connections, %d waiting; want 1 and 1", a.conns.n, len(a.waiting))
	}
	c, _ := a.conns.find(p.f.flowHash(testClient, testServer), testClient, testServer)
	hc := c.s.(*conn)
	if len(hc.fifo) == 0 || hc.h[0].st != stBody {
		t.Fatalf("setup: the HTTP state is not messy enough: fifo %d, client state %d", len(hc.fifo), hc.h[0].st)
	}
	a.closeAll(2)
	if len(a.free) != 1 || len(p.http.free) != 1 {
		t.Fatalf("after close: %d tcpConns and %d conns free, want 1 and 1", len(a.free), len(p.http.free))
	}

	// The next connection takes the recycled state; a fresh assembler's
	// and parser's next connection is made anew.
	seg(other, testServer, 7, "S", "")
	got, _ := a.conns.find(p.f.flowHash(other, testServer), other, testServer)
	if got != c || got.s != hc {
		t.Fatal("the new connection did not reuse the completed one's state")
	}
	q := newTestPipeline(&opts, "test")
	q.asm.assemble(&tcpHdr{Seq: 7, SYN: true}, other, testServer, got.hash, 1, 1, 1)
	want, _ := q.asm.conns.find(got.hash, other, testServer)

	gotHTTP, wantHTTP := *got.s.(*conn), *want.s.(*conn)
	gotHTTP.sh, gotHTTP.fifo, wantHTTP.sh, wantHTTP.fifo = nil, nil, nil, nil
	if !reflect.DeepEqual(gotHTTP, wantHTTP) {
		t.Errorf("recycled HTTP conn\n%+v\nwant\n%+v", gotHTTP, wantHTTP)
	}
	if len(got.s.(*conn).fifo) != 0 {
		t.Errorf("recycled HTTP conn keeps %d waiting requests", len(got.s.(*conn).fifo))
	}
	gotTCP, wantTCP := *got, *want
	gotTCP.s, wantTCP.s = nil, nil
	gotTCP.prev, gotTCP.next, wantTCP.prev, wantTCP.next = nil, nil, nil, nil
	if !reflect.DeepEqual(gotTCP, wantTCP) {
		t.Errorf("recycled tcpConn\n%+v\nwant\n%+v", gotTCP, wantTCP)
	}
	p.tally()
	q.tally()
}
