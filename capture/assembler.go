package capture

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// This file reassembles TCP. Most segments of a capture arrive in order,
// and those go straight from the packet to the connection's stream: no
// copy, no queue. Only a segment ahead of the stream is copied and queued
// until the bytes before it arrive, or until gapTimeout of packet time
// says they never will (the gap is then skipped and counted). It keeps
// what gopacket/reassembly did for us (receiver rules of RFC 9293 and
// RFC 5961, mid-connection starts, caps, flushing by packet time) at a
// fraction of its cost, and it can see what that package hides: data sent
// twice with different bytes, the overlap an IDS evasion relies on
// (overlap.go).
//
// Each connection's bytes go to its stream (the HTTP/1 state machine of
// conn.go, or DNS over TCP in dns.go) one segment at a time, in order.

// Reassembly timing (packet time) and bounds.
const (
	// gapTimeout is how long segments wait for a missing one before the
	// gap is skipped.
	gapTimeout = 5 * time.Second
	// idleTimeout closes connections that saw no packet for this long,
	// so their streams report what they hold.
	idleTimeout = 2 * time.Minute
	// totalBufConns is how many connections' worth of out-of-order data
	// (MaxStreamBuffer each) the assembler may buffer in all.
	totalBufConns = 64
	// maxAhead is how far ahead of the stream a segment may start and still
	// be queued; beyond it the segment belongs to no plausible window.
	maxAhead = 1 << 30
	// maxFreeConns is how many completed connections' state an assembler
	// keeps for new ones, so a flood of short connections does not
	// allocate (and collect) one each.
	maxFreeConns = 1024
)

// segment is one delivery to a stream: the next bytes of one direction of
// its connection.
type segment struct {
	data  []byte // valid during the call only: a stream copies what it keeps
	at    int64  // packet time of the bytes, Unix nanoseconds
	dir   int    // 0: sent by the end that sent the connection's first packet; 1: the other
	start bool   // a SYN: the direction's first byte is the first of its stream
	end   bool   // FIN, RST or close: nothing more comes from this direction
	skip  int    // bytes before data that the capture never had, given up
}

// stream takes the bytes of one TCP connection from the assembler.
type stream interface {
	// segment takes the next piece of a direction.
	segment(s *segment)
	// complete says both directions ended (FIN, RST, idle, eviction or the
	// end of the capture): nothing more comes.
	complete()
}

// opener makes the stream of a new connection from its first segment,
// sent from src to dst.
type opener func(tcp *tcpHdr, src, dst netip.AddrPort) stream

// tcpHdr is what reassembly takes of a TCP segment (RFC 9293 §3.1): the
// decoder fills it from the packet, and the parallel pipeline hands it
// from the stage that decodes to the one that reassembles.
type tcpHdr struct {
	Seq, Ack           uint32
	SYN, ACK, FIN, RST bool
	Payload            []byte
}

// tcpConn is a connection the assembler tracks.
type tcpConn struct {
	s    stream
	t    [2]tcpHalf        // t[0] is what the first packet's sender sends
	ends [2]netip.AddrPort // ends[0] sent the first packet
	hash uint64            // the flow's (front.flowHash): its place in the table
	done bool              // complete was called
	// lastSeen is the latest packet time as of the connection's last
	// packet: the capture's clock, which never goes back, so the LRU
	// list is in lastSeen order even when timestamps do (idle closing
	// then depends on the connection alone, not on which others share
	// its assembler).
	lastSeen int64
	touched  uint64   // number of the packet that touched it last: its place in the LRU list
	prev     *tcpConn // LRU, least recently seen first
	next     *tcpConn
}

// tcpHalf is the reassembly state of one direction of a connection.
type tcpHalf struct {
	next     uint32 // sequence number of the next byte the stream is owed
	fin      uint32 // just past the FIN, when finAhead
	known    bool   // next is set: a SYN or the first data anchored the stream
	finAhead bool   // a FIN arrived before the bytes that precede it
	closed   bool   // FIN or RST delivered: nothing more from this direction
	ooo      []oooSeg
	oooBytes int
	oooSince int64      // packet time of the oldest queued segment
	recent   recentSegs // overlap.go
}

// oooSeg is a segment that arrived ahead of the stream, copied.
type oooSeg struct {
	seq  uint32
	data []byte
	at   int64
	fin  bool
}

// assembler reassembles the TCP connections of one pipeline (of one shard
// of it, parallel.go) and tracks them, least recently seen first, within
// MaxStreams. It is not safe for concurrent use.
type assembler struct {
	open     opener
	rep      *reporter
	conns    connTable // conntable.go
	lru      connList
	waiting  map[*tcpConn]struct{} // connections with out-of-order data queued
	oooTotal int                   // bytes queued out of order, all connections
	maxConns int
	maxBuf   int          // bytes queued per direction
	maxTotal int          // bytes queued in all
	overlap  overlapCheck // overlap.go
	seg      segment      // the delivery being made
	now      int64        // packet time of the call being handled
	pkt      uint64       // number of the packet being handled
	evicting bool         // closing connections beyond maxConns
	// key, when set, is told which connection a flush is working on
	// (parallel.go orders what the shards' flushes report by it).
	key     *opKey
	flushed []*tcpConn // scratch: connections whose gaps a flush skips
	free    []*tcpConn // completed connections, for newConn
}

// newAssembler returns an assembler for one of shards shards of a
// pipeline: the caps on connections and on out-of-order bytes are split
// between them.
func newAssembler(open opener, rep *reporter, maxConns, maxBuf, shards int) *assembler {
	return &assembler{
		open:     open,
		rep:      rep,
		waiting:  make(map[*tcpConn]struct{}),
		maxConns: max(1, (maxConns+shards-1)/shards),
		maxBuf:   maxBuf,
		maxTotal: max(maxBuf, maxBuf*totalBufConns/shards),
		overlap:  newOverlapCheck(rep),
	}
}

// assemble takes one TCP segment, sent from src to dst at packet time at,
// into its connection; hash is the flow's (front.flowHash), now the latest
// packet time and pkt the number of the packet. Connections beyond
// maxConns are then evicted.
func (a *assembler) assemble(tcp *tcpHdr, src, dst netip.AddrPort, hash uint64, at, now int64, pkt uint64) {
	a.now, a.pkt = now, pkt
	a.take(tcp, src, dst, hash, at)
	if a.conns.n > a.maxConns {
		// Not in the middle of the segment that opened a connection: now.
		a.evict()
	}
}

// take is assemble for one segment.
func (a *assembler) take(tcp *tcpHdr, src, dst netip.AddrPort, hash uint64, at int64) {
	c, i := a.conns.find(hash, src, dst)
	if c != nil && tcp.SYN && !tcp.ACK {
		// A new SYN on a connection whose opener's stream is anchored
		// elsewhere: the 4-tuple was reused after a close we did not see.
		h := &c.t[i]
		if h.known && tcp.Seq+1 != h.next {
			a.closeConn(c)
			c = nil
		}
	}
	if c == nil {
		if !tcp.SYN && len(tcp.Payload) == 0 {
			return // an ACK, FIN or RST after the connection closed starts nothing
		}
		c, i = a.newConn(tcp, src, dst, hash), 0
	}
	a.touch(c)
	if tcp.ACK {
		a.ackedUnseen(c, 1-i, tcp.Ack)
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
		a.deliver(c, i, nil, at, true, false, 0)
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
				a.inOrder(c, i, data, at, false)
			}
			a.closeConn(c)
		}
		return
	case diff > 0:
		if diff > maxAhead {
			return
		}
		if tcp.FIN {
			h.finAhead, h.fin = true, seq+uint32(len(data))
		}
		a.queue(c, i, seq, data, at, tcp.FIN)
		return
	case diff < 0:
		old := int(-int64(diff)) // int64 first: -MinInt32 overflows int32
		if old > len(data) || (old == len(data) && !tcp.FIN) {
			// Entirely before the stream: a retransmission (or a FIN
			// before it, which the receiver drops).
			a.overlap.checkResent(h, seq, data)
			return
		}
		a.overlap.checkResent(h, seq, data[:old])
		data = data[old:]
	}
	a.inOrder(c, i, data, at, tcp.FIN)
}

// newConn starts tracking a connection at its first segment.
func (a *assembler) newConn(tcp *tcpHdr, src, dst netip.AddrPort, hash uint64) *tcpConn {
	var c *tcpConn
	if n := len(a.free); n > 0 {
		// A completed connection's state: nobody refers to it any more
		// (complete took it out of the table, the LRU list and the
		// waiting set; flushes look at done only within one call).
		c, a.free = a.free[n-1], a.free[:n-1]
		*c = tcpConn{}
	} else {
		c = new(tcpConn)
	}
	c.ends, c.hash = [2]netip.AddrPort{src, dst}, hash
	c.s = a.open(tcp, src, dst)
	a.lru.push(c)
	a.conns.add(c)
	return c
}

// touch marks c as seen by the packet being handled.
func (a *assembler) touch(c *tcpConn) {
	c.lastSeen, c.touched = a.now, a.pkt
	a.lru.moveToBack(c)
}

// deliver hands direction i of c one piece of its stream.
func (a *assembler) deliver(c *tcpConn, i int, data []byte, at int64, start, end bool, skip int) {
	if skip > 0 {
		a.rep.add(cMissingBytes, uint64(skip))
	}
	s := &a.seg
	*s = segment{data: data, at: at, dir: i, start: start, end: end, skip: skip}
	c.s.segment(s)
	s.data = nil
}

// ackedUnseen skips the gap before direction i's queued data when the
// other end acknowledges bytes past it: the receiver had the missing
// bytes, so the capture lost them and no retransmission will come (what
// Wireshark calls an ACK of unseen data). Waiting out gapTimeout instead
// would let the answers to later requests be read before the requests.
func (a *assembler) ackedUnseen(c *tcpConn, i int, ack uint32) {
	h := &c.t[i]
	for !h.closed {
		switch {
		case len(h.ooo) > 0 && int32(ack-h.ooo[0].seq) > 0:
		case len(h.ooo) == 0 && h.finAhead && int32(ack-h.fin) > 0:
		default:
			return
		}
		a.skip(c, i)
	}
}

// inOrder delivers data that starts at the next expected byte, then the
// queued segments it makes contiguous.
func (a *assembler) inOrder(c *tcpConn, i int, data []byte, at int64, fin bool) {
	h := &c.t[i]
	if len(h.ooo) > 0 {
		a.overlap.checkQueued(h, h.next, data)
	}
	a.feedHalf(c, i, data, at, fin, 0)
	a.drainQueue(c, i)
}

// feedHalf delivers data at h.next (after skip missing bytes) and moves on.
func (a *assembler) feedHalf(c *tcpConn, i int, data []byte, at int64, fin bool, skip int) {
	h := &c.t[i]
	if len(data) > 0 {
		a.overlap.remember(h, h.next, data)
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
	a.deliver(c, i, data, at, false, end, skip)
	if end {
		a.dropQueue(h)
		if c.t[1-i].closed {
			a.complete(c)
		}
	}
}

// drainQueue delivers the queued segments that the stream has reached.
func (a *assembler) drainQueue(c *tcpConn, i int) {
	h := &c.t[i]
	for len(h.ooo) > 0 && !h.closed {
		s := h.ooo[0]
		diff := int32(s.seq - h.next)
		if diff > 0 {
			return
		}
		h.ooo = h.ooo[1:]
		h.oooBytes -= len(s.data)
		a.oooTotal -= len(s.data)
		data := s.data
		if old := int(-int64(diff)); old < len(data) {
			data = data[old:]
		} else if !(old == len(data) && s.fin) {
			continue // already delivered by an earlier segment
		} else {
			data = nil
		}
		a.feedHalf(c, i, data, s.at, s.fin, 0)
	}
	if len(h.ooo) == 0 {
		h.ooo = h.ooo[:0:0] // let the segments go
	}
}

// queue copies a segment that starts ahead of the stream.
func (a *assembler) queue(c *tcpConn, i int, seq uint32, data []byte, at int64, fin bool) {
	h := &c.t[i]
	if len(data) == 0 {
		return // a bare FIN ahead: finAhead remembers it
	}
	if covered := a.overlap.checkQueued(h, seq, data); covered {
		return // every byte is queued already (first copy wins)
	}
	s := oooSeg{seq: seq, data: slices.Clone(data), at: at, fin: fin}
	n := len(h.ooo)
	for n > 0 && int32(h.ooo[n-1].seq-seq) > 0 {
		n--
	}
	h.ooo = slices.Insert(h.ooo, n, s)
	if h.oooBytes == 0 || at < h.oooSince {
		h.oooSince = at
	}
	h.oooBytes += len(data)
	a.oooTotal += len(data)
	a.waiting[c] = struct{}{}
	if h.oooBytes > a.maxBuf || a.oooTotal > a.maxTotal {
		// Waiting longer would break the memory cap: give the missing
		// bytes up now.
		a.rep.inc(cReorderBufferFull)
		a.skip(c, i)
	}
}

// skip gives up the bytes missing before the first queued segment of
// direction i (or before a FIN that came ahead of them) and delivers what
// follows.
func (a *assembler) skip(c *tcpConn, i int) {
	h := &c.t[i]
	switch {
	case h.closed:
	case len(h.ooo) > 0:
		s := h.ooo[0]
		h.ooo = h.ooo[1:]
		h.oooBytes -= len(s.data)
		a.oooTotal -= len(s.data)
		gap := int(int32(s.seq - h.next))
		h.next = s.seq
		a.rep.inc(cGaps)
		a.feedHalf(c, i, s.data, s.at, s.fin, gap)
		a.drainQueue(c, i)
	case h.finAhead:
		gap := int(int32(h.fin - h.next))
		h.next = h.fin
		a.rep.inc(cGaps)
		a.feedHalf(c, i, nil, a.now, true, max(gap, 0))
	}
	h.oooSince = a.now
	for _, s := range h.ooo {
		h.oooSince = min(h.oooSince, s.at)
	}
}

// dropQueue forgets what is queued for a closed direction.
func (a *assembler) dropQueue(h *tcpHalf) {
	for _, s := range h.ooo {
		a.oooTotal -= len(s.data)
	}
	h.ooo, h.oooBytes, h.finAhead = nil, 0, false
}

// flush skips the gaps that waited gapTimeout and closes the connections
// idle for idleTimeout, as of packet time ts; now is the latest packet
// time. Connections are visited least recently seen first: the gaps, then
// the idle ones, so what a flush reports comes in the same order however
// the connections are spread over shards.
func (a *assembler) flush(ts, now int64) {
	a.now = now
	if len(a.waiting) > 0 {
		a.flushGaps(ts - int64(gapTimeout))
	}
	for cut := ts - int64(idleTimeout); a.lru.head != nil && a.lru.head.lastSeen < cut; {
		a.mark(phaseIdle, a.lru.head)
		a.closeConn(a.lru.head)
	}
}

// flushGaps skips the gaps of directions whose queued data has waited
// since before cut (packet time).
func (a *assembler) flushGaps(cut int64) {
	a.flushed = a.flushed[:0]
	for c := range a.waiting {
		a.flushed = append(a.flushed, c)
	}
	slices.SortFunc(a.flushed, func(x, y *tcpConn) int { return cmp.Compare(x.touched, y.touched) })
	for _, c := range a.flushed {
		if c.done {
			continue
		}
		a.mark(phaseGaps, c)
		for i := range c.t {
			h := &c.t[i]
			for !h.closed && (len(h.ooo) > 0 || h.finAhead) && h.oooSince < cut {
				a.skip(c, i)
			}
		}
		if len(c.t[0].ooo) == 0 && len(c.t[1].ooo) == 0 && !c.t[0].finAhead && !c.t[1].finAhead {
			delete(a.waiting, c)
		}
	}
	clear(a.flushed)
}

// mark says that what is reported next comes from flushing c, in the
// given phase of the packet's handling.
func (a *assembler) mark(phase uint8, c *tcpConn) {
	if a.key != nil {
		a.key.phase, a.key.sub = phase, c.touched
	}
}

// evict closes the least recently seen connections when there are more
// than maxConns: a sixteenth of the cap at once, so a flood of new
// connections does not pay for an eviction each.
func (a *assembler) evict() {
	n := a.conns.n - a.maxConns + max(1, a.maxConns/16)
	a.evicting = true
	for ; n > 0 && a.lru.head != nil; n-- {
		a.closeConn(a.lru.head)
	}
	a.evicting = false
}

// closeAll closes every connection (the end of the capture); now is the
// latest packet time.
func (a *assembler) closeAll(now int64) {
	a.now = now
	for a.lru.head != nil {
		a.mark(phaseEnd, a.lru.head)
		a.closeConn(a.lru.head)
	}
}

// closeConn ends c now (RST, eviction, idle, end of capture): queued data
// is delivered after its gaps, then the connection is complete.
func (a *assembler) closeConn(c *tcpConn) {
	for i := range c.t {
		h := &c.t[i]
		for !h.closed && (len(h.ooo) > 0 || h.finAhead) {
			a.skip(c, i)
		}
		h.closed = true
	}
	a.complete(c)
}

// complete forgets c, whose directions both ended, and tells its stream.
func (a *assembler) complete(c *tcpConn) {
	if c.done {
		return
	}
	c.done = true
	a.dropQueue(&c.t[0])
	a.dropQueue(&c.t[1])
	delete(a.waiting, c)
	a.conns.remove(c)
	a.lru.remove(c)
	if a.evicting {
		a.rep.inc(cStreamsEvicted)
	}
	c.s.complete()
	if len(a.free) < maxFreeConns {
		a.free = append(a.free, c)
	}
}

// connList lists connections least recently seen first.
type connList struct {
	head, tail *tcpConn
}

func (l *connList) push(c *tcpConn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) remove(c *tcpConn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

func (l *connList) moveToBack(c *tcpConn) {
	if l.tail != c {
		l.remove(c)
		l.push(c)
	}
}
