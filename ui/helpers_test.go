package ui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// updating reports whether -update was given. The flag is registered by
// charmbracelet/x/exp/golden (linked through teatest); registering our own
// would panic with "flag redefined".
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run %s -update to create it)", err, t.Name())
	}
	if string(want) == got {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Fatalf("%s differs from the golden file at line %d:\nwant: %q\ngot:  %q\n\nwhole output:\n%s", path, i+1, w, g, got)
		}
	}
}

// wall0 is the wall clock of the first snapshot message in tests.
var wall0 = time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)

type testOpt func(*Options)

func withPacer(p *source.Pacer) testOpt { return func(o *Options) { o.Pacer = p } }
func live() testOpt                     { return func(o *Options) { o.Live = true } }
func noColor() testOpt                  { return func(o *Options) { o.NoColor = true } }
func withSave(f func(path string, h, o []string) (string, error)) testOpt {
	return func(o *Options) { o.SaveAllowlist, o.AllowlistPath = f, "/tmp/rw.toml" }
}

func withReport(f func() (string, error)) testOpt { return func(o *Options) { o.WriteReport = f } }

// newTestModel builds a dashboard over b at w×h that has received one
// snapshot, as after the first tick.
func newTestModel(t testing.TB, b Backend, w, h int, opts ...testOpt) Model {
	t.Helper()
	o := Options{Backend: b, Title: "rebindwatch — demo capture"}
	for _, f := range opts {
		f(&o)
	}
	m := New(o)
	m = upd(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return snap(t, m, b.SnapshotFor(m.query()), wall0)
}

// snap delivers a tick snapshot taken for the model's query (the
// follow-up tick is not run).
func snap(t testing.TB, m Model, s detect.Snapshot, at time.Time) Model {
	t.Helper()
	return upd(t, m, tickMsg(m, s, at))
}

// tickMsg is the message the tick would bring with s.
func tickMsg(m Model, s detect.Snapshot, at time.Time) snapMsg {
	msg := snapMsg{snap: s, q: m.query(), at: at, chain: true}
	if p := m.opts.Pacer; p != nil {
		msg.paused, msg.speed = p.Paused(), p.Speed()
		m.ctl.mu.Lock()
		msg.gen = m.ctl.applied
		m.ctl.mu.Unlock()
	}
	return msg
}

// upd calls Update and drops the command.
func upd(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	out, _ := m.Update(msg)
	mm, ok := out.(Model)
	if !ok {
		t.Fatalf("Update returned %T", out)
	}
	return mm
}

// press sends keys and runs the commands they start (Backend and Pacer
// calls, one-shot refreshes), feeding their messages back, so the result
// is what the user would see once the commands finished. Quit is reported.
func press(t testing.TB, m Model, keys ...string) (Model, bool) {
	t.Helper()
	quit := false
	for _, k := range keys {
		out, cmd := m.Update(keyPress(k))
		var q bool
		m, q = drain(t, out.(Model), cmd)
		quit = quit || q
	}
	return m, quit
}

// drain runs cmd and what follows from it to the end, however long each
// command takes: it tells a tick from an action by the message the command
// returns, never by a timeout, so a slow machine cannot make a test skip
// a command. The tick's own snapshot (chain) is not fed back: it would
// start the next tick, forever.
func drain(t testing.TB, m Model, cmd tea.Cmd) (Model, bool) {
	t.Helper()
	return drainDepth(t, m, cmd, 0)
}

func drainDepth(t testing.TB, m Model, cmd tea.Cmd, depth int) (Model, bool) {
	t.Helper()
	if cmd == nil {
		return m, false
	}
	if depth > 20 {
		t.Fatalf("commands still coming %d deep: a loop", depth)
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
		return m, false
	case tea.QuitMsg:
		return m, true
	case tea.BatchMsg:
		quit := false
		for _, c := range msg {
			var q bool
			m, q = drainDepth(t, m, c, depth+1)
			quit = quit || q
		}
		return m, quit
	case snapMsg:
		if msg.chain {
			return m, false
		}
	}
	out, next := m.Update(msg)
	return drainDepth(t, out.(Model), next, depth+1)
}

// keyPress builds the message the terminal would deliver for a key as
// key.Binding spells it ("enter", "shift+tab", "ctrl+c", "G", "space").
func keyPress(k string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace,
	}
	switch {
	case k == "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case k == "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case strings.HasPrefix(k, "ctrl+"):
		return tea.KeyPressMsg{Code: rune(k[len(k)-1]), Mod: tea.ModCtrl}
	}
	if c, ok := special[k]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// screen renders the model and checks the frame fits the terminal.
func screen(t testing.TB, m Model) string {
	t.Helper()
	v := m.View()
	if !v.AltScreen {
		t.Errorf("View does not set AltScreen")
	}
	checkFrame(t, v.Content, m.ctx.width, m.ctx.height)
	return v.Content
}

// checkFrame asserts every line fits the width and the frame the height.
func checkFrame(t testing.TB, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		t.Errorf("frame has %d lines, terminal has %d", len(lines), h)
	}
	for i, l := range lines {
		if sw := ansi.StringWidth(l); sw > w {
			t.Errorf("line %d is %d cells wide, terminal is %d: %q", i+1, sw, w, ansi.Strip(l))
		}
	}
}

// stripped is the frame as a reader sees it, without escape sequences.
func stripped(t testing.TB, m Model) string {
	t.Helper()
	return ansi.Strip(screen(t, m))
}

// testSource is the text of update_test.go, where every key is exercised.
func testSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("update_test.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The list panes as their tables, for tests that look at rows and state.
// Slot 1 holds the incidents and every alert (v switches).
func slotOf[T any](m Model) *tablePane[T] {
	ap := m.panes[paneAlerts].(*altPane)
	if p, ok := ap.pane.(*tablePane[T]); ok {
		return p
	}
	return ap.other.(*tablePane[T])
}
func incidentsOf(m Model) *tablePane[incidentRow] { return slotOf[incidentRow](m) }
func alertsOf(m Model) *tablePane[alertRow]       { return slotOf[alertRow](m) }
func keysOf(m Model) *tablePane[detect.KeyStat] {
	return m.panes[paneKeys].(*tablePane[detect.KeyStat])
}
func requestsOf(m Model) *tablePane[reqRow] {
	return m.panes[paneRequests].(*tablePane[reqRow])
}
func hostsOf(m Model) *tablePane[valueRow] {
	return m.panes[paneHosts].(*tablePane[valueRow])
}

// detailLines is the open detail's whole body.
func detailLines(m Model) []string {
	return m.detail.body(m.ctx, m.view, m.ctx.width).lines
}

// sortedBy names a table's sort column with its arrow, as its header shows
// it; "" in the engine's order.
func sortedBy[T any](p *tablePane[T]) string {
	if p.order.col < 0 {
		return ""
	}
	if p.order.desc {
		return p.cols[p.order.col].title + "↓"
	}
	return p.cols[p.order.col].title + "↑"
}
