package detect

import (
	"cmp"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Snapshot copies the state: tables hold at most [limits] rows entries
// each, the most recently seen.
func (e *Engine) Snapshot() Snapshot { return e.SnapshotFor(Query{}) }

// SnapshotFor copies the state a view shows: each table's rows are the top
// [limits] rows of the query's sort among the rows matching its filter,
// over the whole table; pins and a range narrow every table (pivot.go);
// the timeline covers the query's span.
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
		Matched:          e.requests,
		RateNow:          rateOf(e.history.perSecond, now),
		History:          historyOf(e.history.perSecond, now),
		SourceRates:      e.bySource.top(now, maxSourceRatesShown),
		AlertsByDetector: maps.Clone(e.byDetector),
		ParseErrors:      e.parseErrors,
		Dropped:          e.dropped,
		Evicted:          e.evictions(),
		Counters:         e.countersWithSinks(),
		Problems:         slices.Clone(e.problems),
		Notes:            slices.Clone(e.notes),
		NotesTotal:       e.notesTotal,
		HostCheck:        e.hostCheck(),
		OriginCheck:      e.originCheck(),
		IncidentsOpened:  e.incidents.next,
		AllowedHosts:     e.allowedHosts(),
		AllowedOrigins:   e.allowedOrigins(),
		AddedHosts:       slices.Clone(e.added["host"]),
		AddedOrigins:     slices.Clone(e.added["origin"]),
	}
	var nar *narrower
	if q.narrows() {
		nar = e.newNarrower(&q)
	}
	rows, recent := e.cfg.Limits.Rows, e.cfg.Limits.Rows
	if q.All {
		rows, recent = e.keys.len()+e.hosts.len()+e.origins.len()+1, len(e.recent)
	}
	s.Keys = e.keyRows(q.Keys, now, rows, nar, &s.Coverage.Keys)
	s.Hosts = valueRows(PinHost, e.hosts, q.Hosts, rows, nar, &s.Coverage.Hosts)
	s.Origins = valueRows(PinOrigin, e.origins, q.Origins, rows, nar, &s.Coverage.Origins)
	e.recentEach(func(r *Request) bool {
		if nar == nil || nar.request(r) {
			s.Recent = append(s.Recent, *r)
		}
		return len(s.Recent) < recent
	})
	matched := map[string]bool{} // incidents with a matching alert
	s.Alerts = make([]Alert, 0, len(e.alerts))
	for i := len(e.alerts) - 1; i >= 0; i-- {
		if nar != nil && !nar.alert(e.alerts[i]) {
			continue
		}
		a := *e.alerts[i]
		a.Evidence, a.DNS, a.TLS = nil, nil, nil
		s.Alerts = append(s.Alerts, a)
		matched[a.Incident] = true
	}
	s.Incidents = make([]Incident, 0, len(e.incidents.list))
	for i := len(e.incidents.list) - 1; i >= 0; i-- {
		if inc := e.incidents.list[i]; nar == nil || nar.incident(inc, matched) {
			s.Incidents = append(s.Incidents, inc.clone())
		}
	}
	s.Activity = e.activityFrame(q.Span, q.Buckets, now)
	if nar == nil {
		e.fillRequests(&s.Activity)
		e.fillAlerts(&s.Activity, func(*Alert) bool { return true })
	} else {
		e.narrowed(&s, nar)
	}
	for _, src := range e.sources {
		c := *src
		c.Off, c.Blind = slices.Clone(src.Off), slices.Clone(src.Blind)
		s.Sources = append(s.Sources, c)
	}
	return s
}

// narrowed fills what a narrowed snapshot says beside its tables: the
// requests matched, the timeline of the pinned traffic, and how complete
// each answer is.
func (e *Engine) narrowed(s *Snapshot, nar *narrower) {
	nar.explain(&s.Coverage.Keys, "keys")
	nar.explain(&s.Coverage.Hosts, "Hosts")
	nar.explain(&s.Coverage.Origins, "Origins")
	s.Coverage.Requests = nar.ringPartial("these are the recent requests that match")
	if e.alertsDropped > 0 {
		s.Coverage.Alerts.Why = "alerts and incidents from the list kept: " + strconv.FormatUint(e.alertsDropped, 10) +
			" alerts were evicted ([limits] alerts)"
	}
	// The timeline shows its whole window: the pins narrow it, not the range.
	tl := &s.Activity
	if len(nar.pins) == 0 {
		e.fillRequests(tl)
	} else {
		e.recentEach(func(r *Request) bool {
			if b := tl.Bucket(r.Time); b >= 0 && e.protected(r.Server) && nar.requestPins(r) {
				tl.Requests[b]++
			}
			return true
		})
	}
	e.fillAlerts(tl, nar.alertPins)
	s.Matched = nar.ringMatched
	exact := nar.ringAll
	if p, ok := nar.onePin(); ok && !nar.ranged {
		// One pin on a table of its own kind: the table counts it exactly.
		switch p.Kind {
		case PinKey:
			if k, ok := e.keys.peek(p.Value); ok {
				s.Matched, exact = k.requests, true
			}
		case PinHost, PinOrigin:
			t := e.hosts
			if p.Kind == PinOrigin {
				t = e.origins
			}
			if v, ok := t.peek(p.Value); ok {
				s.Matched, exact = v.requests, true
			}
		}
	}
	if len(nar.pins) == 0 {
		if s.Matched, exact = e.countRange(nar.from, nar.to); !exact {
			s.Coverage.Matched.Why = "the count before " + time.Unix(e.history.hourFrom(), 0).UTC().Format("15:04:05") +
				" spreads the requests of each " + (time.Duration(e.history.width) * time.Second).String() +
				" of the run evenly over it"
		}
	}
	if !exact && s.Coverage.Matched.Why == "" {
		s.Coverage.Matched.Why = "the count is of the recent requests that match: " + nar.ringText()
	}
	if e.recentLost > 0 && !tl.Start.After(e.recentLostUntil) && len(nar.pins) > 0 {
		s.Coverage.Activity.Why = "the pinned timeline before " + e.recentLostUntil.Format("15:04:05") + " is missing: " + nar.ringText()
	}
}

// countRange counts the requests in [from, to): exactly within the last
// hour, by the run's buckets before it (see runHistory.requests).
func (e *Engine) countRange(from, to time.Time) (uint64, bool) {
	if from.IsZero() && to.IsZero() {
		return e.requests, true
	}
	lo, hi := int64(math.MinInt64), to.Unix()
	if !from.IsZero() {
		lo = from.Unix()
	}
	if to.IsZero() || to.After(e.eventTime) {
		hi = e.eventTime.Unix() + 1
	}
	n, exact := e.history.requests(lo, hi)
	return uint64(math.Round(n)), exact
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

// maxSourceRatesShown is how many sources' rates a snapshot carries.
const maxSourceRatesShown = 8

// countersWithSinks is the sources' counters and the sinks' own (a queued
// output's drops), nonzero ones only.
func (e *Engine) countersWithSinks() map[string]uint64 {
	c := maps.Clone(e.counters)
	for _, k := range e.sinks.counting {
		k.Counts(func(name string, n uint64) {
			if n > 0 {
				c[name] += n
			}
		})
	}
	return c
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
