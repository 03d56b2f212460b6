package detect

import (
	"net/netip"
	"time"
)

// detector is one detection rule. The engine hands it every event, in event
// time, on the engine's goroutine; the detector looks at the kinds it cares
// about, keeps whatever state it needs (per key through a keySlot, or its
// own bounded table), and raises alerts with Engine.raise. A new detector
// is one file with its type and one line in newDetectors.
type detector interface {
	name() string
	observe(e *Engine, ev *event)
}

// newDetectors registers the detectors, one line each, in the order they
// see each event.
func newDetectors(cfg Config, slots *slotAlloc) []detector {
	return []detector{
		&hostDetector{},
		&servedDetector{},
		&originDetector{},
		&burstDetector{window: cfg.BurstWindow, max: cfg.BurstMax, state: newKeySlot[burstState](slots)},
		&spreadDetector{window: cfg.SpreadWindow, maxHosts: cfg.SpreadMaxHosts, maxClients: cfg.SpreadMaxClients, state: newKeySlot[spreadState](slots)},
		&rebindDetector{},
		&dnsPrivateDetector{},
		&sniDetector{},
		&preflightDetector{},
		&stuffingDetector{window: cfg.StuffingWindow, max: cfg.StuffingMaxKeys, clients: newLRU[netip.Addr, *stuffState](cfg.Limits.Values, hashAddr)},
	}
}

// event is one thing a source saw, as the engine worked it out: exactly
// one of its fields is set.
type event struct {
	req *observation // an HTTP request
	dns *DNSAnswer   // a DNS answer, its name normalised and classified
	tls *TLSHello    // a TLS ClientHello
}

// observation is one request with what the engine worked out about it
// once, shared by the detectors and the tables.
type observation struct {
	r             *Request
	host          string // normalised Host, "" when absent
	hostAllowed   bool
	hostRebind    RebindName // a rebinding service's name (Tool "" otherwise); looked at for foreign Hosts only
	origin        string     // normalised Origin, or the Referer's origin (fromReferer)
	fromReferer   bool
	originAllowed bool
	originRebind  RebindName
	key           *keyState // nil when the request carries no key
	client        netip.Addr
}

// cause is what an alert is raised on: when, from whom, and the request
// behind it (nil for DNS answers and ClientHellos), with its key's state.
type cause struct {
	at     time.Time
	client netip.Addr
	r      *Request
	key    *keyState
}

// causeOf is the cause of an alert raised on a request.
func causeOf(o *observation) cause {
	return cause{at: o.r.Time, client: o.client, r: o.r, key: o.key}
}

// slotAlloc hands out the positions of per-key detector state.
type slotAlloc struct{ n int }

// keySlot gives a detector its own state of type T for each tracked key.
// The state lives with the key, so it is evicted with it and costs nothing
// for keys the detector never looks at.
type keySlot[T any] struct{ i int }

func newKeySlot[T any](a *slotAlloc) keySlot[T] {
	a.n++
	return keySlot[T]{i: a.n - 1}
}

// of returns k's state, created zero on first use.
func (s keySlot[T]) of(k *keyState) *T {
	if v, ok := k.slots[s.i].(*T); ok {
		return v
	}
	v := new(T)
	k.slots[s.i] = v
	return v
}
