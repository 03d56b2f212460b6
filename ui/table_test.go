package ui

import (
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// checkCols: every column has one way to show its cell; in a list pane
// every column sorts, and exactly one column says where the pane starts
// (sorted by it, or the engine's order standing for it).
func checkCols[T any](t *testing.T, name string, cols []col[T], list bool) {
	t.Helper()
	starts := 0
	for _, c := range cols {
		if (c.cell == nil) == (c.age == nil) {
			t.Errorf("%s %s: exactly one of cell and age must be set", name, c.title)
		}
		if list && c.cmp == nil {
			t.Errorf("%s %s: no comparison, s would sort by nothing", name, c.title)
		}
		if c.sorted || c.natural {
			starts++
		}
	}
	if list && starts != 1 {
		t.Errorf("%s: %d columns say where the pane starts, want 1", name, starts)
	}
}

func TestColumnsDeclared(t *testing.T) {
	for _, p := range New(Options{}).panes {
		switch p := p.(type) {
		case *tablePane[detect.Alert]:
			checkCols(t, p.name, p.cols, true)
		case *tablePane[detect.KeyStat]:
			checkCols(t, p.name, p.cols, true)
		case *tablePane[detect.ValueStat]:
			checkCols(t, p.name, p.cols, true)
		case *tablePane[detect.Request]:
			checkCols(t, p.name, p.cols, true)
		default:
			t.Errorf("a pane of type %T: add it here", p)
		}
	}
	checkCols(t, "dns answers", dnsCols(), false)
}

// TestSortCycle: s walks a pane's columns in order, each in its declared
// direction, and back to where the pane started; S flips the direction,
// and from the engine's order sorts by its time column, oldest first.
func TestSortCycle(t *testing.T) {
	s := demoSnapshot()
	for _, c := range []struct {
		pane paneID
		want []string // after each s, from the start
	}{
		{paneAlerts, []string{"alerts sorted by sev, descending", "alerts sorted by detector, ascending", "alerts sorted by subject, ascending",
			"alerts sorted by key, ascending", "alerts sorted by client, ascending", "alerts sorted by count, descending",
			"alerts sorted by age, descending", "alerts: newest first"}},
		{paneHosts, []string{"hosts sorted by keys, descending", "hosts sorted by status, ascending", "hosts sorted by last, descending",
			"hosts sorted by host, ascending", "hosts sorted by reqs, descending"}},
	} {
		p := New(Options{}).panes[c.pane]
		p.apply(&s)
		for i, want := range c.want {
			if got := p.sortNext(false); got != want {
				t.Errorf("s %d: %q, want %q", i+1, got, want)
			}
		}
	}
	p := New(Options{}).panes[paneRequests]
	if got := p.sortNext(true); got != "requests sorted by time, ascending" {
		t.Errorf("S from the engine's order: %q", got)
	}
	if got := p.sortNext(true); got != "requests sorted by time, descending" {
		t.Errorf("S again: %q", got)
	}
}
