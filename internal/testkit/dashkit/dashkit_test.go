package dashkit_test

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit/dashkit"
	"github.com/rebindwatch/rebindwatch/ui"
)

// slowBackend is an engine whose alert detail takes longer than the 50 ms
// the old end-to-end drain waited before dropping a command.
type slowBackend struct {
	*detect.Engine
	delay   time.Duration
	details atomic.Int32
}

func (b *slowBackend) AlertDetail(id uint64) (detect.Alert, bool) {
	time.Sleep(b.delay)
	b.details.Add(1)
	return b.Engine.AlertDetail(id)
}

// engine has one alert: a foreign Host, with the request as its evidence.
func engine(t *testing.T) *detect.Engine {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := detect.Request{
		Time: time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC), Source: "test",
		Client: netip.MustParseAddrPort("10.0.0.7:51234"), Method: "GET",
		Host: "evil.rebind.test", HasHost: true, Target: "/evidence-target", Proto: "HTTP/1.1",
	}
	if err := e.Observe(&detect.Batch{Source: "test", Requests: []detect.Request{r}}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Snapshot().Alerts); n != 1 {
		t.Fatalf("the engine raised %d alerts, want 1", n)
	}
	return e
}

func screen(m ui.Model) string { return ansi.Strip(m.View().Content) }

// A command slower than any fixed wait is still run and its message fed
// back: the alert's evidence is on screen after the key press returns.
func TestPressWaitsForSlowCommands(t *testing.T) {
	b := &slowBackend{Engine: engine(t), delay: 300 * time.Millisecond}
	m := dashkit.New(t, ui.Options{Backend: b, NoColor: true, Title: "dashkit"}, 100, 30)
	if !strings.Contains(screen(m), "evil.rebind.test") {
		t.Fatalf("the first snapshot is not on screen:\n%s", screen(m))
	}
	m, quit := dashkit.Press(t, m, "1", "v", "enter") // v: the alert list, not incidents
	if quit {
		t.Fatal("enter quit the dashboard")
	}
	if b.details.Load() != 1 {
		t.Errorf("AlertDetail ran %d times, want 1", b.details.Load())
	}
	s := screen(m)
	if strings.Contains(s, "loading evidence") || !strings.Contains(s, "/evidence-target") {
		t.Errorf("the alert's evidence is not on screen after enter:\n%s", s)
	}
}

// The tick is recognised by its message: Init's is a tick, the one-shot
// snapshot after an action is not (it is fed back: "c", confirmed, clears
// the alerts and the screen shows it at once).
func TestTickAndActionAreToldApartByMessage(t *testing.T) {
	e := engine(t)
	m := dashkit.New(t, ui.Options{Backend: e, NoColor: true}, 100, 30)
	if !dashkit.IsTick(m.Init()()) {
		t.Fatal("Init's snapshot is not recognised as the tick")
	}
	for _, msg := range []tea.Msg{nil, tea.QuitMsg{}, tea.WindowSizeMsg{}, tea.BatchMsg{}, struct{ chain bool }{true}} {
		if dashkit.IsTick(msg) {
			t.Errorf("IsTick(%#v) = true", msg)
		}
	}
	m, _ = dashkit.Press(t, m, "c", "y") // c asks first
	if n := len(e.Snapshot().Alerts); n != 0 {
		t.Fatalf("c did not clear the engine's alerts: %d left", n)
	}
	if s := screen(m); strings.Contains(s, "evil.rebind.test") {
		t.Errorf("after c the screen still shows the cleared alert:\n%s", s)
	}
	// Draining the tick itself stops at its message instead of running
	// the next tick forever.
	if _, quit := dashkit.Drain(t, m, m.Init()); quit {
		t.Error("the tick quit")
	}
}

// Batches and sequences run every command, in order; tea.Quit is reported.
func TestDrainRunsBatchesAndSequencesInOrder(t *testing.T) {
	m := dashkit.New(t, ui.Options{Backend: engine(t), NoColor: true}, 100, 30)
	var ran []string
	step := func(name string) tea.Cmd {
		return func() tea.Msg { ran = append(ran, name); return nil }
	}
	_, quit := dashkit.Drain(t, m, tea.Sequence(step("a"), tea.Batch(step("b"), step("c")), step("d")))
	if quit || strings.Join(ran, "") != "abcd" {
		t.Errorf("ran %q (quit %v), want abcd without quitting", ran, quit)
	}
	if _, quit := dashkit.Drain(t, m, tea.Batch(step("e"), tea.Quit)); !quit {
		t.Error("tea.Quit in a batch was not reported")
	}
	if _, quit := dashkit.Press(t, m, "q"); !quit {
		t.Error("q did not quit")
	}
}
