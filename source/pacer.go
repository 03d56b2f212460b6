package source

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Pacer paces a replay in event time: at speed 1 a capture plays as recorded,
// at 10 ten times faster, at 0 as fast as possible. It can pause the replay
// and step it by an amount of event time while paused. Sources call Due and
// Wait for every event; controls (the dashboard) may be called from any
// goroutine. A nil *Pacer never waits.
type Pacer struct {
	active   atomic.Bool  // speed > 0 or paused: the fast path is one load
	lastNano atomic.Int64 // latest event time released on the fast path

	mu         sync.Mutex
	speed      float64
	paused     bool
	limit      time.Time // while paused: events up to here may pass (step)
	evAnchor   time.Time // event time that corresponds to wallAnchor
	wallAnchor time.Time
	last       time.Time // latest event time released
	changed    chan struct{}
	now        func() time.Time
}

// NewPacer returns a pacer at speed (0 = unpaced).
func NewPacer(speed float64) *Pacer {
	p := &Pacer{speed: speed, changed: make(chan struct{}), now: time.Now}
	p.active.Store(speed > 0)
	return p
}

// Due reports whether an event at t may be released without waiting.
func (p *Pacer) Due(t time.Time) bool {
	if p == nil || !p.active.Load() {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d, _ := p.delayLocked(t)
	return d <= 0
}

// Wait blocks until an event at event time t is due, or ctx ends.
func (p *Pacer) Wait(ctx context.Context, t time.Time) error {
	if p == nil || !p.active.Load() {
		p.note(t)
		return nil
	}
	for {
		p.mu.Lock()
		d, changed := p.delayLocked(t)
		if d <= 0 {
			if t.After(p.last) {
				p.last = t
			}
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		var timer <-chan time.Time
		if d < time.Hour*24*365 {
			tm := time.NewTimer(d)
			timer = tm.C
			defer tm.Stop()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-timer:
		}
	}
}

// note records the latest event time on the unpaced path, cheaply.
func (p *Pacer) note(t time.Time) {
	if p == nil {
		return
	}
	p.lastNano.Store(t.UnixNano())
}

// lastLocked is the latest event time released on either path.
func (p *Pacer) lastLocked() time.Time {
	if n := p.lastNano.Load(); n != 0 {
		if t := time.Unix(0, n); t.After(p.last) {
			p.last = t
		}
	}
	return p.last
}

// delayLocked returns how long to wait for t and the channel that is closed on
// the next control change. A paused pacer returns a very long delay.
func (p *Pacer) delayLocked(t time.Time) (time.Duration, chan struct{}) {
	if p.paused {
		if !p.limit.IsZero() && !t.After(p.limit) {
			return 0, p.changed
		}
		return 1 << 62, p.changed
	}
	if p.speed <= 0 {
		return 0, p.changed
	}
	if p.evAnchor.IsZero() {
		p.evAnchor, p.wallAnchor = t, p.now()
		return 0, p.changed
	}
	due := p.wallAnchor.Add(time.Duration(float64(t.Sub(p.evAnchor)) / p.speed))
	return due.Sub(p.now()), p.changed
}

// SetSpeed changes the pace from the current position on.
func (p *Pacer) SetSpeed(x float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if x < 0 {
		x = 0
	}
	p.speed = x
	p.reanchorLocked()
	p.signalLocked()
}

// Speed returns the current pace.
func (p *Pacer) Speed() float64 {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// SetPaused pauses or resumes the replay.
func (p *Pacer) SetPaused(paused bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = paused
	p.limit = time.Time{}
	p.reanchorLocked()
	p.signalLocked()
}

// Paused reports whether the replay is paused.
func (p *Pacer) Paused() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Step lets d more of event time through while paused.
func (p *Pacer) Step(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		return
	}
	base := p.limit
	if last := p.lastLocked(); base.IsZero() || last.After(base) {
		base = last
	}
	if base.IsZero() {
		return
	}
	p.limit = base.Add(d)
	p.signalLocked()
}

func (p *Pacer) reanchorLocked() {
	p.evAnchor, p.wallAnchor = p.lastLocked(), p.now()
	if p.evAnchor.IsZero() {
		p.evAnchor = time.Time{}
	}
	p.active.Store(p.speed > 0 || p.paused)
}

func (p *Pacer) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}
