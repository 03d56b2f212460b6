package detect

import "slices"

// rebindDetector raises dns_rebind: a request whose Host is a name that
// recently had a private answer (within its TTL plus a margin) or that
// flipped between public and private answers, reaching a private or loopback
// server. That is the DNS rebinding chain, end to end. With no allowed
// hosts, only a flip or a rebinding service's name counts (see
// dnsPrivateDetector).
type rebindDetector struct{}

func (rebindDetector) name() string { return DetDNSRebind }

func (rebindDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || !o.r.HasHost || e.dnsNames.len() == 0 {
		return
	}
	r := o.r
	name, _ := SplitHostPort(o.host)
	st, ok := e.dnsNames.peek(name)
	if !ok || !st.hadPrivate || e.ownName(name) {
		return
	}
	if !e.hostCheckOn() && !st.hadPublic {
		if _, isRB := ParseRebindName(name, e.cfg.RebindDomains); !isRB {
			return
		}
	}
	recent := !r.Time.After(st.privateUntil)
	if !recent && !(st.hadPublic && st.hadPrivate) {
		return
	}
	if srv := r.Server.Addr(); srv.IsValid() && !PrivateAddr(srv) {
		return
	}
	msg := "request for " + name + " reached " + serverText(r.Server) + " after " + name + " resolved to a private address"
	if st.hadPublic {
		msg += " (its answers flipped from public to private)"
	}
	e.raise(causeOf(o), Alert{
		Detector: DetDNSRebind,
		Severity: SeverityCritical,
		Subject:  name,
		Key:      r.Key,
		Host:     r.Host,
		Origin:   r.Origin,
		Outcome:  Outcome(r.Status),
		Message:  msg,
		DNS:      slices.Clone(st.answers),
	}, nil)
}
