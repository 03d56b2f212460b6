package detect

// originDetector raises foreign_origin: an Origin (or, with check_referer, the
// Referer's origin when Origin is absent) that is not allowed.
type originDetector struct{}

func (originDetector) name() string { return DetForeignOrigin }

func (originDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil {
		return
	}
	if o.origin == "" || o.originAllowed {
		return
	}
	r := o.r
	sev := raiseFor(SeverityMedium, o)
	msg := "Origin " + o.origin + " is not an allowed origin"
	if o.fromReferer {
		msg = "Referer from " + o.origin + " (no Origin) is not an allowed origin"
	}
	if o.origin == "null" {
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
		Message:  msg,
	}, nil)
}
