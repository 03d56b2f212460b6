package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// manySnapshot has enough rows to page through: 100 alerts, each its own
// incident.
func manySnapshot() detect.Snapshot {
	s := demoSnapshot()
	s.Alerts, s.Incidents = nil, nil
	for i := 0; i < 100; i++ {
		a := detect.Alert{ID: uint64(200 - i), Time: fxNow, LastSeen: fxNow, Detector: detect.DetForeignOrigin,
			Severity: detect.Severity(i % 4), Subject: fmt.Sprintf("https://site-%03d.test", i), Count: 1, Incident: fmt.Sprintf("inc-%d", 200-i)}
		s.Alerts = append(s.Alerts, a)
		s.Incidents = append(s.Incidents, detect.Incident{ID: a.Incident, Opened: a.Time, Last: a.Time, Severity: a.Severity,
			Detectors: []string{a.Detector}, Subject: a.Subject, Alerts: []uint64{a.ID}, Count: 1})
	}
	return s
}

// keyTests covers every binding of the KeyMap; TestEveryBindingTested
// checks that no binding is left out.
func TestKeys(t *testing.T) {
	type check func(t *testing.T, before, after Model, b *fakeBackend, quit bool)
	cursor := func(want int) check {
		return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if got := incidentsOf(m).cursor; got != want {
				t.Errorf("cursor = %d, want %d", got, want)
			}
		}
	}
	focus := func(want paneID) check {
		return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.focus != want {
				t.Errorf("focus = %d, want %d", m.focus, want)
			}
		}
	}
	modeIs := func(want mode) check {
		return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.mode != want {
				t.Errorf("mode = %d, want %d", m.mode, want)
			}
		}
	}
	quits := func(t *testing.T, _, _ Model, _ *fakeBackend, quit bool) {
		if !quit {
			t.Errorf("did not quit")
		}
	}
	flash := func(sub string) check {
		return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if !strings.Contains(m.flash, sub) {
				t.Errorf("flash = %q, want it to mention %q", m.flash, sub)
			}
		}
	}
	all := func(cs ...check) check {
		return func(t *testing.T, before, after Model, b *fakeBackend, quit bool) {
			t.Helper()
			for _, c := range cs {
				c(t, before, after, b, quit)
			}
		}
	}
	replay := func(o *Options) { o.Pacer = source.NewPacer(1) }

	cases := []struct {
		name  string
		opts  []testOpt
		many  bool
		setup []string // keys before the one under test
		keys  []string
		check check
	}{
		{name: "down", keys: []string{"down"}, check: cursor(1)},
		{name: "j", keys: []string{"j", "j"}, check: cursor(2)},
		{name: "up", setup: []string{"j", "j"}, keys: []string{"up"}, check: cursor(1)},
		{name: "k", setup: []string{"j"}, keys: []string{"k"}, check: cursor(0)},
		{name: "up_at_top", keys: []string{"k"}, check: cursor(0)},
		{name: "down_at_bottom", setup: []string{"G"}, keys: []string{"j"}, check: cursor(len(demoSnapshot().Incidents) - 1)},
		{name: "pgdown", many: true, keys: []string{"pgdown"}, check: cursor(14)},
		{name: "ctrl+f", many: true, keys: []string{"ctrl+f"}, check: cursor(14)},
		{name: "ctrl+d", many: true, keys: []string{"ctrl+d"}, check: cursor(14)},
		{name: "pgup", many: true, setup: []string{"pgdown", "pgdown"}, keys: []string{"pgup"}, check: cursor(14)},
		{name: "ctrl+b", many: true, setup: []string{"pgdown"}, keys: []string{"ctrl+b"}, check: cursor(0)},
		{name: "ctrl+u", many: true, setup: []string{"pgdown"}, keys: []string{"ctrl+u"}, check: cursor(0)},
		{name: "G", many: true, keys: []string{"G"}, check: cursor(99)},
		{name: "end", many: true, keys: []string{"end"}, check: cursor(99)},
		{name: "g", many: true, setup: []string{"G"}, keys: []string{"g"}, check: cursor(0)},
		{name: "home", many: true, setup: []string{"G"}, keys: []string{"home"}, check: cursor(0)},
		{name: "tab", keys: []string{"tab"}, check: focus(paneKeys)},
		{name: "tab_wraps", keys: []string{"tab", "tab", "tab", "tab", "tab"}, check: focus(paneAlerts)},
		{name: "shift+tab", keys: []string{"shift+tab"}, check: focus(paneRequests)},
		{name: "1", setup: []string{"3"}, keys: []string{"1"}, check: focus(paneAlerts)},
		{name: "2", keys: []string{"2"}, check: focus(paneKeys)},
		{name: "3", keys: []string{"3"}, check: focus(paneHosts)},
		{name: "4", keys: []string{"4"}, check: focus(paneOrigins)},
		{name: "5", keys: []string{"5"}, check: focus(paneRequests)},
		{name: "enter_incident", keys: []string{"enter"}, check: all(modeIs(modeDetail), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			d := m.detail
			if d.kind != detailIncident || d.incident.Incident.ID != "inc-5" || !d.loaded || len(d.incident.Alerts) != 2 || len(d.incident.Timeline) == 0 {
				t.Errorf("detail = kind %d id %q loaded %v alerts %d", d.kind, d.incident.Incident.ID, d.loaded, len(d.incident.Alerts))
			}
		})},
		{name: "enter_alert_of_incident", setup: []string{"j", "j", "enter", "j"}, keys: []string{"enter"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			// The incident's first alert, then esc goes back to the incident.
			if m.detail.kind != detailAlert || m.detail.alert.ID != 8 || !m.detail.loaded || len(m.stack) != 1 {
				t.Fatalf("detail = kind %d id %d, stack %d", m.detail.kind, m.detail.alert.ID, len(m.stack))
			}
			m, _ = press(t, m, "esc")
			if m.detail.kind != detailIncident || m.detail.incident.Incident.ID != "inc-2" || m.mode != modeDetail {
				t.Errorf("esc from the alert: kind %d id %q mode %d", m.detail.kind, m.detail.incident.Incident.ID, m.mode)
			}
		}},
		{name: "enter_alert", setup: []string{"v"}, keys: []string{"enter"}, check: all(modeIs(modeDetail), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.detail.kind != detailAlert || m.detail.alert.ID != 6 || !m.detail.loaded || len(m.detail.alert.Evidence) != 2 {
				t.Errorf("detail = kind %d id %d loaded %v evidence %d", m.detail.kind, m.detail.alert.ID, m.detail.loaded, len(m.detail.alert.Evidence))
			}
		})},
		{name: "v", keys: []string{"v"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if name, _ := m.panes[paneAlerts].heading(); name != "alerts" || !strings.Contains(stripped(t, m), "1 Alerts 8") {
				t.Errorf("after v the slot shows %q:\n%s", name, stripped(t, m))
			}
			if m, _ = press(t, m, "v"); !strings.Contains(stripped(t, m), "1 Incidents 4") {
				t.Errorf("v again does not show the incidents:\n%s", stripped(t, m))
			}
		}},
		{name: "v_elsewhere", setup: []string{"2"}, keys: []string{"v"}, check: flash("v switches the alerts pane")},
		{name: "enter_key", setup: []string{"2"}, keys: []string{"enter"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.mode != modeDetail || m.detail.kind != detailKey || m.detail.key.Key != fpEvil || len(m.detail.key.Hosts) != 4 {
				t.Errorf("detail = mode %d kind %d key %q hosts %d", m.mode, m.detail.kind, m.detail.key.Key, len(m.detail.key.Hosts))
			}
		}},
		{name: "enter_host_filters_requests", setup: []string{"3", "j"}, keys: []string{"enter"}, check: all(focus(paneRequests), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			// Exactly: evil.rebind.test:8080 is another Host.
			r := requestsOf(m)
			if r.pinKind != "host" || r.pinValue != "evil.rebind.test" || len(r.shown) != 1 || r.shown[0].Host != "evil.rebind.test" {
				t.Errorf("requests pinned to %s %q, rows %d", r.pinKind, r.pinValue, len(r.shown))
			}
			if !strings.Contains(stripped(t, m), `requests host = evil.rebind.test`) {
				t.Errorf("the header does not say what the requests are filtered by:\n%s", stripped(t, m))
			}
		})},
		{name: "enter_evidence_opens_request", setup: []string{"j", "j", "enter", "G"}, keys: []string{"enter"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.detail.kind != detailRequest || m.detail.req.Target != "/admin/export?format=csv" || len(m.stack) != 1 {
				t.Errorf("detail = kind %d target %q stack %d", m.detail.kind, m.detail.req.Target, len(m.stack))
			}
		}},
		{name: "enter_request", setup: []string{"5"}, keys: []string{"enter"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.mode != modeDetail || m.detail.kind != detailRequest || m.detail.req.Target != "/admin/export?format=csv" {
				t.Errorf("detail = mode %d kind %d target %q", m.mode, m.detail.kind, m.detail.req.Target)
			}
		}},
		{name: "esc_closes_detail", setup: []string{"enter"}, keys: []string{"esc"}, check: modeIs(modeNormal)},
		{name: "esc_clears_filter", setup: []string{"2", "/", "3", "f", "enter"}, keys: []string{"esc"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); k.filter != "" || len(k.shown) != 4 {
				t.Errorf("filter %q rows %d after esc", k.filter, len(k.shown))
			}
		}},
		{name: "slash_filters", setup: []string{"2"}, keys: []string{"/", "3", "f"}, check: all(modeIs(modeFilter), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); k.filter != "3f" || len(k.shown) != 1 {
				t.Errorf("filter %q rows %d", k.filter, len(k.shown))
			}
		})},
		{name: "filter_backspace", setup: []string{"2", "/", "3", "f"}, keys: []string{"backspace"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); k.filter != "3" {
				t.Errorf("filter %q after backspace", k.filter)
			}
		}},
		{name: "filter_esc_clears", setup: []string{"2", "/", "3", "f"}, keys: []string{"esc"}, check: all(modeIs(modeNormal), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); k.filter != "" {
				t.Errorf("filter %q after esc", k.filter)
			}
		})},
		{name: "arrows_move_while_filtering", setup: []string{"/"}, keys: []string{"down", "down", "up"}, check: all(modeIs(modeFilter), cursor(1))},
		{name: "j_is_text_while_filtering", setup: []string{"/"}, keys: []string{"j"}, check: all(modeIs(modeFilter), cursor(0))},
		{name: "filter_q_is_text", setup: []string{"/"}, keys: []string{"q"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, quit bool) {
			if quit || incidentsOf(m).filter != "q" {
				t.Errorf("q while filtering: quit=%v filter=%q", quit, incidentsOf(m).filter)
			}
		}},
		{name: "s", setup: []string{"2"}, keys: []string{"s"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); sortedBy(k) != "REQ/S↓" || k.shown[0].Key != fpEvil {
				t.Errorf("sorted by %s, first %s", sortedBy(k), k.shown[0].Key)
			}
		}},
		{name: "s_cycles_all_columns", setup: []string{"2"}, keys: []string{"s", "s", "s", "s", "s", "s", "s", "s"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); sortedBy(k) != "KEY↑" || k.shown[0].Key != fpBatch {
				t.Errorf("after a full cycle: sorted by %s, first %s", sortedBy(k), k.shown[0].Key)
			}
		}},
		{name: "S", setup: []string{"2"}, keys: []string{"S"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if k := keysOf(m); sortedBy(k) != "REQS↑" || k.shown[0].Key != fpOld {
				t.Errorf("reversed: sorted by %s, first %s", sortedBy(k), k.shown[0].Key)
			}
		}},
		{name: "S_incidents_oldest_first", keys: []string{"S"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if a := incidentsOf(m); sortedBy(a) != "TIME↑" || a.shown[0].ID != "inc-1" {
				t.Errorf("sorted by %s, first incident %s, want the oldest", sortedBy(a), a.shown[0].ID)
			}
		}},
		{name: "space_pauses_replay", opts: []testOpt{replay}, keys: []string{"space"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if !m.opts.Pacer.Paused() || !m.paused {
				t.Errorf("pacer paused %v, model paused %v", m.opts.Pacer.Paused(), m.paused)
			}
		}},
		{name: "space_resumes_replay", opts: []testOpt{replay}, setup: []string{"space"}, keys: []string{"space"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.opts.Pacer.Paused() || m.paused {
				t.Errorf("still paused")
			}
		}},
		{name: "space_holds_live", opts: []testOpt{live()}, keys: []string{"space"}, check: func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
			if !m.held {
				t.Fatal("not held")
			}
			s := b.Snapshot()
			s.Requests += 50
			m = snap(t, m, s, wall0.Add(time.Second))
			if m.snap.Requests != 1234 || !strings.Contains(stripped(t, m), "50 events since") {
				t.Errorf("held display moved or does not count: %d", m.snap.Requests)
			}
			m, _ = press(t, m, "space")
			if m.held || m.snap.Requests != 1284 {
				t.Errorf("release: held %v requests %d", m.held, m.snap.Requests)
			}
		}},
		{name: "+", opts: []testOpt{replay}, keys: []string{"+"}, check: speed(2)},
		{name: "=", opts: []testOpt{replay}, keys: []string{"=", "="}, check: speed(5)},
		{name: "-", opts: []testOpt{replay}, keys: []string{"-"}, check: speed(0.5)},
		{name: "_", opts: []testOpt{replay}, keys: []string{"_", "_"}, check: speed(0.25)},
		{name: "+_to_max", opts: []testOpt{replay}, keys: []string{"+", "+", "+", "+", "+", "+", "+", "+", "+"}, check: speed(0)},
		{name: "speed_live", opts: []testOpt{live()}, keys: []string{"+"}, check: flash("replays")},
		{name: "step_paused", opts: []testOpt{replay}, setup: []string{"space"}, keys: []string{"."}, check: flash("stepped to 21:01:11")},
		{name: "step_running", opts: []testOpt{replay}, keys: []string{"."}, check: flash("pause first")},
		{name: "step_live", opts: []testOpt{live()}, keys: []string{"."}, check: flash("replays")},
		{name: "c", keys: []string{"c"}, check: all(modeIs(modeConfirm), func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
			if b.clears != 0 || !strings.Contains(stripped(t, m), "Clear the alert list? [y/N]") {
				t.Errorf("c cleared at once (%d) or asked nothing:\n%s", b.clears, stripped(t, m))
			}
		})},
		{name: "c_y", keys: []string{"c", "y"}, check: all(flash("alerts cleared"), func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
			if b.clears != 1 {
				t.Errorf("ClearAlerts called %d times", b.clears)
			}
			s := b.Snapshot()
			s.Alerts = nil
			s.Requests++
			m = snap(t, m, s, wall0.Add(time.Second))
			if got := stripped(t, m); !strings.Contains(got, "cleared at 21:01:10") || strings.Contains(got, "no alerts yet") {
				t.Errorf("after clearing the list does not say so:\n%s", got)
			}
		})},
		{name: "c_n", keys: []string{"c", "n"}, check: all(modeIs(modeNormal), flash("alerts kept"), func(t *testing.T, _, _ Model, b *fakeBackend, _ bool) {
			if b.clears != 0 {
				t.Errorf("ClearAlerts called after no")
			}
		})},
		{name: "a_host", setup: []string{"3", "j"}, keys: []string{"a"}, check: allowed("host", "evil.rebind.test")},
		{name: "a_origin", setup: []string{"4", "j"}, keys: []string{"a"}, check: allowed("origin", "http://evil.rebind.test")},
		{name: "a_incident", setup: []string{"j", "j"}, keys: []string{"a"}, check: allowed("host", "evil.rebind.test")},
		{name: "a_incident_detail", setup: []string{"j", "enter"}, keys: []string{"a"}, check: allowed("origin", "null")},
		{name: "a_alert", setup: []string{"v", "j", "j", "j"}, keys: []string{"a"}, check: allowed("host", "evil.rebind.test")},
		{name: "a_alert_detail", setup: []string{"v", "j", "j", "enter"}, keys: []string{"a"}, check: allowed("origin", "null")},
		{name: "a_already", setup: []string{"3"}, keys: []string{"a"}, check: all(allowed(), flash("already allowed"))},
		{name: "a_key_pane", setup: []string{"2"}, keys: []string{"a"}, check: all(allowed(), flash("allows a host or an origin"))},
		{name: "w_unavailable", keys: []string{"w"}, check: all(modeIs(modeNormal), flash("not available"))},
		{name: "w_y", opts: []testOpt{withSave(saveOK)}, keys: []string{"w", "y"}, check: all(modeIs(modeNormal), flash("written to /tmp/rw.toml"),
			func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
				if h, o := m.unsaved(); len(h)+len(o) != 0 || strings.Contains(stripped(t, m), "press w to save") {
					t.Errorf("after writing, still unsaved: %v %v", h, o)
				}
			})},
		{name: "w_n", opts: []testOpt{withSave(saveFail)}, keys: []string{"w", "n"}, check: all(modeIs(modeNormal), flash("not written"))},
		{name: "w_N", opts: []testOpt{withSave(saveFail)}, keys: []string{"w", "N"}, check: flash("not written")},
		{name: "w_Y_error", opts: []testOpt{withSave(saveFail)}, keys: []string{"w", "Y"}, check: flash("could not write the allowlist: disk full")},
		{name: "w_esc", opts: []testOpt{withSave(saveFail)}, keys: []string{"w", "esc"}, check: flash("not written")},
		{name: "w_asks", opts: []testOpt{withSave(saveFail)}, keys: []string{"w"}, check: all(modeIs(modeConfirm), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if !strings.Contains(stripped(t, m), "Add 1 host to the allowlist in /tmp/rw.toml? [y/N]") {
				t.Errorf("the question does not name the file:\n%s", stripped(t, m))
			}
		})},
		{name: "q_asks_with_unsaved", opts: []testOpt{withSave(saveFail)}, keys: []string{"q"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, quit bool) {
			if quit || m.mode != modeConfirm || !strings.Contains(stripped(t, m), "1 host allowed this run is not in /tmp/rw.toml: quit anyway?") {
				t.Errorf("quit=%v without a warning:\n%s", quit, stripped(t, m))
			}
		}},
		{name: "q_y_quits_with_unsaved", opts: []testOpt{withSave(saveFail)}, keys: []string{"q", "y"}, check: quits},
		{name: "q_n_stays", opts: []testOpt{withSave(saveFail)}, keys: []string{"q", "n"}, check: all(modeIs(modeNormal), flash("not quitting"))},
		{name: "w_asks_over_flash", opts: []testOpt{withSave(saveFail)}, setup: []string{"3", "a"}, keys: []string{"w"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if !strings.Contains(stripped(t, m), "Add 1 host to the allowlist") {
				t.Errorf("a message hides the question")
			}
		}},
		{name: "R_unavailable", keys: []string{"R"}, check: flash("no incident report in this run")},
		{name: "R", opts: []testOpt{withReport(func() (string, error) { return "/tmp/r\x1b[2J.html", nil })}, keys: []string{"R"},
			check: all(modeIs(modeNormal), flash(`report written to /tmp/r\x1b[2J.html`))},
		{name: "R_in_detail", opts: []testOpt{withReport(func() (string, error) { return "r.html", nil })}, setup: []string{"enter"}, keys: []string{"R"},
			check: all(modeIs(modeDetail), flash("report written to r.html"))},
		{name: "R_error", opts: []testOpt{withReport(func() (string, error) { return "r.html", errors.New("r.html: no space left on device") })}, keys: []string{"R"},
			check: flash("could not write the report: r.html: no space left on device")},
		{name: "?", keys: []string{"?"}, check: modeIs(modeHelp)},
		{name: "?_closes", setup: []string{"?"}, keys: []string{"?"}, check: modeIs(modeNormal)},
		{name: "esc_closes_help", setup: []string{"?"}, keys: []string{"esc"}, check: modeIs(modeNormal)},
		{name: "help_from_detail_returns", setup: []string{"enter", "?"}, keys: []string{"esc"}, check: modeIs(modeDetail)},
		{name: "q", keys: []string{"q"}, check: quits},
		{name: "ctrl+c", keys: []string{"ctrl+c"}, check: quits},
		{name: "ctrl+c_filtering", setup: []string{"/"}, keys: []string{"ctrl+c"}, check: quits},
		{name: "ctrl+c_confirm", opts: []testOpt{withSave(saveFail)}, setup: []string{"w"}, keys: []string{"ctrl+c"}, check: quits},
		{name: "q_in_help", setup: []string{"?"}, keys: []string{"q"}, check: quits},
		{name: "q_in_detail", setup: []string{"enter"}, keys: []string{"q"}, check: quits},
		{name: "detail_scroll", setup: []string{"2", "enter"}, keys: []string{"G"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			maxOff := len(detailLines(m)) - m.bodyHeight()
			if maxOff <= 0 || m.detail.offset != maxOff {
				t.Errorf("detail offset %d, want the end (%d)", m.detail.offset, maxOff)
			}
			if !strings.Contains(stripped(t, m), fmt.Sprintf("of %d", len(detailLines(m)))) {
				t.Errorf("no scroll position in the footer:\n%s", stripped(t, m))
			}
		}},
		{name: "detail_select", setup: []string{"2", "enter"}, keys: []string{"j", "j", "j"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.detail.sel != 2 || !strings.Contains(stripped(t, m), "enter open") {
				t.Errorf("selected row %d:\n%s", m.detail.sel, stripped(t, m))
			}
			if m, _ = press(t, m, "enter"); m.detail.kind != detailRequest || m.detail.req.Host != "localhost:5000" {
				t.Errorf("enter on the third request: kind %d host %q", m.detail.kind, m.detail.req.Host)
			}
		}},
		{name: "p", opts: []testOpt{withProposal(demoProposal)}, keys: []string{"p"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.detail.kind != detailSuggest || !m.detail.loaded || !strings.Contains(stripped(t, m), "Suggested allowlist") {
				t.Errorf("p: kind %d loaded %v\n%s", m.detail.kind, m.detail.loaded, stripped(t, m))
			}
		}},
		{name: "p_unavailable", keys: []string{"p"}, check: all(modeIs(modeNormal), flash("no suggested allowlist"))},
		{name: "A", opts: []testOpt{withProposal(demoProposal)}, setup: []string{"p"}, keys: []string{"A"}, check: func(t *testing.T, _, _ Model, b *fakeBackend, _ bool) {
			// api.example.com is allowed already; the rest of what is proposed.
			want := [][2]string{{"host", "*.api.example.com"}}
			if !reflect.DeepEqual(b.allowed, want) {
				t.Errorf("Allow calls %v, want %v", b.allowed, want)
			}
		}},
		{name: "A_outside", keys: []string{"A"}, check: flash("p shows the suggested allowlist")},
		{name: "detail_scroll_top", setup: []string{"2", "enter", "G"}, keys: []string{"g"}, check: func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if m.detail.offset != 0 {
				t.Errorf("detail offset %d after g", m.detail.offset)
			}
		}},
		{name: "detail_tab_leaves", setup: []string{"enter"}, keys: []string{"tab"}, check: all(modeIs(modeNormal), focus(paneKeys))},

		// Pivots: f pins the selected row's value for every pane.
		{name: "f_key", setup: []string{"2"}, keys: []string{"f"}, check: all(modeIs(modeNormal), pinned("key 3f2a9c1b7d4e"), flash("pinned key"))},
		{name: "f_asks_which", setup: []string{"5"}, keys: []string{"f"}, check: all(modeIs(modePin), pinned(),
			footer("pin: h ev…rebind.test · k 3f2a9c1b7d4e · o …rebind.test · c 10.0.0.7 · esc: none"))},
		{name: "f_letter", setup: []string{"5", "f"}, keys: []string{"k"}, check: all(modeIs(modeNormal), pinned("key 3f2a9c1b7d4e"))},
		{name: "f_f_first", setup: []string{"5", "f"}, keys: []string{"f"}, check: pinned("host evil.rebind.test")},
		{name: "f_cancel", setup: []string{"5", "f"}, keys: []string{"x"}, check: all(modeIs(modeNormal), pinned(), flash("nothing pinned"))},
		{name: "f_combines", setup: []string{"2", "f", "3", "j"}, keys: []string{"f"}, check: pinned("key 3f2a9c1b7d4e", "host evil.rebind.test")},
		{name: "f_twice", setup: []string{"2", "f"}, keys: []string{"f"}, check: all(pinned("key 3f2a9c1b7d4e"), flash("pinned already"))},
		{name: "f_incident", keys: []string{"f"}, check: all(modeIs(modePin), footer("pin: k key 3f2a9c1b7d4e · c client 10.0.0.7 · esc: none"))},
		{name: "f_in_detail", setup: []string{"2", "enter"}, keys: []string{"f"}, check: all(modeIs(modeNormal), pinned("key 3f2a9c1b7d4e"))},
		{name: "f_evidence_row", setup: []string{"j", "j", "enter", "G"}, keys: []string{"f", "c"}, check: all(modeIs(modeNormal), pinned("client 10.0.0.7"))},
		{name: "f_nothing", setup: []string{"2", "/", "z", "z", "enter"}, keys: []string{"f"}, check: flash("nothing to pin")},
		{name: "F", setup: []string{"2", "f", "3", "f"}, keys: []string{"F"}, check: all(pinned(), flash("cleared"))},
		{name: "F_nothing", keys: []string{"F"}, check: flash("nothing pinned")},
		{name: "backspace", setup: []string{"2", "f", "3", "f"}, keys: []string{"backspace"}, check: all(pinned("key 3f2a9c1b7d4e"), flash("dropped host"))},
		{name: "backspace_nothing", keys: []string{"backspace"}, check: flash("nothing pinned")},

		// Time: the cursor steps through the timeline's buckets; two marks pin a range.
		{name: "[", keys: []string{"["}, check: cursorAt(19)},
		{name: "[_twice", keys: []string{"[", "["}, check: cursorAt(18)},
		{name: "]", setup: []string{"[", "[", "["}, keys: []string{"]"}, check: cursorAt(18)},
		{name: "]_at_end", setup: []string{"["}, keys: []string{"]"}, check: cursorAt(19)},
		{name: "esc_cursor", setup: []string{"["}, keys: []string{"esc"}, check: cursorAt(-1)},
		{name: "{", keys: []string{"{"}, check: all(flash("timeline: 10m"), func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
			if q := b.lastQuery(); q.Span != 10*time.Minute {
				t.Errorf("span %v", q.Span)
			}
		})},
		{name: "{_all", keys: []string{"{", "{", "{", "{"}, check: all(flash("widest"), func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
			if q := b.lastQuery(); q.Span != detect.SpanAll {
				t.Errorf("span %v", q.Span)
			}
		})},
		{name: "}", setup: []string{"{"}, keys: []string{"}"}, check: all(flash("timeline: 1m"))},
		{name: "}_narrowest", keys: []string{"}"}, check: flash("narrowest")},
		{name: "m_needs_cursor", keys: []string{"m"}, check: flash("move the time cursor first")},
		{name: "m_first", setup: []string{"["}, keys: []string{"m"}, check: all(flash("marked 21:01:08"), pinned())},
		{name: "m_range", setup: []string{"[", "m", "[", "["}, keys: []string{"m"}, check: all(flash("range 21:01:02–21:01:11 pinned"),
			func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
				q := b.lastQuery()
				if !q.From.Equal(fxNow.Add(-8*time.Second)) || !q.To.Equal(fxNow.Add(time.Second)) || !m.mark.IsZero() {
					t.Errorf("range %v–%v, mark %v", q.From, q.To, m.mark)
				}
			})},
		{name: "esc_mark", setup: []string{"[", "m"}, keys: []string{"esc"}, check: all(flash("mark forgotten"), cursorAt(19))},

		// Exports, columns, the proposed log format.
		{name: "e", opts: []testOpt{exportTo(t)}, setup: []string{"2"}, keys: []string{"e"}, check: all(modeIs(modeExport),
			footer("export keys as: j JSON lines · c CSV"))},
		{name: "e_csv", opts: []testOpt{exportTo(t)}, setup: []string{"2", "e"}, keys: []string{"c"}, check: all(modeIs(modeNormal),
			flash("exported 4 rows to "), exported("key,requests,rate,peak,hosts,clients,origins,last,flags\n3f2a9c1b7d4e,640,30,150,4,2,2,"))},
		{name: "e_jsonl", opts: []testOpt{exportTo(t)}, setup: []string{"3", "e"}, keys: []string{"j"}, check: exported(
			`{"host":"api.example.com","requests":900,"keys":3,"status":"allowed","last":"2026-11-26T21:01:08.000000Z"}`)},
		{name: "e_evidence", opts: []testOpt{exportTo(t)}, setup: []string{"enter", "e"}, keys: []string{"j"}, check: all(modeIs(modeDetail),
			flash("rows to "), exported(`"what":"GET","client":"10.0.0.7","server":"10.0.0.1:80","host":"evil.rebind.test:8080"`))},
		{name: "e_cancel", opts: []testOpt{exportTo(t)}, setup: []string{"e"}, keys: []string{"esc"}, check: all(modeIs(modeNormal), flash("nothing exported"))},
		{name: "C", setup: []string{"2"}, keys: []string{"C"}, check: all(modeIs(modeColumns), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
			if got := stripped(t, m); !strings.Contains(got, "Columns of keys") || !strings.Contains(got, "[x] REQ/S  (rate)") {
				t.Errorf("chooser:\n%s", got)
			}
		})},
		{name: "C_hide_move", setup: []string{"2", "C", "j", "space", "j", "j", "K", "enter"}, keys: nil, check: all(modeIs(modeNormal),
			flash("keys columns: key, peak, rate, hosts"), func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
				for _, l := range strings.Split(stripped(t, m), "\n") {
					if strings.HasPrefix(l, "KEY") {
						if strings.Contains(l, "REQS") || strings.Index(l, "PEAK") > strings.Index(l, "REQ/S") {
							t.Errorf("columns: %q", l)
						}
						return
					}
				}
				t.Errorf("no table header:\n%s", stripped(t, m))
			})},
		{name: "C_save", opts: []testOpt{withSave(saveOK), saveColumns}, setup: []string{"2", "C", "space", "enter"}, keys: []string{"y"},
			check: flash("keys columns saved to /tmp/rw.toml")},
		{name: "C_last_column", setup: []string{"3", "C", "space", "j", "space", "j", "space", "j", "space", "j"}, keys: []string{"space"},
			check: flash("one column at least")},
		{name: "C_esc", setup: []string{"2", "C", "space"}, keys: []string{"esc"}, check: all(modeIs(modeNormal), flash("columns unchanged"))},
		{name: "L_none", keys: []string{"L"}, check: flash("no log proposes a format")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := demoBackend()
			if c.many {
				b.setSnap(manySnapshot())
			}
			m := newTestModel(t, b, 80, 24, c.opts...)
			m, _ = press(t, m, c.setup...)
			before := m
			after, quit := press(t, m, c.keys...)
			c.check(t, before, after, b, quit)
			if !quit {
				screen(t, after)
			}
		})
	}
}

// pinned checks the chips (pins as "kind value") and that the engine was
// asked for them.
func pinned(want ...string) func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
	return func(t *testing.T, _, m Model, b *fakeBackend, _ bool) {
		var got, asked []string
		for _, p := range m.pins() {
			got = append(got, string(p.Kind)+" "+p.Value)
		}
		for _, p := range b.lastQuery().Pins {
			asked = append(asked, string(p.Kind)+" "+p.Value)
		}
		if !slices.Equal(got, want) || !slices.Equal(asked, want) {
			t.Errorf("pins %q, asked the engine for %q, want %q", got, asked, want)
		}
	}
}

// cursorAt checks the time cursor is on bucket i of the timeline (-1: none).
func cursorAt(i int) func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
	return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
		got := -1
		if !m.cursor.IsZero() {
			got = m.snap.Activity.Bucket(m.cursor)
		}
		if got != i {
			t.Errorf("time cursor on bucket %d, want %d", got, i)
		}
	}
}

// footer checks the footer line.
func footer(sub string) func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
	return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
		lines := strings.Split(stripped(t, m), "\n")
		if l := lines[len(lines)-1]; !strings.Contains(l, sub) {
			t.Errorf("footer %q, want %q", l, sub)
		}
	}
}

// exportTo makes exports go to a new directory (ExportDir) at a fixed clock.
func exportTo(t *testing.T) testOpt {
	dir := t.TempDir()
	return func(o *Options) {
		o.ExportDir = dir
		o.Now = func() time.Time { return wall0 }
	}
}

// saveColumns records columns "saved" to the config.
func saveColumns(o *Options) {
	o.SaveColumns = func(path, pane string, cols []string) (string, error) { return path, nil }
}

// exported checks the one file an export wrote.
func exported(sub string) func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
	return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
		files, _ := filepath.Glob(filepath.Join(m.opts.ExportDir, "rebindwatch-*"))
		if len(files) != 1 || !strings.Contains(m.flash, files[0]) {
			t.Fatalf("files %v, flash %q", files, m.flash)
		}
		b, _ := os.ReadFile(files[0])
		if !strings.Contains(string(b), sub) {
			t.Errorf("%s:\n%s\nwant %q", files[0], b, sub)
		}
	}
}

func speed(want float64) func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
	return func(t *testing.T, _, m Model, _ *fakeBackend, _ bool) {
		if got := m.opts.Pacer.Speed(); got != want || m.speed != want {
			t.Errorf("pacer speed %v, model speed %v, want %v", got, m.speed, want)
		}
	}
}

// allowed checks the Allow calls (none when called without arguments).
func allowed(kv ...string) func(t *testing.T, _, _ Model, b *fakeBackend, _ bool) {
	return func(t *testing.T, _, _ Model, b *fakeBackend, _ bool) {
		var want [][2]string
		if len(kv) == 2 {
			want = [][2]string{{kv[0], kv[1]}}
		}
		if !reflect.DeepEqual(b.allowed, want) && !(len(want) == 0 && len(b.allowed) == 0) {
			t.Errorf("Allow calls %v, want %v", b.allowed, want)
		}
	}
}

func saveOK(path string, h, o []string) (string, error) {
	if path != "/tmp/rw.toml" || len(h) != 1 || h[0] != "192.168.1.50:8080" || len(o) != 0 {
		return "", fmt.Errorf("unexpected additions to %s: %v %v", path, h, o)
	}
	return path, nil
}

func saveFail(string, []string, []string) (string, error) { return "", errors.New("disk full") }

// TestEveryBindingTested makes sure each key of every binding in the
// KeyMap appears in TestKeys (by name), so a new binding needs a test.
func TestEveryBindingTested(t *testing.T) {
	tested := map[string]bool{}
	src := testSource(t)
	km := DefaultKeyMap()
	v := reflect.ValueOf(km)
	for i := 0; i < v.NumField(); i++ {
		b := v.Field(i).Interface().(key.Binding)
		if len(b.Keys()) == 0 || b.Help().Desc == "" {
			t.Errorf("binding %s has no keys or no help", v.Type().Field(i).Name)
		}
		for _, k := range b.Keys() {
			if !strings.Contains(src, fmt.Sprintf("%q", k)) {
				t.Errorf("key %q (%s) is not exercised in TestKeys", k, v.Type().Field(i).Name)
			}
			tested[k] = true
		}
	}
	// Every binding is listed in the help, so the help lists every key.
	listed := map[string]bool{}
	for _, g := range km.FullHelp() {
		for _, b := range g {
			for _, k := range b.Keys() {
				listed[k] = true
			}
		}
	}
	for k := range tested {
		if !listed[k] && k != "y" && k != "Y" && k != "n" && k != "N" {
			t.Errorf("key %q is not in the help screen", k)
		}
	}
}

// TestKeyPressMatchesBinding: the messages the tests send spell the keys
// as a terminal would deliver them.
func TestKeyPressMatchesBinding(t *testing.T) {
	km := DefaultKeyMap()
	v := reflect.ValueOf(km)
	for i := 0; i < v.NumField(); i++ {
		b := v.Field(i).Interface().(key.Binding)
		for _, k := range b.Keys() {
			if !key.Matches(keyPress(k), b) {
				t.Errorf("%q: keyPress(%q).String() = %q does not match its binding", v.Type().Field(i).Name, k, keyPress(k).String())
			}
		}
	}
	if got := (tea.KeyPressMsg{Code: ' ', Text: " "}).String(); got != "space" {
		t.Errorf("space reads %q", got)
	}
}

// TestConfirmListsWhatItWrites: y/n names the additions.
func TestConfirmListsWhatItWrites(t *testing.T) {
	b := demoBackend()
	s := b.Snapshot()
	s.AddedOrigins = []string{"https://a.test", "https://b.test"}
	b.setSnap(s)
	var got [][]string
	m := newTestModel(t, b, 80, 24, withSave(func(path string, h, o []string) (string, error) {
		got = append(got, h, o)
		return path, nil
	}))
	m, _ = press(t, m, "w")
	if !strings.Contains(stripped(t, m), "Add 1 host and 2 origins") {
		t.Errorf("question does not list the additions:\n%s", stripped(t, m))
	}
	m, _ = press(t, m, "y")
	if len(got) != 2 || len(got[0]) != 1 || len(got[1]) != 2 {
		t.Errorf("SaveAllowlist got %v", got)
	}
}

// TestTickSlowsWhenIdle: unchanged snapshots slow the tick; a change
// brings it back.
func TestTickSlowsWhenIdle(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	for i := 0; i < idleAfter+1; i++ {
		m = snap(t, m, b.Snapshot(), wall0.Add(time.Duration(i)*time.Second))
	}
	if m.idle < idleAfter {
		t.Fatalf("idle = %d after unchanged snapshots", m.idle)
	}
	s := b.Snapshot()
	s.Requests++
	m = snap(t, m, s, wall0.Add(time.Minute))
	if m.idle != 0 {
		t.Errorf("idle = %d after a change", m.idle)
	}
}

// TestTickBacksOffExpensiveSnapshots: a snapshot that held the engine's
// lock for long (pins over a big key table) spaces the next tick by ten
// times that, up to tickSlowest; a cheap one brings the fast tick back.
func TestTickBacksOffExpensiveSnapshots(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	for _, c := range []struct {
		took, want time.Duration
	}{
		{time.Millisecond, tickFast},
		{40 * time.Millisecond, 400 * time.Millisecond},
		{time.Second, tickSlowest},
		{2 * time.Millisecond, tickFast},
	} {
		msg := tickMsg(m, b.Snapshot(), wall0.Add(time.Second))
		msg.took = c.took
		m = upd(t, m, msg)
		if got := m.tickDelay(); got != c.want {
			t.Errorf("after a snapshot of %v the tick waits %v, want %v", c.took, got, c.want)
		}
	}
}

// TestFollowSelection: the cursor stays on its row when rows reorder, and
// at the top when it was there.
func TestFollowSelection(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	m, _ = press(t, m, "2", "j") // keys by requests: evil, app, batch, old -> on app
	if k, _ := keysOf(m).selected(); k.Key != fpApp {
		t.Fatalf("selected %s", k.Key)
	}
	s := b.Snapshot()
	s.Keys[0].Requests = 10_000 // batch jumps to the top
	m = snap(t, m, s, wall0.Add(time.Second))
	if k, _ := keysOf(m).selected(); k.Key != fpApp {
		t.Errorf("after reorder selected %s, want %s", k.Key, fpApp)
	}
}

// TestNewAlertsMarker: alerts that arrive while the user is scrolled down
// are counted in the title and the tab until the top of the list is on
// screen again.
func TestNewAlertsMarker(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	m, _ = press(t, m, "j", "j")
	s := b.Snapshot()
	ni := s.Incidents[0]
	ni.ID, ni.Subject = "inc-9", "rebind.attacker.test"
	s.Incidents = append([]detect.Incident{ni}, s.Incidents...)
	m = snap(t, m, s, wall0.Add(time.Second))
	if got := m.panes[paneAlerts].status(); got != "Incidents 5 · 1 new ↑" {
		t.Errorf("title %q while scrolled down, want the new incident counted", got)
	}
	if !strings.Contains(stripped(t, m), "1 Incidents 5 · 1 new ↑") {
		t.Errorf("the tab bar does not count the new alert:\n%s", stripped(t, m))
	}
	if m, _ = press(t, m, "2", "1"); m.panes[paneAlerts].news() != 1 {
		t.Errorf("switching panes with the cursor still down took the alert as seen")
	}
	if m, _ = press(t, m, "g"); m.panes[paneAlerts].news() != 0 {
		t.Errorf("g (top) did not take the new alert as seen: %q", m.panes[paneAlerts].status())
	}
}

// TestProgressRate: the catch-up rate comes from successive snapshots and
// wall times carried by the messages (no clock read in Update).
func TestProgressRate(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 100, 30)
	s := b.Snapshot()
	for i := 1; i <= 3; i++ {
		s.Sources[0].Done += 100_000
		s.Requests++
		m = snap(t, m, s, wall0.Add(time.Duration(i)*time.Second))
	}
	got := stripped(t, m)
	if !strings.Contains(got, "100.0 kB/s") || !strings.Contains(got, "3s left") {
		t.Errorf("no rate or time left in the header:\n%s", got)
	}
}

// TestDoneShown: when every source finished, the header says so.
func TestDoneShown(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24, withPacer(source.NewPacer(1)))
	msg := tickMsg(m, b.Snapshot(), wall0)
	msg.done = true
	m = upd(t, m, msg)
	if !strings.Contains(stripped(t, m), "DONE") {
		t.Errorf("no DONE in the header")
	}
}

// TestHeaderHeightMatches: the counted header height equals the rendered
// one for every snapshot shape (the layout depends on it).
func TestHeaderHeightMatches(t *testing.T) {
	for name, s := range map[string]detect.Snapshot{"demo": demoSnapshot(), "warnings": warningSnapshot(), "hostile": hostileSnapshot(), "empty": {}} {
		for _, h := range []int{12, 16, 24, 40} {
			b := &fakeBackend{snap: s}
			m := newTestModel(t, b, 100, h)
			hd := m.header()
			if got, want := len(hd.lines(100, h/2)), hd.height(h/2); got != want {
				t.Errorf("%s at height %d: %d lines rendered, %d counted", name, h, got, want)
			}
		}
	}
}

// TestNextSpeed walks the speed ladder.
func TestNextSpeed(t *testing.T) {
	for _, c := range []struct {
		cur  float64
		dir  int
		want float64
	}{{1, 1, 2}, {1, -1, 0.5}, {100, 1, 0}, {0, 1, 0}, {0, -1, 100}, {0.1, -1, 0.1}, {3, 1, 5}, {3, -1, 2}, {0.05, 1, 0.1}} {
		if got := nextSpeed(c.cur, c.dir); got != c.want {
			t.Errorf("nextSpeed(%v, %d) = %v, want %v", c.cur, c.dir, got, c.want)
		}
	}
}
