package ui

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// bigSnapshot is a busy run: 1000 keys, 1000 hosts, 1000 origins, 500
// alerts, 500 recent requests (the caps the engine reports at most).
func bigSnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.Keys, s.Hosts, s.Origins, s.Alerts, s.Recent = nil, nil, nil, nil, nil
	for i := 0; i < 1000; i++ {
		fp := fmt.Sprintf("%012x", i*7919)
		s.Keys = append(s.Keys, detect.KeyStat{Key: fp, Requests: uint64(i * 37 % 1009), RateNow: float64(i % 13), PeakRate: float64(i % 101),
			Hosts: i % 5, Clients: i % 7, Origins: i % 3, LastSeen: fxNow.Add(-time.Duration(i) * time.Second)})
		s.Hosts = append(s.Hosts, detect.ValueStat{Value: "host-" + strconv.Itoa(i) + ".example.com", Requests: uint64(i * 31 % 997), Keys: i % 4, LastSeen: fxNow})
		s.Origins = append(s.Origins, detect.ValueStat{Value: "https://app-" + strconv.Itoa(i) + ".example.com", Requests: uint64(i), Keys: 1, LastSeen: fxNow})
	}
	for i := 0; i < 500; i++ {
		s.Alerts = append(s.Alerts, detect.Alert{ID: uint64(1000 - i), Time: fxNow, LastSeen: fxNow, Detector: detect.DetUnexpectedHost,
			Severity: detect.Severity(i % 4), Subject: "host-" + strconv.Itoa(i) + ".attacker.test", Key: fpEvil, Client: "10.0.0.7", Count: i})
		s.Recent = append(s.Recent, fxRequest(time.Duration(i)*time.Millisecond, "10.0.0.7:51234", "GET", "api.example.com",
			"/api/v1/items/"+strconv.Itoa(i), "https://app.example.com", fpApp, 200))
	}
	return s
}

// BenchmarkView is one frame of a busy dashboard (what 20 fps costs).
func BenchmarkView(b *testing.B) {
	for _, sz := range sizes {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			fb := &fakeBackend{snap: bigSnapshot()}
			m := newTestModel(b, fb, sz[0], sz[1], withPacer(source.NewPacer(1)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkSnapshotApply is one tick with a changed snapshot: filter and
// sort 1000 keys, hosts and origins, 500 alerts and requests.
func BenchmarkSnapshotApply(b *testing.B) {
	fb := &fakeBackend{snap: bigSnapshot()}
	m := newTestModel(b, fb, 140, 40, withPacer(source.NewPacer(1)))
	s := fb.snap
	msg := tickMsg(m, s, wall0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		msg.snap.Requests = uint64(i) // a change, so the tables are rebuilt
		out, _ := m.Update(msg)
		m = out.(Model)
	}
}

// BenchmarkIdleTick is a tick whose snapshot did not change: it should
// cost next to nothing.
func BenchmarkIdleTick(b *testing.B) {
	fb := &fakeBackend{snap: bigSnapshot()}
	m := newTestModel(b, fb, 140, 40, withPacer(source.NewPacer(1)))
	msg := tickMsg(m, fb.snap, wall0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, _ := m.Update(msg)
		m = out.(Model)
	}
}

// BenchmarkHostileView is a frame full of hostile strings (10 kB values).
func BenchmarkHostileView(b *testing.B) {
	m := newTestModel(b, hostileBackend(hostileValues), 140, 40, withPacer(source.NewPacer(1)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
}
