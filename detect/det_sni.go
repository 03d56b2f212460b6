package detect

import (
	"strconv"
	"strings"
)

// sniDetector raises unexpected_sni: a ClientHello whose server name is not
// in [hosts] allowed, the TLS twin of unexpected_host (a rebinding page on
// https reaches the server with its own name in SNI). A pattern with a port
// matches the server port.
type sniDetector struct{}

func (sniDetector) name() string { return DetUnexpectedSNI }

func (sniDetector) observe(e *Engine, ev *event) {
	h := ev.tls
	if h == nil || h.SNI == "" {
		return
	}
	name := strings.TrimRight(strings.ToLower(h.SNI), ".")
	rb, isRB := ParseRebindName(name, e.cfg.RebindDomains)
	if e.hostAllow.len() == 0 && !isRB {
		return // the check is off without an allowlist
	}
	port := ""
	if h.Server.IsValid() {
		port = strconv.Itoa(int(h.Server.Port()))
	}
	// A pattern with a port matches the server's port; one without, any.
	if e.hostAllow.allowsOn(name, port, false) {
		return
	}
	sev, class := SeverityMedium, ""
	msg := "TLS server name " + name + " is not an allowed name"
	switch {
	case isRB:
		sev, class = SeverityCritical, ClassRebindingService
		msg = "TLS server name " + name + " is a " + string(rb.Tool) + " rebinding name (" + addrsText(rb.Addrs) + ")"
	case isIPLiteral(name):
		sev = SeverityLow
	}
	e.raise(cause{at: h.Time, client: h.Client.Addr()}, Alert{
		Detector: DetUnexpectedSNI,
		Severity: sev,
		Subject:  name,
		Host:     h.SNI,
		Class:    class,
		Tool:     rb.Tool,
		Addrs:    rb.Addrs,
		Message:  msg,
		TLS:      []TLSHello{*h},
	}, nil)
}
