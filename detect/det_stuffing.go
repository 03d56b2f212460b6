package detect

import (
	"net/netip"
	"strconv"
	"time"
)

// stuffingDetector raises key_stuffing: one client presenting more than max
// distinct keys within window, as a client trying leaked or guessed keys
// does, with how many of them the server refused (401, 403). Like a spread,
// it is an episode that re-arms once the client is back under max.
type stuffingDetector struct {
	window  time.Duration
	max     int
	clients *lru[netip.Addr, *stuffState] // bounded like the other tables
}

// stuffState remembers at most max+1 keys per client with when each was
// last seen and whether it was ever refused: enough to know whether more
// than max are in the window, bounded whatever the client does.
type stuffState struct {
	keys   []stuffKey
	active bool
}

type stuffKey struct {
	fp       string
	last     int64
	rejected bool
}

func (stuffingDetector) name() string { return DetKeyStuffing }

func (d *stuffingDetector) observe(e *Engine, ev *event) {
	o := ev.req
	if o == nil || o.key == nil || !o.client.IsValid() {
		return
	}
	s, ok := d.clients.get(o.client)
	if !ok {
		if old, full := d.clients.full(); full {
			s = old // the client that makes room carries the new one
			*s = stuffState{keys: reuse(s.keys)}
		} else {
			s = &stuffState{}
		}
		d.clients.put(o.client, s)
	}
	t, w := o.r.Time.UnixNano(), int64(d.window)
	n, rejected := s.note(o.key.fp, t, w, d.max, o.r.Status == 401 || o.r.Status == 403)
	if n <= d.max {
		s.active = false
		return
	}
	if s.active {
		return
	}
	s.active = true
	sev := SeverityMedium
	if 2*rejected >= n {
		sev = SeverityHigh // mostly refused: someone trying keys that do not work
	}
	client := addrString(o.client)
	e.raise(causeOf(o), Alert{
		Detector: DetKeyStuffing,
		Severity: sev,
		Subject:  client,
		Client:   client,
		Key:      o.key.fp,
		Host:     o.r.Host,
		Origin:   o.r.Origin,
		Keys:     n,
		Rejected: rejected,
		Message: "client " + client + " presented more than " + strconv.Itoa(d.max) + " distinct keys within " + d.window.String() +
			"; the server refused " + strconv.Itoa(rejected) + " of them",
	}, func() []Request { return e.clientEvidence(o.client, o.r) })
}

// note records key fp at t and returns how many distinct keys were seen
// within the window (at most limit+1) and how many of those were refused.
// It is one pass over the kept keys: a busy client's every request comes
// through here.
func (s *stuffState) note(fp string, t, window int64, limit int, refused bool) (n, rejected int) {
	found := false
	n = 0 // keys kept so far; a kept key moves down only over an expired one
	for i := range s.keys {
		k := &s.keys[i]
		if !found && k.fp == fp {
			k.last, k.rejected, found = max(k.last, t), k.rejected || refused, true
		}
		if t-k.last >= window {
			continue
		}
		if n != i {
			s.keys[n] = *k
		}
		n++
		if k.rejected {
			rejected++
		}
	}
	clear(s.keys[n:]) // the expired keys' strings
	s.keys = s.keys[:n]
	if !found {
		if len(s.keys) > limit {
			oldest := 0
			for i := range s.keys {
				if s.keys[i].last < s.keys[oldest].last {
					oldest = i
				}
			}
			if s.keys[oldest].rejected {
				rejected--
			}
			s.keys = append(s.keys[:oldest], s.keys[oldest+1:]...)
		}
		s.keys = append(s.keys, stuffKey{fp: fp, last: t, rejected: refused})
		if refused {
			rejected++
		}
	}
	return len(s.keys), rejected
}

// clientEvidence returns the most recent requests of a client, oldest first.
func (e *Engine) clientEvidence(client netip.Addr, current *Request) []Request {
	var out []Request
	e.recentEach(func(r *Request) bool {
		if r.Client.Addr() == client && e.protected(r.Server) {
			out = append(out, *r)
		}
		return len(out) < e.cfg.Limits.Evidence
	})
	if len(out) == 0 {
		out = append(out, *current)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
