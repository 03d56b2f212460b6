package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every key the dashboard answers to. The same bindings drive
// Update (matched with key.Matches) and the help screen, so the help can
// never list a key that does nothing or miss one that does something.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	NextPane, PrevPane                      key.Binding
	Pane1, Pane2, Pane3, Pane4, Pane5       key.Binding
	Enter, Back                             key.Binding
	Filter, Sort, SortReverse               key.Binding
	Pause, Faster, Slower, Step             key.Binding
	View, Suggest                           key.Binding
	Pin, Unpin, DropPin                     key.Binding
	Earlier, Later, ZoomOut, ZoomIn, Mark   key.Binding
	Export, Columns, UseFormat              key.Binding
	Allow, Adopt, Write, Clear              key.Binding
	Report                                  key.Binding
	Yes, No                                 key.Binding
	Help, Quit                              key.Binding
	// While a filter is typed or a question asked, letters are text or an
	// answer: only these keys act. Each repeats a key of a binding above,
	// so the help lists them already.
	Interrupt, KeepFilter, FilterMove key.Binding
}

// DefaultKeyMap returns the bindings described in the help screen. R is
// kept free for the incident report (written by another part of the
// program); nothing else may take it.
func DefaultKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:          b("↑/k", "up", "up", "k"),
		Down:        b("↓/j", "down", "down", "j"),
		PageUp:      b("pgup", "page up", "pgup", "ctrl+b", "ctrl+u"),
		PageDown:    b("pgdn", "page down", "pgdown", "ctrl+f", "ctrl+d"),
		Top:         b("g/home", "top (newest)", "g", "home"),
		Bottom:      b("G/end", "bottom", "G", "end"),
		NextPane:    b("tab", "next pane", "tab"),
		PrevPane:    b("shift+tab", "previous pane", "shift+tab"),
		Pane1:       b("1", "incidents / alerts", "1"),
		Pane2:       b("2", "keys", "2"),
		Pane3:       b("3", "hosts", "3"),
		Pane4:       b("4", "origins", "4"),
		Pane5:       b("5", "requests", "5"),
		Enter:       b("enter", "details", "enter"),
		Back:        b("esc", "back / clear filter", "esc"),
		Filter:      b("/", "filter this pane", "/"),
		Sort:        b("s", "sort by next column", "s"),
		SortReverse: b("S", "reverse sort", "S"),
		Pause:       b("space", "pause", "space"),
		Faster:      b("+", "replay faster", "+", "="),
		Slower:      b("-", "replay slower", "-", "_"),
		Step:        b(".", "step 1 s (paused)", "."),
		View:        b("v", "incidents ⇄ every alert", "v"),
		Pin:         b("f", "pin the row's value: every pane shows only its traffic", "f"),
		Unpin:       b("F", "clear every pin and the time range", "F"),
		DropPin:     b("backspace", "drop the last pin (or the range)", "backspace"),
		Earlier:     b("[", "time cursor back one step", "["),
		Later:       b("]", "time cursor forward one step", "]"),
		ZoomOut:     b("{", "timeline: wider (1m 10m 1h all)", "{"),
		ZoomIn:      b("}", "timeline: narrower", "}"),
		Mark:        b("m", "mark the cursor; a second mark pins the range", "m"),
		Export:      b("e", "export this pane or the evidence (JSON lines, CSV)", "e"),
		Columns:     b("C", "choose and order this pane's columns", "C"),
		UseFormat:   b("L", "read the log with the proposed format", "L"),
		Suggest:     b("p", "suggested allowlist", "p"),
		Allow:       b("a", "allow host/origin (this run)", "a"),
		Adopt:       b("A", "adopt the suggested allowlist (this run)", "A"),
		Write:       b("w", "write allowlist to config", "w"),
		Clear:       b("c", "clear alerts (asks)", "c"),
		Report:      b("R", "write the incident report (HTML)", "R"),
		Yes:         b("y", "confirm", "y", "Y"),
		No:          b("n", "cancel", "n", "N", "esc"),
		Help:        b("?", "help", "?"),
		Quit:        b("q", "quit", "q", "ctrl+c"),
		Interrupt:   b("ctrl+c", "quit, even while typing or asked", "ctrl+c"),
		KeepFilter:  b("enter", "keep the filter", "enter"),
		FilterMove:  b("↑↓ pgup pgdn", "move while typing a filter", "up", "down", "pgup", "pgdown"),
	}
}

// motion is where a navigation key moves a position in [0, last], page
// rows at a time; ok is false for any other key. The caller clamps.
func (k *KeyMap) motion(msg tea.KeyPressMsg, pos, page, last int) (to int, ok bool) {
	switch {
	case key.Matches(msg, k.Up):
		return pos - 1, true
	case key.Matches(msg, k.Down):
		return pos + 1, true
	case key.Matches(msg, k.PageUp):
		return pos - page, true
	case key.Matches(msg, k.PageDown):
		return pos + page, true
	case key.Matches(msg, k.Top):
		return 0, true
	case key.Matches(msg, k.Bottom):
		return last, true
	}
	return pos, false
}

// ShortHelp is the footer line (help.KeyMap): the same bindings with
// terser words, so the line fits 80 columns.
func (k KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{
		short(k.Help, "help"), short(k.Quit, "quit"), short(k.NextPane, "pane"), short(k.Enter, "open"),
		short(k.Pin, "pin"), short(k.Filter, "filter"), short(k.Sort, "sort"), short(k.Pause, "pause"), short(k.Allow, "allow"),
	}
}

// FullHelp is the help screen, one group per column (help.KeyMap).
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.NextPane, k.PrevPane, k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.Pane5},
		{k.Enter, k.Back, k.Filter, k.Sort, k.SortReverse, k.View, k.Columns},
		{k.Pin, k.Unpin, k.DropPin, k.Earlier, k.Later, k.ZoomOut, k.ZoomIn, k.Mark},
		{k.Pause, k.Faster, k.Slower, k.Step, k.Export, k.UseFormat},
		{k.Allow, k.Suggest, k.Adopt, k.Write, k.Clear, k.Report, k.Help, k.Quit},
	}
}
