package ui

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

type simBackend struct {
	mu    sync.Mutex
	s     detect.Snapshot
	last  time.Time
	pacer *detect.Pacer
	acc   float64
	nextID uint64
	rng   *rand.Rand
	allowed map[string]bool
}

func (b *simBackend) Snapshot() detect.Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	dt := now.Sub(b.last).Seconds()
	b.last = now
	if !b.pacer.Paused() {
		sp := b.pacer.Speed()
		if sp == 0 { sp = 50 }
		adv := dt * sp
		b.acc += adv
		for b.acc >= 1 {
			b.acc--
			b.s.EventTime = b.s.EventTime.Add(time.Second)
			r := float64(5 + b.rng.Intn(40))
			b.s.History = append(b.s.History[1:], r)
			b.s.RateNow = r
			b.s.Requests += uint64(r)
			for i := range b.s.Keys {
				b.s.Keys[i].Requests += uint64(b.rng.Intn(10))
				b.s.Keys[i].RateNow = float64(b.rng.Intn(30))
				b.s.Keys[i].LastSeen = b.s.EventTime
			}
			req := fxRequest(0, "10.0.0.7:51234", "GET", "evil.rebind.test", fmt.Sprintf("/api/v1/items/%d", b.rng.Intn(1000)), "http://evil.rebind.test", fpEvil, 200)
			req.Time = b.s.EventTime
			b.s.Recent = append([]detect.Request{req}, b.s.Recent...)
			if len(b.s.Recent) > 200 { b.s.Recent = b.s.Recent[:200] }
			if b.rng.Intn(5) == 0 {
				b.nextID++
				h := fmt.Sprintf("rebind-%d.attacker.test", b.nextID)
				a := detect.Alert{ID: b.nextID, Time: b.s.EventTime, LastSeen: b.s.EventTime, Detector: detect.DetUnexpectedHost, Severity: detect.Severity(b.rng.Intn(4)), Subject: h, Key: fpEvil, Client: "10.0.0.7", Host: h, Message: "Host " + h + " is not an allowed name", Count: 1}
				b.s.Alerts = append([]detect.Alert{a}, b.s.Alerts...)
				b.s.AlertsByDetector[detect.DetUnexpectedHost]++
				b.s.Hosts = append(b.s.Hosts, detect.ValueStat{Value: h, Requests: 1, Keys: 1, LastSeen: b.s.EventTime})
			}
			for i := range b.s.Sources {
				b.s.Sources[i].Done += 5000
				if b.s.Sources[i].Done >= b.s.Sources[i].Total { b.s.Sources[i].Done = b.s.Sources[i].Total; b.s.Sources[i].State = detect.StateDone }
			}
		}
	}
	out := b.s
	out.Alerts = append([]detect.Alert(nil), b.s.Alerts...)
	out.Hosts = append([]detect.ValueStat(nil), b.s.Hosts...)
	for i := range out.Hosts { out.Hosts[i].Allowed = out.Hosts[i].Allowed || b.allowed["host "+out.Hosts[i].Value] }
	for i := range out.Alerts { out.Alerts[i].Allowed = out.Alerts[i].Allowed || b.allowed["host "+out.Alerts[i].Subject] }
	out.Keys = append([]detect.KeyStat(nil), b.s.Keys...)
	out.Recent = append([]detect.Request(nil), b.s.Recent...)
	out.History = append([]float64(nil), b.s.History...)
	out.Sources = append([]detect.SourceStatus(nil), b.s.Sources...)
	return out
}
func (b *simBackend) AlertDetail(id uint64) (detect.Alert, bool) {
	b.mu.Lock(); defer b.mu.Unlock()
	for _, a := range b.s.Alerts { if a.ID == id { a.Evidence = b.s.Recent[:min(3, len(b.s.Recent))]; return a, true } }
	return detect.Alert{}, false
}
func (b *simBackend) KeyDetail(fp string) (detect.KeyDetail, bool) {
	return demoBackend().KeyDetail(fp)
}
func (b *simBackend) Allow(kind, value string) {
	b.mu.Lock(); defer b.mu.Unlock()
	b.allowed[kind+" "+value] = true
	if kind == "host" { b.s.AddedHosts = append(b.s.AddedHosts, value) } else { b.s.AddedOrigins = append(b.s.AddedOrigins, value) }
}
func (b *simBackend) ClearAlerts() { b.mu.Lock(); defer b.mu.Unlock(); b.s.Alerts = nil }

func TestManualSim(t *testing.T) {
	if os.Getenv("RW_UI_MANUAL") == "" {
		t.Skip("manual")
	}
	s := demoSnapshot()
	p := detect.NewPacer(1)
	b := &simBackend{s: s, last: time.Now(), pacer: p, nextID: 100, rng: rand.New(rand.NewSource(1)), allowed: map[string]bool{}}
	err := Run(context.Background(), Options{Backend: b, Pacer: p, Title: "rebindwatch — demo capture", NoColor: os.Getenv("NO_COLOR") != "",
		SaveAllowlist: func(h, o []string) (string, error) { return "/tmp/rebindwatch.toml", nil }})
	fmt.Fprintln(os.Stderr, "Run returned", err)
}
