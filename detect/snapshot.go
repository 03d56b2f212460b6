package detect

import "time"

// Snapshot is a copy of the engine's state for display. It shares nothing
// mutable with the engine; the UI may keep it as long as it likes.
type Snapshot struct {
	EventTime time.Time // latest event time seen
	Now       time.Time // the clock rates are measured at: EventTime, or the wall clock a live view asked for
	Requests  uint64
	RateNow   float64   // requests/s over the last second of event time
	History   []float64 // requests per second, oldest first, last 60 s of event time

	// Matched is how many requests match the query's pins and range
	// (Requests when it has none); Coverage.Matched says when it counts
	// only the recent requests.
	Matched uint64
	// Activity is requests (narrowed by the pins) and alerts by detector
	// over the query's span.
	Activity Activity
	// Coverage says, for a query with pins or a range, which answers may be
	// short and why.
	Coverage Coverage

	AlertsByDetector map[string]int // alerts raised, by detector
	Alerts           []Alert        // newest first, capped at [limits] alerts_kept
	Keys             []KeyStat      // the query's top rows of the keys table (capped at [limits] rows)
	Hosts            []ValueStat    // likewise of the Host values
	Origins          []ValueStat    // likewise of the Origins
	Recent           []Request      // newest first, capped at [limits] recent_requests

	Sources []SourceStatus
	// SourceRates are the busiest sources' request rates, when requests
	// name more than one (several logs; a fleet's producing hosts).
	SourceRates []SourceRate
	ParseErrors uint64
	Dropped     uint64
	Evicted     map[string]uint64 // evictions by table: "keys", "hosts", "origins", "alerts", ...
	Counters    map[string]uint64 // source counters summed (truncated_packets, ...)
	Problems    []Problem         // the first few inputs that did not parse
	Notes       []Problem         // the latest news from outside the sources (a config reload), oldest first
	NotesTotal  uint64            // notes in all: more than last time means Notes ends with new ones

	HostCheck       string     // "" when on; otherwise why it is off
	OriginCheck     string     // likewise for Origins
	Incidents       []Incident // newest first, capped like the alerts
	IncidentsOpened uint64     // incidents opened in all
	AllowedHosts    []string   // current [hosts] allowed, including additions of this run
	AllowedOrigins  []string
	AddedHosts      []string // allowed during this run, not yet written to the config
	AddedOrigins    []string
}

// KeyStat is one key fingerprint's row in the keys table.
type KeyStat struct {
	Key       string
	Requests  uint64
	RateNow   float64 // requests/s over the last second of event time
	PeakRate  float64 // highest one-second rate seen
	Hosts     int     // distinct Host values in the spread window (capped)
	Clients   int     // distinct client addresses in the spread window (capped)
	Origins   int     // distinct Origins seen (capped)
	FirstSeen time.Time
	LastSeen  time.Time
	Fired     []string // detectors that raised an alert naming this key
}

// ValueStat is one Host or Origin value's row.
type ValueStat struct {
	Value       string // normalised
	Requests    uint64
	Keys        int // distinct keys seen with it (capped)
	Allowed     bool
	LastSeen    time.Time
	FromReferer bool // an origin seen only in Referers (check_referer), never in an Origin header
}

// SourceStatus is one source's state for the header.
type SourceStatus struct {
	Name        string
	State       SourceState
	Done, Total int64 // progress in bytes when known
	Requests    uint64
	DNS         uint64 // DNS answers it delivered (captures, Zeek, Suricata)
	TLS         uint64 // TLS ClientHellos it delivered
	ParseErrors uint64
	Dropped     uint64
	Note        string
	Proposed    string    // a log format that would read what this source's leaves unread (see Batch.Proposed)
	Off         []string  // detectors this source cannot feed, with the reason (as the summary writes it)
	Blind       []Blind   // the same, as data: nil until the source's first request
	Lacks       Blindness // the fields it cannot see (valid once Off is not nil)
	Lag         int64     // records waiting behind what was read (Kafka), when HasLag
	HasLag      bool
}

// Blind is what a source cannot feed: the detectors that need a field
// the source does not have.
type Blind struct {
	Detectors []string
	Field     string // "Host", "Origin", "key"
}

// KeyDetail is the drill-down of one key.
type KeyDetail struct {
	Key     string
	Stat    KeyStat
	Hosts   []Count // values with counts, most first
	Clients []Count // client IPs
	Origins []Count
	History []float64 // requests per second over the last 60 s of event time
	Recent  []Request // newest first
}

// Count is a value with how often it was seen.
type Count struct {
	Value string
	N     uint64
}
