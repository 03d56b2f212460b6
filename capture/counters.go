package capture

import (
	"net/netip"
	"strconv"

	"github.com/rebindwatch/rebindwatch/source"
)

// counter indexes the source-specific counts reported in Batch.Counters.
type counter int

// Counters; their names are what Batch.Counters and the summary show.
const (
	cTruncatedPackets         counter = iota // the capture cut the packet short (snap length)
	cUndecodablePackets                      // a malformed link, IP or TCP header
	cUnsupportedLink                         // packets of a link type not decoded
	cIPFragments                             // IP fragments seen (defrag.go reassembles them)
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
	cTLSClientHellos                         // tls.go: TLS ClientHellos read (any port)
	cTLSMalformed                            // tls.go: ClientHellos that did not parse
	cH2CStreams                              // h2c.go: HTTP/2 prior-knowledge streams turned into requests
	cIPReassembled                           // defrag.go: datagrams reassembled from their fragments
	cFragOverlapConflicts                    // defrag.go: fragments whose bytes differ from those of an earlier overlapping one (evasion sign)
	cFragTimeouts                            // defrag.go: datagrams given up incomplete (timeout, or open at the end)
	cFragEvicted                             // defrag.go: datagrams dropped to respect the reassembly caps
	cFragMalformed                           // defrag.go: fragments breaking the rules (size, offset, two ends), dropped with their datagram
	cEncapMalformed                          // encap.go: encapsulation headers that do not hold together
	cEncapUnsupported                        // encap.go: encapsulations carrying a protocol not followed
	cEncapTooDeep                            // packets nested deeper than maxEncap encapsulations
	cMalformedRequests                       // lenient.go: requests whose request line was read leniently (Request.Malformed)
	cH2CUpgrades                             // exchange.go: HTTP/1.1 connections upgraded to h2c (101 with Upgrade: h2c)
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
	cIPReassembled:            "ip_reassembled",
	cFragOverlapConflicts:     "frag_overlap_conflicts",
	cFragTimeouts:             "frag_timeouts",
	cFragEvicted:              "frag_evicted",
	cFragMalformed:            "frag_malformed",
	cEncapMalformed:           "encap_malformed",
	cEncapUnsupported:         "encap_unsupported",
	cEncapTooDeep:             "encap_too_deep",
	cMalformedRequests:        "malformed_requests",
	cH2CUpgrades:              "h2c_upgrades",
}

// counters are a pipeline's named counts, registered with its emitter.
type counters [nCounters]*source.Counter

func newCounters(e *source.Emitter) counters {
	var c counters
	for i := range c {
		c[i] = e.Counter(counterNames[i])
	}
	return c
}

// reporter is what every part of a pipeline reports besides events: the
// counters, parse errors and Problems, which it names by the packet being
// handled. Its methods are cheap when nothing is reported.
//
// When one goroutine runs the pipeline, it reports to the emitter at once.
// A stage of the parallel pipeline (parallel.go) has counters of its own,
// handed over with each batch, and records its Problems for the merger.
type reporter struct {
	e         *source.Emitter // one goroutine: everything goes here
	log       *recorder       // a parallel stage: Problems are recorded here
	c         counters
	own       [nCounters]source.Counter // a parallel stage's counters
	errs      uint64                    // a parallel stage's parse errors
	left      int                       // Problems a parallel stage may still report
	pkt       uint64                    // packets handled
	finishing bool                      // the capture ended: connections are being flushed
	where     string                    // Problem.Where for packet whereOf, built lazily
	whereOf   uint64
}

func newReporter(e *source.Emitter) *reporter {
	return &reporter{e: e, c: newCounters(e)}
}

// newStageReporter returns the reporter of a stage of the parallel
// pipeline, which records into log. A stage keeps as many Problems as the
// emitter does (capture's emitters keep the default number): its own
// first ones are all that can be among the capture's first.
func newStageReporter(log *recorder) *reporter {
	r := &reporter{log: log, left: source.DefaultMaxProblems}
	for i := range r.c {
		r.c[i] = &r.own[i]
	}
	return r
}

// snapshot writes a parallel stage's counts so far into l.
func (r *reporter) snapshot(l *opLog) {
	for i := range r.own {
		l.counts[i] = r.own[i].Value()
	}
	l.parseErrors = r.errs
}

// packet says the next packet is being handled.
func (r *reporter) packet() { r.pkt++ }

// ending says the capture ended: what is reported now is at its end.
func (r *reporter) ending() { r.finishing = true }

func (r *reporter) inc(c counter)           { r.c[c].Inc() }
func (r *reporter) add(c counter, n uint64) { r.c[c].Add(n) }
func (r *reporter) value(c counter) uint64  { return r.c[c].Value() }

// parseError counts an input that did not parse.
func (r *reporter) parseError() {
	if r.log != nil {
		r.errs++
		return
	}
	r.e.ParseError()
}

// wantsProblems reports whether a Problem would still be kept, so its text
// is built only then.
func (r *reporter) wantsProblems() bool {
	if r.log != nil {
		return r.left > 0
	}
	return r.e.WantsProblems()
}

// report keeps a Problem.
func (r *reporter) report(where, text string) {
	if r.log == nil {
		r.e.Problem(where, text)
	} else if r.left > 0 {
		r.left--
		r.log.problem(where, text)
	}
}

// problem records a Problem at the current position.
func (r *reporter) problem(text string) { r.report(r.whereNow(), text) }

// flowProblem records a Problem about what from sent to to. The text is
// built only while Problems are still kept.
func (r *reporter) flowProblem(from, to netip.AddrPort, why string) {
	if r.wantsProblems() {
		r.report(r.whereNow(), from.String()+" > "+to.String()+": "+why)
	}
}

// sampled counts one more c and reports the first maxSampled of them as
// Problems about what from sent to: a malformed message of a side parser
// (DNS, TLS) is worth an example, not a flood.
func (r *reporter) sampled(c counter, from, to netip.AddrPort, why string) {
	r.inc(c)
	if r.value(c) > maxSampled {
		return
	}
	if r.log != nil {
		// Whether it is among the capture's first is the merger's call.
		r.log.sample(c, r.whereNow(), from.String()+" > "+to.String()+": "+why)
		return
	}
	r.flowProblem(from, to, why)
}

// countSampled counts one more c, a counter sampled elsewhere, without a
// Problem of its own: it still counts towards the sample's limit.
func (r *reporter) countSampled(c counter) {
	r.inc(c)
	if r.log != nil && r.value(c) <= maxSampled {
		r.log.sample(c, "", "")
	}
}

// maxSampled is how many of a kind of malformed message sampled reports.
const maxSampled = 3

// problemAfter records a Problem after the last packet read.
func (r *reporter) problemAfter(text string) {
	r.report("after packet "+strconv.FormatUint(r.pkt, 10), text)
}

// whereNow names the current position for a Problem.
func (r *reporter) whereNow() string {
	if r.finishing {
		return "end of capture"
	}
	if r.where == "" || r.whereOf != r.pkt {
		r.where, r.whereOf = "packet "+strconv.FormatUint(r.pkt, 10), r.pkt
	}
	return r.where
}
