package detect

// originDetector raises foreign_origin: an Origin (or, with check_referer,
// the Referer's origin when Origin is absent) that is not allowed. Without
// an allowlist the check is off, except for the origins of rebinding
// services. A Referer is weak evidence: such an alert is at most low,
// except when it names a rebinding service's page. No real site refers from
// such a name, and in a log without a Host field (combined) that Referer is
// the only trace of a request that came in under the rebinding name.
type originDetector struct{}

func (originDetector) name() string { return DetForeignOrigin }

func (originDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || o.origin == "" || o.originAllowed || !e.originCheckOn() && o.originRebind.Tool == "" {
		return
	}
	r := o.r
	sev := raiseFor(SeverityMedium, o)
	msg := "Origin " + o.origin + " is not an allowed origin"
	class := ""
	switch {
	case o.originRebind.Tool != "":
		sev, class = SeverityCritical, ClassRebindingService
		msg = "Origin " + o.origin + " is a " + string(o.originRebind.Tool) + " rebinding page (" + addrsText(o.originRebind.Addrs) + ")"
	case o.fromReferer:
		sev = SeverityLow
		msg = "Referer from " + o.origin + " (no Origin) is not an allowed origin"
	case o.origin == "null":
		msg = "Origin null (sandboxed page, file: or redirect) is not allowed"
	}
	if served(r.Status) {
		msg += "; the server answered " + statusText(r.Status)
	}
	e.raise(causeOf(o), Alert{
		Detector: DetForeignOrigin,
		Severity: sev,
		Subject:  o.origin,
		Key:      r.Key,
		Host:     r.Host,
		Origin:   o.origin,
		Outcome:  Outcome(r.Status),
		Class:    class,
		Tool:     o.originRebind.Tool,
		Addrs:    o.originRebind.Addrs,
		Message:  msg,
	}, nil)
}
