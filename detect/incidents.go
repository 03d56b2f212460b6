package detect

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Incident is one attack as an operator should see it: the alerts that
// share an attacker name (a Host, an Origin's host, a TLS server name, a
// DNS name), or a key and a client, within the de-duplication window. A
// rebinding attempt that raises unexpected_host, host_served,
// foreign_origin, dns_rebind and unexpected_sni for one name is one
// incident; its alerts carry its ID.
type Incident struct {
	ID        string
	Opened    time.Time // its first alert
	Last      time.Time // the latest occurrence of any of its alerts
	Severity  Severity  // the highest of its alerts
	Detectors []string  // the detectors it holds, in Detectors order
	Outcome   string    // the most telling outcome of its alerts (see outcomeRank)
	Class     string    // the most telling class of its alerts
	Subject   string    // its first alert's subject
	Names     []string  // attacker names, capped
	Keys      []string  // key fingerprints, capped
	Clients   []string  // client addresses, capped
	Alerts    []uint64  // its alerts' IDs, oldest first, capped
	Count     int       // occurrences of its alerts
	// Change is why a sink is handed the incident: "opened", "escalated"
	// (its severity rose) or "updated" (another detector joined it).
	Change string
}

// Incident changes handed to the sinks.
const (
	IncidentOpened    = "opened"
	IncidentEscalated = "escalated"
	IncidentUpdated   = "updated"
)

// IncidentSink receives an incident when it opens, when its severity rises
// and when another detector joins it (a copy), so the last line a sink
// wrote for an incident is always the whole of it.
type IncidentSink interface{ Incident(i *Incident) error }

// Caps of an incident's lists.
const (
	incidentValues = 8  // names, keys, clients kept
	incidentAlerts = 64 // alert IDs kept
)

// incidents groups alerts into incidents. The engine owns it.
type incidents struct {
	list    []*Incident // oldest first, capped like the alerts
	byID    map[string]*Incident
	links   *lru[string, *Incident] // a name or key+client -> its incident
	next    uint64
	dropped uint64
	prefix  string // of IDs: "inc-" unless set (SetIncidentPrefix)
}

func (in *incidents) idPrefix() string {
	if in.prefix == "" {
		return "inc-"
	}
	return in.prefix
}

func newIncidents(l Limits) incidents {
	return incidents{byID: map[string]*Incident{}, links: newLRU[string, *Incident](l.DedupeKeys, hashString)}
}

// join puts a new alert into an incident (a new one when none of its links
// is open within window) and returns the incident and whether it is news
// for the sinks (opened, escalated, or another detector joined).
func (in *incidents) join(a *Alert, window time.Duration, limit int) (*Incident, bool) {
	links := incidentLinks(a)
	var inc *Incident
	for _, l := range links {
		// An incident dropped from the list (evicted) is not joined: its
		// alerts would carry an ID nothing shows.
		if c, ok := in.links.get(l); ok && in.byID[c.ID] == c && absDur(a.Time.Sub(c.Last)) < window {
			inc = c
			break
		}
	}
	news := false
	if inc == nil {
		in.next++
		inc = &Incident{ID: in.idPrefix() + strconv.FormatUint(in.next, 10), Opened: a.Time, Last: a.Time, Severity: a.Severity,
			Subject: a.Subject, Change: IncidentOpened}
		in.add(inc, limit)
		news = true
	} else if a.Severity > inc.Severity {
		inc.Severity, inc.Change, news = a.Severity, IncidentEscalated, true
	}
	for _, l := range links {
		in.links.put(l, inc)
	}
	inc.Count++
	if a.Time.After(inc.Last) {
		inc.Last = a.Time
	}
	if !slices.Contains(inc.Detectors, a.Detector) {
		if !news {
			inc.Change, news = IncidentUpdated, true
		}
		inc.Detectors = append(inc.Detectors, a.Detector)
		slices.SortFunc(inc.Detectors, func(x, y string) int { return cmp.Compare(slices.Index(Detectors, x), slices.Index(Detectors, y)) })
	}
	if outcomeRank(a.Outcome) > outcomeRank(inc.Outcome) {
		inc.Outcome = a.Outcome
	}
	if classRank(a.Class) > classRank(inc.Class) {
		inc.Class = a.Class
	}
	if n := attackerName(a); n != "" {
		inc.Names = addCapped(inc.Names, n)
	}
	inc.Keys = addCapped(inc.Keys, a.Key)
	inc.Clients = addCapped(inc.Clients, a.Client)
	if len(inc.Alerts) < incidentAlerts {
		inc.Alerts = append(inc.Alerts, a.ID)
	}
	a.Incident = inc.ID
	return inc, news
}

// clear drops every incident (the alert list was cleared); the count of
// incidents opened stays, so IDs keep increasing.
func (in *incidents) clear(l Limits) {
	next, dropped := in.next, in.dropped
	*in = newIncidents(l)
	in.next, in.dropped = next, dropped
}

// again counts another occurrence of an alert of the incident.
func (in *incidents) again(id string, t time.Time) {
	if inc, ok := in.byID[id]; ok {
		inc.Count++
		if t.After(inc.Last) {
			inc.Last = t
		}
	}
}

// add keeps a new incident, dropping the oldest eighth when full.
func (in *incidents) add(inc *Incident, limit int) {
	if len(in.list) >= limit {
		n := max(1, min(len(in.list), limit/8))
		for _, old := range in.list[:n] {
			delete(in.byID, old.ID)
		}
		in.list = slices.Delete(in.list, 0, n)
		in.dropped += uint64(n)
	}
	in.list = append(in.list, inc)
	in.byID[inc.ID] = inc
}

// incidentLinks are what an alert shares with the others of its attack.
func incidentLinks(a *Alert) []string {
	var links []string
	if n := attackerName(a); n != "" {
		links = append(links, "n:"+n)
	}
	switch {
	case a.Key != "" && a.Client != "":
		links = append(links, "kc:"+a.Key+"|"+a.Client)
	case a.Detector == DetKeyStuffing:
		links = append(links, "c:"+a.Client)
	}
	return links
}

// attackerName is the name an alert is about, without a port: the Host, the
// Origin's host, the TLS or DNS name; "" for key alerts.
func attackerName(a *Alert) string {
	var n string
	switch a.Detector {
	case DetUnexpectedHost, DetHostServed, DetDNSRebind, DetDNSPrivateAnswer, DetUnexpectedSNI:
		if a.Subject == missingHost {
			return ""
		}
		n = a.Subject
	case DetForeignOrigin, DetPrivateNetworkPreflight:
		n = originHost(a.Subject)
	default:
		return ""
	}
	n, _ = SplitHostPort(n)
	return n
}

// outcomeRank orders outcomes by how much they tell: served (or a
// private-network preflight granted) is the worst news.
func outcomeRank(o string) int {
	switch o {
	case OutcomeServed, OutcomeGranted:
		return 4
	case OutcomeOther:
		return 3
	case OutcomeBlocked, OutcomeDenied:
		return 2
	case OutcomeUnknown:
		return 1
	}
	return 0
}

func classRank(c string) int {
	switch c {
	case ClassRebindingService:
		return 4
	case ClassRebinding:
		return 3
	case ClassForeign:
		return 2
	case ClassScanner:
		return 1
	}
	return 0
}

func addCapped(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) || len(list) >= incidentValues {
		return list
	}
	return append(list, v)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// clone copies an incident so that it shares nothing with the engine.
func (inc *Incident) clone() Incident {
	c := *inc
	c.Detectors, c.Names, c.Keys, c.Clients, c.Alerts = slices.Clone(inc.Detectors), slices.Clone(inc.Names),
		slices.Clone(inc.Keys), slices.Clone(inc.Clients), slices.Clone(inc.Alerts)
	return c
}

// IncidentDetail is an incident with its alerts and one evidence timeline.
type IncidentDetail struct {
	Incident Incident
	Alerts   []Alert         // its alerts still kept, oldest first, with evidence
	Timeline []TimelineEntry // DNS answers, ClientHellos and requests, in time order, each once
}

// TimelineEntry is one piece of evidence: exactly one of its fields is set.
type TimelineEntry struct {
	Time    time.Time
	Request *Request
	DNS     *DNSAnswer
	TLS     *TLSHello
}

// IncidentDetail returns an incident by ID with its alerts and timeline.
func (e *Engine) IncidentDetail(id string) (IncidentDetail, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidents.byID[id]
	if !ok {
		return IncidentDetail{}, false
	}
	d := IncidentDetail{Incident: inc.clone()}
	for _, a := range e.alerts {
		if a.Incident != id {
			continue
		}
		c := *a
		c.Evidence, c.DNS, c.TLS = slices.Clone(a.Evidence), slices.Clone(a.DNS), slices.Clone(a.TLS)
		d.Alerts = append(d.Alerts, c)
	}
	d.Timeline = Timeline(d.Alerts...)
	return d, true
}

// Timeline merges alerts' evidence (requests, DNS answers, ClientHellos) in
// time order, each piece once (the same request backs a Host, a served and
// an Origin alert), as IncidentDetail does.
func Timeline(alerts ...Alert) []TimelineEntry {
	type reqKey struct {
		t              int64
		client         string
		method, target string
	}
	type dnsKey struct {
		t    int64
		name string
	}
	seenReq, seenDNS := map[reqKey]bool{}, map[dnsKey]bool{}
	var out []TimelineEntry
	for i := range alerts {
		a := &alerts[i]
		for j := range a.Evidence {
			r := &a.Evidence[j]
			k := reqKey{r.Time.UnixNano(), r.Client.String(), r.Method, r.Target}
			if !seenReq[k] {
				seenReq[k] = true
				out = append(out, TimelineEntry{Time: r.Time, Request: r})
			}
		}
		for j := range a.DNS {
			x := &a.DNS[j]
			k := dnsKey{x.Time.UnixNano(), x.Name}
			if !seenDNS[k] {
				seenDNS[k] = true
				out = append(out, TimelineEntry{Time: x.Time, DNS: x})
			}
		}
		for j := range a.TLS {
			out = append(out, TimelineEntry{Time: a.TLS[j].Time, TLS: &a.TLS[j]})
		}
	}
	slices.SortStableFunc(out, func(x, y TimelineEntry) int { return x.Time.Compare(y.Time) })
	return out
}
