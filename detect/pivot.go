package detect

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pivots. A query may pin values (a key, a Host, an Origin, a client, a
// source) and a range of event time; every table of the snapshot is then
// narrowed to the rows seen with all of them. The engine answers from what
// it keeps, and says where that is not enough:
//
//   - the recent-requests ring holds whole requests, so a row with a
//     request there that matches every pin (and falls in the range) is
//     certainly in; when the ring still holds every request that could
//     match (none was overwritten, or only ones older than the range), a
//     row without one is certainly out;
//   - otherwise the tables decide what they can: a key keeps the Hosts,
//     clients and Origins it was seen with, and a Host or an Origin keeps
//     its keys, each up to a cap; first and last seen bound a row's time.
//     A row they cannot decide (its lists are past their caps, or no table
//     links the two kinds, or the range falls inside its lifetime) is left
//     out and counted in the table's Partial.

// PinKind names what a pinned value is.
type PinKind string

// Kinds of pins.
const (
	PinKey    PinKind = "key"    // a key fingerprint
	PinHost   PinKind = "host"   // a Host as the tables hold it (NormalizeHost; an absolute-form target's authority)
	PinOrigin PinKind = "origin" // an Origin as the tables hold it (NormalizeOrigin; a Referer's with check_referer)
	PinClient PinKind = "client" // a client IP address
	PinSource PinKind = "source" // a source's name ("pcap", a log file)
)

// Pin narrows every table of a snapshot to the rows seen with Value.
type Pin struct {
	Kind  PinKind
	Value string
}

// Partial says why a table's answer to a query's pins and range may be
// short. The zero value is an exact answer.
type Partial struct {
	Unsure int    // rows that may match but could not be decided (not in the table)
	Why    string // in words, for the pane; "" when the answer is exact
}

// Coverage is how complete each narrowed part of a snapshot is.
type Coverage struct {
	Keys, Hosts, Origins Partial
	Requests             Partial // the recent requests
	Alerts               Partial // alerts and incidents
	Matched              Partial // Snapshot.Matched: it counts only the recent requests
	Activity             Partial // the activity timeline's requests
}

// tri is a three-way answer: a row is in, out, or cannot be decided.
type tri uint8

const (
	triNo tri = iota
	triUnsure
	triYes
)

// Why a row could not be decided, for Partial.Why.
const (
	causeRing     = 1 << iota // the ring lost requests that could match
	causeCap                  // a row's list of Hosts, clients, Origins or keys is past its cap
	causeNoLink               // nothing but the ring links the two kinds (a Host and an Origin, a source)
	causeLifetime             // the range falls between a row's first and last request
)

// narrower answers, for one query, which rows a snapshot keeps. It is
// built under the engine's lock and used only there.
type narrower struct {
	e        *Engine
	pins     []pinned
	ranged   bool
	from, to time.Time

	ringAll bool // the ring holds every request that could match
	// Rows with a request in the ring that matches everything.
	ringKeys, ringHosts, ringOrigins map[string]bool
	ringMatched                      uint64 // protected requests in the ring that match
	causes                           map[*Partial]int
	unbounded                        bool // look at every row (tests: the bounds change nothing)
}

// pinned is a pin with what the tables hold of its value, looked up once.
type pinned struct {
	Pin
	client netip.Addr  // PinClient: the address (invalid: matches nothing)
	value  *valueState // PinHost, PinOrigin: the value's row, nil when none
	key    *keyState   // PinKey: the key's row, nil when none
}

// narrows reports whether the query narrows anything.
func (q *Query) narrows() bool { return len(q.Pins) > 0 || !q.From.IsZero() || !q.To.IsZero() }

func (e *Engine) newNarrower(q *Query) *narrower {
	n := &narrower{e: e, from: q.From, to: q.To, causes: map[*Partial]int{}}
	n.ranged = !q.From.IsZero() || !q.To.IsZero()
	if n.to.IsZero() {
		n.to = time.Unix(1<<62, 0)
	}
	for _, p := range q.Pins {
		pp := pinned{Pin: p}
		switch p.Kind {
		case PinClient:
			a, _ := netip.ParseAddr(p.Value)
			pp.client = a.Unmap()
		case PinHost:
			pp.value, _ = e.hosts.peek(p.Value)
		case PinOrigin:
			pp.value, _ = e.origins.peek(p.Value)
		case PinKey:
			pp.key, _ = e.keys.peek(p.Value)
		}
		n.pins = append(n.pins, pp)
	}
	n.ringAll = e.recentLost == 0 || n.ranged && n.from.After(e.recentLostUntil)
	n.ringKeys, n.ringHosts, n.ringOrigins = map[string]bool{}, map[string]bool{}, map[string]bool{}
	e.recentEach(func(r *Request) bool {
		if !e.protected(r.Server) || !n.request(r) {
			return true
		}
		n.ringMatched++
		if r.Key != "" {
			n.ringKeys[r.Key] = true
		}
		if h, ok := requestHost(r); ok {
			n.ringHosts[h] = true
		}
		if o := e.requestOrigin(r); o != "" {
			n.ringOrigins[o] = true
		}
		return true
	})
	return n
}

// requestHost is the Host the tables count a request under.
func requestHost(r *Request) (string, bool) {
	switch {
	case r.URIHost != "":
		return NormalizeHost(r.URIHost), true
	case r.HasHost:
		return NormalizeHost(r.Host), true
	}
	return "", false
}

// requestOrigin is the Origin the tables count a request under: its
// Origin header, or with check_referer its Referer's origin.
func (e *Engine) requestOrigin(r *Request) string {
	if r.HasOrigin {
		return NormalizeOrigin(r.Origin)
	}
	if e.cfg.CheckReferer && r.Referer != "" {
		return RefererOrigin(r.Referer)
	}
	return ""
}

// inRange reports whether t falls in the query's range.
func (n *narrower) inRange(t time.Time) bool {
	return !n.ranged || !t.Before(n.from) && t.Before(n.to)
}

// request reports whether a request matches every pin and the range.
func (n *narrower) request(r *Request) bool {
	if !n.inRange(r.Time) {
		return false
	}
	for i := range n.pins {
		p := &n.pins[i]
		switch p.Kind {
		case PinKey:
			if r.Key != p.Value {
				return false
			}
		case PinHost:
			if h, ok := requestHost(r); !ok || h != p.Value {
				return false
			}
		case PinOrigin:
			if n.e.requestOrigin(r) != p.Value {
				return false
			}
		case PinClient:
			if r.Client.Addr().Unmap() != p.client {
				return false
			}
		case PinSource:
			if r.Source != p.Value {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// decide combines what the ring and the tables say of a row: ringYes
// from the ring; else, when the ring holds everything that could match,
// no; else the tables' answer (the lowest of its parts).
func (n *narrower) decide(ringYes bool, parts ...tri) tri {
	if ringYes {
		return triYes
	}
	if n.ringAll {
		return triNo
	}
	out := triYes
	for _, p := range parts {
		out = min(out, p)
	}
	return out
}

// lifetime is what a row's first and last request say of the range.
func (n *narrower) lifetime(first, last time.Time, cause *int) tri {
	switch {
	case !n.ranged:
		return triYes
	case last.Before(n.from) || !first.Before(n.to):
		return triNo
	case n.inRange(first) || n.inRange(last):
		return triYes
	}
	*cause |= causeLifetime
	return triUnsure
}

// linked is a table link's answer when combined with a range: the tables
// know that two values met, not when, so with a range it is only a maybe.
func (n *narrower) linked(t tri, cause *int) tri {
	if t == triYes && n.ranged {
		*cause |= causeLifetime
		return triUnsure
	}
	return t
}

// keyBound lists the only keys that can match, when a pin bounds them: a
// key pin; a Host or an Origin whose row keeps all its keys (its list not
// past its cap, and no row of its table ever evicted, so the list was
// never started over). ok is false when every key must be decided.
func (n *narrower) keyBound() (names []string, ok bool) {
	if n == nil || n.unbounded {
		return nil, false
	}
	for i := range n.pins {
		p := &n.pins[i]
		var b []string
		switch {
		case p.Kind == PinKey:
			b = []string{p.Value}
		case p.Kind == PinHost && p.value != nil && !p.value.keys.full && n.e.hosts.evicted == 0,
			p.Kind == PinOrigin && p.value != nil && !p.value.keys.full && n.e.origins.evicted == 0:
			b = p.value.keys.vals
		default:
			continue
		}
		if !ok || len(b) < len(names) {
			names, ok = b, true
		}
	}
	return names, ok
}

// valueBound lists the only Hosts (kind PinHost) or Origins that can
// match, when a pin bounds them: a pin of that kind; a key whose list of
// them is complete (no key ever evicted, for the same reason).
func (n *narrower) valueBound(kind PinKind) (names []string, ok bool) {
	if n == nil || n.unbounded {
		return nil, false
	}
	for i := range n.pins {
		p := &n.pins[i]
		var b []string
		switch {
		case p.Kind == kind:
			b = []string{p.Value}
		case p.Kind == PinKey && p.key != nil && n.e.keys.evicted == 0 && kind == PinHost && p.key.overflow&ovHosts == 0:
			for _, h := range p.key.hosts {
				b = append(b, h.v)
			}
		case p.Kind == PinKey && p.key != nil && n.e.keys.evicted == 0 && kind == PinOrigin && p.key.overflow&ovOrigins == 0:
			for _, o := range p.key.origins {
				b = append(b, o.v)
			}
		default:
			continue
		}
		if !ok || len(b) < len(names) {
			names, ok = b, true
		}
	}
	return names, ok
}

// key decides a key's row.
func (n *narrower) key(k *keyState, p *Partial) bool {
	cause := 0
	parts := make([]tri, 0, len(n.pins)+1)
	parts = append(parts, n.lifetime(time.Unix(0, k.first), time.Unix(0, k.last), &cause))
	for i := range n.pins {
		pin := &n.pins[i]
		var t tri
		switch pin.Kind {
		case PinKey:
			t = triNo
			if k.fp == pin.Value {
				t = triYes
			}
		case PinHost:
			t = n.linked(keyHost(k, pin.Value, pin.value, &cause), &cause)
		case PinOrigin:
			t = n.linked(keyOrigin(k, pin.Value, pin.value, &cause), &cause)
		case PinClient:
			t = n.linked(capped(k.clients.has(pin.client), k.overflow&ovClients != 0, &cause), &cause)
		default:
			t, cause = triUnsure, cause|causeNoLink
		}
		parts = append(parts, t)
	}
	return n.count(n.decide(n.ringKeys[k.fp], parts...), cause, p)
}

// capped is a capped list's answer: seen, or not seen in a complete list,
// or not seen in a list that dropped values.
func capped(seen, overflowed bool, cause *int) tri {
	switch {
	case seen:
		return triYes
	case overflowed:
		*cause |= causeCap
		return triUnsure
	}
	return triNo
}

// keyHost: was key k seen under Host h (whose row is v, nil when none)?
// Either side's list may say so.
func keyHost(k *keyState, h string, v *valueState, cause *int) tri {
	if k.hosts.has(h) || v != nil && v.keys.has(k.fp) {
		return triYes
	}
	if k.overflow&ovHosts == 0 || v != nil && !v.keys.full {
		return triNo // one of the two lists is complete
	}
	*cause |= causeCap
	return triUnsure
}

// keyOrigin: was key k seen with Origin o (whose row is v)?
func keyOrigin(k *keyState, o string, v *valueState, cause *int) tri {
	if k.origins.has(o) || v != nil && v.keys.has(k.fp) {
		return triYes
	}
	if k.overflow&ovOrigins == 0 || v != nil && !v.keys.full {
		return triNo
	}
	*cause |= causeCap
	return triUnsure
}

// value decides a Host's (kind PinHost) or an Origin's row.
func (n *narrower) value(kind PinKind, v string, s *valueState, p *Partial) bool {
	cause := 0
	parts := make([]tri, 0, len(n.pins)+1)
	parts = append(parts, n.lifetime(s.first, s.last, &cause))
	for i := range n.pins {
		pin := &n.pins[i]
		var t tri
		switch {
		case pin.Kind == kind:
			t = triNo
			if v == pin.Value {
				t = triYes
			}
		case pin.Kind == PinKey:
			k := pin.key
			switch {
			case s.keys.has(pin.Value):
				t = triYes
			case k != nil && kind == PinHost:
				t = keyHost(k, v, s, &cause)
			case k != nil:
				t = keyOrigin(k, v, s, &cause)
			default:
				t = capped(false, s.keys.full, &cause)
			}
			t = n.linked(t, &cause)
		default:
			t, cause = triUnsure, cause|causeNoLink
		}
		parts = append(parts, t)
	}
	ring := n.ringHosts[v]
	if kind == PinOrigin {
		ring = n.ringOrigins[v]
	}
	return n.count(n.decide(ring, parts...), cause, p)
}

// count keeps a row that is in, and counts one that cannot be decided.
func (n *narrower) count(t tri, cause int, p *Partial) bool {
	if t == triUnsure {
		p.Unsure++
		n.causes[p] |= cause
		if !n.ringAll {
			n.causes[p] |= causeRing
		}
	}
	return t == triYes
}

// explain fills a table's Why from what left rows undecided; what names
// its rows ("keys").
func (n *narrower) explain(p *Partial, what string) {
	if p.Unsure == 0 {
		return
	}
	c := n.causes[p]
	var why []string
	switch {
	case c&causeNoLink != 0 && c&causeRing != 0:
		why = append(why, "nothing but the recent requests ties these together, and "+n.ringText())
	case c&causeNoLink != 0:
		why = append(why, "nothing but the recent requests ties these together")
	case c&causeRing != 0:
		why = append(why, n.ringText())
	}
	if c&causeCap != 0 {
		why = append(why, "a key keeps "+strconv.Itoa(smallSetCap)+" Hosts, clients and Origins, a Host or an Origin "+
			strconv.Itoa(smallSetCap)+" keys")
	}
	if c&causeLifetime != 0 {
		why = append(why, "the tables know when a row was first and last seen, not what it did between")
	}
	p.Why = strconv.Itoa(p.Unsure) + " more " + what + " may match: " + strings.Join(why, "; ")
}

// ringText says how far back the recent requests go.
func (n *narrower) ringText() string {
	e := n.e
	return "only the last " + strconv.Itoa(len(e.recent)) + " requests are kept (from " +
		e.recentLostUntil.Format("15:04:05") + " on)"
}

// ringPartial is the Partial of an answer taken from the ring alone.
func (n *narrower) ringPartial(what string) Partial {
	if n.ringAll {
		return Partial{}
	}
	return Partial{Why: what + ": " + n.ringText()}
}

// alert reports whether an alert matches every pin and the range: its
// own fields name the value, or one of its evidence requests matches.
func (n *narrower) alert(a *Alert) bool {
	if n.ranged && (a.LastSeen.Before(n.from) || !a.Time.Before(n.to)) {
		return false
	}
	if n.alertFields(a) {
		return true
	}
	for i := range a.Evidence {
		if n.requestPins(&a.Evidence[i]) {
			return true
		}
	}
	return false
}

// onePin is the query's only pin, if it has exactly one.
func (n *narrower) onePin() (Pin, bool) {
	if len(n.pins) != 1 {
		return Pin{}, false
	}
	return n.pins[0].Pin, true
}

// alertPins is alert without the range (the timeline shows its window).
func (n *narrower) alertPins(a *Alert) bool {
	if n.alertFields(a) {
		return true
	}
	for i := range a.Evidence {
		if n.requestPins(&a.Evidence[i]) {
			return true
		}
	}
	return false
}

// requestPins is request without the range (an alert's evidence may
// predate a range its alert overlaps).
func (n *narrower) requestPins(r *Request) bool {
	if !n.ranged {
		return n.request(r)
	}
	saved := n.ranged
	n.ranged = false
	ok := n.request(r)
	n.ranged = saved
	return ok
}

// alertFields reports whether an alert's own fields carry every pin.
func (n *narrower) alertFields(a *Alert) bool {
	for i := range n.pins {
		p := &n.pins[i]
		ok := false
		switch p.Kind {
		case PinKey:
			ok = a.Key == p.Value || a.Subject == p.Value
		case PinHost:
			name, _ := SplitHostPort(p.Value)
			ok = a.Subject == p.Value || a.Host != "" && NormalizeHost(a.Host) == p.Value ||
				nameSubject(a.Detector) && a.Subject == name
		case PinOrigin:
			ok = a.Subject == p.Value || a.Origin != "" && NormalizeOrigin(a.Origin) == p.Value
		case PinClient:
			c, err := netip.ParseAddr(a.Client)
			ok = err == nil && c.Unmap() == p.client
		}
		if !ok {
			return false
		}
	}
	return true
}

// nameSubject reports whether a detector's subject is a name without a
// port (a DNS or TLS name), which a Host pin with a port still names.
func nameSubject(det string) bool {
	return det == DetDNSPrivateAnswer || det == DetDNSRebind || det == DetUnexpectedSNI
}

// incident reports whether an incident matches: one of its kept alerts
// does, or its own lists name every pin, and it overlaps the range.
func (n *narrower) incident(inc *Incident, matched map[string]bool) bool {
	if n.ranged && (inc.Last.Before(n.from) || !inc.Opened.Before(n.to)) {
		return false
	}
	if matched[inc.ID] || len(n.pins) == 0 {
		return true
	}
	for i := range n.pins {
		p := &n.pins[i]
		ok := false
		switch p.Kind {
		case PinKey:
			ok = slices.Contains(inc.Keys, p.Value)
		case PinHost:
			name, _ := SplitHostPort(p.Value)
			ok = slices.Contains(inc.Names, name)
		case PinClient:
			ok = slices.ContainsFunc(inc.Clients, func(c string) bool {
				a, err := netip.ParseAddr(c)
				return err == nil && a.Unmap() == p.client
			})
		}
		if !ok {
			return false
		}
	}
	return true
}
