package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
)

// reloadOnHUP reloads the config on SIGHUP until ctx ends. A config that
// does not load, or that would turn a check off without saying so, is
// refused and the old one kept; either way the run says what happened.
// Under the dashboard (term is its terminal), SIGHUP is first what it
// always meant: the terminal hung up; when it has, the run stops (nobody is
// left to watch it).
func reloadOnHUP(ctx context.Context, st *stopper, e *detect.Engine, o Options, current detect.Config, term terminal, forced *inForce) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if term.gone() {
				st.stopNow(nil)
				return
			}
			next, err := reload(e, o, current, forced)
			text := "config reloaded: " + changes(current, next)
			if err != nil {
				text = "config reload refused, the old config stays: " + err.Error()
			} else {
				current = next
			}
			e.Note("config", text)
		}
	}
}

// reload loads the config again and hands it to the engine; the report
// (forced, when not nil) shows it from then on.
func reload(e *detect.Engine, o Options, current detect.Config, forced *inForce) (detect.Config, error) {
	if o.Demo && o.Config == "" {
		return current, fmt.Errorf("the demo's config is embedded; give -c FILE to reload one")
	}
	cfg, err := config.Load(config.Find(o.Config))
	if err != nil {
		return current, err
	}
	// An empty or cut file (an editor mid-save, -c <(...) read twice) would
	// silently turn the checks off: only a file that says so may.
	for _, c := range []struct {
		key  string
		had  bool
		have bool
	}{
		{"hosts.allowed", len(current.AllowedHosts) > len(o.AllowHosts), len(cfg.Hosts.Allowed) > 0},
		{"origins.allowed", len(current.AllowedOrigins) > len(o.AllowOrigins), len(cfg.Origins.Allowed) > 0},
	} {
		if c.had && !c.have && !cfg.Sets(c.key) {
			return current, fmt.Errorf("the new config has no %s, which would turn that check off; write %s = [] to mean it", c.key, c.key)
		}
	}
	cfg.Hosts.Allowed = append(cfg.Hosts.Allowed, o.AllowHosts...)
	cfg.Origins.Allowed = append(cfg.Origins.Allowed, o.AllowOrigins...)
	next, err := cfg.Detect()
	if err != nil {
		return current, err
	}
	if err := e.Reload(next); err != nil {
		return current, err
	}
	forced.set(cfg)
	return next, nil
}

// changes says what a reload changed, for the operator.
func changes(old, next detect.Config) string {
	var out []string
	list := func(name string, a, b []string) {
		var add, del int
		for _, v := range b {
			if !slices.Contains(a, v) {
				add++
			}
		}
		for _, v := range a {
			if !slices.Contains(b, v) {
				del++
			}
		}
		if add+del > 0 {
			out = append(out, fmt.Sprintf("%s +%d -%d", name, add, del))
		}
	}
	list("allowed hosts", old.AllowedHosts, next.AllowedHosts)
	list("allowed origins", old.AllowedOrigins, next.AllowedOrigins)
	num := func(name string, a, b any) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %v → %v", name, a, b))
		}
	}
	num("burst", fmt.Sprint(old.BurstMax, "/", old.BurstWindow), fmt.Sprint(next.BurstMax, "/", next.BurstWindow))
	num("spread hosts", old.SpreadMaxHosts, next.SpreadMaxHosts)
	num("spread clients", old.SpreadMaxClients, next.SpreadMaxClients)
	num("stuffing", fmt.Sprint(old.StuffingMaxKeys, "/", old.StuffingWindow), fmt.Sprint(next.StuffingMaxKeys, "/", next.StuffingWindow))
	num("check_referer", old.CheckReferer, next.CheckReferer)
	num("allow_null", old.AllowNull, next.AllowNull)
	if len(out) == 0 {
		return "nothing changed"
	}
	return strings.Join(out, ", ")
}

// terminalPoll is how often the dashboard checks that its terminal is
// still there.
const terminalPoll = time.Second

// stopWithTerminal stops the run when the dashboard's terminal goes away
// without a SIGHUP reaching rebindwatch: the kernel sends it to the
// session's leader only, and a shell that ignores it (trap "" HUP, nohup
// sh -c) keeps waiting while its child reads EOF and writes into EIO.
func stopWithTerminal(ctx context.Context, st *stopper, term terminal) {
	t := time.NewTicker(terminalPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if term.gone() {
				st.stopNow(nil)
				return
			}
		}
	}
}
