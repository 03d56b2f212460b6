package capture

import (
	"context"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/rebindwatch/rebindwatch/source"
)

// A pipeline turns packets into events in three stages:
//
//	front (front.go)    decode, IP fragments, TLS ClientHellos; which shard a flow is
//	worker (worker.go)  per shard: TCP reassembly, HTTP/1, h2c, DNS
//	merger (merge.go)   requests held in packet-time order for their
//	                    responses; everything handed to the emitter
//
// With one worker, one goroutine runs all three (pipeline, below); with
// more, the front, each worker and the merger run on goroutines of their
// own (parallel.go), and the merger replays what the workers report in the
// order one goroutine would have made it: the events, their order, the
// counters and the Problems are the same whatever the number of workers.
//
// ReadFile and Live drive either through a driver.
type driver interface {
	// packet handles one frame; what is due goes to the emitter.
	packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType)
	// advance moves packet time to t without a packet (a live capture's
	// idle tick), so held requests and idle connections are not stuck.
	advance(t time.Time)
	// progress says how many bytes of the file were read; dropped adds
	// packets the kernel dropped.
	progress(done int64)
	dropped(n uint64)
	// flushDue hands the engine what is pending when interval (wall time)
	// passed since the last batch.
	flushDue(interval time.Duration)
	// stopped says the source was told to stop.
	stopped() bool
	// finish ends the capture: last, when set, reports on how the input
	// ended (with the front's reporter, after the last packet); then every
	// connection is flushed and everything handed to the emitter, which
	// the caller owns again.
	finish(last func(rep *reporter))
}

// newDriver returns the pipeline for opts: the parallel one, unless there
// is one worker (Options.Workers 1, or one core) or the replay is paced
// (Options.Pacer at a speed, or paused): a paced replay has no use for
// more cores, and on one goroutine it reads no further than it emits, so
// a stop hands over no more than what was due. ctx is the source's stop
// signal.
func newDriver(ctx context.Context, opts *Options, name string, e *source.Emitter, total int64) driver {
	if n := workerCount(opts); n > 1 && opts.Pacer.Speed() == 0 && !opts.Pacer.Paused() {
		return newParallel(ctx, opts, name, e, total, n)
	}
	return newPipeline(opts, name, e, total)
}

// workerCount is how many shards a pipeline has: Options.Workers, else
// one per core.
func workerCount(opts *Options) int {
	if opts.Workers > 0 {
		return opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// pipeline runs the three stages on one goroutine, packet by packet; its
// sink is the merger itself. None of its parts, nor the keys.Extractor, is
// shared.
type pipeline struct {
	f     *front
	w     *worker
	m     *merger
	total int64 // the file's size (progress)
	r     rec   // the packet being handled

	// The parts, for tests.
	dec  *decoder
	tls  *tlsSide
	asm  *assembler
	http *connShared
	dns  *dnsSide
	ord  *orderer
	rep  *reporter
	e    *source.Emitter
}

func newPipeline(opts *Options, name string, e *source.Emitter, total int64) *pipeline {
	rep := newReporter(e)
	m := newMerger(e)
	ports := portsOf(opts)
	tls := newTLSSide(name, newStrCache(), rep, m)
	f := newFront(opts, ports, tls, rep, 1, rand.Uint64())
	w := newWorker(0, 1, opts, name, ports, opts.Keys, rep, m)
	m.pools = []*pendingPool{w.pool}
	return &pipeline{f: f, w: w, m: m, total: total,
		dec: f.dec, tls: tls, asm: w.asm, http: w.http, dns: w.dns, ord: &m.ord, rep: rep, e: e}
}

// portsOf returns Options.Ports as a set.
func portsOf(opts *Options) *portSet {
	ports := new(portSet)
	for _, port := range opts.Ports {
		ports.add(port)
	}
	return ports
}

func (p *pipeline) packet(data []byte, ci gopacket.CaptureInfo, link layers.LinkType) {
	p.f.packet(data, ci, link, &p.r)
	p.w.handle(&p.r, true)
	p.drain(false)
}

func (p *pipeline) advance(t time.Time) {
	p.f.advance(t, &p.r)
	p.w.handle(&p.r, true)
	p.drain(false)
}

func (p *pipeline) progress(done int64)             { p.e.SetProgress(done, p.total) }
func (p *pipeline) flushDue(interval time.Duration) { p.e.FlushDue(interval) }
func (p *pipeline) stopped() bool                   { return p.e.Stopped() }

func (p *pipeline) dropped(n uint64) {
	p.rep.add(cKernelDrops, n)
	p.e.Dropped(n)
}

func (p *pipeline) finish(last func(rep *reporter)) {
	if last != nil {
		last(p.rep)
	}
	p.f.end(&p.r)
	p.w.handle(&p.r, true)
	p.drain(true)
}

// drain hands the emitter what may go (merger.drain), all of it when
// force is set.
func (p *pipeline) drain(force bool) { p.m.drain(p.f.now, force) }
