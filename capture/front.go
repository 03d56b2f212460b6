package capture

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// This file is the first stage of a pipeline: it decodes each frame (its
// tunnels too), reassembles IP fragments, reads TLS ClientHellos, and says
// in a record what the packet is for the stages after it: a TCP segment
// to reassemble or a DNS datagram, for which shard, and whether a flush of
// gaps and idle connections is due after it. Fragments are put together
// here because only the first fragment has ports to say which shard a
// datagram goes to; ClientHellos are read here because their gathering's
// caps and clocks are the capture's, not a shard's, and because they are
// one segment a connection.

// recKind is what a record hands the shards.
type recKind uint8

const (
	recNone recKind = iota // nothing but time passing (and maybe a flush)
	recTCP                 // a TCP segment to reassemble
	recUDP                 // a DNS datagram: tcp.Payload is the message
	recEnd                 // the end of the capture: every connection closes
)

// rec is one packet as the front hands it on.
type rec struct {
	kind  recKind
	flush bool  // after it, skip the gaps and close the connections due as of ts
	shard int32 // recTCP, recUDP: the shard of its flow
	// hash is the flow's (flowHash), the same both ways: the shard is
	// taken from its high bits, and the assembler's connection table
	// (conntable.go) indexes by it, so a packet's endpoints are hashed once.
	hash uint64
	// pkt counts the packets read up to this one: Problems name it, and
	// it orders the connections (the one it touches goes last).
	pkt    uint64
	ts     int64 // the packet's time, Unix nanoseconds
	now    int64 // the latest packet time, this one included
	before int64 // the latest packet time before this packet
	src    netip.AddrPort
	dst    netip.AddrPort
	tcp    tcpHdr
}

// flushEvery is how often (packet time) gaps and idle connections are
// looked for. Files and live captures both run on the packets' timestamps,
// so a replay flushes and closes exactly as the live run would.
const flushEvery = time.Second

// portSet is a bitmap of TCP ports.
type portSet [1024]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// front is the first stage. It is not safe for concurrent use.
type front struct {
	dec       *decoder
	tls       *tlsSide
	rep       *reporter
	ports     *portSet // Options.Ports
	anyPort   bool
	now       int64 // latest packet time seen, Unix nanoseconds
	nextFlush int64 // packet time of the next look for gaps and idle connections
	shards    uint64
	seed      uint64 // of the flow hash
}

func newFront(opts *Options, ports *portSet, tls *tlsSide, rep *reporter, shards int, seed uint64) *front {
	f := &front{dec: newDecoder(), tls: tls, rep: rep, ports: ports, anyPort: opts.AnyPort, shards: uint64(shards), seed: seed}
	f.dec.frags = newDefragmenter(rep)
	return f
}

// packet handles one captured frame of the given link type and fills r.
// r.tcp.Payload is the decoder's: valid until the next call.
func (f *front) packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType, r *rec) {
	f.rep.packet()
	if ci.Timestamp.IsZero() {
		// pcapng Simple Packet Blocks carry no time: use the last one seen.
		ci.Timestamp = time.Unix(0, f.now)
	}
	ts := ci.Timestamp.UnixNano()
	*r = rec{pkt: f.rep.pkt, ts: ts, before: f.now}
	if ts > f.now {
		f.now = ts
	}
	r.now = f.now
	f.dec.now = f.now
	res := f.dec.decode(data, link)
	// Cut: a layer found fewer bytes than its header promised, or the
	// record is shorter than the frame was and no IP header says the
	// packet is whole anyway (editcap -C keeps the original length).
	cut := f.dec.truncated || ci.CaptureLength < ci.Length && !f.dec.ipWhole()
	if cut {
		f.rep.inc(cTruncatedPackets)
	}
	switch res {
	case decodedLinkType:
		if f.rep.value(cUnsupportedLink) == 0 {
			f.rep.problem("link type " + strconv.Itoa(int(link)) + " (" + link.String() + ") is not decoded; its packets are skipped")
		}
		f.rep.inc(cUnsupportedLink)
	case decodedError:
		if !cut {
			// A packet cut by the snap length is counted as truncated only.
			f.rep.inc(cUndecodablePackets)
		}
	case decodedFragment:
		// Held for reassembly; the defragmenter counts it.
	case decodedEncapMalformed:
		f.rep.inc(cEncapMalformed)
	case decodedEncapUnsupported:
		f.rep.inc(cEncapUnsupported)
	case decodedTooDeep:
		f.rep.inc(cEncapTooDeep)
	case decodedTCP:
		f.tcp(r, ts, cut)
	case decodedOther:
		f.udp(r, ts, cut)
	}
	f.flushDue(r)
}

// flushDue sets r.flush when a look for gaps and idle connections is due
// at its time.
func (f *front) flushDue(r *rec) {
	if r.ts >= f.nextFlush {
		r.flush = true
		f.nextFlush = r.ts + int64(flushEvery)
	}
}

// tcp hands the decoded segment, sent at packet time at, to the TLS side
// when it may hold a ClientHello, and to the shards when its connection is
// HTTP or DNS.
func (f *front) tcp(r *rec, at int64, cut bool) {
	tcp := &f.dec.tcp
	hello := f.tls.wants(tcp.Payload)
	assemble := f.anyPort || f.ports.has(uint16(tcp.SrcPort)) || f.ports.has(uint16(tcp.DstPort)) ||
		tcp.SrcPort == dnsPort || tcp.DstPort == dnsPort
	if tcp.SYN && !tcp.ACK && !assemble {
		// A client opening a connection that may carry TLS: the TLS side
		// watches for its first byte (see opening). Not on HTTP ports,
		// whose connections would keep it watching on every busy capture.
		src, dst := f.dec.addrs()
		f.tls.opened(src, dst, tcp.Seq, at)
	}
	if !hello && !assemble {
		return
	}
	src, dst := f.dec.addrs()
	if hello {
		f.tls.segment(src, dst, tcp.Seq, tcp.Payload, at, cut)
	}
	if assemble {
		if cut {
			// Stand NULs in for the bytes the capture cut off, so the
			// stream stays continuous: a cut inside a body costs nothing,
			// and the parser treats NUL in a head as the loss it is.
			f.rep.add(cMissingBytes, uint64(f.dec.padCut()))
		}
		r.kind, r.src, r.dst = recTCP, src, dst
		r.hash = f.flowHash(src, dst)
		r.shard = f.shard(r.hash)
		r.tcp = tcpHdr{Seq: tcp.Seq, Ack: tcp.Ack, SYN: tcp.SYN, ACK: tcp.ACK, FIN: tcp.FIN, RST: tcp.RST, Payload: tcp.Payload}
	}
}

// udp hands a UDP datagram from port 53 to the shards. A datagram the
// capture cut short is left alone (truncated_packets counts it).
func (f *front) udp(r *rec, at int64, cut bool) {
	src, dst, payload, ok := f.dec.udp()
	if ok && !cut && src.Port() == dnsPort {
		r.kind, r.src, r.dst = recUDP, src, dst
		r.hash = f.flowHash(src, dst)
		r.shard = f.shard(r.hash)
		r.tcp.Payload = payload
	}
}

// advance moves packet time forward to t without a packet (a live
// capture's idle tick), so held requests and idle connections are not
// stuck, and fills r.
func (f *front) advance(t time.Time, r *rec) {
	ts := t.UnixNano()
	*r = rec{pkt: f.rep.pkt, ts: ts, before: f.now}
	if ts > f.now {
		f.now = ts
	}
	r.now = f.now
	f.flushDue(r)
}

// end fills r with the end of the capture: fragments still waiting are
// given up, and every connection is to be closed.
func (f *front) end(r *rec) {
	f.rep.ending()
	f.dec.frags.finish()
	*r = rec{kind: recEnd, pkt: f.rep.pkt, ts: f.now, now: f.now, before: f.now}
}

// shard returns the shard of the flow of hash h (flowHash).
func (f *front) shard(h uint64) int32 {
	if f.shards <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(h, f.shards) // h scaled onto [0, shards)
	return int32(hi)
}

// flowHash returns the hash of the flow between a and b, the same both
// ways (the sum is commutative), and the same for an IPv4 address and
// its IPv4-mapped IPv6 form, as the assembler's table compares them.
func (f *front) flowHash(a, b netip.AddrPort) uint64 {
	return f.endHash(a) + f.endHash(b)
}

// endHash mixes one end of a flow with the pipeline's seed (splitmix64's
// finaliser). An IPv4 end is one mix of its address and port: a
// bijection of seed-masked input, so no two IPv4 ends collide whatever
// the seed, and a sender who does not know the seed cannot make flows
// collide in the assembler's table. An IPv6 end takes three.
func (f *front) endHash(e netip.AddrPort) uint64 {
	ip := e.Addr()
	if ip.Is4() || ip.Is4In6() {
		a := ip.As4()
		return mix64((uint64(binary.BigEndian.Uint32(a[:]))<<16 | uint64(e.Port())) ^ f.seed)
	}
	a := ip.As16()
	x := binary.LittleEndian.Uint64(a[:8]) ^ f.seed
	x = mix64(x) ^ binary.LittleEndian.Uint64(a[8:])
	x = mix64(x) ^ uint64(e.Port())
	return mix64(x)
}
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
