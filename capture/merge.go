package capture

import (
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// This file is the last stage of a pipeline: the merger holds requests in
// the orderer until they may go, queues DNS answers and ClientHellos, and
// hands all of it to the emitter. The stages before it (front.go,
// worker.go) reach it through a sink: directly when one goroutine runs the
// whole pipeline, or through an op log that the parallel pipeline
// (parallel.go) replays here in the order one goroutine would have made
// the calls, so the emitter sees exactly the same calls either way.

// sink is where the stages hand what they find.
type sink interface {
	// push hands over a parsed request; its connection may still hold
	// it (queued) for its response.
	push(x *pending)
	// settle says x's connection is done with it: its status will never
	// be known.
	settle(x *pending)
	// answer gives x its response's status (unless x already went
	// without one) and settles it.
	answer(x *pending, status int, granted bool)
	dns(a *detect.DNSAnswer)
	tls(h *detect.TLSHello)
}

// Phases of a packet's handling, in the order one goroutine goes through
// them: what the stages report is replayed in the order of (record,
// phase, sub).
const (
	phaseFront  uint8 = iota // decoding, fragments, ClientHellos (front.go)
	phasePacket              // the packet's segment or datagram, in its shard
	phaseGaps                // a flush skipping gaps; sub: the connection's place in the LRU order
	phaseIdle                // a flush closing idle connections; sub as above
	phaseEnd                 // the end of the capture closing every connection; sub as above
)

// opKey says where in the single-goroutine order something was reported.
type opKey struct {
	rec   int32 // the packet's record in its batch
	phase uint8
	sub   uint64
}

func (a *opKey) before(b *opKey) bool {
	if a.rec != b.rec {
		return a.rec < b.rec
	}
	if a.phase != b.phase {
		return a.phase < b.phase
	}
	return a.sub < b.sub
}

// opKind is what an op does.
type opKind uint8

const (
	opPush    opKind = iota // sink.push
	opSettle                // sink.settle
	opAnswer                // sink.answer; i is the status
	opDNS                   // sink.dns; i indexes opLog.dns
	opTLS                   // sink.tls; i indexes opLog.tls
	opProblem               // a Problem; i indexes opLog.probs
	opSample                // one more of a sampled counter (reporter.sampled); i indexes opLog.probs
)

// op is one call a stage made, recorded.
type op struct {
	key     opKey
	kind    opKind
	granted bool
	i       int32
	x       *pending
}

// probOp is a Problem a stage reported, or one more of a sampled counter
// (text empty when it had nothing to say).
type probOp struct {
	where, text string
	c           counter
}

// opLog is what one stage reported while it handled one batch of packets,
// in its order, and its counts at the end of it.
type opLog struct {
	ops         []op
	dns         []detect.DNSAnswer
	tls         []detect.TLSHello
	probs       []probOp
	counts      [nCounters]uint64 // the stage's counters at the end of the batch
	parseErrors uint64            // and its parse errors
	back        []*pending        // the merger hands these back to the stage's pool
}

// reset empties the log, letting go of what it referred to.
func (l *opLog) reset() {
	clear(l.ops)
	clear(l.dns)
	clear(l.tls)
	clear(l.probs)
	l.ops, l.dns, l.tls, l.probs = l.ops[:0], l.dns[:0], l.tls[:0], l.probs[:0]
}

// recorder is the sink (and the Problem reporter) of a stage of the
// parallel pipeline: it records into the log of the batch being handled,
// under the key of the packet being handled.
type recorder struct {
	l   *opLog
	key opKey
}

func (r *recorder) add(kind opKind, x *pending, i int32, granted bool) {
	r.l.ops = append(r.l.ops, op{key: r.key, kind: kind, x: x, i: i, granted: granted})
}

func (r *recorder) push(x *pending)   { r.add(opPush, x, 0, false) }
func (r *recorder) settle(x *pending) { r.add(opSettle, x, 0, false) }
func (r *recorder) answer(x *pending, status int, granted bool) {
	r.add(opAnswer, x, int32(status), granted)
}

func (r *recorder) dns(a *detect.DNSAnswer) {
	r.l.dns = append(r.l.dns, *a)
	r.add(opDNS, nil, int32(len(r.l.dns)-1), false)
}

func (r *recorder) tls(h *detect.TLSHello) {
	r.l.tls = append(r.l.tls, *h)
	r.add(opTLS, nil, int32(len(r.l.tls)-1), false)
}

func (r *recorder) problem(where, text string) {
	r.l.probs = append(r.l.probs, probOp{where: where, text: text})
	r.add(opProblem, nil, int32(len(r.l.probs)-1), false)
}

func (r *recorder) sample(c counter, where, text string) {
	r.l.probs = append(r.l.probs, probOp{where: where, text: text, c: c})
	r.add(opSample, nil, int32(len(r.l.probs)-1), false)
}

// merger is the last stage. It is not safe for concurrent use: one
// goroutine runs it, the one that owns the emitter.
type merger struct {
	e    *source.Emitter
	c    counters
	ord  orderer
	dnsQ []detect.DNSAnswer
	tlsQ []detect.TLSHello
	// pools are the shards' pools of pending requests, when the merger
	// runs on the shards' goroutine; else back collects them per shard,
	// to go back with the next batch.
	pools []*pendingPool
	back  [][]*pending
	// sampled counts the sampled counters' ops replayed (parallel.go):
	// each shard records the first maxSampled of its own, which are all
	// that can be among the first maxSampled of the whole capture.
	sampled [nCounters]uint64
}

func newMerger(e *source.Emitter) *merger {
	return &merger{e: e, c: newCounters(e)}
}

// maxTLSQueue caps hellos waiting for the emitter, and maxDNSQueue the
// answers: one packet (a TCP segment full of DNS messages) cannot bring
// more.
const (
	maxTLSQueue = 4096
	maxDNSQueue = 4096
)

func (m *merger) push(x *pending) { m.ord.push(x) }

func (m *merger) settle(x *pending) {
	x.ready, x.queued = true, false
	m.release(x)
}

func (m *merger) answer(x *pending, status int, granted bool) {
	if !x.out {
		x.req.Status, x.req.PNAGranted = status, granted
	}
	m.settle(x)
}

func (m *merger) dns(a *detect.DNSAnswer) {
	if len(m.dnsQ) >= maxDNSQueue {
		m.dnsQ = m.dnsQ[:copy(m.dnsQ, m.dnsQ[1:])]
		m.c[cDNSDropped].Inc()
	}
	m.dnsQ = append(m.dnsQ, *a)
}

func (m *merger) tls(h *detect.TLSHello) {
	if len(m.tlsQ) >= maxTLSQueue {
		m.tlsQ = m.tlsQ[:copy(m.tlsQ, m.tlsQ[1:])]
	}
	m.tlsQ = append(m.tlsQ, *h)
}

// release recycles x once both its connection and the emitter are done
// with it.
func (m *merger) release(x *pending) {
	if !x.out || x.queued {
		return
	}
	if m.back != nil {
		m.back[x.owner] = append(m.back[x.owner], x)
		return
	}
	m.pools[x.owner].put(x)
}

// drain hands the emitter what may go at packet time now (everything when
// force is set): DNS answers and ClientHellos first, and at once, as an
// answer must reach the engine no later than the requests it steers; then
// the requests that are due (orderer.due).
func (m *merger) drain(now int64, force bool) {
	for i := range m.dnsQ {
		m.e.DNS(m.dnsQ[i])
	}
	clear(m.dnsQ)
	m.dnsQ = m.dnsQ[:0]
	for i := range m.tlsQ {
		m.e.TLS(m.tlsQ[i])
	}
	clear(m.tlsQ)
	m.tlsQ = m.tlsQ[:0]
	for m.ord.due(now, force) {
		x := m.ord.pop()
		m.e.Request(&x.req)
		m.release(x)
	}
}

// apply replays one recorded op of log l.
func (m *merger) apply(l *opLog, o *op) {
	switch o.kind {
	case opPush:
		m.push(o.x)
	case opSettle:
		m.settle(o.x)
	case opAnswer:
		m.answer(o.x, int(o.i), o.granted)
	case opDNS:
		m.dns(&l.dns[o.i])
	case opTLS:
		m.tls(&l.tls[o.i])
	case opProblem:
		p := &l.probs[o.i]
		m.e.Problem(p.where, p.text)
	case opSample:
		p := &l.probs[o.i]
		m.sampled[p.c]++
		if p.text != "" && m.sampled[p.c] <= maxSampled {
			m.e.Problem(p.where, p.text)
		}
	}
}
