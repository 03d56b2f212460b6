// Package detect holds rebindwatch's model (requests, alerts, batches) and the
// engine that runs the detectors over requests in event time.
//
// Sources (capture, logsrc) depend on this package for the Request type and
// the key extractor; this package depends on nothing else of ours.
package detect

import (
	"net/netip"
	"time"
)

// Request is one HTTP request as a source saw it. Strings hold only what the
// engine keeps; the raw API key never enters a Request, only its fingerprint.
type Request struct {
	Time   time.Time      // event time: packet timestamp or log line time
	Source string         // "pcap", "live", or the log file's name
	Client netip.AddrPort // client address; port 0 when the source does not know it
	Server netip.AddrPort // server address; invalid when unknown (most logs)

	Method    string
	Host      string // Host header as sent (empty when absent, see HasHost)
	HasHost   bool   // whether a Host was present at all
	Target    string // request-target as sent
	URIHost   string // authority of an absolute-form target (GET http://h/ ...): the Host to check (RFC 9112 §3.2.2)
	Proto     string // "HTTP/1.1", "HTTP/1.0", ...
	Origin    string // Origin header as sent (empty when absent, see HasOrigin)
	HasOrigin bool
	Referer   string
	UserAgent string
	Key       string // key fingerprint (12 hex digits), "" when the request carries no key
	Status    int    // response status when known, else 0

	// Signals the parser noticed; the engine may raise severity on them.
	DupHost bool // two or more Host headers
	// Malformed says why the request line was not HTTP/1.x as RFC 9112
	// writes it but was still taken as a request, as servers and Zeek
	// take it: "no_version" (HTTP/0.9), "no_space_before_version",
	// "no_target", "bad_version", "space_in_target", "text_after_version",
	// "whitespace". "" for a well-formed line.
	Malformed string

	// Private Network Access (WICG): a CORS preflight asking to reach a
	// private server (Access-Control-Request-Private-Network: true, or
	// its successor -Local-Network), and whether the server granted it
	// (Access-Control-Allow-Private-Network: true in the response).
	PNARequest bool
	PNAGranted bool

	// Blind says which fields the source cannot see at all (a log format
	// without a Host column). Zero means it sees everything, as a capture does.
	Blind Blindness
}

// Blindness is a set of fields a source cannot observe. A detector that needs
// one of them is off for that source rather than firing on the absence.
type Blindness uint8

// Fields a source may be blind to.
const (
	BlindHost Blindness = 1 << iota
	BlindOrigin
	BlindReferer
	BlindKey
)

// Has reports whether b includes all of f.
func (b Blindness) Has(f Blindness) bool { return b&f == f }

// Severity orders alerts by how much evidence backs them.
type Severity int

// Severities, lowest first.
const (
	SeverityLow Severity = iota
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"low", "medium", "high", "critical"}

// String returns the lower-case name used in JSON and on screen.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "unknown"
	}
	return severityNames[s]
}

// Detector names are part of the JSON contract.
const (
	DetUnexpectedHost = "unexpected_host"
	DetForeignOrigin  = "foreign_origin"
	DetKeyBurst       = "key_burst"
	DetKeySpread      = "key_spread"
	DetHostServed     = "host_served"

	DetDNSPrivateAnswer = "dns_private_answer"
	DetDNSRebind        = "dns_rebind"
	DetUnexpectedSNI    = "unexpected_sni"

	DetPrivateNetworkPreflight = "private_network_preflight"
	DetKeyStuffing             = "key_stuffing"
)

// Detectors lists the detector names in display order.
var Detectors = []string{DetUnexpectedHost, DetHostServed, DetForeignOrigin, DetKeyBurst, DetKeySpread, DetDNSPrivateAnswer,
	DetDNSRebind, DetUnexpectedSNI, DetPrivateNetworkPreflight, DetKeyStuffing}

// Alert is one raised finding. Count grows while further occurrences fall
// inside the de-duplication window.
type Alert struct {
	ID        uint64 // engine-assigned, increasing
	Time      time.Time
	LastSeen  time.Time
	Detector  string
	Severity  Severity
	Subject   string
	Dimension string // key_spread: "host" or "client"
	Key       string // key fingerprint
	Client    string // client IP
	Host      string
	Origin    string
	Target    string
	Status    int
	Message   string
	Outcome   string // how the server answered: served, blocked, other, unknown (Host and Origin alerts)
	Class     string // "rebinding_service", "rebinding", "scanner" or "foreign" (see Classify)
	Count     int
	Allowed   bool   // the operator allowed the subject after the alert was raised
	Incident  string // the incident it belongs to (see Incident)

	Tool  RebindTool   // the rebinding service the name belongs to, when it is one
	Addrs []netip.Addr // the addresses its name embeds (rebinding services)

	Keys     int // key_stuffing: distinct keys the client presented in the window
	Rejected int // key_stuffing: how many of its requests were refused (401, 403)

	Evidence []Request   // the requests that made it, oldest first, capped
	DNS      []DNSAnswer // DNS answers behind dns_* alerts, oldest first
	TLS      []TLSHello  // the ClientHello behind unexpected_sni
}

// Problem is one input the source could not turn into a request: a garbage
// log line, a truncated packet. Text is already sanitised for display.
type Problem struct {
	Source string // file name or "pcap"
	Where  string // "access.log:17" or "packet 1234"
	Text   string
}

// SourceState says what a source is doing, for the header and the summary.
type SourceState int

// Source states.
const (
	StateStarting SourceState = iota
	StateReplaying
	StateFollowing
	StateLive
	StatePaused
	StateDone
	StateFailed
	StateStopped // told to stop before its input ended; what it had read was reported
)

var stateNames = [...]string{"starting", "replaying", "following", "live", "paused", "done", "failed", "stopped"}

// String names the state.
func (s SourceState) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// Batch is what a source hands the engine: requests in event-time order plus
// the bookkeeping that must not be lost (parse errors, drops, progress).
// Counters are deltas since the source's previous batch.
type Batch struct {
	Source   string
	Requests []Request
	DNS      []DNSAnswer // DNS responses seen, in time order with the requests
	TLS      []TLSHello  // TLS ClientHellos seen, in time order

	ParseErrors uint64            // lines or messages that did not parse
	Dropped     uint64            // requests or packets lost (kernel drops, caps)
	Problems    []Problem         // a sample of what did not parse, sanitised
	Counters    map[string]uint64 // other source-specific counts (e.g. "truncated_packets"), deltas

	// Progress, when the source knows it (files). Absolute values.
	Done, Total int64
	State       SourceState
	Note        string // e.g. the log format auto-detection chose
	// Proposed is a log format (a --log-format value) that reads what the
	// one auto-detection chose leaves unread; "" for none. Absolute.
	Proposed string

	// Commit, when set, records that the source's input up to the end of
	// this batch has been dealt with (a log's offset, for --state; a
	// Kafka partition's, committed to its group). The engine calls it once
	// every request of this batch and of the batches before it has been
	// handed to the sinks and their BatchEnd returned without error, in
	// the order the batches arrived, on its own goroutine; never when a
	// sink failed. It must not block.
	Commit func()

	// Lag is how many records the source knows wait behind this batch (a
	// Kafka partition's high watermark minus the next offset), when
	// HasLag. Absolute.
	Lag    int64
	HasLag bool

	// Spare, when set, takes Requests back (emptied) once the engine has
	// observed them, so the source fills the same array again instead of
	// allocating one per batch: at a few hundred thousand requests a
	// second, fresh batches were most of what the process allocated, and
	// so what paced the garbage collector. A full Spare drops it.
	Spare chan<- []Request
}

// Recycle hands Requests back through Spare. Nothing may use them after:
// the engine copies what it keeps (the ring, the reorder heap), and sinks
// do not keep the *Request they are given.
func (b *Batch) Recycle() {
	if b.Spare == nil || cap(b.Requests) == 0 {
		return
	}
	clear(b.Requests) // what they point to is not kept alive by a spare array
	select {
	case b.Spare <- b.Requests[:0]:
	default:
	}
	b.Requests = nil
}

// KnownMethod returns the method named by b as a constant string when it is
// one of RFC 9110's registered methods (§9), so a source keeps no copy of the
// common ones; it returns "" for any other token.
func KnownMethod(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	case "CONNECT":
		return "CONNECT"
	case "TRACE":
		return "TRACE"
	}
	return ""
}
