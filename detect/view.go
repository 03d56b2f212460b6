package detect

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Snapshot copies the state: tables hold at most [limits] rows entries
// each, the most recently seen.
func (e *Engine) Snapshot() Snapshot { return e.SnapshotFor(Query{}) }

// SnapshotFor copies the state a view shows: each table's rows are the top
// [limits] rows of the query's sort among the rows matching its filter,
// over the whole table.
func (e *Engine) SnapshotFor(q Query) Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.eventTime
	if q.Now.After(now) {
		now = q.Now // a live source that went quiet: its rates fall
	}
	s := Snapshot{
		EventTime:        e.eventTime,
		Now:              now,
		Requests:         e.requests,
		RateNow:          e.rates.rate(now),
		History:          e.rates.history(now),
		AlertsByDetector: maps.Clone(e.byDetector),
		ParseErrors:      e.parseErrors,
		Dropped:          e.dropped,
		Evicted:          e.evictions(),
		Counters:         maps.Clone(e.counters),
		Problems:         slices.Clone(e.problems),
		Notes:            slices.Clone(e.notes),
		HostCheck:        e.hostCheck(),
		OriginCheck:      e.originCheck(),
		IncidentsOpened:  e.incidents.next,
		AllowedHosts:     e.allowedHosts(),
		AllowedOrigins:   e.allowedOrigins(),
		AddedHosts:       slices.Clone(e.added["host"]),
		AddedOrigins:     slices.Clone(e.added["origin"]),
	}
	s.Incidents = make([]Incident, 0, len(e.incidents.list))
	for i := len(e.incidents.list) - 1; i >= 0; i-- {
		s.Incidents = append(s.Incidents, e.incidents.list[i].clone())
	}
	s.Alerts = make([]Alert, 0, len(e.alerts))
	for i := len(e.alerts) - 1; i >= 0; i-- {
		a := *e.alerts[i]
		a.Evidence, a.DNS = nil, nil
		s.Alerts = append(s.Alerts, a)
	}
	rows := e.cfg.Limits.Rows
	s.Keys = e.keyRows(q.Keys, now, rows)
	s.Hosts = valueRows(e.hosts, q.Hosts, rows)
	s.Origins = valueRows(e.origins, q.Origins, rows)
	e.recentEach(func(r *Request) bool {
		s.Recent = append(s.Recent, *r)
		return len(s.Recent) < rows
	})
	for _, src := range e.sources {
		c := *src
		c.Off = slices.Clone(src.Off)
		s.Sources = append(s.Sources, c)
	}
	return s
}

func (e *Engine) evictions() map[string]uint64 {
	return map[string]uint64{
		"keys": e.keys.evicted,
		// keys evicted within the longest detector window of their last
		// request: bursts and spreads on them may be missed
		"keys_active": e.keys.evictedActive,
		"hosts":       e.hosts.evicted,
		"origins":     e.origins.evicted,
		"alerts":      e.alertsDropped,
		"incidents":   e.incidents.dropped,
		"dedupe":      e.dedupe.evicted,
	}
}

func (e *Engine) allowedHosts() []string {
	out := make([]string, 0, e.hostAllow.len())
	for _, p := range e.hostAllow.patterns {
		out = append(out, strings.TrimSpace(p.raw))
	}
	return out
}

func (e *Engine) allowedOrigins() []string {
	out := slices.Clone(e.cfg.AllowedOrigins)
	out = append(out, e.added["origin"]...)
	if e.cfg.AllowNull {
		out = append(out, "null")
	}
	return out
}

// countAt is the key's count of second sec; a key with one request has no
// keyRates yet, only that request's time.
func (k *keyState) countAt(sec int64) uint32 {
	if k.rates != nil {
		return k.rates.at(sec)
	}
	if floorDiv(k.first, int64(time.Second)) == sec {
		return 1
	}
	return 0
}

func (k *keyState) peak() uint32 {
	if k.rates != nil {
		return k.rates.peak
	}
	return 1
}

func (k *keyState) stat(now time.Time) KeyStat {
	return KeyStat{
		Key:       k.fp,
		Requests:  k.requests,
		RateNow:   rateOf(k.countAt, now),
		PeakRate:  float64(k.peak()),
		Hosts:     len(k.hosts),
		Clients:   len(k.clients),
		Origins:   len(k.origins),
		FirstSeen: time.Unix(0, k.first).UTC(),
		LastSeen:  time.Unix(0, k.last).UTC(),
		Fired:     k.firedNames(),
	}
}

// AlertDetail returns an alert by ID with its evidence.
func (e *Engine) AlertDetail(id uint64) (Alert, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.alerts {
		if a.ID == id {
			c := *a
			c.Evidence = slices.Clone(a.Evidence)
			c.DNS = slices.Clone(a.DNS)
			return c, true
		}
	}
	return Alert{}, false
}

// KeyDetail returns the drill-down of one key.
func (e *Engine) KeyDetail(fp string) (KeyDetail, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k, ok := e.keys.peek(fp)
	if !ok {
		return KeyDetail{}, false
	}
	d := KeyDetail{Key: fp, Stat: k.stat(e.eventTime), History: historyOf(k.countAt, e.eventTime)}
	for _, h := range k.hosts {
		d.Hosts = append(d.Hosts, Count{h.v, uint64(h.n)})
	}
	for _, c := range k.clients {
		d.Clients = append(d.Clients, Count{addrString(c.v), uint64(c.n)})
	}
	for _, o := range k.origins {
		d.Origins = append(d.Origins, Count{o.v, uint64(o.n)})
	}
	for _, l := range [][]Count{d.Hosts, d.Clients, d.Origins} {
		slices.SortFunc(l, func(a, b Count) int {
			if c := cmp.Compare(b.N, a.N); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
	}
	e.recentEach(func(r *Request) bool {
		if r.Key == fp {
			d.Recent = append(d.Recent, *r)
		}
		return len(d.Recent) < 100
	})
	return d, true
}

func addrString(a netip.Addr) string { return a.Unmap().String() }

// Summary is the end-of-run account written as the JSON summary line.
type Summary struct {
	Config      string // the config file the run loaded ("" for none), set by whoever runs the engine
	Requests    uint64
	Alerts      map[string]int
	Incidents   int // incidents opened
	ParseErrors uint64
	Dropped     uint64
	Evicted     map[string]uint64
	Counters    map[string]uint64
	HostCheck   string
	OriginCheck string
	Sources     []SourceStatus
	Problems    []Problem
}

// Summary returns the totals so far.
func (e *Engine) Summary() Summary {
	s := e.Snapshot()
	return Summary{
		Requests:    s.Requests,
		Alerts:      s.AlertsByDetector,
		ParseErrors: s.ParseErrors,
		Dropped:     s.Dropped,
		Evicted:     s.Evicted,
		Counters:    s.Counters,
		HostCheck:   s.HostCheck,
		OriginCheck: s.OriginCheck,
		Incidents:   int(s.IncidentsOpened),
		Sources:     s.Sources,
		Problems:    s.Problems,
	}
}
