// Package suggest proposes a rebindwatch configuration from observed
// traffic (rebindwatch --suggest-config): the Host names and Origins that
// carry the keyed traffic as allowlists, the rest as comments with their
// counts, and burst and spread thresholds from the per-key rates seen.
//
// It summarises; it cannot tell the service's names from an attacker's. The
// rules lean towards proposing too little (a name left out raises an alert
// the operator can allow) rather than too much (an attacker's name allowed
// silently), and every choice is explained in the output with its counts.
//
// Memory is bounded whatever the input: distinct values and keys are capped,
// and what falls beyond a cap is counted and reported, not kept.
package suggest

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Options sets the windows the thresholds are suggested for and the caps
// that bound memory.
type Options struct {
	BurstWindow    time.Duration // 0 = 10s (the window the suggested max_requests is for)
	SpreadWindow   time.Duration // 0 = 10m
	StuffingWindow time.Duration // 0 = 5m (the window the suggested [stuffing] max_keys is for)
	MaxValues      int           // distinct hosts/origins tracked (0 = 10000; beyond: counted as "other", memory bounded)
	MaxKeys        int           // keys, and clients, tracked for rates (0 = 100000)
}

// Defaults for the zero Options.
const (
	DefaultBurstWindow  = 10 * time.Second
	DefaultSpreadWindow = 10 * time.Minute
	DefaultStuffWindow  = 5 * time.Minute
	DefaultMaxValues    = 10_000
	DefaultMaxKeys      = 100_000
)

func (o Options) withDefaults() Options {
	if o.BurstWindow <= 0 {
		o.BurstWindow = DefaultBurstWindow
	}
	if o.SpreadWindow <= 0 {
		o.SpreadWindow = DefaultSpreadWindow
	}
	if o.StuffingWindow <= 0 {
		o.StuffingWindow = DefaultStuffWindow
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	return o
}

// Collector watches requests and proposes a config. It is a detect.Sink
// (called on the engine goroutine); Config and Proposal may be called from
// any goroutine while requests arrive (the dashboard's live proposal).
type Collector struct {
	mu   sync.Mutex // one lock per request: uncontended, it costs ~10 ns
	opts Options

	requests    uint64
	keyed       uint64 // requests with a key
	blindKey    uint64 // requests from a source with no key field
	blindHost   uint64 // requests from a source with no Host field
	blindOrigin uint64 // requests from a source with no Origin field
	noHost      uint64 // Host header absent (source could see it)
	noHostV11   uint64 // of which HTTP/1.1 (raises unexpected_host)
	withHost    uint64 // requests with a Host
	keyedHost   uint64 // of which keyed
	badReferer  uint64 // Referer without an origin part (not checked)

	first, last int64 // event time range, unix nanos
	timed       bool

	hosts   valueTable
	origins valueTable
	keys    keyTable
	clients clientTable
}

// New returns a Collector with opts (zero fields take their defaults).
func New(opts Options) *Collector {
	opts = opts.withDefaults()
	c := &Collector{opts: opts}
	c.hosts.init(opts.MaxValues)
	c.origins.init(opts.MaxValues)
	c.keys.init(opts)
	c.clients.init(opts)
	return c
}

// Alert does nothing: the suggestion is made from requests alone.
func (c *Collector) Alert(*detect.Alert) error { return nil }

// Request notes one request. After the first sighting of its Host, Origin
// and key it allocates nothing.
func (c *Collector) Request(r *detect.Request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	t := c.eventTime(r.Time)

	keyed := r.Key != "" && !r.Blind.Has(detect.BlindKey)
	if r.Blind.Has(detect.BlindKey) {
		c.blindKey++
	}
	var kid uint64
	if keyed {
		c.keyed++
		kid = keyID(r.Key)
	}

	var hostHash uint32
	hostSeen := false
	switch {
	case r.Blind.Has(detect.BlindHost):
		c.blindHost++
	case !r.HasHost:
		c.noHost++
		if r.Proto == "HTTP/1.1" {
			c.noHostV11++
		}
	default:
		c.withHost++
		if keyed {
			c.keyedHost++
		}
		hostSeen = true
		if s := c.hosts.get(r.Host, detect.NormalizeHost); s != nil {
			s.add(keyed, kid)
			hostHash = s.hash
		} else {
			c.hosts.other(keyed)
			hostHash = hash32(detect.NormalizeHost(r.Host))
		}
	}

	// As the engine does with check_referer: the Origin when the request
	// has one, else the origin of its Referer.
	if r.Blind.Has(detect.BlindOrigin) {
		c.blindOrigin++
	}
	switch {
	case r.HasOrigin:
		if r.Origin != "" {
			if s := c.origins.get(r.Origin, detect.NormalizeOrigin); s != nil {
				s.add(keyed, kid)
			} else {
				c.origins.other(keyed)
			}
		}
	case r.Referer != "":
		p := refererPrefix(r.Referer)
		if p == "" {
			c.badReferer++
			break
		}
		if s := c.origins.get(p, detect.NormalizeOrigin); s != nil {
			s.addReferer(keyed, kid)
		} else {
			c.origins.other(keyed)
		}
	}

	if keyed {
		c.keys.observe(kid, t, c.last, hostSeen, hostHash, r.Client.Addr())
		if a := r.Client.Addr(); a.IsValid() {
			c.clients.observe(a, uint32(kid^kid>>32), t, c.last)
		}
	}
	return nil
}

// eventTime returns t in unix nanos, keeping the range seen; a zero time
// (a source that does not know it) takes the newest time seen so far.
func (c *Collector) eventTime(tm time.Time) int64 {
	if tm.IsZero() {
		return c.last
	}
	t := tm.UnixNano()
	if !c.timed {
		c.first, c.last, c.timed = t, t, true
		return t
	}
	if t < c.first {
		c.first = t
	}
	if t > c.last {
		c.last = t
	}
	return t
}

// refererPrefix returns the scheme://authority part of a Referer, which
// detect.RefererOrigin maps to the same origin as the whole Referer, so that
// it can be looked up without allocating; "" when the Referer has no origin.
func refererPrefix(ref string) string {
	scheme, rest, ok := strings.Cut(ref, "://")
	if !ok || scheme == "" || rest == "" {
		return ""
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	end := len(scheme) + 3
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end += i
	} else {
		end += len(rest)
	}
	return ref[:end]
}

// keyID turns a fingerprint (12 hex digits) into a number without
// allocating; anything else is hashed.
func keyID(fp string) uint64 {
	if len(fp) > 0 && len(fp) <= 16 {
		var v uint64
		ok := true
		for i := 0; i < len(fp); i++ {
			c := fp[i]
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				ok = false
			}
			if !ok {
				break
			}
			v = v<<4 | uint64(d)
		}
		if ok {
			return v | uint64(len(fp))<<60 // "0a" and "a" stay distinct
		}
	}
	h := uint64(14695981039346656037) // FNV-1a, inline: hash/fnv would allocate
	for i := 0; i < len(fp); i++ {
		h ^= uint64(fp[i])
		h *= 1099511628211
	}
	return h
}

// hash32 is FNV-1a over s, allocation-free.
func hash32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// addrHash hashes a client address (zone included) for the spread sets.
func addrHash(a netip.Addr) uint32 {
	b := a.As16()
	h := uint32(2166136261)
	if a.Is4() {
		h ^= 4
		h *= 16777619
	}
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	if z := a.Zone(); z != "" {
		h ^= hash32(z)
		h *= 16777619
	}
	return h
}
