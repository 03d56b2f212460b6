package ui

import (
	"slices"
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
		if n := btoi(c.cell != nil) + btoi(c.host != nil) + btoi(c.age != nil); n != 1 {
			t.Errorf("%s %s: exactly one of cell, host and age must be set", name, c.title)
		}
		if list && c.cmp == nil && c.age == nil {
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

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestColumnsDeclared(t *testing.T) {
	m := New(Options{})
	ap := m.panes[paneAlerts].(*altPane)
	for _, p := range append(m.panes[1:], ap.pane, ap.other) {
		switch p := p.(type) {
		case *tablePane[incidentRow]:
			checkCols(t, p.name, p.cols, true)
		case *tablePane[alertRow]:
			checkCols(t, p.name, p.cols, true)
		case *tablePane[detect.KeyStat]:
			checkCols(t, p.name, p.cols, true)
			checkQuery(t, p.name, p.cols, detect.KeyColumns)
		case *tablePane[valueRow]:
			checkCols(t, p.name, p.cols, true)
			checkQuery(t, p.name, p.cols, detect.ValueColumns)
		case *tablePane[reqRow]:
			checkCols(t, p.name, p.cols, true)
		default:
			t.Errorf("a pane of type %T: add it here", p)
		}
	}
	checkCols(t, "timeline", timelineCols(), false)
	checkCols(t, "suggested", suggestCols(), false)
}

// checkQuery: in a pane whose rows the engine picks, every column the
// engine can sort by says so by a name it knows.
func checkQuery[T any](t *testing.T, name string, cols []col[T], known []string) {
	t.Helper()
	for _, c := range cols {
		if c.query != "" && !slices.Contains(known, c.query) {
			t.Errorf("%s %s: the engine has no column %q", name, c.title, c.query)
		}
		if c.query == "" && c.title != "FLAGS" {
			t.Errorf("%s %s: sorted here only, so the rows are not the top of the whole table", name, c.title)
		}
	}
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
		{paneAlerts, []string{"incidents sorted by sev, descending", "incidents sorted by detectors, ascending",
			"incidents sorted by outcome, ascending", "incidents sorted by subject, ascending", "incidents sorted by count, descending",
			"incidents sorted by time, descending", "incidents sorted by last, ascending", "incidents: newest first"}},
		{paneHosts, []string{"hosts sorted by keys, descending", "hosts sorted by status, ascending", "hosts sorted by last, ascending",
			"hosts sorted by host, ascending", "hosts sorted by reqs, descending"}},
	} {
		p := New(Options{}).panes[c.pane]
		p.apply(&snapView{Snapshot: &s})
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

// TestLayoutNarrowGapBeforeGivingUp: columns that fit only with one-cell
// gaps, none of them droppable, get one-cell gaps at their comfortable
// widths rather than two-cell gaps and a squeeze.
func TestLayoutNarrowGapBeforeGivingUp(t *testing.T) {
	cols := []col[int]{{title: "A", min: 10, want: 20, flex: 1}, {title: "B", min: 10}, {title: "C", min: 10}}
	vis, widths, gap := layoutCols(cols, 42)
	if len(vis) != 3 || gap != 1 || widths[0] != 20 {
		t.Errorf("vis %v widths %v gap %d, want all three, A at 20, gap 1", vis, widths, gap)
	}
}
