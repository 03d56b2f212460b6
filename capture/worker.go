package capture

import (
	"net/netip"

	"github.com/rebindwatch/rebindwatch/keys"
)

// Bounds of the string cache (strCache) that a shard's requests and DNS
// answers share (the front has its own for ClientHellos): hosts, user
// agents, origins and DNS names repeat, so an event allocates only for
// values that are new.
const (
	internMax = 4096 // entries
	maxIntern = 256  // the longest value worth sharing
)

// worker is one shard of a pipeline: the connections whose flows hash to
// it, reassembled (assembler.go) and parsed, HTTP/1 (conn.go, h2c.go) or
// DNS (dns.go), and the DNS datagrams of its flows. Everything it finds
// goes to its sink. It is not safe for concurrent use; each shard has its
// own parsers, interner and key extractor.
type worker struct {
	id   int
	asm  *assembler
	http *connShared
	dns  *dnsSide
	rep  *reporter
	pool *pendingPool
}

// newWorker returns shard id of shards, reporting to rep and handing what
// it finds to out.
func newWorker(id, shards int, opts *Options, name string, ports *portSet, kx *keys.Extractor, rep *reporter, out sink) *worker {
	in := newStrCache()
	w := &worker{id: id, rep: rep, pool: &pendingPool{id: id}}
	w.dns = newDNSSide(name, in, rep, out)
	w.http = &connShared{
		rep:     rep,
		out:     out,
		pool:    w.pool,
		req:     &reqBuilder{source: name, keys: kx, in: in, rep: rep},
		ports:   ports,
		maxBuf:  opts.MaxStreamBuffer,
		headCap: min(maxHeadBytes, opts.MaxStreamBuffer),
	}
	w.asm = newAssembler(w.open, rep, opts.MaxStreams, opts.MaxStreamBuffer, shards)
	return w
}

// handle takes record r; mine says its segment or datagram is this
// shard's (a flush and the end are every shard's).
func (w *worker) handle(r *rec, mine bool) {
	w.rep.pkt = r.pkt
	switch {
	case r.kind == recTCP && mine:
		w.asm.assemble(&r.tcp, r.src, r.dst, r.hash, r.ts, r.now, r.pkt)
	case r.kind == recUDP && mine:
		w.dns.message(r.tcp.Payload, r.ts, r.dst, r.src)
	case r.kind == recEnd:
		// Requests on connections still open at the end of the capture
		// are reported too.
		w.rep.ending()
		w.asm.closeAll(r.now)
	}
	if r.flush {
		// Skip gaps older than gapTimeout and close connections idle for
		// idleTimeout, as of the packet's time.
		w.asm.flush(r.ts, r.now)
	}
}

// open makes the stream of a new TCP connection (assembler.go): DNS on
// port 53, else HTTP.
func (w *worker) open(tcp *tcpHdr, src, dst netip.AddrPort) stream {
	if src.Port() == dnsPort || dst.Port() == dnsPort {
		return w.dns.stream(src, dst)
	}
	return newConn(w.http, tcp, src, dst)
}
