package detect

import (
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

// spreadState is a key's episodes. The values themselves, with when each
// was last seen, are the key's own lists (keyState.hosts, .clients), which
// keep at least max+1 of them: enough to know whether more than max are
// inside the window, bounded whatever the key does.
type spreadState struct {
	hostActive    bool
	clientActive  bool
	foreignInHost bool
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
		n := k.hosts.within(t, w)
		if !o.hostAllowed {
			s.foreignInHost = true
		}
		d.check(e, o, s, &s.hostActive, n, d.maxHosts, "host", "Host values")
	}
	if o.client.IsValid() {
		n := k.clients.within(t, w)
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
