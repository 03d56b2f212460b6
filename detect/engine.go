package detect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Sink receives what the engine emits, on the engine's goroutine, in order.
// An error stops the engine (a closed pipe, a full disk). A sink may also
// implement BatchEnd() error (called after each batch), Problem(Problem)
// (each kept unparsed input) and Note(source, note string) (a source's
// status note, such as the log format it detected).
type Sink interface {
	Request(r *Request) error
	Alert(a *Alert) error
}

// detector is one detection rule. It sees every request with the engine's
// per-request observation and raises alerts through Engine.raise.
type detector interface {
	name() string
	observe(e *Engine, o *observation)
}

// newDetectors registers the detectors, one line each.
func newDetectors(cfg Config) []detector {
	return []detector{
		&hostDetector{},
		&servedDetector{},
		&originDetector{},
		&burstDetector{window: cfg.BurstWindow, max: cfg.BurstMax},
		&spreadDetector{window: cfg.SpreadWindow, maxHosts: cfg.SpreadMaxHosts, maxClients: cfg.SpreadMaxClients},
		&rebindDetector{},
	}
}

// observation is one request with what the engine worked out about it once,
// shared by the detectors and the tables.
type observation struct {
	r             *Request
	host          string // normalised Host, "" when absent
	hostAllowed   bool
	origin        string // normalised Origin, or the Referer's origin (fromReferer)
	fromReferer   bool
	originAllowed bool
	key           *keyState // nil when the request carries no key
	client        netip.Addr
}

// Engine runs the detectors over batches of requests and keeps the tables
// the dashboard shows. One goroutine feeds it (Run or Observe); Snapshot and
// the controls may be called from any goroutine. The lock is taken once per
// batch, never per request.
type Engine struct {
	mu sync.Mutex

	cfg       Config
	hostAllow hostAllowlist
	origAllow originAllowlist
	added     map[string][]string // "host"/"origin" -> values allowed during this run
	detectors []detector
	sinks     []Sink

	keys    *lru[string, *keyState]
	hosts   *lru[string, *valueState]
	origins *lru[string, *valueState]
	dedupe  *lru[dedupeKey, *Alert]

	dnsNames *lru[string, *dnsName]
	dnsCount uint64
	tlsCount uint64

	alerts        []*Alert // oldest first, capped
	alertsDropped uint64
	recent        []Request // ring, capped
	recentNext    int

	requests   uint64
	byDetector map[string]int
	rates      secondRing
	eventTime  time.Time
	nextID     uint64

	sources     []*SourceStatus
	parseErrors uint64
	dropped     uint64
	counters    map[string]uint64
	problems    []Problem
	sinkErr     error       // first sink failure; stops the engine
	obs         observation // scratch for the request being observed
	reorder     reorderer   // held requests when a reorder window is set
}

// maxProblems is how many unparsed inputs are kept for display.
const maxProblems = 20

// NewEngine returns an engine for cfg; cfg must have passed Validate.
func NewEngine(cfg Config, sinks ...Sink) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hosts, _ := compileHosts(cfg.AllowedHosts)
	origins, _ := compileOrigins(cfg.AllowedOrigins)
	l := cfg.Limits
	e := &Engine{
		cfg:        cfg,
		hostAllow:  hosts,
		origAllow:  origins,
		added:      map[string][]string{},
		detectors:  newDetectors(cfg),
		sinks:      sinks,
		keys:       newLRU[string, *keyState](l.Keys, nil),
		hosts:      newLRU[string, *valueState](l.Values, nil),
		origins:    newLRU[string, *valueState](l.Values, nil),
		dedupe:     newLRU[dedupeKey, *Alert](l.DedupeKeys, nil),
		dnsNames:   newLRU[string, *dnsName](l.Values, nil),
		byDetector: map[string]int{},
		counters:   map[string]uint64{},
	}
	for _, d := range Detectors {
		e.byDetector[d] = 0
	}
	return e, nil
}

// Run consumes batches until in is closed or ctx ends. It returns the first
// sink error, or ctx's error.
//
// With a reorder window (SetReorder), requests are held until the newest
// event time seen is a window past them, then observed in time order, so
// several sources that deliver slightly out of step (log files written by
// different workers) give the same alerts as one merged stream. Whatever is
// held is released when input pauses (idle) and at the end.
func (e *Engine) Run(ctx context.Context, in <-chan Batch) error {
	idle := time.NewTicker(reorderIdle)
	defer idle.Stop()
	busy := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-idle.C:
			if !busy {
				if err := e.release(true); err != nil {
					return err
				}
			}
			busy = false
		case b, ok := <-in:
			if !ok {
				return e.release(true)
			}
			busy = true
			if err := e.Observe(&b); err != nil {
				return err
			}
		}
	}
}

// reorderIdle is how long input must pause before held requests are released.
const reorderIdle = 250 * time.Millisecond

// SetReorder sets the reorder window (0, the default, observes requests in
// arrival order). Call it before Run.
func (e *Engine) SetReorder(window time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reorder.window = window
}

// Observe processes one batch.
func (e *Engine) Observe(b *Batch) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.account(b)
	if e.reorder.window > 0 {
		// DNS answers go first: a rebinding answer precedes the requests it steers.
		for i := range b.DNS {
			e.observeDNS(&b.DNS[i])
		}
		for i := range b.TLS {
			e.observeTLS(&b.TLS[i])
		}
		e.reorder.push(b.Requests)
		return e.releaseLocked(false)
	}
	d := 0
	for i := range b.Requests {
		for ; d < len(b.DNS) && !b.DNS[d].Time.After(b.Requests[i].Time); d++ {
			e.observeDNS(&b.DNS[d])
		}
		if err := e.observe(&b.Requests[i]); err != nil {
			return err
		}
	}
	for ; d < len(b.DNS); d++ {
		e.observeDNS(&b.DNS[d])
	}
	for i := range b.TLS {
		e.observeTLS(&b.TLS[i])
	}
	if e.sinkErr != nil {
		return e.sinkErr
	}
	return e.batchEnd()
}

// release observes the held requests that are due (all of them with all).
func (e *Engine) release(all bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.releaseLocked(all)
}

func (e *Engine) releaseLocked(all bool) error {
	if e.reorder.len() == 0 {
		return nil
	}
	for {
		r, ok := e.reorder.pop(all)
		if !ok {
			break
		}
		if err := e.observe(&r); err != nil {
			return err
		}
	}
	return e.batchEnd()
}

func (e *Engine) batchEnd() error {
	for _, s := range e.sinks {
		if f, ok := s.(interface{ BatchEnd() error }); ok {
			if err := f.BatchEnd(); err != nil {
				return err
			}
		}
	}
	return nil
}

// account folds a batch's bookkeeping into the source's status.
func (e *Engine) account(b *Batch) {
	src := e.source(b.Source)
	src.State = b.State
	if b.Total > 0 || b.Done > 0 {
		src.Done, src.Total = b.Done, b.Total
	}
	if b.Note != "" && b.Note != src.Note {
		src.Note = b.Note
		for _, s := range e.sinks {
			if n, ok := s.(interface{ Note(source, note string) }); ok {
				n.Note(b.Source, Sanitize(b.Note))
			}
		}
	}
	src.Requests += uint64(len(b.Requests))
	src.ParseErrors += b.ParseErrors
	src.Dropped += b.Dropped
	e.parseErrors += b.ParseErrors
	e.dropped += b.Dropped
	for k, v := range b.Counters {
		e.counters[k] += v
	}
	for _, p := range b.Problems {
		if len(e.problems) >= maxProblems {
			break
		}
		// Problems quote raw input: hide credentials in columns no parser found.
		p.Text = Sanitize(RedactSecrets(p.Text, e.cfg.RedactQuery))
		p.Where = Sanitize(p.Where)
		e.problems = append(e.problems, p)
		for _, s := range e.sinks {
			if h, ok := s.(interface{ Problem(Problem) }); ok {
				h.Problem(p)
			}
		}
	}
	if len(b.Requests) > 0 && src.Off == nil {
		src.Off = e.blindness(b.Requests[0].Blind)
	}
}

func (e *Engine) source(name string) *SourceStatus {
	for _, s := range e.sources {
		if s.Name == name {
			return s
		}
	}
	s := &SourceStatus{Name: name}
	e.sources = append(e.sources, s)
	return s
}

// blindness explains which detectors a source cannot feed.
func (e *Engine) blindness(b Blindness) []string {
	off := []string{}
	if b.Has(BlindHost) {
		off = append(off, DetUnexpectedHost+": the source has no Host field")
	}
	if b.Has(BlindOrigin) && (b.Has(BlindReferer) || !e.cfg.CheckReferer) {
		off = append(off, DetForeignOrigin+": the source has no Origin field")
	}
	if b.Has(BlindKey) {
		off = append(off, DetKeyBurst+", "+DetKeySpread+": the source has no key field")
	}
	return off
}

func (e *Engine) observe(r *Request) error {
	// Keys sent in the query must not reach any output: redact them once,
	// here, before the request is kept, shown or written.
	r.Target = RedactQuery(r.Target, e.cfg.RedactQuery)
	r.Referer = RedactQuery(r.Referer, e.cfg.RedactQuery)
	e.requests++
	if r.Time.After(e.eventTime) {
		e.eventTime = r.Time
	}
	e.rates.add(r.Time)
	e.remember(r)

	// The observation lives in the engine: detectors take its address
	// through an interface, which would otherwise move it to the heap.
	o := &e.obs
	*o = observation{r: r, client: r.Client.Addr()}
	switch {
	case r.URIHost != "":
		// An absolute-form target's authority overrides the Host header.
		o.host = NormalizeHost(r.URIHost)
		o.hostAllowed = e.hostAllow.allows(o.host)
	case r.HasHost:
		o.host = NormalizeHost(r.Host)
		o.hostAllowed = e.hostAllow.allows(o.host)
	}
	if r.HasOrigin {
		o.origin = NormalizeOrigin(r.Origin)
	} else if e.cfg.CheckReferer && r.Referer != "" {
		if o.origin = RefererOrigin(r.Referer); o.origin != "" {
			o.fromReferer = true
		}
	}
	if o.origin != "" {
		o.originAllowed = e.originAllowed(o.origin)
	}
	if r.Key != "" {
		o.key = e.keyFor(r)
	}
	e.tally(o)

	for _, s := range e.sinks {
		if err := s.Request(r); err != nil {
			return err
		}
	}
	for _, d := range e.detectors {
		d.observe(e, o)
	}
	return e.sinkErr
}

func (e *Engine) originAllowed(origin string) bool {
	if origin == "null" && e.cfg.AllowNull {
		return true
	}
	return e.origAllow.allows(origin)
}

// remember keeps r in the recent ring.
func (e *Engine) remember(r *Request) {
	if len(e.recent) < e.cfg.Limits.Recent {
		e.recent = append(e.recent, *r)
		return
	}
	e.recent[e.recentNext] = *r
	e.recentNext = (e.recentNext + 1) % len(e.recent)
}

// recentEach visits the recent requests newest first until f returns false.
func (e *Engine) recentEach(f func(*Request) bool) {
	n := len(e.recent)
	for i := 0; i < n; i++ {
		j := (e.recentNext - 1 - i + 2*n) % n
		if len(e.recent) < e.cfg.Limits.Recent {
			j = n - 1 - i
		}
		if !f(&e.recent[j]) {
			return
		}
	}
}

// dedupeKey identifies an alert for de-duplication.
type dedupeKey struct {
	detector, subject, dimension string
}

// raise records an occurrence of (detector, subject, dimension). The first
// one, or the first after the de-duplication window, emits a new alert;
// others inside it raise its count and add evidence.
func (e *Engine) raise(o *observation, a Alert, evidence func() []Request) {
	dk := dedupeKey{a.Detector, a.Subject, a.Dimension}
	t := o.r.Time
	if prev, ok := e.dedupe.get(dk); ok && t.Sub(prev.Time) < e.cfg.Dedupe && t.Sub(prev.Time) >= -e.cfg.Dedupe {
		prev.Count++
		if t.After(prev.LastSeen) {
			prev.LastSeen = t
		}
		if a.Severity > prev.Severity {
			prev.Severity = a.Severity
		}
		if len(prev.Evidence) < e.cfg.Limits.Evidence {
			prev.Evidence = append(prev.Evidence, *o.r)
		}
		return
	}
	e.nextID++
	a.ID = e.nextID
	a.Time, a.LastSeen, a.Count = t, t, 1
	if a.Client == "" && o.client.IsValid() {
		a.Client = o.client.String()
	}
	if a.Target == "" {
		a.Target = o.r.Target
	}
	if a.Status == 0 {
		a.Status = o.r.Status
	}
	if evidence != nil {
		a.Evidence = evidence()
	} else {
		a.Evidence = []Request{*o.r}
	}
	if a.Detector == DetUnexpectedHost && e.allowedAdded("host", a.Subject) ||
		a.Detector == DetForeignOrigin && e.allowedAdded("origin", a.Subject) {
		a.Allowed = true
	}
	p := &a
	e.dedupe.put(dk, p)
	e.byDetector[a.Detector]++
	if len(e.alerts) >= e.cfg.Limits.Alerts {
		// Drop the oldest eighth at once: shifting the list for every new
		// alert would cost a copy of it per alert during a flood.
		n := max(1, min(len(e.alerts), e.cfg.Limits.Alerts/8))
		e.alerts = slices.Delete(e.alerts, 0, n)
		e.alertsDropped += uint64(n)
	}
	e.alerts = append(e.alerts, p)
	if o.key != nil {
		o.key.fire(a.Detector)
	}
	for _, s := range e.sinks {
		if err := s.Alert(p); err != nil && e.sinkErr == nil {
			e.sinkErr = err
		}
	}
}

func (e *Engine) allowedAdded(kind, v string) bool {
	return slices.Contains(e.added[kind], v)
}

// keyEvidence returns the most recent requests of key, oldest first.
func (e *Engine) keyEvidence(key string, current *Request) []Request {
	var out []Request
	max := e.cfg.Limits.Evidence
	e.recentEach(func(r *Request) bool {
		if r.Key == key {
			out = append(out, *r)
		}
		return len(out) < max
	})
	if len(out) == 0 {
		out = append(out, *current)
	}
	slices.Reverse(out)
	return out
}

// Allow adds a Host ("host") or Origin ("origin") to the allowlist for this
// run. Alerts it caused stay, marked Allowed.
func (e *Engine) Allow(kind, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch kind {
	case "host":
		value = NormalizeHost(value)
		p, err := compileHostPattern(value)
		if err != nil || e.hostAllow.allows(value) {
			return
		}
		e.hostAllow = append(e.hostAllow, p)
		e.added[kind] = append(e.added[kind], value)
		e.markAllowed(DetUnexpectedHost, value)
		e.hosts.each(func(k string, v *valueState) bool {
			v.allowed = e.hostAllow.allows(k)
			return true
		})
	case "origin":
		value = NormalizeOrigin(value)
		if e.originAllowed(value) {
			return
		}
		e.origAllow = append(e.origAllow, originPattern{exact: value})
		e.added[kind] = append(e.added[kind], value)
		e.markAllowed(DetForeignOrigin, value)
		if o, ok := e.origins.peek(value); ok {
			o.allowed = true
		}
	}
}

func (e *Engine) markAllowed(det, subject string) {
	for _, a := range e.alerts {
		if a.Detector == det && a.Subject == subject {
			a.Allowed = true
		}
	}
}

// ClearAlerts empties the alert list shown on screen; totals stay.
func (e *Engine) ClearAlerts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alerts = nil
}

// hostCheck says why the Host check is off, or "" when it is on.
func (e *Engine) hostCheck() string {
	if len(e.hostAllow) == 0 {
		return "off: no allowed hosts configured ([hosts] allowed or --allow-host)"
	}
	return ""
}

// String summarises the engine for debugging.
func (e *Engine) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("engine: %d requests, %d keys, %d alerts", e.requests, e.keys.len(), len(e.alerts))
}

// Reload replaces the configuration (SIGHUP). Allowlist additions made during
// this run are kept; tables, alerts and counts are kept; burst windows start
// afresh because their ring sizes follow max_requests. A config that does not
// validate is refused and the old one stays.
func (e *Engine) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	hosts, _ := compileHosts(cfg.AllowedHosts)
	origins, _ := compileOrigins(cfg.AllowedOrigins)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range e.added["host"] {
		if p, err := compileHostPattern(v); err == nil {
			hosts = append(hosts, p)
		}
	}
	for _, v := range e.added["origin"] {
		origins = append(origins, originPattern{exact: v})
	}
	cfg.Limits = e.cfg.Limits // caps size live tables; they change on restart only
	e.cfg, e.hostAllow, e.origAllow = cfg, hosts, origins
	e.detectors = newDetectors(cfg)
	e.keys.each(func(_ string, k *keyState) bool {
		k.burst = burstState{}
		return true
	})
	e.hosts.each(func(v string, s *valueState) bool {
		s.allowed = e.hostAllow.allows(v)
		return true
	})
	e.origins.each(func(v string, s *valueState) bool {
		s.allowed = e.originAllowed(v)
		return true
	})
	return nil
}

// Report records a problem that did not come from a source batch (a config
// reload that failed), for the dashboard and the stderr reporter.
func (e *Engine) Report(p Problem) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.account(&Batch{Source: p.Source, Problems: []Problem{p}, State: e.source(p.Source).State})
}
