package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/rebindwatch/rebindwatch/source"
)

// End-to-end through a real tea.Program (teatest): the tick fetches
// snapshots by itself, keys arrive as input, the program quits on q.

func waitFor(t *testing.T, tm *teatest.TestModel, what ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(out []byte) bool {
		for _, w := range what {
			if !bytes.Contains(out, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(teaPatience), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestTeaDemoTabsAndQuit(t *testing.T) {
	b := demoBackend()
	tm := teatest.NewTestModel(t, New(Options{Backend: b, Title: "rebindwatch — demo capture", Live: true}),
		teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "Incidents", "evil.rebind.test", "LIVE")
	tm.Send(keyPress("2"))
	waitFor(t, tm, "PEAK", "HAOBS")
	tm.Send(keyPress("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(teaPatience)).(Model)
	if fm.focus != paneKeys {
		t.Errorf("focus = %d, want keys", fm.focus)
	}
	b.mu.Lock()
	n := b.snaps
	b.mu.Unlock()
	if n == 0 {
		t.Errorf("the tick never took a snapshot")
	}
}

func TestTeaDrillDownGrid(t *testing.T) {
	b := demoBackend()
	tm := teatest.NewTestModel(t, New(Options{Backend: b, Title: "rebindwatch", Pacer: source.NewPacer(1)}),
		teatest.WithInitialTermSize(140, 40))
	waitFor(t, tm, "Requests", "Origins")
	tm.Send(keyPress("enter"))
	waitFor(t, tm, "Evidence", "inc-5")
	tm.Send(keyPress("esc"))
	tm.Send(keyPress("?"))
	waitFor(t, tm, "Reading the screen")
	tm.Send(keyPress("ctrl+c"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(teaPatience)).(Model)
	if fm.mode != modeHelp {
		t.Errorf("mode = %d, want help", fm.mode)
	}
}

func TestTeaPauseReplay(t *testing.T) {
	b := demoBackend()
	p := source.NewPacer(1)
	tm := teatest.NewTestModel(t, New(Options{Backend: b, Pacer: p}), teatest.WithInitialTermSize(100, 30))
	waitFor(t, tm, "Incidents")
	tm.Send(keyPress("space"))
	waitFor(t, tm, "PAUSED")
	tm.Send(keyPress("+"))
	waitFor(t, tm, "2× recorded speed")
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(teaPatience))
	if !p.Paused() {
		t.Errorf("space did not pause the pacer")
	}
	if p.Speed() != 2 {
		t.Errorf("speed = %v after +, want 2", p.Speed())
	}
}

// TestRunEndsWithContext: Run returns nil when its context ends.
func TestRunEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in, inW := io.Pipe()
	defer inW.Close()
	out := &lockedBuffer{b: &bytes.Buffer{}}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, Options{Backend: demoBackend()}, tea.WithInput(in), tea.WithOutput(out), tea.WithWindowSize(80, 24))
	}()
	// End the context once the dashboard is drawn, not after a guess at
	// how long starting takes.
	for deadline := time.Now().Add(teaPatience); !out.contains("evil.rebind.test"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dashboard never drew its first frame")
		}
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(teaPatience):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestRunPanicRestores: a panic in the UI (here: the backend panics inside
// the tick) ends Run with an error wrapping tea.ErrProgramPanic.
func TestRunPanicRestores(t *testing.T) {
	in, inW := io.Pipe()
	defer inW.Close()
	var out bytes.Buffer
	b := demoBackend()
	b.panicOn = true
	errc := make(chan error, 1)
	go func() {
		errc <- run(context.Background(), Options{Backend: b}, tea.WithInput(in), tea.WithOutput(&lockedBuffer{b: &out}), tea.WithWindowSize(80, 24))
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Fatalf("Run = %v, want an error wrapping ErrProgramPanic", err)
		}
		if !strings.Contains(err.Error(), "ui:") {
			t.Errorf("error %q does not say where it came from", err)
		}
	case <-time.After(teaPatience):
		t.Fatal("Run did not return after a panic")
	}
}

func TestRunNeedsBackend(t *testing.T) {
	if err := Run(context.Background(), Options{}); err == nil {
		t.Fatal("Run without a Backend succeeded")
	}
}

// lockedBuffer is a bytes.Buffer safe for the renderer's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.b.Bytes(), []byte(s))
}

// TestTeaIncidentToRequest: from an incident to its evidence and on to a
// request, and back, through a real program.
func TestTeaIncidentToRequest(t *testing.T) {
	tm := teatest.NewTestModel(t, New(Options{Backend: demoBackend(), Title: "rebindwatch", Pacer: source.NewPacer(1)}),
		teatest.WithInitialTermSize(140, 40))
	// The renderer writes only the cells that change: "Incidents 0" drawn
	// before the first snapshot becomes "Incidents 4" by one digit, so the
	// wait is for text that is new on screen.
	waitFor(t, tm, "host served origin dns")
	for _, k := range []string{"j", "j", "enter"} {
		tm.Send(keyPress(k))
	}
	waitFor(t, tm, "inc-2", "Evidence — 2 DNS answers, 2 requests")
	tm.Send(keyPress("G"))
	tm.Send(keyPress("enter"))
	waitFor(t, tm, "GET /admin/export?format=csv HTTP/1.1", "not an allowed Host")
	tm.Send(keyPress("esc"))
	waitFor(t, tm, "enter opens one")
	tm.Send(keyPress("q"))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(teaPatience)).(Model)
	if fm.detail.kind != detailIncident || len(fm.stack) != 0 {
		t.Errorf("after esc: detail %d, stack %d", fm.detail.kind, len(fm.stack))
	}
}

// TestTeaAdoptSuggested: p shows the proposal, A adopts it; the Backend
// is asked to allow each proposed line not yet allowed.
func TestTeaAdoptSuggested(t *testing.T) {
	b := backendFor(zeroConfigSnapshot())
	tm := teatest.NewTestModel(t, New(Options{Backend: b, Live: true, Proposal: demoProposal}), teatest.WithInitialTermSize(100, 30))
	waitFor(t, tm, "checks are OFF")
	tm.Send(keyPress("p"))
	waitFor(t, tm, "Suggested allowlist", "*.api.example.com")
	tm.Send(keyPress("A"))
	waitFor(t, tm, "adopted 2 hosts and 1 origin for this run")
	tm.Send(keyPress("ctrl+c"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(teaPatience))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.allowed) != 3 {
		t.Errorf("Allow calls %v", b.allowed)
	}
}

// TestTeaClearAsks: c asks, y clears, and the list says it was cleared.
func TestTeaClearAsks(t *testing.T) {
	b := demoBackend()
	tm := teatest.NewTestModel(t, New(Options{Backend: b, Pacer: source.NewPacer(1)}), teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "Incidents 4")
	tm.Send(keyPress("c"))
	waitFor(t, tm, "Clear the alert list?")
	s := b.Snapshot()
	s.Alerts, s.Requests = nil, s.Requests+1
	b.setSnap(s) // what the engine shows once cleared
	tm.Send(keyPress("y"))
	waitFor(t, tm, "cleared at 21:01:10")
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(teaPatience))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clears != 1 {
		t.Errorf("ClearAlerts called %d times", b.clears)
	}
}

// teaPatience bounds every wait for the program: an upper bound, never a
// timing assertion, generous because a loaded machine (the race detector,
// other jobs) can take seconds to schedule the program's goroutines.
const teaPatience = 30 * time.Second
