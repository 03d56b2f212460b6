package capture

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/source"
)

// This file runs a pipeline on several cores. The source's goroutine runs
// the front: it decodes each packet and puts it, as a record (its segment
// copied), into a batch. A full batch goes to every worker, each on its
// own goroutine; a worker takes the records of its shard (the flows that
// hash to it: both directions of a connection, and DNS datagrams by their
// flow) and the ones that are every shard's (flushes, the end), and
// records what it reports in the batch's log for it. The merger's
// goroutine takes the batches back in order once every worker is done
// with them and replays the logs in the order one goroutine would have
// made the calls, by (record, phase, connection): so the emitter sees the
// same requests, DNS answers and ClientHellos in the same order, the same
// Problems, and the same counts, as with one worker; only faster.
//
// What cannot be the same: the caps on open connections (MaxStreams) and
// on out-of-order bytes are split between the shards, so which connection
// is evicted when a cap is reached depends on the shards.
//
// Memory is bounded: a few batches exist (inFlight), the source waits for
// a free one, and a batch holds at most batchRecs records and batchBytes
// of payload.

// Batch geometry.
const (
	batchRecs  = 1024      // records a batch holds
	batchBytes = 512 << 10 // payload bytes a batch holds
	// recRoom is the room a batch keeps for one packet's payload beyond
	// its frame: a reassembled IP datagram, a cut segment stood in for.
	recRoom = 1<<16 + 1<<10
	// handEvery is how long, in wall time, a packet may wait in a batch
	// that is not full when the source is asked to flush (a live capture,
	// a slow pipe).
	handEvery = 20 * time.Millisecond
)

// batch is a run of records on its way through the stages.
type batch struct {
	recs  []rec
	arena []byte    // the records' payloads
	logs  []opLog   // [0]: the front's; [1+w]: worker w's
	idx   [][]int32 // idx[w]: the records worker w takes, in order
	now   int64     // the latest packet time when the batch was handed on
	end   bool      // the last batch: it ends the capture
	// News for the emitter, applied after the batch.
	hasDone  bool
	done     int64
	drops    uint64
	flushDue time.Duration
}

// parallel is the driver of a pipeline with several workers.
type parallel struct {
	f       *front
	frec    *recorder // the front's sink and Problem log
	m       *merger
	total   int64
	workers []*worker
	wrecs   []*recorder

	cur     *batch
	free    chan *batch
	unmade  int           // batches not made yet (newBatch)
	in      []chan *batch // to each worker
	out     []chan *batch // from each worker, to the merger
	merged  chan struct{} // closed when the merger is done
	wg      sync.WaitGroup
	ctxDone <-chan struct{}
	stop    bool
	perRecs int // records per batch (tests make it small)

	// News for the next batch.
	hasDone  bool
	done     int64
	drops    uint64
	flushIv  time.Duration
	lastHand time.Time

	// The merger's.
	cursor   []int
	seen     [][nCounters]uint64 // counts applied, per log
	seenErrs []uint64
}

// newParallel starts a pipeline of n workers that hands what it finds to
// e; e belongs to its merger's goroutine until finish returns.
func newParallel(ctx context.Context, opts *Options, name string, e *source.Emitter, total int64, n int) *parallel {
	frec := &recorder{}
	frep := newStageReporter(frec)
	ports := portsOf(opts)
	tls := newTLSSide(name, newStrCache(), frep, frec)
	p := &parallel{
		f:        newFront(opts, ports, tls, frep, n, rand.Uint64()),
		frec:     frec,
		m:        newMerger(e),
		total:    total,
		merged:   make(chan struct{}),
		ctxDone:  ctx.Done(),
		perRecs:  batchRecs,
		cursor:   make([]int, n+1),
		seen:     make([][nCounters]uint64, n+1),
		seenErrs: make([]uint64, n+1),
	}
	if opts.batchRecs > 0 {
		p.perRecs = opts.batchRecs
	}
	p.m.back = make([][]*pending, n)
	for i := range n {
		wr := &recorder{}
		kx := opts.Keys
		if kx != nil {
			kx = kx.Clone() // an extractor is not shared between goroutines
		}
		w := newWorker(i, n, opts, name, ports, kx, newStageReporter(wr), wr)
		w.asm.key = &wr.key
		p.workers, p.wrecs = append(p.workers, w), append(p.wrecs, wr)
	}
	// A batch is being filled, one handled by the workers (each may be a
	// batch ahead of the slowest), one merged; a few more absorb their
	// different paces. They are made when first needed, so a small
	// capture does not pay for all of them.
	inFlight := 4 + min(n, 12)
	p.free, p.unmade = make(chan *batch, inFlight), inFlight
	for i, w := range p.workers {
		in, out := make(chan *batch, inFlight), make(chan *batch, inFlight)
		p.in, p.out = append(p.in, in), append(p.out, out)
		p.wg.Add(1)
		go p.work(w, p.wrecs[i], in, out)
	}
	go p.merge()
	return p
}

func (p *parallel) packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) {
	b := p.room(len(data))
	i := len(b.recs)
	b.recs = b.recs[:i+1]
	p.frec.key = opKey{rec: int32(i), phase: phaseFront}
	n := len(b.logs[0].ops)
	p.f.packet(data, ci, link, &b.recs[i])
	p.keep(b, n)
}

func (p *parallel) advance(t time.Time) {
	b := p.room(0)
	i := len(b.recs)
	b.recs = b.recs[:i+1]
	p.frec.key = opKey{rec: int32(i), phase: phaseFront}
	p.f.advance(t, &b.recs[i])
	p.keep(b, len(b.logs[0].ops))
	p.hand() // time passed: what is held may go
}

func (p *parallel) progress(done int64) { p.hasDone, p.done = true, done }
func (p *parallel) dropped(n uint64)    { p.drops += n }

func (p *parallel) flushDue(interval time.Duration) {
	p.flushIv = interval
	if p.cur != nil && len(p.cur.recs) > 0 && time.Since(p.lastHand) >= handEvery {
		p.hand()
	}
}

func (p *parallel) stopped() bool {
	if !p.stop {
		select {
		case <-p.ctxDone:
			p.stop = true
		default:
		}
	}
	return p.stop
}

func (p *parallel) finish(last func(rep *reporter)) {
	b := p.room(0)
	i := len(b.recs)
	p.frec.key = opKey{rec: int32(i), phase: phaseFront}
	if last != nil {
		last(p.f.rep)
	}
	b.recs = b.recs[:i+1]
	p.f.end(&b.recs[i])
	p.keep(b, 0)
	b.end = true
	p.hand()
	for _, in := range p.in {
		close(in)
	}
	<-p.merged
	p.wg.Wait()
}

// room returns the batch to fill, with room for a record of a frame of
// the given size: the one being filled, or (once that one is handed on)
// a free one, waiting for it if need be.
func (p *parallel) room(frame int) *batch {
	need := max(frame, recRoom)
	if b := p.cur; b != nil && len(b.recs) < cap(b.recs) && cap(b.arena)-len(b.arena) >= need {
		return b
	}
	if p.cur != nil {
		p.hand()
	}
	b := p.newBatch()
	if cap(b.arena) < need {
		b.arena = make([]byte, 0, need) // a giant frame: this batch alone
	}
	p.cur, p.frec.l = b, &b.logs[0]
	return b
}

// newBatch returns a free batch: one the merger recycled, else a new one
// while fewer than inFlight exist, else the next one recycled.
func (p *parallel) newBatch() *batch {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.unmade > 0 {
		p.unmade--
		n := len(p.workers)
		return &batch{recs: make([]rec, 0, p.perRecs), arena: make([]byte, 0, batchBytes),
			logs: make([]opLog, n+1), idx: make([][]int32, n)}
	}
	return <-p.free
}

// keep settles the record just filled (the batch's last): its payload is
// copied into the batch and it is listed for the workers that take it; a
// record nobody needs is dropped. opsBefore is the front's ops before it.
func (p *parallel) keep(b *batch, opsBefore int) {
	i := int32(len(b.recs) - 1)
	r := &b.recs[i]
	switch {
	case r.kind == recTCP || r.kind == recUDP:
		r.tcp.Payload = p.copyPayload(b, r.tcp.Payload)
		if r.flush {
			p.toAll(b, i)
		} else {
			b.idx[r.shard] = append(b.idx[r.shard], i)
		}
	case r.flush || r.kind == recEnd:
		p.toAll(b, i)
	case len(b.logs[0].ops) > opsBefore:
		// Only the front reported: the merger replays it at its place.
	default:
		b.recs = b.recs[:i] // nothing for anyone; the next record's before time keeps its time
	}
}

// copyPayload copies a record's payload into the batch's arena (room has
// kept enough space for any packet's).
func (p *parallel) copyPayload(b *batch, data []byte) []byte {
	n := len(data)
	switch {
	case n == 0:
		return nil
	case cap(b.arena)-len(b.arena) < n:
		return bytes.Clone(data) // cannot happen: room keeps recRoom and the frame's size
	}
	off := len(b.arena)
	b.arena = append(b.arena, data...)
	return b.arena[off : off+n : off+n]
}

// toAll lists record i for every worker.
func (p *parallel) toAll(b *batch, i int32) {
	for w := range b.idx {
		b.idx[w] = append(b.idx[w], i)
	}
}

// hand sends the batch being filled (an empty one if there is none: the
// merger still learns the time and the news) to the workers.
func (p *parallel) hand() {
	b := p.cur
	if b == nil {
		b = p.newBatch()
		p.frec.l = &b.logs[0]
	}
	p.cur = nil
	b.now = p.f.now
	b.hasDone, b.done, b.drops, b.flushDue = p.hasDone, p.done, p.drops, p.flushIv
	p.hasDone, p.drops, p.flushIv = false, 0, 0
	p.f.rep.snapshot(&b.logs[0])
	for _, in := range p.in {
		in <- b
	}
	p.lastHand = time.Now()
}

// work is worker w's goroutine: the records of its shard, and the ones
// for every shard, of each batch, in order.
func (p *parallel) work(w *worker, wr *recorder, in <-chan *batch, out chan<- *batch) {
	defer p.wg.Done()
	for b := range in {
		l := &b.logs[1+w.id]
		for _, x := range l.back {
			w.pool.put(x)
		}
		clear(l.back)
		l.back = l.back[:0]
		wr.l = l
		for _, i := range b.idx[w.id] {
			r := &b.recs[i]
			wr.key = opKey{rec: i, phase: phasePacket}
			w.handle(r, r.shard == int32(w.id))
		}
		w.rep.snapshot(l)
		out <- b
	}
}

// merge is the merger's goroutine: each batch, once every worker is done
// with it, is replayed and recycled.
func (p *parallel) merge() {
	defer close(p.merged)
	for {
		b := <-p.out[0]
		for _, out := range p.out[1:] {
			<-out // the same batch: workers take batches in order
		}
		p.apply(b)
		end := b.end
		p.recycle(b)
		if end {
			return
		}
	}
}

// apply replays the logs of b in the order one goroutine would have made
// the calls: by record, then phase, then connection (the ops of one
// record and phase come from one stage, except in flushes, where each
// connection's come from its shard). Between records the merger drains
// as one goroutine does after every packet: a drain at a later packet
// time releases what the drains in between would have, in the same
// order, so one before each record that reports something, at the time
// before that packet, and one at the end of the batch are enough.
func (p *parallel) apply(b *batch) {
	m := p.m
	clear(p.cursor)
	last := int32(-1)
	for {
		best := -1
		var key *opKey
		for j := range b.logs {
			if c := p.cursor[j]; c < len(b.logs[j].ops) {
				if k := &b.logs[j].ops[c].key; best < 0 || k.before(key) {
					best, key = j, k
				}
			}
		}
		if best < 0 {
			break
		}
		l := &b.logs[best]
		o := &l.ops[p.cursor[best]]
		p.cursor[best]++
		if o.key.rec != last {
			last = o.key.rec
			m.drain(b.recs[last].before, false)
		}
		m.apply(l, o)
	}
	m.drain(b.now, b.end)
	for j := range b.logs {
		l := &b.logs[j]
		for c, n := range l.counts {
			if d := n - p.seen[j][c]; d > 0 {
				m.c[c].Add(d)
			}
		}
		p.seen[j] = l.counts
		for ; p.seenErrs[j] < l.parseErrors; p.seenErrs[j]++ {
			m.e.ParseError()
		}
	}
	if b.drops > 0 {
		m.c[cKernelDrops].Add(b.drops)
		m.e.Dropped(b.drops)
	}
	if b.hasDone {
		m.e.SetProgress(b.done, p.total)
	}
	if b.flushDue > 0 {
		m.e.FlushDue(b.flushDue)
	}
}

// recycle empties b for the front and hands each worker back the pending
// requests the merger is done with.
func (p *parallel) recycle(b *batch) {
	for w := range p.m.back {
		l := &b.logs[1+w]
		l.back, p.m.back[w] = p.m.back[w], l.back[:0]
	}
	for j := range b.logs {
		b.logs[j].reset()
	}
	for w := range b.idx {
		b.idx[w] = b.idx[w][:0]
	}
	clear(b.recs)
	b.recs, b.arena = b.recs[:0], b.arena[:0]
	if cap(b.arena) > batchBytes {
		b.arena = make([]byte, 0, batchBytes)
	}
	b.end, b.hasDone, b.done, b.drops, b.flushDue = false, false, 0, 0, 0
	p.free <- b
}
