package detect

// Accessors for views that hold a Snapshot and must answer as the engine
// would, without a second copy of its rules.

// Allowlist answers whether a Host or an Origin is allowed by a snapshot's
// AllowedHosts and AllowedOrigins, with the engine's matching rules.
type Allowlist struct {
	hosts   hostAllowlist
	origins originAllowlist
}

// NewAllowlist compiles the patterns; a pattern that does not compile is
// skipped (the engine refused it too).
func NewAllowlist(hosts, origins []string) Allowlist {
	var a Allowlist
	for _, h := range hosts {
		if p, err := compileHostPattern(h); err == nil {
			a.hosts.add(p)
		}
	}
	for _, o := range origins {
		if p, err := compileOrigin(o); err == nil {
			a.origins.add(p)
		}
	}
	return a
}

// HostCheck reports whether Hosts are checked at all (the list is not empty).
func (a *Allowlist) HostCheck() bool { return a.hosts.len() > 0 }

// Host reports whether a Host value (as sent, or normalised) is allowed.
func (a *Allowlist) Host(h string) bool { return a.hosts.allows(NormalizeHost(h)) }

// Origin reports whether an Origin (as sent, or normalised) is allowed.
func (a *Allowlist) Origin(o string) bool { return a.origins.allows(NormalizeOrigin(o)) }
