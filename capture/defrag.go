package capture

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// IP fragment reassembly, IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5),
// in packet time. A datagram's fragments are gathered in one buffer at
// their offsets; once its last fragment has come and no hole is left, the
// whole datagram is rebuilt (the first fragment's IPv4 header, or a fixed
// IPv6 header, with the length set and the fragment fields cleared) and
// decoded again from its IP header on. Everything is bounded, and each
// limit that bites is counted:
//
//   - a datagram is given up when it is not whole fragTimeout4 (30 s,
//     Linux's ipfrag_time) or fragTimeout6 (60 s, RFC 8200) after its
//     first fragment (frag_timeouts; also those still open at the end);
//   - at most maxFragDatagrams datagrams are pending, holding at most
//     maxFragBytes bytes (Linux's ipfrag_high_thresh), and a datagram has
//     at most maxFragsPerDatagram fragments: beyond a cap the oldest
//     datagram, or the one over its cap, is dropped (frag_evicted);
//   - a fragment that breaks the rules (a non-last one whose length is not
//     a multiple of 8, data past 65,535 bytes or past the end a last
//     fragment set, two different ends) is dropped with its datagram
//     (frag_malformed).
//
// Overlapping fragments keep the bytes that came first, as Zeek does (and
// as the TCP assembler does); where a later fragment's bytes differ from
// them it is counted (frag_overlap_conflicts): a sender means one thing,
// an evasion means two. A fragment that repeats bytes already held (a
// duplicate) is not.

// Limits of reassembly.
const (
	fragTimeout4        = 30e9 // nanoseconds of packet time
	fragTimeout6        = 60e9
	maxFragDatagrams    = 1024
	maxFragBytes        = 4 << 20
	maxFragsPerDatagram = 128
	maxFragFree         = 16    // datagram buffers kept for reuse
	maxIPDatagram       = 65535 // IPv4 total length; IPv6 payload length
)

// fragKey identifies the datagram a fragment belongs to: source,
// destination, identification, and for IPv4 the protocol.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

// fragSpan is a range of payload bytes held, [from, to).
type fragSpan struct{ from, to int }

// fragDatagram is a datagram being reassembled.
type fragDatagram struct {
	key    fragKey
	first  int64         // packet time of its first fragment
	hdr    [60]byte      // IPv4: the header of the fragment at offset 0
	hdrLen int           // 0 until that fragment has come (IPv4)
	next   uint8         // IPv6: the next header of the fragment at offset 0
	data   []byte        // payload bytes at their offsets
	spans  []fragSpan    // bytes held: sorted, disjoint, not touching
	end    int           // the payload's length, set by the last fragment; -1 before
	frags  int           // fragments taken
	prev   *fragDatagram // in the age list of its family
	nextDg *fragDatagram
}

// fragList is a list of datagrams in the order their first fragment came.
type fragList struct{ head, tail *fragDatagram }

func (l *fragList) push(g *fragDatagram) {
	g.prev, g.nextDg = l.tail, nil
	if l.tail != nil {
		l.tail.nextDg = g
	} else {
		l.head = g
	}
	l.tail = g
}

func (l *fragList) remove(g *fragDatagram) {
	if g.prev != nil {
		g.prev.nextDg = g.nextDg
	} else {
		l.head = g.nextDg
	}
	if g.nextDg != nil {
		g.nextDg.prev = g.prev
	} else {
		l.tail = g.prev
	}
	g.prev, g.nextDg = nil, nil
}

// defragmenter reassembles the fragments of one pipeline.
type defragmenter struct {
	rep     *reporter
	pending map[fragKey]*fragDatagram
	age     [2]fragList // IPv4, IPv6
	bytes   int         // held by pending datagrams
	free    []*fragDatagram
	out     []byte // the last datagram rebuilt
}

func newDefragmenter(rep *reporter) *defragmenter {
	return &defragmenter{rep: rep, pending: make(map[fragKey]*fragDatagram, 64)}
}

// fragment is one fragment as the decoder found it.
type fragment struct {
	key     fragKey
	off     int    // offset of its payload in the datagram's, in bytes
	more    bool   // More Fragments: not the last one
	payload []byte // its fragmentable part
	hdr     []byte // IPv4: its header (kept from the fragment at offset 0)
	next    uint8  // IPv6: the next header after the fragment header
}

// add takes a fragment seen at packet time now (cut: the capture cut it
// short, so its bytes are not taken). When it completes its datagram the
// whole datagram is returned, from its IP header on, valid until the next
// call.
func (f *defragmenter) add(fr *fragment, now int64, cut bool) ([]byte, bool) {
	f.rep.inc(cIPFragments)
	f.expire(now)
	if cut {
		return nil, false
	}
	end := fr.off + len(fr.payload)
	limit := maxIPDatagram
	if !fr.key.v6 {
		limit -= 20 // the smallest IPv4 header counts in the total length
	}
	if fr.more && len(fr.payload)%8 != 0 || end > limit || fr.more && len(fr.payload) == 0 {
		f.rep.inc(cFragMalformed)
		if g := f.pending[fr.key]; g != nil {
			f.drop(g)
		}
		return nil, false
	}
	g := f.pending[fr.key]
	if g == nil {
		g = f.open(fr.key, now)
	}
	g.frags++
	if g.frags > maxFragsPerDatagram {
		f.rep.inc(cFragEvicted)
		f.drop(g)
		return nil, false
	}
	if !fr.more {
		if g.end >= 0 && g.end != end || g.held() > end {
			f.rep.inc(cFragMalformed) // two ends, or bytes past the end
			f.drop(g)
			return nil, false
		}
		g.end = end
	} else if g.end >= 0 && end > g.end {
		f.rep.inc(cFragMalformed)
		f.drop(g)
		return nil, false
	}
	if fr.off == 0 {
		if fr.key.v6 {
			g.next = fr.next
		} else if g.hdrLen == 0 {
			g.hdrLen = copy(g.hdr[:], fr.hdr)
		}
	}
	if end > len(g.data) {
		grow := end - len(g.data)
		for f.bytes+grow > maxFragBytes && f.oldest() != nil && f.oldest() != g {
			f.rep.inc(cFragEvicted)
			f.drop(f.oldest())
		}
		if f.bytes+grow > maxFragBytes {
			f.rep.inc(cFragEvicted)
			f.drop(g)
			return nil, false
		}
		f.bytes += grow
		n := len(g.data)
		g.data = slices.Grow(g.data, grow)[:end]
		clear(g.data[n:])
	}
	if g.put(fr.off, fr.payload) {
		f.rep.inc(cFragOverlapConflicts)
	}
	if g.end < 0 || len(g.spans) != 1 || g.spans[0].from != 0 || g.spans[0].to != g.end ||
		!g.key.v6 && g.hdrLen == 0 {
		return nil, false
	}
	if !g.key.v6 && g.hdrLen+g.end > maxIPDatagram {
		f.rep.inc(cFragMalformed) // options make the header longer than the 20 bytes allowed for
		f.drop(g)
		return nil, false
	}
	out := f.rebuild(g)
	f.rep.inc(cIPReassembled)
	f.drop(g)
	return out, true
}

// open starts a datagram, making room for it.
func (f *defragmenter) open(k fragKey, now int64) *fragDatagram {
	if len(f.pending) >= maxFragDatagrams {
		f.rep.inc(cFragEvicted)
		f.drop(f.oldest())
	}
	var g *fragDatagram
	if n := len(f.free); n > 0 {
		g, f.free = f.free[n-1], f.free[:n-1]
	} else {
		g = new(fragDatagram)
	}
	g.key, g.first, g.hdrLen, g.next, g.end, g.frags = k, now, 0, 0, -1, 0
	g.data, g.spans = g.data[:0], g.spans[:0]
	f.pending[k] = g
	f.age[family(k.v6)].push(g)
	return g
}

func family(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

// oldest is the pending datagram whose first fragment came first.
func (f *defragmenter) oldest() *fragDatagram {
	a, b := f.age[0].head, f.age[1].head
	switch {
	case a == nil:
		return b
	case b == nil || a.first <= b.first:
		return a
	}
	return b
}

// drop forgets a pending datagram, keeping its buffers for reuse.
func (f *defragmenter) drop(g *fragDatagram) {
	delete(f.pending, g.key)
	f.age[family(g.key.v6)].remove(g)
	f.bytes -= len(g.data)
	if len(f.free) < maxFragFree && cap(g.data) <= maxIPDatagram {
		f.free = append(f.free, g)
	}
}

// expire gives up the datagrams not whole in time, as of packet time now.
func (f *defragmenter) expire(now int64) {
	for i, timeout := range [2]int64{fragTimeout4, fragTimeout6} {
		for g := f.age[i].head; g != nil && now-g.first > timeout; g = f.age[i].head {
			f.rep.inc(cFragTimeouts)
			f.drop(g)
		}
	}
}

// finish counts the datagrams still incomplete at the end of the capture.
func (f *defragmenter) finish() {
	for _, g := range f.pending {
		f.rep.inc(cFragTimeouts)
		f.drop(g)
	}
}

// held is the end of the bytes held so far.
func (g *fragDatagram) held() int {
	if len(g.spans) == 0 {
		return 0
	}
	return g.spans[len(g.spans)-1].to
}

// put copies p to offset off where no bytes are held yet, compares it
// with those that are, and merges its range into the spans. It says
// whether any held byte differed.
func (g *fragDatagram) put(off int, p []byte) (conflict bool) {
	from, to := off, off+len(p)
	at := from
	for _, s := range g.spans {
		if s.to <= at || s.from >= to {
			continue
		}
		if s.from > at {
			copy(g.data[at:s.from], p[at-off:s.from-off])
		}
		lo, hi := max(s.from, from), min(s.to, to)
		if !bytes.Equal(g.data[lo:hi], p[lo-off:hi-off]) {
			conflict = true
		}
		at = hi
	}
	if at < to {
		copy(g.data[at:to], p[at-off:])
	}
	g.merge(from, to)
	return conflict
}

// merge adds [from, to) to the spans, joining those it touches.
func (g *fragDatagram) merge(from, to int) {
	i := 0
	for i < len(g.spans) && g.spans[i].to < from {
		i++
	}
	j := i
	for j < len(g.spans) && g.spans[j].from <= to {
		from, to = min(from, g.spans[j].from), max(to, g.spans[j].to)
		j++
	}
	if i == j {
		g.spans = append(g.spans, fragSpan{})
		copy(g.spans[i+1:], g.spans[i:])
		g.spans[i] = fragSpan{from, to}
		return
	}
	g.spans[i] = fragSpan{from, to}
	g.spans = append(g.spans[:i+1], g.spans[j:]...)
}

// rebuild writes the whole datagram to f.out: for IPv4 the first
// fragment's header with the total length set and the fragment fields and
// checksum cleared; for IPv6 a fixed header (the extension headers before
// the fragment header are not kept) whose next header is the fragment's.
func (f *defragmenter) rebuild(g *fragDatagram) []byte {
	k := &g.key
	if k.v6 {
		var fixed [40]byte
		f.out = append(f.out[:0], fixed[:]...)
		h := f.out
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(g.end))
		h[6], h[7] = g.next, 64
		copy(h[8:24], k.src[:])
		copy(h[24:40], k.dst[:])
	} else {
		f.out = append(f.out[:0], g.hdr[:g.hdrLen]...)
		h := f.out
		binary.BigEndian.PutUint16(h[2:], uint16(g.hdrLen+g.end))
		binary.BigEndian.PutUint16(h[6:], binary.BigEndian.Uint16(h[6:])&0x4000) // keep DF only
		h[10], h[11] = 0, 0
	}
	f.out = append(f.out, g.data[:g.end]...)
	return f.out
}
