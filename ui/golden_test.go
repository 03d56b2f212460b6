package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

var sizes = [][2]int{{80, 24}, {140, 40}}

// state is a state of the dashboard, reached from the demo snapshot with
// keys, that the goldens and the frame checks look at.
type state struct {
	name   string
	opts   []testOpt // a testOpt builds what it sets afresh for every model
	snap   func() detect.Snapshot
	engine bool // a real engine (engineBackend) instead of a fixed snapshot: pivots
	keys   []string
	after  func(t *testing.T, m Model) Model
}

// model builds the state at w×h.
func (s state) model(t *testing.T, w, h int, extra ...testOpt) Model {
	t.Helper()
	var b Backend = demoBackend()
	switch {
	case s.snap != nil:
		b = backendFor(s.snap())
	case s.engine:
		b = engineBackend(t)
	}
	m := newTestModel(t, b, w, h, append(slices.Clone(s.opts), extra...)...)
	m, _ = press(t, m, s.keys...)
	if s.after != nil {
		m = s.after(t, m)
	}
	return m
}

func states() []state {
	replay := []testOpt{func(o *Options) { o.Pacer = source.NewPacer(1) }}
	engineOpts := []testOpt{func(o *Options) {
		o.Pacer, o.Title, o.ConfigPath = source.NewPacer(0), "rebindwatch — capture.pcap", "rebindwatch.toml"
	}}
	return []state{
		{name: "demo", opts: replay},
		{name: "incident_detail", opts: replay, keys: []string{"j", "j", "enter"}},
		{name: "incident_evidence_selected", opts: replay, keys: []string{"j", "j", "enter", "G"}},
		{name: "alerts_view", opts: replay, keys: []string{"v"}},
		{name: "alert_detail", opts: replay, keys: []string{"v", "j", "j", "j", "enter"}},
		{name: "key_detail", opts: replay, keys: []string{"2", "enter"}},
		{name: "dns_alert_detail", opts: replay, keys: []string{"v", "G", "k", "enter"}},
		{name: "service_incident", opts: replay, snap: serviceSnapshot, keys: []string{"enter"}},
		{name: "stuffing_alert", opts: replay, snap: serviceSnapshot, keys: []string{"v", "j", "enter"}},
		{name: "request_detail", opts: replay, keys: []string{"5", "enter"}},
		{name: "help", opts: replay, keys: []string{"?"}},
		{name: "filter_typing", opts: replay, keys: []string{"3", "/", "e", "v", "i", "l"}},
		{name: "filter_applied", opts: replay, keys: []string{"2", "/", "3", "f", "enter"}},
		{name: "sorted", opts: replay, keys: []string{"2", "s", "s"}},
		{name: "sorted_oldest_first", opts: replay, keys: []string{"S"}},
		{name: "host_drill_down", opts: replay, keys: []string{"3", "j", "enter"}},
		{name: "paused_replay", opts: replay, keys: []string{"space"}},
		{name: "paused_live", opts: []testOpt{live()}, keys: []string{"space"}, after: func(t *testing.T, m Model) Model {
			s := demoSnapshot()
			s.Requests += 321
			s.EventTime = s.EventTime.Add(5 * time.Second)
			return snap(t, m, s, wall0.Add(5*time.Second))
		}},
		{name: "live_requests_tab", opts: []testOpt{live()}, keys: []string{"5"}},
		{name: "confirm_write", opts: []testOpt{live(), withSave(func(p string, h, o []string) (string, error) { return p, nil })}, keys: []string{"w"}},
		{name: "confirm_clear", opts: replay, keys: []string{"c"}},
		{name: "cleared", opts: replay, keys: []string{"c", "y"}, after: func(t *testing.T, m Model) Model {
			s := demoSnapshot()
			s.Alerts, s.Incidents = nil, nil // the engine dropped them
			return snap(t, m, s, wall0.Add(time.Second))
		}},
		{name: "warnings", opts: []testOpt{func(o *Options) { o.Pacer = source.NewPacer(0) }}, snap: warningSnapshot}, // -r: as fast as possible
		{name: "zero_config", opts: []testOpt{live(), withProposal(demoProposal)}, snap: zeroConfigSnapshot},
		{name: "suggested", opts: []testOpt{live(), withProposal(demoProposal), withSave(saveOK)}, snap: zeroConfigSnapshot, keys: []string{"p"}},
		{name: "blind_log", opts: []testOpt{live()}, snap: blindSnapshot, keys: []string{"3"}},
		{name: "lookalikes", opts: replay, snap: lookalikeSnapshot, keys: []string{"3"}},
		{name: "empty", opts: []testOpt{live()}, snap: func() detect.Snapshot {
			return detect.Snapshot{EventTime: fxNow, Sources: []detect.SourceStatus{{Name: "eth0", State: detect.StateLive}}}
		}},
		// Pivots and time, on a real engine.
		{name: "pinned_key", opts: engineOpts, engine: true, keys: []string{"2", "G", "f"}},
		{name: "pinned_client_partial", opts: engineOpts, engine: true, keys: []string{"5", "G", "f", "c", "3"}},
		{name: "time_range", opts: engineOpts, engine: true, keys: []string{"5", "[", "[", "m", "[", "[", "m"}},
		{name: "time_cursor", opts: replay, keys: []string{"[", "[", "["}},
		{name: "time_zoom_all", opts: engineOpts, engine: true, keys: []string{"{", "{", "{"}},
		{name: "pin_prompt", opts: replay, keys: []string{"5", "f"}},
		{name: "export_prompt", opts: replay, keys: []string{"2", "e"}},
		{name: "columns_chooser", opts: replay, keys: []string{"2", "C", "j", "space", "j", "j", "K"}},
		{name: "columns_chosen", opts: replay, keys: []string{"2", "C", "j", "space", "j", "j", "K", "enter"}},
		{name: "new_alerts_while_scrolled", opts: replay, keys: []string{"j", "j"}, after: func(t *testing.T, m Model) Model {
			s := demoSnapshot()
			ni := s.Incidents[0]
			ni.ID, ni.Subject, ni.Detectors, ni.Opened = "inc-9", "rebind.attacker.test", []string{detect.DetUnexpectedHost}, fxNow
			s.Incidents = append([]detect.Incident{ni}, s.Incidents...)
			return snap(t, m, s, wall0.Add(time.Second))
		}},
	}
}

// wholeScreens are the states whose whole frame is a golden file; every
// other part of every state has its own golden (TestGoldenParts), so a
// change to one part rewrites its own files and these few.
var wholeScreens = map[string][]int{"demo": {80, 140}, "help": {80}, "incident_detail": {140}, "filter_typing": {80}, "zero_config": {80},
	"pinned_key": {80, 140}, "pinned_client_partial": {80}, "time_range": {140}, "columns_chooser": {80}}

// TestScreens renders every state whole at 80×24 (tabs) and 140×40 (grid):
// exactly the terminal's height, every line within its width, the footer
// at the bottom, the same text without colour; a few are goldens.
func TestScreens(t *testing.T) {
	for _, st := range states() {
		for _, sz := range sizes {
			name := fmt.Sprintf("screen_%s_%dx%d", st.name, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				got := stripped(t, st.model(t, sz[0], sz[1]))
				lines := strings.Split(got, "\n")
				if len(lines) != sz[1] {
					t.Errorf("frame has %d lines, want exactly %d", len(lines), sz[1])
				}
				if strings.TrimSpace(lines[len(lines)-1]) == "" {
					t.Errorf("the last line is blank: the footer must sit at the bottom")
				}
				if slices.Contains(wholeScreens[st.name], sz[0]) {
					golden(t, name, got)
				}
				if nc := stripped(t, st.model(t, sz[0], sz[1], noColor())); nc != got {
					t.Errorf("NO_COLOR screen differs from the coloured one:\n%s", nc)
				}
			})
		}
	}
}

// section is one named part of a golden file that holds one component in
// every state where it differs.
type section struct{ name, text string }

func joinSections(ss []section) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString("── " + s.name + " ──\n" + s.text + "\n")
	}
	return b.String()
}

// part checks that every line of a component rendered alone fits w (and
// that it has h lines, when h > 0), and returns it stripped.
func part(t *testing.T, what, rendered string, w, h int) string {
	t.Helper()
	if h <= 0 {
		h = strings.Count(rendered, "\n") + 1
	}
	t.Run(what, func(t *testing.T) { checkFrame(t, rendered, w, h) })
	return ansi.Strip(rendered)
}

// TestGoldenParts renders each component alone, stripped, at 80 and 140
// columns: the header, the footer and the tab bar (and the tab bar at 56)
// in every state; each list pane (its title with counts, then its table
// at a fixed height) in the states where it differs; each detail view and
// the help, whole.
func TestGoldenParts(t *testing.T) {
	// The states each list pane is shown in: its own, and the demo.
	paneStates := [nPanes][]string{
		paneAlerts:   {"demo", "alerts_view", "sorted_oldest_first", "new_alerts_while_scrolled", "cleared", "zero_config", "empty", "pinned_key"},
		paneKeys:     {"demo", "sorted", "filter_applied", "blind_log", "empty", "pinned_key", "columns_chosen"},
		paneHosts:    {"demo", "filter_typing", "blind_log", "lookalikes", "empty", "pinned_key", "pinned_client_partial"},
		paneOrigins:  {"demo", "zero_config", "blind_log", "lookalikes", "empty", "pinned_key", "pinned_client_partial"},
		paneRequests: {"demo", "host_drill_down", "lookalikes", "empty", "pinned_key", "time_range"},
	}
	details := []string{"incident_detail", "incident_evidence_selected", "alert_detail", "dns_alert_detail", "service_incident",
		"stuffing_alert", "key_detail", "request_detail", "suggested"}
	const paneH, narrowTabsW = 10, 56
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		models := map[string]Model{}
		var headers, footers, tabs, narrowTabs, bodies []section
		var panes [nPanes][]section
		for _, st := range states() {
			m := st.model(t, w, h)
			models[st.name] = m
			hd := m.header()
			headers = append(headers, section{st.name, part(t, st.name+"/header", strings.Join(hd.lines(w, h/2), "\n"), w, 0)})
			frame := strings.Split(screen(t, m), "\n")
			footers = append(footers, section{st.name, part(t, st.name+"/footer", frame[len(frame)-1], w, 1)})
			if !m.ctx.grid {
				tabs = append(tabs, section{st.name, part(t, st.name+"/tabs", m.tabBar(w), w, 1)})
				// Too narrow for every count: only the focused pane's stay.
				narrowTabs = append(narrowTabs, section{st.name, part(t, st.name+"/narrow_tabs", m.tabBar(narrowTabsW), narrowTabsW, 1)})
			}
		}
		for p, names := range paneStates {
			for _, name := range names {
				m := models[name]
				pn := m.panes[p]
				text := pn.status() + "\n" + pn.render(m.ctx, w, paneH, paneID(p) == m.focus, m.view.now())
				panes[p] = append(panes[p], section{name, part(t, fmt.Sprintf("%s/pane_%d", name, p+1), text, w, paneH+1)})
			}
		}
		for _, name := range details {
			m := models[name]
			body := detailLines(m)
			bodies = append(bodies, section{name, part(t, name+"/detail", strings.Join(m.detail.window(body, w, len(body)), "\n"), w, 0)})
		}
		m := models["help"]
		help := m.help.lines(m.ctx, w)
		golden(t, fmt.Sprintf("pane_help_%d", w), part(t, "help", strings.Join(m.help.window(help, w, len(help)), "\n"), w, 0)+"\n")
		golden(t, fmt.Sprintf("header_%d", w), joinSections(headers))
		golden(t, fmt.Sprintf("footer_%d", w), joinSections(footers))
		if len(tabs) > 0 {
			golden(t, fmt.Sprintf("tabs_%d", w), joinSections(tabs))
			golden(t, fmt.Sprintf("tabs_%d", narrowTabsW), joinSections(narrowTabs))
		}
		golden(t, fmt.Sprintf("detail_%d", w), joinSections(bodies))
		for p, ss := range panes {
			name, _ := models["demo"].panes[p].heading()
			golden(t, fmt.Sprintf("pane_%s_%d", name, w), joinSections(ss))
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
