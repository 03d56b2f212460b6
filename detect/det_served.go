package detect

// servedDetector raises host_served: a foreign Host that the server answered
// with 2xx or 3xx. That is the finding that means the application does not
// validate Host, so a rebinding page can read its answers.
type servedDetector struct{}

func (servedDetector) name() string { return DetHostServed }

func (servedDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || o.r.Blind.Has(BlindHost) || o.host == "" || o.hostAllowed || e.hostAllow.len() == 0 && o.hostRebind.Tool == "" {
		return
	}
	r := o.r
	if Outcome(r.Status) != OutcomeServed {
		return
	}
	sev := SeverityHigh
	if r.Key != "" || sensitivePath(r.Target) || o.hostRebind.Tool != "" {
		sev = SeverityCritical
	}
	e.raise(causeOf(o), Alert{
		Detector: DetHostServed,
		Severity: sev,
		Subject:  o.host,
		Key:      r.Key,
		Host:     r.Host,
		Origin:   r.Origin,
		Outcome:  OutcomeServed,
		Class:    classify(o),
		Tool:     o.hostRebind.Tool,
		Addrs:    o.hostRebind.Addrs,
		Message:  "Host " + o.host + " was served (" + statusText(r.Status) + " for " + r.Method + " " + r.Target + "): the application does not validate Host",
	}, nil)
}
