package capture

import (
	"bytes"
	"hash/maphash"
)

// This file notices TCP data sent twice under the same sequence numbers
// with different bytes: how an evasion makes an observer and the receiver
// see different requests (whichever copy the receiver keeps). The
// assembler parses the first copy it saw and counts the conflict.

// nRecent is how many delivered segments per direction are remembered
// (sequence range and a hash of the bytes) to notice a retransmission that
// carries different data.
const nRecent = 4

// recentSegs are the segments a direction delivered last, without their
// bytes.
type recentSegs struct {
	sums [nRecent]segSum
	n    int // segments remembered so far; the last nRecent are kept
}

// segSum remembers a delivered segment without its bytes.
type segSum struct {
	seq uint32
	n   uint32
	sum uint64
}

// overlapCheck compares data sent again with what was delivered or queued.
type overlapCheck struct {
	seed maphash.Seed // for the hashes of delivered segments
	rep  *reporter
}

func newOverlapCheck(rep *reporter) overlapCheck {
	return overlapCheck{seed: maphash.MakeSeed(), rep: rep}
}

// remember notes a segment of h delivered at seq, for checkResent.
func (o *overlapCheck) remember(h *tcpHalf, seq uint32, data []byte) {
	r := &h.recent
	r.sums[r.n%nRecent] = segSum{seq: seq, n: uint32(len(data)), sum: maphash.Bytes(o.seed, data)}
	r.n++
}

// checkResent compares data sent again, at seq, with what h delivered: a
// remembered segment it covers whole must hash the same. A keep-alive
// probe (one byte just before the stream) is not data.
func (o *overlapCheck) checkResent(h *tcpHalf, seq uint32, data []byte) {
	if len(data) == 0 || len(data) == 1 && seq+1 == h.next {
		return
	}
	r := &h.recent
	for k := range min(r.n, nRecent) {
		s := &r.sums[k]
		off := int32(s.seq - seq)
		if off < 0 || int(off)+int(s.n) > len(data) || s.n == 0 {
			continue
		}
		if maphash.Bytes(o.seed, data[off:int(off)+int(s.n)]) != s.sum {
			o.rep.inc(cOverlapConflicts)
			return
		}
	}
}

// checkQueued compares data at seq with the segments h queued that it
// overlaps, counting a conflict when the bytes differ, and says whether
// queued segments cover all of it.
func (o *overlapCheck) checkQueued(h *tcpHalf, seq uint32, data []byte) (covered bool) {
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
			o.rep.inc(cOverlapConflicts)
		}
		if int32(lo-cover) <= 0 && int32(hi-cover) > 0 {
			cover = hi
		}
	}
	return cover == end
}
