package detect

import (
	"cmp"
	"slices"
	"strings"
)

// dedupeKey identifies an alert for de-duplication.
type dedupeKey struct {
	detector, subject, dimension string
}

// raise records an occurrence of (detector, subject, dimension). The first
// one, or the first after the de-duplication window, emits a new alert;
// others inside it raise its count and add evidence. evidence gives the
// requests behind a new alert; nil means the cause's own request.
func (e *Engine) raise(c cause, a Alert, evidence func() []Request) {
	dk := dedupeKey{a.Detector, a.Subject, a.Dimension}
	t := c.at
	if prev, ok := e.dedupe.get(dk); ok && t.Sub(prev.Time) < e.cfg.Dedupe && t.Sub(prev.Time) >= -e.cfg.Dedupe {
		prev.Count++
		if t.After(prev.LastSeen) {
			prev.LastSeen = t
		}
		if a.Severity > prev.Severity {
			prev.Severity = a.Severity
		}
		if c.r != nil && len(prev.Evidence) < e.cfg.Limits.Evidence {
			prev.Evidence = append(prev.Evidence, detached(*c.r))
		}
		e.incidents.again(prev.Incident, t)
		return
	}
	e.nextID++
	a.ID = e.nextID
	a.Time, a.LastSeen, a.Count = t, t, 1
	if a.Client == "" && c.client.IsValid() {
		a.Client = c.client.String()
	}
	switch {
	case evidence != nil:
		a.Evidence = evidence()
		for i := range a.Evidence {
			a.Evidence[i] = detached(a.Evidence[i])
		}
	case c.r != nil:
		a.Evidence = []Request{detached(*c.r)}
	}
	if c.r != nil {
		if a.Target == "" {
			a.Target = strings.Clone(c.r.Target)
		}
		if a.Status == 0 {
			a.Status = c.r.Status
		}
	}
	if a.Detector == DetUnexpectedHost && e.allowedAdded("host", a.Subject) ||
		a.Detector == DetForeignOrigin && e.allowedAdded("origin", a.Subject) {
		a.Allowed = true
	}
	p := &a
	e.dedupe.put(dk, p)
	e.byDetector[a.Detector]++
	e.history.alert(t, a.Severity)
	if len(e.alerts) >= e.cfg.Limits.Alerts {
		// Drop an eighth at once (shifting the list for every new alert
		// would cost a copy of it per alert during a flood): the least
		// severe, oldest first, so a flood of scanner noise cannot push a
		// critical alert off the list.
		n := max(1, min(len(e.alerts), e.cfg.Limits.Alerts/8))
		e.alerts = dropLeast(e.alerts, n)
		e.alertsDropped += uint64(n)
	}
	e.alerts = append(e.alerts, p)
	if c.key != nil {
		c.key.fire(a.Detector)
	}
	inc, news := e.incidents.join(p, e.cfg.Dedupe, e.cfg.Limits.Alerts)
	// The sinks get the alert and incident as they are now; later
	// occurrences change only the engine's own copies.
	out := *p
	e.out.add(output{alert: &out})
	if news {
		ic := *inc
		ic.Detectors, ic.Names, ic.Keys, ic.Clients, ic.Alerts = slices.Clone(inc.Detectors), slices.Clone(inc.Names),
			slices.Clone(inc.Keys), slices.Clone(inc.Clients), slices.Clone(inc.Alerts)
		e.out.add(output{incident: &ic})
	}
}

// detached returns r with a target of its own. A log's targets share
// blocks of memory (source.Arena); an alert keeps its evidence for as long
// as the alert is kept, and a block each would be far more than the bytes.
func detached(r Request) Request {
	r.Target = strings.Clone(r.Target)
	return r
}

// keyEvidence returns the most recent requests of key, oldest first.
func (e *Engine) keyEvidence(key string, current *Request) []Request {
	var out []Request
	max := e.cfg.Limits.Evidence
	e.recentEach(func(r *Request) bool {
		if r.Key == key && e.protected(r.Server) {
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

// dropLeast removes the n least severe alerts, oldest first, keeping the
// order of the rest.
func dropLeast(alerts []*Alert, n int) []*Alert {
	idx := make([]int, len(alerts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(alerts[a].Severity, alerts[b].Severity) })
	drop := make([]bool, len(alerts))
	for _, i := range idx[:n] {
		drop[i] = true
	}
	kept := alerts[:0]
	for i, a := range alerts {
		if !drop[i] {
			kept = append(kept, a)
		}
	}
	clear(alerts[len(kept):])
	return kept
}
