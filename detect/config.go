package detect

import (
	"fmt"
	"net/netip"
	"time"
)

// Config is what the engine needs from the [hosts], [origins], [burst],
// [spread], [alerts] and [limits] sections.
type Config struct {
	AllowedHosts   []string
	AllowedOrigins []string
	AllowNull      bool
	CheckReferer   bool

	BurstWindow time.Duration
	BurstMax    int

	SpreadWindow     time.Duration
	SpreadMaxHosts   int
	SpreadMaxClients int

	// StuffingWindow and StuffingMaxKeys: one client presenting more than
	// StuffingMaxKeys distinct keys within StuffingWindow is key stuffing.
	StuffingWindow  time.Duration
	StuffingMaxKeys int

	Dedupe time.Duration

	// RebindDomains are the domains under which rebinding services'
	// host names are recognised ([rebinding] domains; see ParseRebindName).
	RebindDomains []string

	// Servers are the servers protected ([capture] servers): in a capture
	// that also holds traffic to other servers (a gateway's, a client's),
	// only requests that reached one of them are detected on. Empty: any.
	Servers []netip.Prefix

	// InternalSuffixes are DNS suffixes whose names may resolve to private
	// addresses ([dns] internal_suffixes).
	InternalSuffixes []string

	Limits Limits
}

// MaxLimit bounds every [limits] value: the tables address their entries
// with 32-bit positions, and a hundred million keys would take tens of
// gigabytes already.
const MaxLimit = 100_000_000

// Limits caps every table the engine keeps, so memory is bounded whatever the
// traffic. Each cap evicts the least recently seen entry and counts it.
type Limits struct {
	Keys       int // keys tracked
	Values     int // distinct Host values and Origins tracked, each
	Alerts     int // alerts kept for the dashboard
	Recent     int // recent requests kept for the dashboard and evidence
	Evidence   int // requests kept per alert
	DedupeKeys int // (detector, subject) pairs remembered for de-duplication
	Rows       int // rows per table in a snapshot (the most recently seen)
}

// DefaultConfig returns DESIGN.md's defaults (no allowed hosts or origins).
func DefaultConfig() Config {
	return Config{
		AllowNull:        false,
		CheckReferer:     false,
		BurstWindow:      10 * time.Second,
		BurstMax:         100,
		SpreadWindow:     10 * time.Minute,
		SpreadMaxHosts:   3,
		SpreadMaxClients: 20,
		StuffingWindow:   5 * time.Minute,
		StuffingMaxKeys:  10,
		RebindDomains:    DefaultRebindDomains(),
		Dedupe:           60 * time.Second,
		InternalSuffixes: []string{"localhost", "local", "internal", "lan", "home.arpa"},
		Limits:           DefaultLimits(),
	}
}

// DefaultLimits are the caps used unless [limits] says otherwise.
func DefaultLimits() Limits {
	return Limits{
		Keys:       100_000,
		Values:     20_000,
		Alerts:     2_000,
		Recent:     2_000,
		Evidence:   20,
		DedupeKeys: 50_000,
		Rows:       1_000,
	}
}

// Validate checks ranges and compiles the allowlists, so that a bad pattern
// is reported before anything starts.
func (c *Config) Validate() error {
	if _, err := compileHosts(c.AllowedHosts); err != nil {
		return fmt.Errorf("[hosts] allowed: %w", err)
	}
	if _, err := compileOrigins(c.AllowedOrigins); err != nil {
		return fmt.Errorf("[origins] allowed: %w", err)
	}
	switch {
	case c.BurstWindow <= 0:
		return fmt.Errorf("[burst] window must be positive")
	case c.BurstMax < 1:
		return fmt.Errorf("[burst] max_requests must be at least 1")
	case c.SpreadWindow <= 0:
		return fmt.Errorf("[spread] window must be positive")
	case c.SpreadMaxHosts < 1:
		return fmt.Errorf("[spread] max_hosts must be at least 1")
	case c.SpreadMaxClients < 1:
		return fmt.Errorf("[spread] max_clients must be at least 1")
	case c.StuffingWindow <= 0:
		return fmt.Errorf("[stuffing] window must be positive")
	case c.StuffingMaxKeys < 1:
		return fmt.Errorf("[stuffing] max_keys must be at least 1")
	case c.Dedupe < 0:
		return fmt.Errorf("[alerts] dedupe must not be negative")
	}
	l := c.Limits
	for _, v := range []struct {
		name string
		n    int
	}{{"keys", l.Keys}, {"values", l.Values}, {"alerts", l.Alerts}, {"recent", l.Recent}, {"evidence", l.Evidence}, {"dedupe_keys", l.DedupeKeys}, {"rows", l.Rows}} {
		if v.n < 1 {
			return fmt.Errorf("[limits] %s must be at least 1", v.name)
		}
		if v.n > MaxLimit {
			return fmt.Errorf("[limits] %s must be at most %d", v.name, MaxLimit)
		}
	}
	return nil
}
