package detect

import (
	"net/netip"
	"strconv"
	"time"
)

// spreadDetector raises key_spread: one key seen under more than maxHosts
// distinct Host values, or from more than maxClients client addresses, within
// window. Like a burst, each dimension is an episode that re-arms.
type spreadDetector struct {
	window     time.Duration
	maxHosts   int
	maxClients int
	state      keySlot[spreadState]
}

// spreadState remembers at most max+1 distinct values per dimension with the
// time each was last seen: enough to know whether more than max are inside
// the window, and bounded whatever the key does.
type spreadState struct {
	hosts         []seen[string]
	clients       []seen[netip.Addr]
	hostActive    bool
	clientActive  bool
	foreignInHost bool
}

type seen[T comparable] struct {
	v    T
	last int64
}

func (spreadDetector) name() string { return DetKeySpread }

func (d *spreadDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil {
		return
	}
	k := o.key
	if k == nil {
		return
	}
	s := d.state.of(k)
	t := o.r.Time.UnixNano()
	w := int64(d.window)
	if o.r.HasHost && !o.r.Blind.Has(BlindHost) {
		n := track(&s.hosts, o.host, t, w, d.maxHosts)
		if !o.hostAllowed {
			s.foreignInHost = true
		}
		d.check(e, o, s, &s.hostActive, n, d.maxHosts, "host", "Host values")
	}
	if o.client.IsValid() {
		n := track(&s.clients, o.client, t, w, d.maxClients)
		d.check(e, o, s, &s.clientActive, n, d.maxClients, "client", "client addresses")
	}
}

// check raises an episode when n crosses max and re-arms when it falls back.
func (d *spreadDetector) check(e *Engine, o *observation, s *spreadState, active *bool, n, max int, dim, what string) {
	if n <= max {
		*active = false
		return
	}
	if *active {
		return
	}
	*active = true
	k, r := o.key, o.r
	sev := SeverityMedium
	if dim == "host" && s.foreignInHost {
		sev = SeverityHigh
	}
	e.raise(causeOf(o), Alert{
		Detector:  DetKeySpread,
		Severity:  sev,
		Subject:   k.fp,
		Dimension: dim,
		Key:       k.fp,
		Host:      r.Host,
		Origin:    r.Origin,
		Message:   "key " + k.fp + " seen under more than " + strconv.Itoa(max) + " " + what + " within " + d.window.String(),
	}, func() []Request { return e.keyEvidence(k.fp, r) })
}

// track notes v at time t and returns how many distinct values were seen
// within the window, counting at most max+1.
func track[T comparable](list *[]seen[T], v T, t, window int64, max int) int {
	l := *list
	for i := range l {
		if l[i].v == v {
			if t > l[i].last {
				l[i].last = t
			}
			return inWindow(l, t, window)
		}
	}
	// Drop what fell out of the window before adding.
	kept := l[:0]
	for _, s := range l {
		if t-s.last < window {
			kept = append(kept, s)
		}
	}
	l = kept
	if len(l) <= max {
		l = append(l, seen[T]{v, t})
	} else {
		oldest := 0
		for i := range l {
			if l[i].last < l[oldest].last {
				oldest = i
			}
		}
		l[oldest] = seen[T]{v, t}
	}
	*list = l
	return inWindow(l, t, window)
}

func inWindow[T comparable](l []seen[T], t, window int64) int {
	n := 0
	for _, s := range l {
		if t-s.last < window {
			n++
		}
	}
	return n
}
