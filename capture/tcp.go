package capture

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// This file reassembles TCP. Most segments of a capture arrive in order,
// and those go straight from the packet to the connection's parser: no
// copy, no queue. Only a segment ahead of the stream is copied and queued
// until the bytes before it arrive, or until gapTimeout of packet time
// says they never will (the gap is then skipped and counted). It keeps
// what gopacket/reassembly did for us (receiver rules of RFC 9293 and
// RFC 5961, mid-connection starts, caps, flushing by packet time) at a
// fraction of its cost, and it can see what that package hides: data sent
// twice with different bytes, the overlap an IDS evasion relies on.
//
// Connections implement reassembly.Stream's two data methods, which the
// assembler calls with a ScatterGather of one segment (segSG); the parsers
// were written against that interface and need not know the difference.

// Reassembly bounds.
const (
	// recentSegs is how many delivered segments per direction are
	// remembered (sequence range and a hash of the bytes) to notice a
	// retransmission that carries different data.
	recentSegs = 4
	// maxAhead is how far ahead of the stream a segment may start and still
	// be queued; beyond it the segment belongs to no plausible window.
	maxAhead = 1 << 30
)

// flowKey names a TCP connection in either direction: its two endpoints in
// a canonical order (IPv4 as IPv4-mapped IPv6).
type flowKey struct {
	a, b   [16]byte
	ap, bp uint16
}

// makeKey returns the key of the connection from src to dst, and whether
// src is its second endpoint.
func makeKey(src, dst netip.AddrPort) (k flowKey, flipped bool) {
	sa, da := src.Addr().As16(), dst.Addr().As16()
	sp, dp := src.Port(), dst.Port()
	s1, s2 := binary.BigEndian.Uint64(sa[:8]), binary.BigEndian.Uint64(sa[8:])
	d1, d2 := binary.BigEndian.Uint64(da[:8]), binary.BigEndian.Uint64(da[8:])
	if s1 < d1 || s1 == d1 && (s2 < d2 || s2 == d2 && sp <= dp) {
		return flowKey{a: sa, b: da, ap: sp, bp: dp}, false
	}
	return flowKey{a: da, b: sa, ap: dp, bp: sp}, true
}

// tcpHalf is the reassembly state of one direction of a connection.
type tcpHalf struct {
	next     uint32 // sequence number of the next byte the parser is owed
	fin      uint32 // just past the FIN, when finAhead
	known    bool   // next is set: a SYN or the first data anchored the stream
	finAhead bool   // a FIN arrived before the bytes that precede it
	closed   bool   // FIN or RST delivered: nothing more from this direction
	ooo      []oooSeg
	oooBytes int
	oooSince int64 // packet time of the oldest queued segment
	recent   [recentSegs]segSum
	nrecent  int
}

// oooSeg is a segment that arrived ahead of the stream, copied.
type oooSeg struct {
	seq  uint32
	data []byte
	ci   gopacket.CaptureInfo
	fin  bool
}

// segSum remembers a delivered segment without its bytes.
type segSum struct {
	seq uint32
	n   uint32
	sum uint64
}

// segSG is the reassembly.ScatterGather of one delivery: the bytes of one
// segment (or none), valid during the call only.
type segSG struct {
	data       []byte
	ci         gopacket.CaptureInfo
	dir        reassembly.TCPFlowDirection
	start, end bool
	skip       int
}

func (s *segSG) Lengths() (int, int) { return len(s.data), 0 }

func (s *segSG) Fetch(l int) []byte { return s.data[:min(max(l, 0), len(s.data))] }

// KeepFrom is a no-op: the parsers copy what they carry over.
func (s *segSG) KeepFrom(int) {}

func (s *segSG) CaptureInfo(int) gopacket.CaptureInfo { return s.ci }

func (s *segSG) Info() (reassembly.TCPFlowDirection, bool, bool, int) {
	return s.dir, s.start, s.end, s.skip
}

func (s *segSG) Stats() reassembly.TCPAssemblyStats { return reassembly.TCPAssemblyStats{} }

// deliver hands direction i of c one piece of its stream.
func (p *pipeline) deliver(c *conn, i int, data []byte, ci gopacket.CaptureInfo, start, end bool, skip int) {
	sg := &p.sg
	sg.data, sg.ci, sg.start, sg.end, sg.skip = data, ci, start, end, skip
	sg.dir = reassembly.TCPDirClientToServer
	if i == 1 {
		sg.dir = reassembly.TCPDirServerToClient
	}
	c.ReassembledSG(sg, nil)
	sg.data = nil
}

// assemble takes one TCP segment from p.dec (endpoints in p.curSrc and
// p.curDst) into its connection.
func (p *pipeline) assemble(tcp *layers.TCP, ci gopacket.CaptureInfo) {
	key, flipped := makeKey(p.curSrc, p.curDst)
	c := p.conns[key]
	if c != nil && tcp.SYN && !tcp.ACK {
		// A new SYN on a connection whose opener's stream is anchored
		// elsewhere: the 4-tuple was reused after a close we did not see.
		h := &c.t[c.dirOf(flipped)]
		if h.known && tcp.Seq+1 != h.next {
			p.closeConn(c)
			c = nil
		}
	}
	ts := ci.Timestamp.UnixNano()
	if c == nil {
		if !tcp.SYN && len(tcp.Payload) == 0 {
			return // an ACK, FIN or RST after the connection closed starts nothing
		}
		c = p.newConn(tcp, ts)
		c.fkey, c.flip = key, flipped
		p.conns[key] = c
	}
	p.touch(c, ts)
	i := c.dirOf(flipped)
	if tcp.ACK {
		p.ackedUnseen(c, 1-i, tcp.Ack)
	}
	h := &c.t[i]
	if h.closed {
		return
	}
	seq, data := tcp.Seq, tcp.Payload
	if tcp.SYN {
		if h.known {
			return // a SYN on a synchronised half is dropped (RFC 5961 §4)
		}
		h.known, h.next = true, seq+1
		p.deliver(c, i, nil, ci, true, false, 0)
		seq++
		if len(data) == 0 && !tcp.FIN {
			return
		}
	}
	if !h.known {
		// Joined mid-connection: the stream starts here.
		h.known, h.next = true, seq
	}
	diff := int32(seq - h.next)
	switch {
	case tcp.RST:
		// Only a RST at the next expected byte resets (RFC 5961 §3.2);
		// others are answered with a challenge ACK and dropped.
		if diff == 0 {
			if len(data) > 0 {
				p.inOrder(c, i, data, ci, false)
			}
			p.closeConn(c)
		}
		return
	case diff > 0:
		if diff > maxAhead {
			return
		}
		if tcp.FIN {
			h.finAhead, h.fin = true, seq+uint32(len(data))
		}
		p.queue(c, i, seq, data, ci, tcp.FIN)
		return
	case diff < 0:
		old := int(-int64(diff)) // int64 first: -MinInt32 overflows int32
		if old > len(data) || (old == len(data) && !tcp.FIN) {
			// Entirely before the stream: a retransmission (or a FIN
			// before it, which the receiver drops).
			p.checkResent(h, seq, data)
			return
		}
		p.checkResent(h, seq, data[:old])
		data = data[old:]
	}
	p.inOrder(c, i, data, ci, tcp.FIN)
}

// ackedUnseen skips the gap before direction i's queued data when the
// other end acknowledges bytes past it: the receiver had the missing
// bytes, so the capture lost them and no retransmission will come (what
// Wireshark calls an ACK of unseen data). Waiting out gapTimeout instead
// would let the answers to later requests be read before the requests.
func (p *pipeline) ackedUnseen(c *conn, i int, ack uint32) {
	h := &c.t[i]
	for !h.closed {
		switch {
		case len(h.ooo) > 0 && int32(ack-h.ooo[0].seq) > 0:
		case len(h.ooo) == 0 && h.finAhead && int32(ack-h.fin) > 0:
		default:
			return
		}
		p.skip(c, i)
	}
}

// dirOf returns the index of the direction a packet travels: 0 when it is
// sent by the endpoint that sent the connection's first packet.
func (c *conn) dirOf(flipped bool) int {
	if flipped == c.flip {
		return 0
	}
	return 1
}

// inOrder delivers data that starts at the next expected byte, then the
// queued segments it makes contiguous.
func (p *pipeline) inOrder(c *conn, i int, data []byte, ci gopacket.CaptureInfo, fin bool) {
	h := &c.t[i]
	if len(h.ooo) > 0 {
		p.checkQueued(h, h.next, data)
	}
	p.feedHalf(c, i, data, ci, fin, 0)
	p.drainQueue(c, i)
}

// feedHalf delivers data at h.next (after skip missing bytes) and moves on.
func (p *pipeline) feedHalf(c *conn, i int, data []byte, ci gopacket.CaptureInfo, fin bool, skip int) {
	h := &c.t[i]
	if len(data) > 0 {
		p.remember(h, h.next, data)
		h.next += uint32(len(data))
	}
	end := fin || h.finAhead && h.next == h.fin
	if end {
		h.closed = true
		h.next++ // the FIN's sequence number
	}
	if len(data) == 0 && !end && skip == 0 {
		return
	}
	p.deliver(c, i, data, ci, false, end, skip)
	if end {
		p.dropQueue(h)
		if c.t[1-i].closed {
			p.complete(c)
		}
	}
}

// drainQueue delivers the queued segments that the stream has reached.
func (p *pipeline) drainQueue(c *conn, i int) {
	h := &c.t[i]
	for len(h.ooo) > 0 && !h.closed {
		s := h.ooo[0]
		diff := int32(s.seq - h.next)
		if diff > 0 {
			return
		}
		h.ooo = h.ooo[1:]
		h.oooBytes -= len(s.data)
		p.oooTotal -= len(s.data)
		data := s.data
		if old := int(-int64(diff)); old < len(data) {
			data = data[old:]
		} else if !(old == len(data) && s.fin) {
			continue // already delivered by an earlier segment
		} else {
			data = nil
		}
		p.feedHalf(c, i, data, s.ci, s.fin, 0)
	}
	if len(h.ooo) == 0 {
		h.ooo = h.ooo[:0:0] // let the segments go
	}
}

// queue copies a segment that starts ahead of the stream.
func (p *pipeline) queue(c *conn, i int, seq uint32, data []byte, ci gopacket.CaptureInfo, fin bool) {
	h := &c.t[i]
	if len(data) == 0 {
		return // a bare FIN ahead: finAhead remembers it
	}
	if covered := p.checkQueued(h, seq, data); covered {
		return // every byte is queued already (first copy wins)
	}
	ci.AncillaryData = nil
	s := oooSeg{seq: seq, data: slices.Clone(data), ci: ci, fin: fin}
	at := len(h.ooo)
	for at > 0 && int32(h.ooo[at-1].seq-seq) > 0 {
		at--
	}
	h.ooo = slices.Insert(h.ooo, at, s)
	ts := ci.Timestamp.UnixNano()
	if h.oooBytes == 0 || ts < h.oooSince {
		h.oooSince = ts
	}
	h.oooBytes += len(data)
	p.oooTotal += len(data)
	p.waiting[c] = struct{}{}
	if h.oooBytes > p.maxBuf || p.oooTotal > p.maxBuf*totalBufConns {
		// Waiting longer would break the memory cap: give the missing
		// bytes up now.
		p.rep.inc(cReorderBufferFull)
		p.skip(c, i)
	}
}

// skip gives up the bytes missing before the first queued segment of
// direction i (or before a FIN that came ahead of them) and delivers what
// follows.
func (p *pipeline) skip(c *conn, i int) {
	h := &c.t[i]
	switch {
	case h.closed:
	case len(h.ooo) > 0:
		s := h.ooo[0]
		h.ooo = h.ooo[1:]
		h.oooBytes -= len(s.data)
		p.oooTotal -= len(s.data)
		gap := int(int32(s.seq - h.next))
		h.next = s.seq
		p.rep.inc(cGaps)
		p.feedHalf(c, i, s.data, s.ci, s.fin, gap)
		p.drainQueue(c, i)
	case h.finAhead:
		gap := int(int32(h.fin - h.next))
		h.next = h.fin
		p.rep.inc(cGaps)
		p.feedHalf(c, i, nil, gopacket.CaptureInfo{Timestamp: time.Unix(0, p.now)}, true, max(gap, 0))
	}
	h.oooSince = p.now
	for _, s := range h.ooo {
		h.oooSince = min(h.oooSince, s.ci.Timestamp.UnixNano())
	}
}

// dropQueue forgets what is queued for a closed direction.
func (p *pipeline) dropQueue(h *tcpHalf) {
	for _, s := range h.ooo {
		p.oooTotal -= len(s.data)
	}
	h.ooo, h.oooBytes, h.finAhead = nil, 0, false
}

// remember notes a delivered segment for checkResent.
func (p *pipeline) remember(h *tcpHalf, seq uint32, data []byte) {
	h.recent[h.nrecent%recentSegs] = segSum{seq: seq, n: uint32(len(data)), sum: maphash.Bytes(p.seed, data)}
	h.nrecent++
}

// checkResent compares data sent again, at seq, with what was delivered:
// a remembered segment it covers whole must hash the same. Different bytes
// under the same sequence numbers are how an evasion makes an observer and
// the receiver see different requests (whichever copy the receiver keeps).
// A keep-alive probe (one byte just before the stream) is not data.
func (p *pipeline) checkResent(h *tcpHalf, seq uint32, data []byte) {
	if len(data) == 0 || len(data) == 1 && seq+1 == h.next {
		return
	}
	for k := range min(h.nrecent, recentSegs) {
		r := &h.recent[k]
		off := int32(r.seq - seq)
		if off < 0 || int(off)+int(r.n) > len(data) || r.n == 0 {
			continue
		}
		if maphash.Bytes(p.seed, data[off:int(off)+int(r.n)]) != r.sum {
			p.rep.inc(cOverlapConflicts)
			return
		}
	}
}

// checkQueued compares data at seq with the queued segments it overlaps,
// counting a conflict when the bytes differ, and says whether queued
// segments cover all of it.
func (p *pipeline) checkQueued(h *tcpHalf, seq uint32, data []byte) (covered bool) {
	end := seq + uint32(len(data))
	conflict := false
	cover := seq // data before cover is known to be queued
	for _, s := range h.ooo {
		sEnd := s.seq + uint32(len(s.data))
		lo, hi := s.seq, sEnd
		if int32(lo-seq) < 0 {
			lo = seq
		}
		if int32(hi-end) > 0 {
			hi = end
		}
		if int32(hi-lo) <= 0 {
			continue
		}
		if !conflict && !bytes.Equal(data[lo-seq:hi-seq], s.data[lo-s.seq:hi-s.seq]) {
			conflict = true
			p.rep.inc(cOverlapConflicts)
		}
		if int32(lo-cover) <= 0 && int32(hi-cover) > 0 {
			cover = hi
		}
	}
	return cover == end
}

// flushGaps skips the gaps of directions whose queued data has waited
// since before cut (packet time).
func (p *pipeline) flushGaps(cut int64) {
	for c := range p.waiting {
		for i := range c.t {
			h := &c.t[i]
			for !h.closed && (len(h.ooo) > 0 || h.finAhead) && h.oooSince < cut {
				p.skip(c, i)
			}
		}
		if len(c.t[0].ooo) == 0 && len(c.t[1].ooo) == 0 && !c.t[0].finAhead && !c.t[1].finAhead {
			delete(p.waiting, c)
		}
	}
}

// closeConn ends c now (RST, eviction, idle, end of capture): queued data
// is delivered after its gaps, then the connection is complete.
func (p *pipeline) closeConn(c *conn) {
	for i := range c.t {
		h := &c.t[i]
		for !h.closed && (len(h.ooo) > 0 || h.finAhead) {
			p.skip(c, i)
		}
		h.closed = true
	}
	p.complete(c)
}

// complete tells c both directions ended and forgets it.
func (p *pipeline) complete(c *conn) {
	if c.done {
		return
	}
	c.done = true
	p.dropQueue(&c.t[0])
	p.dropQueue(&c.t[1])
	delete(p.waiting, c)
	if p.conns[c.fkey] == c {
		delete(p.conns, c.fkey)
	}
	c.ReassemblyComplete(nil)
}
