package capture

import (
	"context"
	"fmt"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// counter indexes the source-specific counts reported in Batch.Counters.
type counter int

// Counters; their names are what Batch.Counters and the summary show.
const (
	cTruncatedPackets         counter = iota // the capture cut the packet short (snap length)
	cUndecodablePackets                      // a malformed link, IP or TCP header
	cUnsupportedLink                         // packets of a link type not decoded
	cIPFragments                             // IP fragments (not reassembled)
	cStreamsEvicted                          // connections closed early to respect MaxStreams
	cStreamBytesCapped                       // bytes dropped to respect MaxStreamBuffer
	cMissingBytes                            // sequence space never captured (gaps), or cut by the snap length
	cNonHTTPStreams                          // connections that turned out not to speak HTTP/1.x
	cMidstreamStreams                        // connections joined after their start (no SYN seen)
	cTunnels                                 // connections that left HTTP (101 Switching Protocols, CONNECT)
	cUnmatchedResponses                      // responses with no request to attach to
	cIncompleteMessages                      // a head cut by the end of its stream
	cPipelineOverflow                        // requests given up waiting for a response (per-connection cap)
	cAmbiguousFraming                        // both Content-Length and Transfer-Encoding (smuggling sign)
	cTruncatedFile                           // the file ends in the middle of a record
	cCorruptFile                             // a record the reader could not make sense of; reading stopped
	cKernelDrops                             // live: packets the kernel dropped (capture ring or buffer full)
	cAbsoluteForm                            // requests with an absolute-form target (GET http://host/ ...)
	cAbsoluteFormHostMismatch                // ... whose URI authority differs from the Host header
	cOverlapConflicts                        // retransmitted or overlapping TCP data that differs from what was first seen (evasion sign)
	cTLSStreams                              // connections on an HTTP port that opened with a TLS record (https on an http port)
	cGaps                                    // places where a connection's bytes were never captured and were skipped
	cReorderBufferFull                       // out-of-order data given up early to respect the buffer caps
	cDNSResponses                            // dns.go: well-formed DNS responses (UDP or TCP port 53)
	cDNSMalformed                            // dns.go: DNS responses that did not parse
	cDNSDropped                              // dns.go: answers dropped because nothing drained them
	cTLSClientHellos                         // sni.go: TLS ClientHellos read (any port)
	cTLSMalformed                            // sni.go: ClientHellos that did not parse
	cH2CStreams                              // h2c.go: HTTP/2 prior-knowledge streams turned into requests
	nCounters
)

var counterNames = [nCounters]string{
	cTruncatedPackets:         "truncated_packets",
	cUndecodablePackets:       "undecodable_packets",
	cUnsupportedLink:          "unsupported_link_packets",
	cIPFragments:              "ip_fragments",
	cStreamsEvicted:           "streams_evicted",
	cStreamBytesCapped:        "stream_bytes_capped",
	cMissingBytes:             "missing_bytes",
	cNonHTTPStreams:           "non_http_streams",
	cMidstreamStreams:         "midstream_streams",
	cTunnels:                  "tunnels",
	cUnmatchedResponses:       "unmatched_responses",
	cIncompleteMessages:       "incomplete_messages",
	cPipelineOverflow:         "pipeline_overflow",
	cAmbiguousFraming:         "ambiguous_framing",
	cTruncatedFile:            "truncated_file",
	cCorruptFile:              "corrupt_file",
	cKernelDrops:              "kernel_drops",
	cAbsoluteForm:             "absolute_form",
	cAbsoluteFormHostMismatch: "absolute_form_host_mismatch",
	cOverlapConflicts:         "overlap_conflicts",
	cTLSStreams:               "tls_streams",
	cGaps:                     "gaps",
	cReorderBufferFull:        "reorder_buffer_full",
	cDNSResponses:             "dns_responses",
	cDNSMalformed:             "dns_malformed",
	cDNSDropped:               "dns_dropped",
	cTLSClientHellos:          "tls_client_hellos",
	cTLSMalformed:             "tls_malformed",
	cH2CStreams:               "h2c_streams",
}

// maxProblems is how many Problems one source reports; later ones are
// only counted.
const maxProblems = 20

// tally is a source's running counts. The emitter reports differences
// between batches, so the hot path only increments fields.
type tally struct {
	c           [nCounters]uint64
	parseErrors uint64
	dropped     uint64           // packets lost before they reached us (Batch.Dropped)
	problems    []detect.Problem // not yet sent
	nProblems   int              // ever recorded
}

func (t *tally) add(c counter, n uint64) { t.c[c] += n }

// changed says whether t has anything to report since sent.
func (t *tally) changed(sent *tally) bool {
	return t.c != sent.c || t.parseErrors != sent.parseErrors || t.dropped != sent.dropped || len(t.problems) > 0
}

// problem records a problem; text must already be safe to display.
func (t *tally) problem(source, where, text string) {
	if t.nProblems >= maxProblems {
		return
	}
	t.nProblems++
	t.problems = append(t.problems, detect.Problem{Source: source, Where: where, Text: text})
}

// emitter hands requests to the engine in batches, paced in event time.
type emitter struct {
	ctx    context.Context
	out    chan<- detect.Batch
	pacer  *detect.Pacer
	source string
	size   int
	t      *tally
	sent   tally // counts as of the previous batch

	reqs     []detect.Request
	dns      []detect.DNSAnswer // dns.go
	tls      []detect.TLSHello  // sni.go
	progress func() (done, total int64)
	state    detect.SourceState
	note     string
	lastSend time.Time
}

func newEmitter(ctx context.Context, out chan<- detect.Batch, opts *Options, source string, t *tally) *emitter {
	return &emitter{
		ctx: ctx, out: out, pacer: opts.Pacer, source: source, size: opts.BatchSize, t: t,
		state: detect.StateReplaying,
	}
}

// add queues one request, flushing first when the pacer would make us wait,
// so the engine already holds everything before the pause.
func (e *emitter) add(r *detect.Request) error {
	if err := e.pace(r.Time); err != nil {
		return err
	}
	if e.reqs == nil {
		e.reqs = make([]detect.Request, 0, e.size) // not grown by doubling: a batch is large
	}
	e.reqs = append(e.reqs, *r)
	if len(e.reqs) >= e.size {
		return e.flush()
	}
	return nil
}

// pace waits until an event at t is due, flushing first when the pacer
// would make us wait, so the engine already holds everything before a pause.
func (e *emitter) pace(t time.Time) error {
	if e.pacer.Due(t) {
		return nil
	}
	if err := e.flush(); err != nil {
		return err
	}
	if err := e.pacer.Wait(e.ctx, t); err != nil {
		return fmt.Errorf("pacing replay: %w", err)
	}
	return nil
}

// appendInTime appends v to s keeping s in time order: events that complete
// over several segments (a TCP DNS answer, a split ClientHello) are dated by
// their start and may finish after a later one.
func appendInTime[T any](s []T, v T, at func(*T) time.Time) []T {
	s = append(s, v)
	for i := len(s) - 1; i > 0 && at(&s[i]).Before(at(&s[i-1])); i-- {
		s[i], s[i-1] = s[i-1], s[i]
	}
	return s
}

// flush sends what is pending, with counter deltas and progress.
func (e *emitter) flush() error {
	b := detect.Batch{
		Source:      e.source,
		Requests:    e.reqs,
		DNS:         e.dns,
		TLS:         e.tls,
		ParseErrors: e.t.parseErrors - e.sent.parseErrors,
		Dropped:     e.t.dropped - e.sent.dropped,
		Problems:    e.t.problems,
		State:       e.state,
		Note:        e.note,
	}
	for i := range e.t.c {
		if d := e.t.c[i] - e.sent.c[i]; d > 0 {
			if b.Counters == nil {
				b.Counters = make(map[string]uint64)
			}
			b.Counters[counterNames[i]] = d
		}
	}
	if e.progress != nil {
		b.Done, b.Total = e.progress()
	}
	select {
	case e.out <- b:
	case <-e.ctx.Done():
		return fmt.Errorf("sending batch: %w", e.ctx.Err())
	}
	e.sent.c, e.sent.parseErrors, e.sent.dropped = e.t.c, e.t.parseErrors, e.t.dropped
	e.t.problems = nil
	e.reqs, e.dns, e.tls = nil, nil, nil // the engine owns the sent slices
	e.lastSend = time.Now()
	return nil
}
