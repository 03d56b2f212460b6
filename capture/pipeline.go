package capture

import (
	"hash/maphash"
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
	// gapTimeout is how long segments wait for a missing one before the
	// gap is skipped (FlushOptions.T).
	gapTimeout = 5 * time.Second
	// idleTimeout closes connections that saw no packet for this long
	// (FlushOptions.TC), reporting their pending requests.
	idleTimeout = 2 * time.Minute
	// maxFIFO caps the requests of one connection awaiting responses
	// (pipelining depth).
	maxFIFO = 64
	// maxOrphans caps responses that arrived before their request was
	// reassembled.
	maxOrphans = 16
	// totalBufConns is how many connections' worth of out-of-order data
	// (MaxStreamBuffer each) the assembler may buffer in all.
	totalBufConns = 64
)

// portSet is a bitmap of TCP ports.
type portSet [1024]uint64

func (s *portSet) add(p uint16)      { s[p>>6] |= 1 << (p & 63) }
func (s *portSet) has(p uint16) bool { return s[p>>6]&(1<<(p&63)) != 0 }

// pipeline turns packets into requests: decode, reassemble, parse, order.
// One goroutine drives it (the reassembly Assembler and the KeyExtractor
// are not shared):
//
//	for each frame:   p.packet(data, ci, linkType); p.drain(false)
//	when idle (live): p.advance(now); p.drain(false)
//	at the end:       p.finish(); p.drain(true)
//
// ReadFile drives it from a file; a live source (AF_PACKET, libpcap) is
// the same loop over its own packet reader plus an idle tick, with its own
// source name and no Pacer.
type pipeline struct {
	source      string
	keys        *keys.Extractor
	anyPort     bool
	ports       *portSet
	maxStreams  int
	maxBuf      int
	headCap     int
	dec         *decoder
	conns       map[flowKey]*conn  // open connections (tcp.go)
	waiting     map[*conn]struct{} // connections with out-of-order data queued
	oooTotal    int                // bytes queued out of order, all connections
	sg          segSG              // the delivery being made
	seed        maphash.Seed       // for the hashes of delivered segments
	e           *source.Emitter    // where requests, DNS answers and ClientHellos go
	rep         *reporter          // counters and problems
	in          *interner          // kept strings
	ord         orderer            // requests held for ordering
	now         int64              // latest packet time seen, Unix nanoseconds
	nextFlush   int64
	curSrc      netip.AddrPort // endpoints of the packet being assembled
	curDst      netip.AddrPort
	live        int
	lruHead     *conn // least recently seen
	lruTail     *conn
	needEvict   bool
	evicting    bool
	rh          reqHead
	rsp         respHead
	fold        []byte
	redactOut   []byte // a target with its key values redacted
	pad         []byte
	streamCount uint64
	dns         dnsState   // dns.go: DNS answers (UDP and TCP port 53)
	hello       helloState // sni.go: TLS ClientHellos (any port)
}

func newPipeline(opts *Options, name string, e *source.Emitter) *pipeline {
	p := &pipeline{
		source:     name,
		e:          e,
		rep:        newReporter(e),
		in:         newInterner(),
		keys:       opts.Keys,
		anyPort:    opts.AnyPort,
		ports:      new(portSet),
		maxStreams: opts.MaxStreams,
		maxBuf:     opts.MaxStreamBuffer,
		headCap:    min(maxHeadBytes, opts.MaxStreamBuffer),
		dec:        newDecoder(),
		conns:      make(map[flowKey]*conn),
		waiting:    make(map[*conn]struct{}),
		seed:       maphash.MakeSeed(),
	}
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
		p.tcp(ci, cut)
	case decodedOther:
		p.udp(ci.Timestamp, cut) // dns.go
	}
	if ts >= p.nextFlush {
		p.flushOld(ts)
	}
}

// tcp hands the decoded segment to the reassembler (tcp.go).
func (p *pipeline) tcp(ci gopacket.CaptureInfo, cut bool) {
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
	p.curSrc, p.curDst = p.dec.addrs()
	p.assemble(tcp, ci)
	if p.needEvict {
		p.evict()
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
// for idleTimeout, by packet time.
func (p *pipeline) flushOld(ts int64) {
	p.nextFlush = ts + int64(flushEvery)
	if len(p.waiting) > 0 {
		p.flushGaps(ts - int64(gapTimeout))
	}
	for cut := ts - int64(idleTimeout); p.lruHead != nil && p.lruHead.lastSeen < cut; {
		p.closeConn(p.lruHead)
	}
}

// evict closes the least recently seen connections when there are more
// than maxStreams: a sixteenth of the cap at once, so a flood of new
// connections does not pay for an eviction each.
func (p *pipeline) evict() {
	p.needEvict = false
	if p.live <= p.maxStreams {
		return
	}
	n := p.live - p.maxStreams + max(1, p.maxStreams/16)
	p.evicting = true
	for ; n > 0 && p.lruHead != nil; n-- {
		p.closeConn(p.lruHead)
	}
	p.evicting = false
}

// finish flushes every connection: requests on connections still open at
// the end of the capture are reported too.
func (p *pipeline) finish() {
	p.rep.finishing = true
	for p.lruHead != nil {
		p.closeConn(p.lruHead)
	}
}

// newConn starts a connection at its first segment (sent by p.curSrc).
func (p *pipeline) newConn(tcp *layers.TCP, ts int64) *conn {
	c := &conn{p: p, client: -1}
	p.streamCount++
	c.addr[0], c.addr[1] = p.curSrc, p.curDst
	src, dst := uint16(tcp.SrcPort), uint16(tcp.DstPort)
	c.byPort = p.ports.has(src) || p.ports.has(dst)
	switch {
	case tcp.SYN && !tcp.ACK:
		c.setClient(0)
		c.firm = true
	case tcp.SYN && tcp.ACK:
		c.setClient(1)
		c.firm = true
	case p.ports.has(dst) && !p.ports.has(src):
		c.setClient(0)
	case p.ports.has(src) && !p.ports.has(dst):
		c.setClient(1)
	}
	c.lastSeen = ts
	p.lruPush(c)
	p.live++
	if p.live > p.maxStreams {
		// Not here, in the middle of the segment that opened it: tcp
		// evicts once the segment is handled.
		p.needEvict = true
	}
	return c
}

func (p *pipeline) lruPush(c *conn) {
	c.prev, c.next = p.lruTail, nil
	if p.lruTail != nil {
		p.lruTail.next = c
	} else {
		p.lruHead = c
	}
	p.lruTail = c
}

func (p *pipeline) lruRemove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		p.lruHead = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		p.lruTail = c.prev
	}
	c.prev, c.next = nil, nil
}

// touch marks c as seen at ts.
func (p *pipeline) touch(c *conn, ts int64) {
	if ts > c.lastSeen {
		c.lastSeen = ts
	}
	if p.lruTail != c {
		p.lruRemove(c)
		p.lruPush(c)
	}
}

// drain hands the emitter every request that may go (orderer.go): all of
// them when force is set. DNS answers and ClientHellos go at once.
func (p *pipeline) drain(force bool) {
	p.drainSide() // dns.go
	p.ord.drain(p.e, p.now, force)
}
