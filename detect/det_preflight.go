package detect

// preflightDetector raises private_network_preflight: a CORS preflight
// (OPTIONS) carrying Access-Control-Request-Private-Network: true (or its
// successor, -Local-Network) from an Origin that is not allowed. That is a
// browser announcing that a page elsewhere is trying to reach this private
// server (WICG Private Network Access); whether the server granted it
// (Access-Control-Allow-Private-Network: true) is the outcome. Without an
// Origin allowlist, any Origin but the server's own counts.
type preflightDetector struct{}

// Outcomes of a private-network preflight.
const (
	OutcomeGranted = "granted" // the server answered Access-Control-Allow-Private-Network: true
	OutcomeDenied  = "denied"  // it did not
)

func (preflightDetector) name() string { return DetPrivateNetworkPreflight }

func (preflightDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || !o.r.PNARequest || o.r.Method != "OPTIONS" || o.origin == "" || o.fromReferer || o.originAllowed {
		return
	}
	r := o.r
	if !e.originCheckOn() && e.ownReferer(o.origin, o.host) {
		return // a same-site page: not a public page reaching in
	}
	sev, outcome := SeverityMedium, OutcomeDenied
	msg := "a page at " + o.origin + " asked the browser to reach this private server (Private Network Access preflight)"
	if r.PNAGranted {
		sev, outcome = SeverityHigh, OutcomeGranted
		msg += "; the server granted it"
	} else {
		msg += "; the server did not grant it"
	}
	class := ""
	if o.originRebind.Tool != "" {
		sev, class = SeverityCritical, ClassRebindingService
		msg += "; the page is a " + string(o.originRebind.Tool) + " rebinding name (" + addrsText(o.originRebind.Addrs) + ")"
	}
	e.raise(causeOf(o), Alert{
		Detector: DetPrivateNetworkPreflight,
		Severity: sev,
		Subject:  o.origin,
		Key:      r.Key,
		Host:     r.Host,
		Origin:   o.origin,
		Outcome:  outcome,
		Class:    class,
		Tool:     o.originRebind.Tool,
		Addrs:    o.originRebind.Addrs,
		Message:  msg,
	}, nil)
}
