// Package report writes rebindwatch's incident report: one self-contained
// HTML file to hand over (opened offline, from an email) that says what the
// run watched and what each source let the detectors see, the incidents by
// severity with their evidence timelines, the top keys, Hosts and Origins,
// the request and alert rates over the run (inline SVG), the config in
// force (never the salt) and the command that reproduces the findings.
//
// The file loads nothing and runs nothing: no external asset, no script, a
// Content-Security-Policy that forbids both, the stylesheet allowed by its
// hash only. Every string from the wire or a log is sanitised (package
// sanitize: control characters, bidi and invisible runes shown escaped) and
// then escaped for its HTML context by html/template; keys appear only as
// the engine's fingerprints.
package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Backend is what a report reads; *detect.Engine implements it. Every
// method must be safe to call while the engine runs.
type Backend interface {
	SnapshotFor(q detect.Query) detect.Snapshot
	IncidentDetail(id string) (detect.IncidentDetail, bool)
	RunHistory() detect.RunHistory
}

// Run is what the report says about the run that the engine does not know.
type Run struct {
	Title     string    // what was watched: "rebindwatch — capture.pcap"
	Version   string    // rebindwatch's version
	Generated time.Time // wall clock when written
	// Final: the run has ended (every source finished or was stopped), so
	// the report is complete; otherwise it was asked for while the run
	// goes on (R in the dashboard).
	Final bool
	// CutShort: the run's drain was cut short (a second signal, or the
	// drain deadline): the sources may have held more than the engine saw.
	CutShort bool

	ConfigPath string // the config file loaded; "" for the defaults
	ConfigText string // the config in force as TOML, without the salt (config.InForce)
	Command    Command
}

// Command is how to reproduce the findings.
type Command struct {
	Args  []string // the command line, Args[0] the program
	Dir   string   // the directory it ran in, for relative paths; "" to leave out
	Notes []string // why a rerun may not give exactly the same findings
}

// Caps on what one report shows, so that a flood of alerts makes a long
// report, not an unreadable one. Each is said in the report when reached.
const (
	topRows       = 25  // rows of the keys, Hosts and Origins tables
	detailed      = 50  // incidents shown with their alerts and timeline
	timelineRows  = 200 // timeline entries shown per incident
	cellRunes     = 300 // runes of one value shown in a table cell
	evidenceRunes = 2000
	problemsShown = 20
)

// Write writes the report of what b holds now.
func Write(w io.Writer, b Backend, r Run) error {
	p := collect(b, r)
	if err := page.Execute(w, p); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// WriteFile writes the report to path atomically (a temporary file in the
// same directory renamed over it), so a reader never sees half a report.
func WriteFile(path string, b Backend, r Run) error {
	var buf bytes.Buffer
	if err := Write(&buf, b, r); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is there
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the report %s: %w", path, err)
	}
	return nil
}
