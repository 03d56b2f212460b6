package app

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/suggest"
	"github.com/rebindwatch/rebindwatch/ui"
)

// runDashboard runs the engine in the background and the dashboard in front
// until the user quits or the run is stopped. The dashboard stays up after a
// replay ends so the operator can read it. When it closes the sources are
// stopped and the engine is awaited (the drain deadline aside) so the
// summary is complete. restart is set when the user asked to read the log
// again with the format its auto-detection proposed.
func runDashboard(st *stopper, e *detect.Engine, in <-chan detect.Batch, srcs *sourceGroup, s *setup, proposal *suggest.Collector,
	o Options, rep *reporter) (restart *restartError, err error) {
	done := make(chan struct{})
	engErr := make(chan error, 1)
	go func() {
		defer close(done)
		err := e.Run(in)
		if err != nil {
			st.stopNow(stopCause(err))
			go drain(in)
		}
		engErr <- err
	}()
	var asked atomic.Pointer[restartError]
	opts := ui.Options{
		Backend: e,
		Live:    s.live,
		Title:   dashboardTitle(o),
		SaveAllowlist: func(path string, hosts, origins []string) (string, error) {
			return config.AddAllowed(path, hosts, origins)
		},
		AllowlistPath: allowlistFile(o),
		Proposal:      func() ui.Proposal { return uiProposal(proposal.Proposal()) },
		WriteReport: func() (string, error) {
			select {
			case <-done:
				return rep.onDemand(true)
			default:
				return rep.onDemand(false)
			}
		},
		Done:        done,
		NoColor:     os.Getenv("NO_COLOR") != "",
		NoMouse:     o.NoMouse,
		ConfigPath:  s.cfg.Path,
		Columns:     s.cfg.UI.Columns,
		SaveColumns: config.SetColumns,
	}
	if !s.live {
		opts.Pacer = s.pacer
	}
	if canRereadLog(o, s) {
		opts.UseFormat = func(source, format string) { asked.Store(&restartError{source: source, format: format}) }
	}
	err = ui.Run(st.stop, opts)
	st.stopNow(nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	select {
	case err := <-engErr:
		return asked.Load(), err
	case <-st.hard:
		srcs.markCutShort()
		return nil, nil
	}
}

// canRereadLog reports whether the run can start over reading its log
// with another format (the dashboard's L): one log file, read whole by
// auto-detection, with no --state (it would resume past what was read)
// and no -o (the output would get the requests twice).
func canRereadLog(o Options, s *setup) bool {
	if len(o.Logs) != 1 || o.State != "" || o.Output != "" || o.ServerConfig != "" || o.TailOnly || o.LogFormat != "" {
		return false
	}
	p := o.Logs[0]
	return p != "-" && !isGlob(p) && !strings.HasPrefix(p, logsrc.ZeekPrefix) && s.cfg.Log.Format == "auto"
}

// uiProposal is the suggestion as the dashboard takes it (ui does not
// import suggest). The entries convert as struct types: a field added to
// one and not the other stops the build here.
func uiProposal(p suggest.Proposal) ui.Proposal {
	conv := func(es []suggest.Entry) []ui.ProposalEntry {
		out := make([]ui.ProposalEntry, len(es))
		for i, e := range es {
			out[i] = ui.ProposalEntry(e)
		}
		return out
	}
	return ui.Proposal{Requests: p.Requests, Keyed: p.Keyed, Keys: p.Keys, Hosts: conv(p.Hosts), Origins: conv(p.Origins)}
}

// dashboardTitle names what the dashboard watches.
func dashboardTitle(o Options) string {
	title := "rebindwatch"
	switch {
	case o.Demo:
		title += " — demo capture"
	case o.Read != "":
		title += " — " + o.Read
	case len(o.Logs) > 0 || len(o.Listen) > 0:
		all := append(append([]string(nil), o.Logs...), o.Listen...)
		title += " — " + all[0]
		if len(all) > 1 {
			title += " and more"
		}
	}
	return title
}

// allowlistPath is the config file `w` writes the allowlist to.
func allowlistPath(o Options) string {
	if o.Demo && o.Config == "" {
		// The demo's config is embedded. Its additions go to a file of their
		// own name: ./rebindwatch.toml would be loaded by every later run in
		// this folder.
		return "rebindwatch-demo.toml"
	}
	return config.Find(o.Config)
}

// allowlistFile is the file the dashboard names before `w` writes: the
// config in use, or the file config.AddAllowed creates when there is none.
func allowlistFile(o Options) string {
	if p := allowlistPath(o); p != "" {
		return p
	}
	return "rebindwatch.toml"
}
