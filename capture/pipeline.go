package capture

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
)

// Timing in packet time. Files and live captures both run on the packets'
// timestamps, so a replay flushes and closes exactly as the live run would.
const (
	// flushEvery is how often (packet time) gaps and idle connections are
	// looked for.
	flushEvery = time.Second
	// maxFIFO caps the requests of one connection awaiting responses
	// (pipelining depth).
	maxFIFO = 64
	// maxOrphans caps responses that arrived before their request was
	// reassembled.
	maxOrphans = 16
)

// portSet is a bitmap of TCP ports.
type portSet [1024]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// pipeline turns packets into requests: decode, reassemble, parse, order.
// One goroutine drives it (none of its parts, nor the keys.Extractor, is
// shared):
//
//	for each frame:   p.packet(data, ci, linkType); p.drain(false)
//	when idle (live): p.advance(now); p.drain(false)
//	at the end:       p.finish(); p.drain(true)
//
// ReadFile drives it from a file; a live source (AF_PACKET, libpcap) is
// the same loop over its own packet reader plus an idle tick, with its own
// source name and no Pacer.
type pipeline struct {
	source    string
	keys      *keys.Extractor
	anyPort   bool
	ports     *portSet
	maxBuf    int
	headCap   int
	dec       *decoder
	asm       *assembler
	e         *source.Emitter // where requests, DNS answers and ClientHellos go
	rep       *reporter       // counters and problems
	in        *interner       // kept strings
	ord       orderer         // requests held for ordering
	now       int64           // latest packet time seen, Unix nanoseconds
	nextFlush int64
	rh        reqHead
	rsp       respHead
	fold      []byte
	redactOut []byte // a target with its key values redacted
	pad       []byte
	dns       dnsState   // dns.go: DNS answers (UDP and TCP port 53)
	hello     helloState // sni.go: TLS ClientHellos (any port)
}

func newPipeline(opts *Options, name string, e *source.Emitter) *pipeline {
	p := &pipeline{
		source:  name,
		e:       e,
		rep:     newReporter(e),
		in:      newInterner(),
		keys:    opts.Keys,
		anyPort: opts.AnyPort,
		ports:   new(portSet),
		maxBuf:  opts.MaxStreamBuffer,
		headCap: min(maxHeadBytes, opts.MaxStreamBuffer),
		dec:     newDecoder(),
	}
	p.asm = newAssembler(p.open, p.rep, opts.MaxStreams, opts.MaxStreamBuffer)
	for _, port := range opts.Ports {
		p.ports.add(port)
	}
	return p
}

// packet handles one captured frame of the given link type.
func (p *pipeline) packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) {
	p.rep.pkt++
	if ci.Timestamp.IsZero() {
		// pcapng Simple Packet Blocks carry no time: use the last one seen.
		ci.Timestamp = time.Unix(0, p.now)
	}
	ts := ci.Timestamp.UnixNano()
	if ts > p.now {
		p.now = ts
	}
	res := p.dec.decode(data, link)
	// Cut: a layer found fewer bytes than its header promised, or the
	// record is shorter than the frame was and no IP header says the
	// packet is whole anyway (editcap -C keeps the original length).
	cut := p.dec.truncated || ci.CaptureLength < ci.Length && !p.dec.ipWhole()
	if cut {
		p.rep.inc(cTruncatedPackets)
	}
	switch res {
	case decodedLinkType:
		if p.rep.value(cUnsupportedLink) == 0 {
			p.rep.problem("link type " + strconv.Itoa(int(link)) + " (" + link.String() + ") is not decoded; its packets are skipped")
		}
		p.rep.inc(cUnsupportedLink)
	case decodedError:
		if !cut {
			// A packet cut by the snap length is counted as truncated only.
			p.rep.inc(cUndecodablePackets)
		}
	case decodedFragment:
		p.rep.inc(cIPFragments)
	case decodedTCP:
		p.tlsSegment(ci.Timestamp, cut) // sni.go
		p.tcp(ts, cut)
	case decodedOther:
		p.udp(ci.Timestamp, cut) // dns.go
	}
	if ts >= p.nextFlush {
		p.flushOld(ts)
	}
}

// tcp hands the decoded segment to the reassembler (tcp.go).
func (p *pipeline) tcp(at int64, cut bool) {
	tcp := &p.dec.tcp
	if !p.anyPort && !p.ports.has(uint16(tcp.SrcPort)) && !p.ports.has(uint16(tcp.DstPort)) &&
		tcp.SrcPort != dnsPort && tcp.DstPort != dnsPort { // DNS over TCP: dns.go
		return
	}
	if cut && p.dec.full > len(tcp.Payload) {
		// Stand the bytes the capture cut off in with NULs, so the stream
		// stays continuous: a cut inside a body costs nothing, and the
		// parser treats NUL in a head as the loss it is.
		n := len(tcp.Payload)
		if cap(p.pad) < p.dec.full {
			p.pad = make([]byte, p.dec.full)
		}
		pad := p.pad[:p.dec.full]
		copy(pad, tcp.Payload)
		clear(pad[n:])
		tcp.Payload = pad
		p.rep.add(cMissingBytes, uint64(p.dec.full-n))
	}
	src, dst := p.dec.addrs()
	p.asm.assemble(tcp, src, dst, at, p.now)
}

// open makes the stream of a new TCP connection (assembler.go).
func (p *pipeline) open(tcp *layers.TCP, src, dst netip.AddrPort) stream {
	return newConn(p, tcp, src, dst)
}

// advance moves packet time forward without a packet (a live capture's
// idle tick), so held requests and idle connections are not stuck.
func (p *pipeline) advance(t time.Time) {
	ts := t.UnixNano()
	if ts > p.now {
		p.now = ts
	}
	if ts >= p.nextFlush {
		p.flushOld(ts)
	}
}

// flushOld skips gaps older than gapTimeout and closes connections idle
// for idleTimeout, by packet time.
func (p *pipeline) flushOld(ts int64) {
	p.nextFlush = ts + int64(flushEvery)
	p.asm.flush(ts, p.now)
}

// finish flushes every connection: requests on connections still open at
// the end of the capture are reported too.
func (p *pipeline) finish() {
	p.rep.finishing = true
	p.asm.closeAll(p.now)
}

// drain hands the emitter every request that may go (orderer.go): all of
// them when force is set. DNS answers and ClientHellos go at once.
func (p *pipeline) drain(force bool) {
	p.drainSide() // dns.go
	p.ord.drain(p.e, p.now, force)
}
