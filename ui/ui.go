// Package ui is rebindwatch's live dashboard: a Bubble Tea v2 program that
// reads engine snapshots on a tick and shows alerts, keys, hosts, origins and
// recent requests, with drill-downs into an alert's evidence and a key's
// history. It holds no detection logic; everything it shows comes from a
// [Backend].
//
// Structure: one root [Model] owns all state and returns the tea.View. The
// five list panes are one generic table (table.go) configured by a file
// each (pane_alerts.go, pane_keys.go, pane_values.go for hosts and
// origins, pane_requests.go): their columns carry the cell text, colour,
// comparison and default sort. The model keeps them in an array indexed by
// paneID behind one small interface. The header, the detail views and the
// help (header.go, detail.go, help.go; the last two scroll with scroll.go)
// are plain values too. Everything draws from a shared, read-mostly
// context (sizes, styles, the KeyMap of keymap.go); the focus and the event
// clock are passed to each render. Update is a pure state transition:
// every call into the Backend or the Pacer happens in a tea.Cmd that
// returns a message. Every string from the wire is drawn through clean
// (text.go).
package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// Backend is what the dashboard reads and controls; *detect.Engine
// implements it. Every method must be safe to call from any goroutine.
type Backend interface {
	// SnapshotFor returns a copy of the engine's state for a view: each
	// table's top rows of the view's sort and filter, rates at q.Now.
	SnapshotFor(q detect.Query) detect.Snapshot
	// AlertDetail returns one alert with its Evidence (the requests that made it).
	AlertDetail(id uint64) (detect.Alert, bool)
	// IncidentDetail returns one incident with its alerts and its evidence
	// timeline.
	IncidentDetail(id string) (detect.IncidentDetail, bool)
	// KeyDetail returns the drill-down of one key fingerprint.
	KeyDetail(fp string) (detect.KeyDetail, bool)
	// Allow allows a value for this run; kind is "host" or "origin". Alerts
	// on it get Allowed=true.
	Allow(kind, value string) error
	// ClearAlerts drops the alerts and incidents kept for display.
	ClearAlerts()
}

// Options configures the dashboard.
type Options struct {
	Backend Backend
	// Pacer is non-nil when replaying (a capture or the demo): space pauses
	// the replay, + and - change its speed, . steps one second of event time.
	Pacer *source.Pacer
	// Live is set for live capture or followed logs: space holds the
	// display while counting goes on, and rates are measured at the wall
	// clock, so they fall when traffic stops.
	Live bool
	// Title is shown at the top left, e.g. "rebindwatch — demo capture".
	Title string
	// SaveAllowlist adds hosts and origins to the allowlist in the config
	// file at path (w, after a y/n question naming AllowlistPath) and
	// returns the file written. Nil means not available; the dashboard says
	// so.
	SaveAllowlist func(path string, hosts, origins []string) (written string, err error)
	// AllowlistPath is the config file SaveAllowlist is given.
	AllowlistPath string
	// Proposal returns an allowlist proposed from the traffic seen so far
	// (the Suggested view, p). It may be called from any goroutine. Nil:
	// no proposal.
	Proposal func() Proposal
	// WriteReport writes the incident report of the run so far (R) and
	// returns the file written. It runs in a command, off the UI's
	// goroutine. Nil: no report in this run; the dashboard says so.
	WriteReport func() (written string, err error)
	// Done is closed when all sources have finished; the header shows it and
	// the dashboard stays up.
	Done <-chan struct{}
	// NoColor drops all colours (NO_COLOR); bold, faint and reverse remain so
	// that selection and severity still read.
	NoColor bool
	// NoMouse leaves the mouse to the terminal (its own selection) instead
	// of clicks, the wheel and double-clicks acting on the dashboard.
	NoMouse bool
	// ConfigPath is the config file the run loaded, for the header; ""
	// says no config was loaded (the defaults).
	ConfigPath string
	// Columns are the columns each pane shows, in order, by pane name
	// ("keys", "hosts", ...: Columns()); a pane not named shows them all.
	Columns map[string][]string
	// SaveColumns writes a pane's columns to [ui] columns in the config
	// file at path (AllowlistPath) after C and a y/n question, and returns
	// the file written. Nil: C changes them for this run only.
	SaveColumns func(path, pane string, cols []string) (written string, err error)
	// ExportDir is where e writes its files ("" is the working directory).
	ExportDir string
	// Now is the wall clock (export file names, double clicks); nil is
	// time.Now. Tests set it.
	Now func() time.Time
	// UseFormat, when set, reads a log source again from its start with
	// the log format its auto-detection proposed (L, after a y/n question):
	// the run starts over. It is called from a command; the dashboard then
	// quits and the caller starts the new run.
	UseFormat func(source, format string)
}

// Columns lists every pane's column names, in their default order: the
// names Options.Columns and the config's [ui] columns take.
func Columns() map[string][]string {
	return map[string][]string{
		"incidents": columnNames(incidentsPane().cols),
		"alerts":    columnNames(alertsPane().cols),
		"keys":      columnNames(keysPane().cols),
		"hosts":     columnNames(valuesPane("host").cols),
		"origins":   columnNames(valuesPane("origin").cols),
		"requests":  columnNames(requestCols()),
	}
}

// Proposal is an allowlist proposed from the traffic seen: what
// --suggest-config would write, live. The dashboard does not make it
// (app adapts package suggest's).
type Proposal struct {
	Requests, Keyed uint64 // requests seen, and with a key
	Keys            int    // distinct keys
	Hosts, Origins  []ProposalEntry
}

// ProposalEntry is one value of a Proposal with the counts behind it.
type ProposalEntry struct {
	Value    string // a Host name (any port), "*.parent", or an origin
	Proposed bool
	Reason   string // why it is not proposed
	Requests uint64
	Keyed    uint64
	Keys     int
	KeysMore bool     // more keys than counted
	Referer  uint64   // origins: requests whose Referer carried it without an Origin
	Ports    []string // names: the ports seen with them
	Members  []string // a wildcard's names
}

// Run shows the dashboard until the user quits or ctx ends, and restores the
// terminal on every exit path. A quit key, SIGINT/SIGTERM or the end of ctx
// return nil; a panic inside the UI is recovered by Bubble Tea (terminal
// restored, stack on stderr) and returned as an error wrapping
// tea.ErrProgramPanic.
func Run(ctx context.Context, opts Options) error {
	return run(ctx, opts)
}

// run is Run with extra program options, so tests can give it pipes instead
// of a terminal.
func run(ctx context.Context, opts Options, extra ...tea.ProgramOption) error {
	if opts.Backend == nil {
		return errors.New("ui: Options.Backend is nil")
	}
	popts := append([]tea.ProgramOption{
		tea.WithContext(ctx),
		tea.WithFPS(maxFPS),
	}, extra...)
	p := tea.NewProgram(New(opts), popts...)
	_, err := p.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tea.ErrProgramPanic):
		return fmt.Errorf("ui: dashboard crashed (terminal restored): %w", err)
	case errors.Is(err, tea.ErrInterrupted):
		return nil
	case ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled):
		return nil
	}
	return fmt.Errorf("ui: %w", err)
}
