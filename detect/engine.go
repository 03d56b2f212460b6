package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Engine runs the detectors over batches of events and keeps the tables the
// dashboard shows. One goroutine feeds it (Run or Observe) and the sinks
// run on that goroutine; Snapshot and the controls may be called from any
// goroutine. The lock is taken once per batch, never per request, and is
// released before the sinks run.
type Engine struct {
	mu sync.Mutex

	cfg       Config
	hostAllow hostAllowlist
	origAllow originAllowlist
	added     map[string][]string // "host"/"origin" -> values allowed during this run
	detectors []detector
	slots     slotAlloc // per-key detector state positions
	sinks     sinks
	out       outbox   // what this batch emits, handed to the sinks after unlock
	spare     []output // the outbox's last delivered buffer, reused (engine goroutine only)
	obs       observation
	ev        event
	// The last Host and Origin normalized: most requests carry the same
	// ones as the request before.
	hostMemo, originMemo memo

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
	// Requests overwritten in the ring, and the latest event time among
	// them: a pivot over later times can rely on the ring alone.
	recentLost      uint64
	recentLostUntil time.Time

	requests   uint64
	byDetector map[string]int
	history    runHistory // the run over event time: rates, the timeline, the report's charts
	eventTime  time.Time
	nextID     uint64

	sources     []*SourceStatus
	parseErrors uint64
	dropped     uint64
	counters    map[string]uint64
	problems    []Problem
	notes       []Problem // news from outside the sources (Note), the latest few
	notesTotal  uint64    // Note calls in all, so a reader of the latest few sees which are new
	incidents   incidents
	bySource    sourceRates // requests per second by Request.Source
	reorder     reorderer   // held requests when a reorder window is set
	released    []Request   // requests the reorderer let go in this batch
	commits     commits     // the sources' Batch.Commit callbacks not yet run

	stuffing *stuffingDetector // its client table is warmed with the engine's (warm)
	warmSink uint64
}

// maxProblems is how many unparsed inputs are kept for display.
const maxProblems = 20

// NewEngine returns an engine for cfg that reports to sinks (see Sink).
func NewEngine(cfg Config, sinks ...Sink) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := resolveSinks(sinks)
	if err != nil {
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
		sinks:      s,
		keys:       newLRU[string, *keyState](l.Keys, hashString),
		hosts:      newLRU[string, *valueState](l.Values, hashString),
		origins:    newLRU[string, *valueState](l.Values, hashString),
		dedupe:     newLRU[dedupeKey, *Alert](l.DedupeKeys, hashDedupe),
		dnsNames:   newLRU[string, *dnsName](l.Values, hashString),
		byDetector: map[string]int{},
		counters:   map[string]uint64{},
		incidents:  newIncidents(l),
	}
	e.detectors = newDetectors(cfg, &e.slots)
	e.stuffing = findStuffing(e.detectors)
	for _, d := range Detectors {
		e.byDetector[d] = 0
	}
	return e, nil
}

// Run consumes batches until in is closed: a source that stops drains and
// flushes first, and all of that is observed. It returns nil then, or the
// first sink error at once (the caller stops the sources and drains in).
//
// With a reorder window (SetReorder), requests are held until the newest
// event time seen is a window past them, then observed in time order, so
// several sources that deliver slightly out of step (log files written by
// different workers) give the same alerts as one merged stream. Whatever is
// held is released when input pauses (idle) and at the end.
func (e *Engine) Run(in <-chan Batch) error {
	idle := time.NewTicker(reorderIdle)
	defer idle.Stop()
	busy := false
	for {
		select {
		case <-idle.C:
			if !busy {
				if err := e.idle(); err != nil {
					return err
				}
			}
			busy = false
		case b, ok := <-in:
			if !ok {
				return e.release()
			}
			busy = true
			if err := e.Observe(&b); err != nil {
				return err
			}
			b.Recycle()
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

// SetIncidentPrefix sets what incident IDs start with ("inc-" by
// default), so the engines of a fleet's processes, which number their
// incidents each on its own, give IDs that do not collide. Call it before
// Run.
func (e *Engine) SetIncidentPrefix(p string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.incidents.prefix = p
}

// Observe processes one batch and hands what it emits to the sinks.
func (e *Engine) Observe(b *Batch) error {
	e.mu.Lock()
	e.account(b)
	held := 0
	if e.reorder.window > 0 {
		held = len(b.Requests)
	}
	id := e.commits.add(b, held)
	if e.reorder.window > 0 {
		// DNS answers go first: a rebinding answer precedes the requests it steers.
		for i := range b.DNS {
			e.observeDNS(&b.DNS[i])
		}
		for i := range b.TLS {
			e.observeTLS(&b.TLS[i])
		}
		e.reorder.push(b.Requests, id)
		e.releaseDue(false)
	} else {
		d := 0
		for i := range b.Requests {
			if i%warmRun == 0 {
				e.warm(b.Requests[i:])
			}
			for ; d < len(b.DNS) && !b.DNS[d].Time.After(b.Requests[i].Time); d++ {
				e.observeDNS(&b.DNS[d])
			}
			e.observe(&b.Requests[i])
		}
		for ; d < len(b.DNS); d++ {
			e.observeDNS(&b.DNS[d])
		}
		for i := range b.TLS {
			e.observeTLS(&b.TLS[i])
		}
	}
	return e.unlockAndDeliver()
}

// idle releases held requests and delivers what arrived outside a batch
// (reports), when input has paused.
func (e *Engine) idle() error {
	e.mu.Lock()
	e.releaseDue(true)
	return e.unlockAndDeliver()
}

// release observes every held request (the end of input).
func (e *Engine) release() error { return e.idle() }

// releaseDue observes the held requests that are due (all of them with all).
func (e *Engine) releaseDue(all bool) {
	e.released = e.released[:0]
	for {
		r, batch, ok := e.reorder.pop(all)
		if !ok {
			break
		}
		e.released = append(e.released, r)
		e.commits.released(batch)
	}
	// Observed only once collected: the outbox points into e.released.
	for i := range e.released {
		if i%warmRun == 0 {
			e.warm(e.released[i:])
		}
		e.observe(&e.released[i])
	}
}

// unlockAndDeliver releases the lock, then hands the outbox to the sinks,
// then runs the sources' commits that this made due. It must be called
// with e.mu held.
func (e *Engine) unlockAndDeliver() error {
	items := e.out.items
	dirty := e.out.dirty
	e.out = outbox{items: e.spare[:0]}
	e.commits.due()
	e.mu.Unlock()
	if !dirty {
		e.spare = items
		e.commits.run()
		return nil
	}
	err := e.sinks.deliver(items)
	clear(items) // drop the references to this batch
	e.spare = items[:0]
	if err != nil {
		e.commits.drop()
		return err
	}
	e.commits.run()
	return nil
}

// account folds a batch's bookkeeping into the source's status.
func (e *Engine) account(b *Batch) {
	src := e.source(b.Source)
	src.State = b.State
	if b.Total > 0 || b.Done > 0 {
		src.Done, src.Total = b.Done, b.Total
	}
	if b.Proposed != "" {
		src.Proposed = b.Proposed
	}
	if b.Note != "" && b.Note != src.Note {
		src.Note = b.Note
		e.out.add(output{note: &[2]string{b.Source, b.Note}})
	}
	src.Requests += uint64(len(b.Requests))
	src.DNS += uint64(len(b.DNS))
	src.TLS += uint64(len(b.TLS))
	src.ParseErrors += b.ParseErrors
	src.Dropped += b.Dropped
	e.parseErrors += b.ParseErrors
	e.dropped += b.Dropped
	for k, v := range b.Counters {
		e.counters[k] += v
	}
	for _, p := range b.Problems {
		e.keepProblem(p)
	}
	if b.HasLag {
		src.Lag, src.HasLag = b.Lag, true
	}
	if len(b.Requests) > 0 && src.Off == nil {
		src.Lacks = b.Requests[0].Blind
		src.Blind = e.blindness(src.Lacks)
		src.Off = make([]string, len(src.Blind))
		for i, bl := range src.Blind {
			src.Off[i] = strings.Join(bl.Detectors, ", ") + ": the source has no " + bl.Field + " field"
		}
	}
}

// keepProblem keeps an unparsed input for display (the first few) and
// hands it to the sinks.
func (e *Engine) keepProblem(p Problem) {
	if len(e.problems) >= maxProblems {
		return
	}
	e.problems = append(e.problems, p)
	e.out.add(output{problem: &p})
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

// blindness says which detectors a source cannot feed and why.
func (e *Engine) blindness(b Blindness) []Blind {
	off := []Blind{}
	if b.Has(BlindHost) {
		off = append(off, Blind{[]string{DetUnexpectedHost}, "Host"})
	}
	if b.Has(BlindOrigin) && (b.Has(BlindReferer) || !e.cfg.CheckReferer) {
		off = append(off, Blind{[]string{DetForeignOrigin}, "Origin"})
	}
	if b.Has(BlindKey) {
		off = append(off, Blind{[]string{DetKeyBurst, DetKeySpread}, "key"})
	}
	return off
}

// observe works a request out once, updates the tables and hands it to the
// detectors. A request to a server that is not protected (a capture of a
// gateway holds the attacker's own server's traffic too) is kept for the
// timelines and counted, and nothing else: its key, Host and answer are
// not our API's.
func (e *Engine) observe(r *Request) {
	if !e.protected(r.Server) {
		e.remember(r)
		e.counters["requests_other_servers"]++
		e.out.add(output{req: r})
		return
	}
	e.requests++
	if r.Time.After(e.eventTime) {
		e.eventTime = r.Time
	}
	e.history.request(r.Time)
	e.bySource.add(r.Source, r.Time.UnixNano())
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
		o.host = e.hostMemo.of(r.Host, NormalizeHost)
		o.hostAllowed = e.hostAllow.allows(o.host)
	}
	if o.host != "" && !o.hostAllowed {
		o.hostRebind, _ = ParseRebindName(o.host, e.cfg.RebindDomains)
	}
	if r.HasOrigin {
		o.origin = e.originMemo.of(r.Origin, NormalizeOrigin)
	} else if e.cfg.CheckReferer && r.Referer != "" {
		if o.origin = RefererOrigin(r.Referer); o.origin != "" {
			o.fromReferer = true
		}
	}
	if o.origin != "" {
		o.originAllowed = e.originAllowed(o.origin) || o.fromReferer && e.ownReferer(o.origin, o.host)
		if !o.originAllowed {
			o.originRebind, _ = ParseRebindName(originHost(o.origin), e.cfg.RebindDomains)
		}
	}
	if r.Key != "" {
		o.key = e.keyFor(r)
	}
	e.tally(o)
	e.out.add(output{req: r})
	e.route(event{req: o})
}

// route hands one event to every detector.
func (e *Engine) route(ev event) {
	e.ev = ev
	for _, d := range e.detectors {
		d.observe(e, &e.ev)
	}
}

// protected reports whether a request's server is one of [capture]
// servers (any server when none is configured; a log's requests, which do
// not know their server, always are).
func (e *Engine) protected(srv netip.AddrPort) bool {
	if len(e.cfg.Servers) == 0 || !srv.IsValid() {
		return true
	}
	a := srv.Addr().Unmap()
	for _, p := range e.cfg.Servers {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ownReferer reports whether a Referer's origin is the site itself: its
// host is the request's own Host, or an allowed one. Links within a site
// and from its sibling names are never foreign.
func (e *Engine) ownReferer(origin, host string) bool {
	name, _ := SplitHostPort(originHost(origin))
	own, _ := SplitHostPort(host)
	return name != "" && (name == own || e.hostAllow.allowsName(name))
}

// originCheckOn reports whether Origins are checked at all: only with an
// allowlist, as with Hosts.
func (e *Engine) hostCheckOn() bool { return e.hostAllow.len() > 0 }

func (e *Engine) originCheckOn() bool { return e.origAllow.len() > 0 }

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
	e.recentLost++
	if old := e.recent[e.recentNext].Time; old.After(e.recentLostUntil) {
		e.recentLostUntil = old
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

// Allow adds a Host ("host") or Origin ("origin") to the allowlist for this
// run. Alerts it caused stay, marked Allowed. A value that cannot be an
// allowlist entry (a Host with a quote or a space, an Origin without a
// scheme) is refused with the reason.
func (e *Engine) Allow(kind, value string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !isASCII(value) {
		// What the allowlist holds is matched as browsers send names, in
		// punycode; a value sent as raw UTF-8 would stay unmatched.
		return fmt.Errorf("%s %q is not ASCII: browsers send internationalised names as punycode (xn--...), so no allowlist entry matches it as sent", kind, value)
	}
	switch kind {
	case "host":
		value = NormalizeHost(value)
		p, err := compileHostPattern(value)
		if err != nil {
			return err
		}
		if e.hostAllow.allows(value) {
			return nil
		}
		e.hostAllow.add(p)
		e.added[kind] = append(e.added[kind], value)
		e.markAllowed(kind)
		e.hosts.each(func(k string, v *valueState) bool {
			v.allowed = e.hostAllow.allows(k)
			return true
		})
	case "origin":
		value = NormalizeOrigin(value)
		p, err := compileOrigin(value)
		if err != nil {
			return err
		}
		if e.originAllowed(value) {
			return nil
		}
		e.origAllow.add(p)
		e.added[kind] = append(e.added[kind], value)
		e.markAllowed(kind)
		if o, ok := e.origins.peek(value); ok {
			o.allowed = true
		}
	default:
		return fmt.Errorf("nothing to allow of kind %q", kind)
	}
	return nil
}

// markAllowed marks the alerts whose subject the allowlist of kind now
// allows: a Host's unexpected_host, host_served and unexpected_sni alerts
// (a name allowed without a port allows it on every port), an Origin's
// foreign_origin and private_network_preflight alerts.
func (e *Engine) markAllowed(kind string) {
	for _, a := range e.alerts {
		switch AllowKind(a.Detector) {
		case "":
		case kind:
			if kind == "host" && e.hostAllow.allows(NormalizeHost(a.Subject)) ||
				kind == "origin" && e.originAllowed(NormalizeOrigin(a.Subject)) {
				a.Allowed = true
			}
		}
	}
}

// AllowKind says which allowlist an alert of detector det is about:
// "host" (unexpected_host, host_served, unexpected_sni: TLS names are
// checked against [hosts] allowed), "origin" (foreign_origin,
// private_network_preflight), or "" for the others.
func AllowKind(det string) string {
	switch det {
	case DetUnexpectedHost, DetHostServed, DetUnexpectedSNI:
		return "host"
	case DetForeignOrigin, DetPrivateNetworkPreflight:
		return "origin"
	}
	return ""
}

func (e *Engine) allowedAdded(kind, v string) bool {
	return slices.Contains(e.added[kind], v)
}

// ClearAlerts empties the alert list and the incidents shown on screen;
// totals stay. An alert raised afterwards opens a new incident.
func (e *Engine) ClearAlerts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.alerts = nil
	e.incidents.clear(e.cfg.Limits)
}

// hostCheck says why the Host check is off, or "" when it is on.
func (e *Engine) hostCheck() string {
	if e.hostAllow.len() == 0 {
		return "off: no allowed hosts configured ([hosts] allowed or --allow-host)"
	}
	return ""
}

// originCheck says why the Origin check is off, or "" when it is on.
func (e *Engine) originCheck() string {
	if !e.originCheckOn() {
		return "off: no allowed origins configured ([origins] allowed or --allow-origin)"
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
// this run are kept; tables, alerts and counts are kept; the detectors are
// built anew from cfg, so their windows (bursts, spreads) start afresh. A
// config that does not validate is refused and the old one stays.
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
			hosts.add(p)
		}
	}
	for _, v := range e.added["origin"] {
		origins.add(originPattern{exact: v})
	}
	cfg.Limits = e.cfg.Limits // caps size live tables; they change on restart only
	e.cfg, e.hostAllow, e.origAllow = cfg, hosts, origins
	e.slots = slotAlloc{}
	e.detectors = newDetectors(cfg, &e.slots)
	e.stuffing = findStuffing(e.detectors)
	e.keys.each(func(_ string, k *keyState) bool {
		clear(k.slots)
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

// Note records news that did not come from a source (a config reloaded or
// refused), for the dashboard (Snapshot.Notes) and the note sinks, which
// get it from the engine's goroutine when input next pauses or arrives. It
// is not an unparsed input: it uses none of their budget.
func (e *Engine) Note(source, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notes = append(e.notes, Problem{Source: source, Text: text})
	e.notesTotal++
	if len(e.notes) > maxProblems {
		e.notes = e.notes[1:]
	}
	e.out.add(output{note: &[2]string{source, text}})
}
