package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
)

var sizes = [][2]int{{80, 24}, {140, 40}}

// TestGoldenScreens renders whole screens, stripped of escape codes, at
// 80×24 (tabs) and 140×40 (grid) and compares them with testdata.
func TestGoldenScreens(t *testing.T) {
	type screenCase struct {
		name  string
		opts  []testOpt
		snap  func() detect.Snapshot
		keys  []string
		after func(t *testing.T, m Model) Model
	}
	// A fresh pacer for every model built from the case.
	replay := func() []testOpt { return []testOpt{func(o *Options) { o.Pacer = detect.NewPacer(1) }} }
	cases := []screenCase{
		{name: "demo", opts: replay()},
		{name: "alert_detail", opts: replay(), keys: []string{"j", "j", "j", "enter"}},
		{name: "key_detail", opts: replay(), keys: []string{"2", "enter"}},
		{name: "dns_alert_detail", opts: replay(), keys: []string{"G", "k", "enter"}},
		{name: "request_detail", opts: replay(), keys: []string{"5", "enter"}},
		{name: "help", opts: replay(), keys: []string{"?"}},
		{name: "filter_typing", opts: replay(), keys: []string{"3", "/", "e", "v", "i", "l"}},
		{name: "filter_applied", opts: replay(), keys: []string{"2", "/", "3", "f", "enter"}},
		{name: "sorted", opts: replay(), keys: []string{"2", "s", "s"}},
		{name: "paused_replay", opts: replay(), keys: []string{"space"}},
		{name: "paused_live", opts: []testOpt{live()}, keys: []string{"space"}, after: func(t *testing.T, m Model) Model {
			s := demoSnapshot()
			s.Requests += 321
			s.EventTime = s.EventTime.Add(5 * time.Second)
			return snap(t, m, s, wall0.Add(5*time.Second))
		}},
		{name: "live_requests_tab", opts: []testOpt{live()}, keys: []string{"5"}},
		{name: "confirm_write", opts: []testOpt{live(), withSave(func(h, o []string) (string, error) { return "/etc/rebindwatch.toml", nil })}, keys: []string{"w"}},
		{name: "warnings", opts: []testOpt{func(o *Options) { o.Pacer = detect.NewPacer(0) }}, snap: warningSnapshot}, // -r: as fast as possible
		{name: "empty", opts: []testOpt{live()}, snap: func() detect.Snapshot {
			return detect.Snapshot{EventTime: fxNow, Sources: []detect.SourceStatus{{Name: "eth0", State: detect.StateLive}}}
		}},
		{name: "new_alerts_while_scrolled", opts: replay(), keys: []string{"j", "j"}, after: func(t *testing.T, m Model) Model {
			s := demoSnapshot()
			na := s.Alerts[0]
			na.ID, na.Subject, na.Detector, na.Dimension = 7, "rebind.attacker.test", detect.DetUnexpectedHost, ""
			s.Alerts = append([]detect.Alert{na}, s.Alerts...)
			return snap(t, m, s, wall0.Add(time.Second))
		}},
	}
	for _, c := range cases {
		for _, sz := range sizes {
			name := fmt.Sprintf("screen_%s_%dx%d", c.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				b := demoBackend()
				if c.snap != nil {
					b.setSnap(c.snap())
				}
				m := newTestModel(t, b, sz[0], sz[1], c.opts...)
				m, _ = press(t, m, c.keys...)
				if c.after != nil {
					m = c.after(t, m)
				}
				got := stripped(t, m)
				lines := strings.Split(got, "\n")
				if len(lines) != sz[1] {
					t.Errorf("frame has %d lines, want exactly %d", len(lines), sz[1])
				}
				if strings.TrimSpace(lines[len(lines)-1]) == "" {
					t.Errorf("the last line is blank: the footer must sit at the bottom")
				}
				golden(t, name, got)

				// The same screen without colour reads the same.
				nc := newTestModel(t, b, sz[0], sz[1], append(c.opts, noColor())...)
				nc, _ = press(t, nc, c.keys...)
				if c.after != nil {
					nc = c.after(t, nc)
				}
				if got2 := stripped(t, nc); got2 != got {
					t.Errorf("NO_COLOR screen differs from the coloured one:\n%s", got2)
				}
			})
		}
	}
}

// warningSnapshot has everything the header must not let pass: the Host
// check off, parse errors with a sample, drops, evictions, two sources
// (one catching up, one failed).
func warningSnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.HostCheck = "no [hosts] allowed configured"
	s.ParseErrors = 17
	s.Problems = []detect.Problem{{Source: "access.log", Where: "access.log:17", Text: "GET /\\x1b[31m garbage line"}}
	s.Dropped = 42
	s.Evicted = map[string]uint64{"keys": 1200, "hosts": 3}
	s.Sources = append(s.Sources, detect.SourceStatus{Name: "access.log", State: detect.StateFailed, Note: "permission denied"})
	s.AddedOrigins = []string{"https://staging.example.com"}
	return s
}

// TestGoldenPanes renders each pane alone at both widths.
func TestGoldenPanes(t *testing.T) {
	for _, w := range []int{80, 140} {
		b := demoBackend()
		m := newTestModel(t, b, w, 40, withPacer(detect.NewPacer(1)))
		h := m.header()
		list := func(p paneID) func(w, h int) string {
			return func(w, h int) string { return m.panes[p].render(m.ctx, w, h, p == m.focus, m.snap.EventTime) }
		}
		panes := []struct {
			name   string
			render func(w, h int) string
			height int
		}{
			{"header", h.Render, 8},
			{"alerts", list(paneAlerts), 10},
			{"keys", list(paneKeys), 8},
			{"hosts", list(paneHosts), 8},
			{"origins", list(paneOrigins), 6},
			{"requests", list(paneRequests), 10},
			{"help", func(w, h int) string { return strings.Join(m.help.window(m.help.lines(m.ctx, w), w, h), "\n") }, 30},
		}
		for _, p := range panes {
			name := fmt.Sprintf("pane_%s_%d", p.name, w)
			t.Run(name, func(t *testing.T) {
				out := p.render(w, p.height)
				checkFrame(t, out, w, p.height)
				golden(t, name, ansi.Strip(out))
			})
		}
	}
}

// TestTooSmall: below the minimum the dashboard says so and still fits.
func TestTooSmall(t *testing.T) {
	for _, sz := range [][2]int{{30, 8}, {79, 11}, {39, 30}, {1, 1}} {
		m := newTestModel(t, demoBackend(), sz[0], sz[1])
		got := stripped(t, m)
		if sz[0] >= 10 && !strings.Contains(got, "too") {
			t.Errorf("%v: no 'too small' message:\n%s", sz, got)
		}
	}
}

// TestResizeReflows walks through sizes, including odd ones, and checks
// every frame fits: tabs below 140 columns, the grid from there.
func TestResizeReflows(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	for _, sz := range [][2]int{{80, 24}, {100, 30}, {139, 40}, {140, 40}, {141, 29}, {200, 60}, {160, 30}, {90, 13}, {40, 12}, {300, 100}} {
		m = upd(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		got := stripped(t, m)
		grid := strings.Contains(got, "╭─") || strings.Contains(got, "┏━")
		if want := sz[0] >= gridMinWidth && sz[1] >= gridMinHeight; grid != want {
			t.Errorf("%dx%d: grid=%v, want %v", sz[0], sz[1], grid, want)
		}
		for _, key := range []string{"?", "?", "enter", "esc", "2", "enter", "esc", "1"} {
			m, _ = press(t, m, key)
			screen(t, m)
		}
	}
}
