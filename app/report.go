package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/report"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// The incident report (--report FILE, and R in the dashboard): written at
// the end of the run, whatever ended it (the input, a signal, q), and on
// demand while it runs.

// checkReport refuses a --report path that cannot be written, before
// anything starts: a run of an hour must not end on "no such directory".
func checkReport(o Options) error {
	if o.Report == "" {
		return nil
	}
	if fi, err := os.Stat(o.Report); err == nil && fi.IsDir() {
		return usagef("--report %s: is a directory; name the HTML file to write", o.Report)
	}
	dir := filepath.Dir(o.Report)
	probe, err := os.CreateTemp(dir, ".rebindwatch-report-*")
	if err != nil {
		return usagef("--report %s: cannot write in %s: %v", o.Report, dir, unwrapPath(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// inForce is the config in force for the report: the one loaded, then
// each one a SIGHUP reload accepted.
type inForce struct {
	mu  sync.Mutex
	cfg config.Config
}

func (f *inForce) set(c config.Config) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = c
}

func (f *inForce) get() config.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// reporter writes reports of one run.
type reporter struct {
	engine *detect.Engine
	opts   Options
	setup  *setup
	config *inForce
	dir    string // the working directory, for the command
	now    func() time.Time
}

func newReporter(e *detect.Engine, o Options, s *setup, cfg *inForce) *reporter {
	dir, _ := os.Getwd()
	return &reporter{engine: e, opts: o, setup: s, config: cfg, dir: dir, now: time.Now}
}

// run describes the run to the report.
func (r *reporter) run(final, cutShort bool) report.Run {
	cfg := r.config.get()
	text, err := cfg.InForce()
	if err != nil {
		text = "# the config could not be shown: " + err.Error()
	}
	path := cfg.Path
	if r.opts.Demo && r.opts.Config == "" {
		path = "the demo's embedded config"
	}
	run := report.Run{Title: dashboardTitle(r.opts), Version: r.opts.Version, Generated: r.now(), Final: final, CutShort: cutShort,
		ConfigPath: path, ConfigText: text, Command: reproduce(r.opts, cfg.Path, r.dir)}
	s := r.engine.Snapshot()
	for _, h := range s.AddedHosts {
		run.Command.Notes = append(run.Command.Notes, "allowed during the run: "+h+"; add --allow-host to give the same result (its alerts before it was allowed are then not raised)")
	}
	for _, v := range s.AddedOrigins {
		run.Command.Notes = append(run.Command.Notes, "allowed during the run: "+v+"; add --allow-origin to give the same result (its alerts before it was allowed are then not raised)")
	}
	return run
}

// final writes --report at the end of the run and says where on stderr.
func (r *reporter) final(cutShort bool, stderr io.Writer) error {
	if err := report.WriteFile(r.opts.Report, r.engine, r.run(true, cutShort)); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	fmt.Fprintf(stderr, "rebindwatch: report written to %s\n", sanitize.String(r.opts.Report))
	return nil
}

// onDemand writes a report while the run goes on (R in the dashboard): to
// --report when given (the end of the run overwrites it), else to a new
// file named by the wall clock in the working directory. final says the
// sources have all finished, so the report is complete.
func (r *reporter) onDemand(final bool) (string, error) {
	path := r.opts.Report
	if path == "" {
		path = "rebindwatch-report-" + r.now().Format("20060102-150405") + ".html"
		for i := 2; exists(path); i++ {
			path = "rebindwatch-report-" + r.now().Format("20060102-150405") + "-" + strconv.Itoa(i) + ".html"
		}
	}
	if err := report.WriteFile(path, r.engine, r.run(final, false)); err != nil {
		return path, err
	}
	return path, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// reproduce is the command that gives the same findings from the same
// input, and what may keep it from doing so: the options that decide what
// is read and how it is judged, none of those that only route the output
// (the webhook's headers may hold a token; they never reach a report).
func reproduce(o Options, cfgPath, dir string) report.Command {
	args := []string{"rebindwatch", "--no-tui"}
	var notes []string
	if o.Demo {
		args = append(args, "--demo")
	}
	if cfgPath != "" && !(o.Demo && o.Config == "") {
		args = append(args, "-c", cfgPath)
		notes = append(notes, "-c reads the config file as it is then; the one in force for this report is under Config in force")
	} else if !o.Demo {
		notes = append(notes, "no config file was loaded (the defaults): run it where no ./rebindwatch.toml or $XDG_CONFIG_HOME/rebindwatch/config.toml exists, or the findings differ")
	}
	for _, h := range o.AllowHosts {
		args = append(args, "--allow-host", h)
	}
	for _, v := range o.AllowOrigins {
		args = append(args, "--allow-origin", v)
	}
	switch o.Read {
	case "":
	case "-":
		args = append(args, "-r", "CAPTURE")
		notes = append(notes, "the capture was read from stdin: name its file in place of CAPTURE")
	default:
		args = append(args, "-r", o.Read)
	}
	if o.Interface != "" {
		args = append(args, "-r", "CAPTURE")
		notes = append(notes, "a live capture ("+o.Interface+") cannot be read again: record the traffic (tcpdump -w CAPTURE) to rerun on it")
	}
	if o.LogFormat != "" {
		args = append(args, "--log-format", o.LogFormat)
	}
	if o.TZ != "" {
		args = append(args, "--tz", o.TZ)
	}
	if o.ServerConfig != "" {
		args = append(args, "--server-config", o.ServerConfig)
	}
	if len(o.Logs) > 0 || o.ServerConfig != "" {
		// A rerun reads what the logs hold now, to their end.
		args = append(args, "--no-follow")
		if !o.NoFollow {
			notes = append(notes, "the logs were followed: a rerun reads what they hold now (lines written since, and rotated away since, differ)")
		}
		if o.TailOnly {
			notes = append(notes, "the run started at the end of the logs (--tail-only): a rerun reads them whole, lines written before the run too")
		}
		if o.State != "" {
			notes = append(notes, "the run resumed from --state "+o.State+": a rerun reads the logs whole, lines read by earlier runs too")
		}
	}
	logs := o.Logs
	for i, l := range logs {
		if l == "-" {
			logs = append(logs[:i:i], append([]string{"LOGFILE"}, logs[i+1:]...)...)
			notes = append(notes, "a log was read from stdin: name its file in place of LOGFILE")
			break
		}
	}
	if len(logs) > 0 {
		args = append(args, "--") // a log whose name starts with "-" is not a flag
	}
	args = append(args, logs...)
	args = append(args, "--report", "report.html")
	notes = append(notes, "detection runs in event time: the replay speed and the machine do not change the findings")
	return report.Command{Args: args, Dir: dir, Notes: notes}
}
