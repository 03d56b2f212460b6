package detect

import "strings"

// hostDetector raises unexpected_host: a Host that matches no allowed pattern,
// or no Host at all on HTTP/1.1 (RFC 9112 §3.2 makes it mandatory there).
// Without an allowlist the check is off, except for the names of rebinding
// services, which are never an API's own.
type hostDetector struct{}

func (hostDetector) name() string { return DetUnexpectedHost }

// missingHost is the subject of an HTTP/1.1 request without a Host.
const missingHost = "(missing)"

func (hostDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || o.r.Blind.Has(BlindHost) || e.hostAllow.len() == 0 && o.hostRebind.Tool == "" {
		return
	}
	r := o.r
	subject := o.host
	hasHost := r.HasHost || r.URIHost != ""
	switch {
	case hasHost && o.hostAllowed:
		return
	case !hasHost && r.Proto != "HTTP/1.1":
		return // HTTP/1.0 may omit Host
	case !hasHost:
		subject = missingHost
	}
	sev := SeverityMedium
	if !hasHost {
		sev = SeverityLow
	}
	sev = raiseFor(sev, o)
	msg := "Host " + subject + " is not an allowed name"
	switch {
	case !hasHost:
		msg = "HTTP/1.1 request without a Host header"
	case o.hostRebind.Tool != "":
		msg = "Host " + subject + " is a " + string(o.hostRebind.Tool) + " rebinding name (" + addrsText(o.hostRebind.Addrs) + ")"
	case r.DupHost:
		msg += " (two Host headers)"
	case r.URIHost != "" && r.HasHost && !strings.EqualFold(NormalizeHost(r.Host), o.host):
		msg += " (absolute-form target; its Host header says " + r.Host + ")"
	}
	if served(r.Status) {
		msg += "; the server answered " + statusText(r.Status)
	}
	class := classify(o)
	switch class {
	case ClassScanner:
		sev = SeverityLow
	case ClassRebindingService:
		sev = SeverityCritical
	}
	e.raise(causeOf(o), Alert{
		Detector: DetUnexpectedHost,
		Severity: sev,
		Subject:  subject,
		Key:      r.Key,
		Host:     r.Host,
		Origin:   r.Origin,
		Outcome:  Outcome(r.Status),
		Class:    class,
		Tool:     o.hostRebind.Tool,
		Addrs:    o.hostRebind.Addrs,
		Message:  msg,
	}, nil)
}

// raiseFor adds a level for each piece of evidence: a key on the request, a
// sensitive path, a server that answered 2xx.
func raiseFor(sev Severity, o *observation) Severity {
	if o.r.Key != "" {
		sev++
	}
	if sensitivePath(o.r.Target) {
		sev++
	}
	if served(o.r.Status) {
		sev++
	}
	return min(sev, SeverityCritical)
}

func served(status int) bool { return status >= 200 && status < 300 }

func statusText(s int) string {
	return string([]byte{byte('0' + s/100%10), byte('0' + s/10%10), byte('0' + s%10)})
}

// sensitiveSegments are path segments that make a request worth more.
var sensitiveSegments = []string{"admin", "internal", "debug", "config", ".env", ".git", "actuator", "console", "manage", "management", "private", "secrets", "keys", "token", "tokens", "users", "export", "backup"}

// sensitivePath reports whether the target's path has a sensitive segment.
func sensitivePath(target string) bool {
	path, _, _ := strings.Cut(target, "?")
	if i := strings.Index(path, "://"); i >= 0 { // absolute-form
		rest := path[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			path = rest[j:]
		} else {
			return false
		}
	}
	for seg := range strings.SplitSeq(path, "/") {
		for _, s := range sensitiveSegments {
			if strings.EqualFold(seg, s) {
				return true
			}
		}
	}
	return false
}
