// Package dashkit drives the dashboard (ui.Model) from tests outside the ui
// package, through its public API, the way the Bubble Tea runtime would but
// deterministically: every command a key press starts is run to its end and
// its message fed back, however long it takes, so what a test looks at is
// what the user would see once the commands finished. ui's own tests have
// the same drain in ui/helpers_test.go.
//
// A slow machine cannot make a test skip a command: the periodic snapshot
// tick is told from an action by the message it returns (IsTick), never by
// how long it took.
package dashkit

import (
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/ui"
)

// maxDepth bounds a chain of commands whose messages start further
// commands. A key press in the dashboard starts at most a few (an action,
// then a one-shot snapshot, then a detail); far more is a loop.
const maxDepth = 20

// New builds a dashboard with opts at width×height that has taken its
// first snapshot, as after the first tick. The tick it schedules next is
// not run: the clock of a test is the keys it presses.
func New(t testing.TB, opts ui.Options, width, height int) ui.Model {
	t.Helper()
	m := update(t, ui.New(opts), tea.WindowSizeMsg{Width: width, Height: height})
	init := m.Init()
	if init == nil {
		t.Fatal("ui.Model.Init starts no command: the dashboard would never take a snapshot")
	}
	msg := init()
	if !IsTick(msg) {
		t.Fatalf("ui.Model.Init returned %T, not the snapshot tick: dashkit.IsTick no longer recognises it", msg)
	}
	return update(t, m, msg)
}

// Press sends each key in turn (as key.Binding spells it: "enter", "esc",
// "tab", "shift+tab", "ctrl+c", "space", "G", "5") and drains the commands
// it starts. It reports whether any of them quit.
func Press(t testing.TB, m ui.Model, keys ...string) (ui.Model, bool) {
	t.Helper()
	quit := false
	for _, k := range keys {
		out, cmd := m.Update(Key(k))
		var q bool
		m, q = Drain(t, asModel(t, out), cmd)
		quit = quit || q
	}
	return m, quit
}

// Drain runs cmd and feeds its message back to m, then does the same with
// the command that Update returns, to the end. Batches and sequences are
// run one command after the other, in order. A tick's snapshot ends its
// branch without being fed back: feeding it would schedule the next tick,
// and the next, forever. It reports whether a command quit.
func Drain(t testing.TB, m ui.Model, cmd tea.Cmd) (ui.Model, bool) {
	t.Helper()
	return drain(t, m, cmd, 0)
}

func drain(t testing.TB, m ui.Model, cmd tea.Cmd, depth int) (ui.Model, bool) {
	t.Helper()
	if cmd == nil {
		return m, false
	}
	if depth > maxDepth {
		t.Fatalf("commands still coming %d deep: a loop (if ui's snapshot tick changed, dashkit.IsTick must learn it)", depth)
	}
	msg := cmd()
	if msg == nil {
		return m, false
	}
	if _, ok := msg.(tea.QuitMsg); ok {
		return m, true
	}
	if cmds, ok := commands(msg); ok {
		quit := false
		for _, c := range cmds {
			var q bool
			m, q = drain(t, m, c, depth+1)
			quit = quit || q
		}
		return m, quit
	}
	if IsTick(msg) {
		return m, false
	}
	out, next := m.Update(msg)
	return drain(t, asModel(t, out), next, depth+1)
}

// commands returns the commands of a tea.BatchMsg or of the message
// tea.Sequence makes (an unexported []tea.Cmd, run in order by the
// runtime), recognised by its type: a list of commands.
func commands(msg tea.Msg) ([]tea.Cmd, bool) {
	if b, ok := msg.(tea.BatchMsg); ok {
		return b, true
	}
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Slice || v.Type().Elem() != reflect.TypeFor[tea.Cmd]() {
		return nil, false
	}
	cmds := make([]tea.Cmd, v.Len())
	for i := range cmds {
		cmds[i] = v.Index(i).Interface().(tea.Cmd)
	}
	return cmds, true
}

// IsTick reports whether msg is the dashboard's periodic snapshot: ui's
// snapshot message with its chain flag set (a tick's snapshot schedules
// the next tick; the one-shot snapshot after an action does not). The type
// is unexported, so it is recognised by reflection on its name and field;
// New fails loudly if that stops working, and Drain's depth bound catches
// a tick mistaken for an action.
func IsTick(msg tea.Msg) bool {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Struct || v.Type().Name() != "snapMsg" || v.Type().PkgPath() != reflect.TypeFor[ui.Model]().PkgPath() {
		return false
	}
	chain := v.FieldByName("chain")
	return chain.IsValid() && chain.Kind() == reflect.Bool && chain.Bool()
}

// Key builds the message the terminal delivers for a key as key.Binding
// spells it.
func Key(k string) tea.KeyPressMsg {
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
	return tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
}

func update(t testing.TB, m ui.Model, msg tea.Msg) ui.Model {
	t.Helper()
	out, _ := m.Update(msg)
	return asModel(t, out)
}

func asModel(t testing.TB, out tea.Model) ui.Model {
	t.Helper()
	m, ok := out.(ui.Model)
	if !ok {
		t.Fatalf("ui.Model.Update returned %T", out)
	}
	return m
}
