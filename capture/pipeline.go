package capture

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/source"
)

// flushEvery is how often (packet time) gaps and idle connections are
// looked for. Files and live captures both run on the packets' timestamps,
// so a replay flushes and closes exactly as the live run would.
const flushEvery = time.Second

// Bounds of the interner (source.Interner) that the capture's requests,
// DNS answers and ClientHellos share: hosts, user agents, origins and DNS
// names repeat, so an event allocates only for values that are new.
const (
	internMax = 4096 // entries before the table starts over
	maxIntern = 256  // the longest value worth interning
)

// portSet is a bitmap of TCP ports.
type portSet [1024]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// pipeline turns packets into events. It is wiring: the decoder turns a
// frame into layers (decode.go); TCP segments of HTTP and DNS connections
// go to the assembler (assembler.go), which hands each connection to its
// stream, HTTP/1 (conn.go, h2c.go) or DNS (dns.go); any TCP segment may
// carry a ClientHello (tls.go) and a UDP datagram a DNS answer; requests
// wait in the orderer (orderer.go) for their responses and for each other.
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
	dec       *decoder
	asm       *assembler
	ord       *orderer
	http      *connShared // what the HTTP connections share
	dns       *dnsSide
	tls       *tlsSide
	e         *source.Emitter // where requests, DNS answers and ClientHellos go
	rep       *reporter       // counters and problems
	ports     *portSet        // Options.Ports
	anyPort   bool
	now       int64 // latest packet time seen, Unix nanoseconds
	nextFlush int64 // packet time of the next look for gaps and idle connections
}

func newPipeline(opts *Options, name string, e *source.Emitter) *pipeline {
	rep, in := newReporter(e), source.NewInterner(internMax, maxIntern)
	p := &pipeline{
		dec:     newDecoder(),
		ord:     new(orderer),
		dns:     newDNSSide(name, in, rep),
		tls:     newTLSSide(name, in, rep),
		e:       e,
		rep:     rep,
		ports:   new(portSet),
		anyPort: opts.AnyPort,
	}
	for _, port := range opts.Ports {
		p.ports.add(port)
	}
	p.http = &connShared{
		rep:     rep,
		ord:     p.ord,
		req:     &reqBuilder{source: name, keys: opts.Keys, in: in, rep: rep},
		ports:   p.ports,
		maxBuf:  opts.MaxStreamBuffer,
		headCap: min(maxHeadBytes, opts.MaxStreamBuffer),
	}
	p.asm = newAssembler(p.open, rep, opts.MaxStreams, opts.MaxStreamBuffer)
	p.dec.frags = newDefragmenter(rep)
	return p
}

// packet handles one captured frame of the given link type.
func (p *pipeline) packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) {
	p.rep.packet()
	if ci.Timestamp.IsZero() {
		// pcapng Simple Packet Blocks carry no time: use the last one seen.
		ci.Timestamp = time.Unix(0, p.now)
	}
	ts := ci.Timestamp.UnixNano()
	if ts > p.now {
		p.now = ts
	}
	p.dec.now = p.now
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
		// Held for reassembly; the defragmenter counts it.
	case decodedEncapMalformed:
		p.rep.inc(cEncapMalformed)
	case decodedEncapUnsupported:
		p.rep.inc(cEncapUnsupported)
	case decodedTooDeep:
		p.rep.inc(cEncapTooDeep)
	case decodedTCP:
		p.tcp(ts, cut)
	case decodedOther:
		p.udp(ts, cut)
	}
	if ts >= p.nextFlush {
		p.flushOld(ts)
	}
}

// tcp hands the decoded segment, sent at packet time at, to the TLS side
// when it may hold a ClientHello, and to the assembler when its
// connection is HTTP or DNS.
func (p *pipeline) tcp(at int64, cut bool) {
	tcp := &p.dec.tcp
	hello := p.tls.wants(tcp.Payload)
	assemble := p.anyPort || p.ports.has(uint16(tcp.SrcPort)) || p.ports.has(uint16(tcp.DstPort)) ||
		tcp.SrcPort == dnsPort || tcp.DstPort == dnsPort
	if !hello && !assemble {
		return
	}
	src, dst := p.dec.addrs()
	if hello {
		p.tls.segment(src, dst, tcp.Seq, tcp.Payload, at, cut)
	}
	if assemble {
		if cut {
			// Stand NULs in for the bytes the capture cut off, so the
			// stream stays continuous: a cut inside a body costs nothing,
			// and the parser treats NUL in a head as the loss it is.
			p.rep.add(cMissingBytes, uint64(p.dec.padCut()))
		}
		p.asm.assemble(tcp, src, dst, at, p.now)
	}
}

// open makes the stream of a new TCP connection (assembler.go): DNS on
// port 53, else HTTP.
func (p *pipeline) open(tcp *layers.TCP, src, dst netip.AddrPort) stream {
	if src.Port() == dnsPort || dst.Port() == dnsPort {
		return p.dns.stream(src, dst)
	}
	return newConn(p.http, tcp, src, dst)
}

// udp hands a UDP datagram from port 53 to the DNS side. A datagram the
// capture cut short is left alone (truncated_packets counts it).
func (p *pipeline) udp(at int64, cut bool) {
	src, dst, payload, ok := p.dec.udp()
	if ok && !cut && src.Port() == dnsPort {
		p.dns.message(payload, at, dst, src)
	}
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
// for idleTimeout, as of packet time ts.
func (p *pipeline) flushOld(ts int64) {
	p.nextFlush = ts + int64(flushEvery)
	p.asm.flush(ts, p.now)
}

// finish flushes every connection: requests on connections still open at
// the end of the capture are reported too.
func (p *pipeline) finish() {
	p.rep.ending()
	p.dec.frags.finish()
	p.asm.closeAll(p.now)
}

// drain hands the emitter every request that may go (orderer.go), all of
// them when force is set; DNS answers and ClientHellos go first, and at
// once: an answer must reach the engine no later than the requests it
// steers.
func (p *pipeline) drain(force bool) {
	p.dns.drain(p.e)
	p.tls.drain(p.e)
	p.ord.drain(p.e, p.now, force)
}
