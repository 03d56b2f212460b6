package capture

// IP fragment reassembly on synthetic fragments (cut here from serialised
// packets: overlaps, conflicts, floods and broken offsets are what no
// sender here makes on demand; frag_*.pcap in testdata/capture hold the
// real fragments of a router, a DNS server and a tunnel endpoint).

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// fragPiece is a fragment to make: payload bytes [from, to) of the
// packet, with data replacing them when set.
type fragPiece struct {
	from, to int
	data     []byte
}

// frag4At cuts an IPv4 packet into the given pieces.
func frag4At(ip []byte, id uint16, pieces ...fragPiece) [][]byte {
	ihl := int(ip[0]&0x0f) * 4
	payload := ip[ihl:]
	var out [][]byte
	for _, pc := range pieces {
		b := payload[pc.from:pc.to]
		if pc.data != nil {
			b = pc.data
		}
		f := cat(ip[:ihl], b)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		binary.BigEndian.PutUint16(f[4:], id)
		fl := uint16(pc.from / 8)
		if pc.to < len(payload) {
			fl |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], fl)
		out = append(out, f)
	}
	return out
}

// frag6At cuts an IPv6 packet (no extension headers) into the given
// pieces, each with a fragment header (RFC 8200 §4.5).
func frag6At(ip []byte, id uint32, pieces ...fragPiece) [][]byte {
	payload := ip[40:]
	var out [][]byte
	for _, pc := range pieces {
		b := payload[pc.from:pc.to]
		if pc.data != nil {
			b = pc.data
		}
		fh := make([]byte, 8)
		fh[0] = ip[6] // the next header after the fragment header
		off := uint16(pc.from/8) << 3
		if pc.to < len(payload) {
			off |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], off)
		binary.BigEndian.PutUint32(fh[4:], id)
		f := cat(ip[:40], fh, b)
		f[6] = 44
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}

// fragConvo is a conversation whose request segment (the fourth packet)
// is sent as the fragments cut makes of it, the other packets whole, as
// raw IP frames with their packet's time.
func fragConvo(t *testing.T, v6 bool, cut func(ip []byte) [][]byte) ([][]byte, []int) {
	cli, srv := "10.1.2.3:40000", "10.1.2.4:8080"
	if v6 {
		cli, srv = "[2001:db8::3]:40000", "[2001:db8::4]:8080"
	}
	c := simpleConvo(cli, srv)
	var frames [][]byte
	var at []int
	for i, p := range c.pkts {
		ip := frame(t, p, linkSpec{link: layers.LinkTypeRaw})
		if i != 3 {
			frames, at = append(frames, ip), append(at, i)
			continue
		}
		for _, f := range cut(ip) {
			frames, at = append(frames, f), append(at, i)
		}
	}
	return frames, at
}

func readFrags(t *testing.T, v6 bool, cut func(ip []byte) [][]byte) result {
	t.Helper()
	frames, at := fragConvo(t, v6, cut)
	return readBytes(t, pcapOf(layers.LinkTypeRaw, frames, at...), Options{})
}

func TestDefrag(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		cli, srv := "10.1.2.3:40000", "10.1.2.4:8080"
		hdr := 20
		cutAt := func(ip []byte, id uint32, pieces ...fragPiece) [][]byte {
			if v6 {
				return frag6At(ip, id, pieces...)
			}
			return frag4At(ip, uint16(id), pieces...)
		}
		if v6 {
			cli, srv, hdr = "[2001:db8::3]:40000", "[2001:db8::4]:8080", 40
		}
		fam := map[bool]string{false: "v4/", true: "v6/"}[v6]
		t.Run(fam+"out_of_order_and_duplicates", func(t *testing.T) {
			r := readFrags(t, v6, func(ip []byte) [][]byte {
				n := len(ip) - hdr
				fs := cutAt(ip, 7, fragPiece{from: 48, to: n}, fragPiece{from: 0, to: 24}, fragPiece{from: 16, to: 48}, fragPiece{from: 0, to: 24})
				return fs
			})
			checkOne(t, r, cli, srv)
			if r.counters["ip_reassembled"] != 1 || r.counters["ip_fragments"] != 4 || r.counters["frag_overlap_conflicts"] != 0 {
				t.Fatalf("counters %v", r.counters)
			}
		})
		t.Run(fam+"overlap_conflict_keeps_first", func(t *testing.T) {
			r := readFrags(t, v6, func(ip []byte) [][]byte {
				n := len(ip) - hdr
				evil := append([]byte(nil), ip[hdr+16:hdr+48]...)
				copy(evil[16:], "XXXXXXXX") // differs inside the TCP payload
				return cutAt(ip, 8, fragPiece{from: 0, to: 48}, fragPiece{from: 16, to: 48, data: evil}, fragPiece{from: 48, to: n})
			})
			checkOne(t, r, cli, srv)
			if r.counters["frag_overlap_conflicts"] != 1 || r.counters["ip_reassembled"] != 1 {
				t.Fatalf("counters %v", r.counters)
			}
		})
		t.Run(fam+"missing_fragment_times_out", func(t *testing.T) {
			r := readFrags(t, v6, func(ip []byte) [][]byte {
				n := len(ip) - hdr
				return cutAt(ip, 9, fragPiece{from: 0, to: 24}, fragPiece{from: 48, to: n})
			})
			if r.err != nil || len(r.reqs) != 0 || r.counters["frag_timeouts"] != 1 || r.counters["ip_reassembled"] != 0 {
				t.Fatalf("err %v, %d requests, counters %v", r.err, len(r.reqs), r.counters)
			}
		})
		t.Run(fam+"not_multiple_of_8", func(t *testing.T) {
			r := readFrags(t, v6, func(ip []byte) [][]byte {
				n := len(ip) - hdr
				return cutAt(ip, 10, fragPiece{from: 0, to: 20}, fragPiece{from: 20, to: n})
			})
			if r.counters["frag_malformed"] == 0 || len(r.reqs) != 0 {
				t.Fatalf("%d requests, counters %v", len(r.reqs), r.counters)
			}
		})
		t.Run(fam+"two_ends", func(t *testing.T) {
			r := readFrags(t, v6, func(ip []byte) [][]byte {
				n := len(ip) - hdr
				return cutAt(ip, 11, fragPiece{from: 0, to: 24}, fragPiece{from: 24, to: n}, fragPiece{from: 24, to: n - 8})
			})
			if r.counters["frag_malformed"] != 1 {
				t.Fatalf("%d requests, counters %v", len(r.reqs), r.counters)
			}
		})
	}
}

// A datagram past 65,535 bytes (the ping of death) is malformed.
func TestDefragTooLong(t *testing.T) {
	ip := frame(t, simpleConvo("10.1.2.3:40000", "10.1.2.4:8080").pkts[3], linkSpec{link: layers.LinkTypeRaw})
	f := frag4At(ip, 1, fragPiece{from: 0, to: 24})
	last := frag4At(ip, 1, fragPiece{from: 0, to: 16})[0]
	binary.BigEndian.PutUint16(last[6:], 65528/8) // offset 65528 + 16 bytes: past the limit
	r := readBytes(t, pcapOf(layers.LinkTypeRaw, append(f, last)), Options{})
	if r.counters["frag_malformed"] != 1 || r.counters["ip_reassembled"] != 0 {
		t.Fatalf("counters %v", r.counters)
	}
}

// A flood of first fragments that never complete is bounded: the oldest
// datagrams are evicted and counted, the rest time out at the end; the
// same for one datagram cut into more fragments than allowed.
func TestDefragBounds(t *testing.T) {
	ip := frame(t, simpleConvo("10.1.2.3:40000", "10.1.2.4:8080").pkts[3], linkSpec{link: layers.LinkTypeRaw})
	var frames [][]byte
	const n = maxFragDatagrams + 100
	for i := range n {
		frames = append(frames, frag4At(ip, uint16(i), fragPiece{from: 0, to: 24})...)
	}
	r := readBytes(t, pcapOf(layers.LinkTypeRaw, frames, make([]int, n)...), Options{})
	if r.counters["frag_evicted"] != 100 || r.counters["frag_timeouts"] != maxFragDatagrams {
		t.Fatalf("counters %v", r.counters)
	}
	// Tiny fragments: 8 bytes each, one more than a datagram may have.
	frames = frames[:0]
	big := make([]byte, 20+8*(maxFragsPerDatagram+2))
	copy(big, ip[:20])
	binary.BigEndian.PutUint16(big[2:], uint16(len(big)))
	for i := range maxFragsPerDatagram + 1 {
		frames = append(frames, frag4At(big, 3, fragPiece{from: 8 * i, to: 8*i + 8})...)
	}
	r = readBytes(t, pcapOf(layers.LinkTypeRaw, frames), Options{})
	if r.counters["frag_evicted"] != 1 || r.counters["frag_timeouts"] != 0 {
		t.Fatalf("counters %v", r.counters)
	}
	// Fragments far apart in packet time do not meet.
	frames = frag4At(ip, 4, fragPiece{from: 0, to: 24}, fragPiece{from: 24, to: len(ip) - 20})
	r = readBytes(t, pcapOf(layers.LinkTypeRaw, frames, 0, 31000), Options{})
	if r.counters["frag_timeouts"] != 2 || r.counters["ip_reassembled"] != 0 {
		t.Fatalf("counters %v", r.counters)
	}
}
