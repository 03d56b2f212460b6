package detect

import (
	"slices"
	"strings"
)

// dnsPrivateDetector raises dns_private_answer: a name outside [dns]
// internal_suffixes that resolved to a private or loopback address, the
// first step of DNS rebinding. A short TTL and answers that flip between
// public and private raise the severity. With no allowed hosts the engine
// cannot tell the service's own internal names from an attacker's, so it
// raises only names that flipped or that are rebinding services' names: a
// name that only ever resolves privately is an internal name by default.
type dnsPrivateDetector struct{}

func (dnsPrivateDetector) name() string { return DetDNSPrivateAnswer }

func (dnsPrivateDetector) observe(e *Engine, ev *event) {
	a := ev.dns
	if a == nil || !a.Private || a.Internal {
		return
	}
	rb, isRB := ParseRebindName(a.Name, e.cfg.RebindDomains)
	if !e.hostCheckOn() && !a.Flipped && !isRB {
		return
	}
	sev := SeverityMedium
	why := ""
	if a.TTL < 60 {
		sev++
		why = ", TTL " + itoa(int(a.TTL)) + " s"
	}
	if a.Flipped {
		sev++
		why += ", answers flip between public and private"
	}
	addrs := make([]string, 0, len(a.Addrs))
	for _, ip := range a.Addrs {
		addrs = append(addrs, ip.String())
	}
	msg := a.Name + " resolved to " + strings.Join(addrs, ", ")
	if len(a.Addrs) == 0 {
		msg = a.Name + " is a CNAME to localhost"
	}
	class := ""
	if isRB {
		sev, class = SeverityCritical, ClassRebindingService
		why += "; a " + string(rb.Tool) + " rebinding name"
	}
	st, _ := e.dnsNames.peek(a.Name)
	e.raise(cause{at: a.Time, client: a.Client.Addr()}, Alert{
		Detector: DetDNSPrivateAnswer,
		Severity: min(sev, SeverityCritical),
		Subject:  a.Name,
		Host:     a.Name,
		Class:    class,
		Tool:     rb.Tool,
		Addrs:    rb.Addrs,
		Message:  msg + why,
		DNS:      slices.Clone(st.answers),
	}, nil)
}
