package main

import (
	"context"
	"errors"
	"os"
	"sync"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/ui"
)

// uiAvailable reports whether this build has the dashboard.
const uiAvailable = true

// runDashboard runs the engine in the background and the dashboard in front
// until the user quits or a signal arrives. The dashboard stays up after a
// replay ends so the operator can read it; the engine is awaited before
// returning so the summary is complete.
func runDashboard(ctx context.Context, cancel context.CancelCauseFunc, e *detect.Engine, in <-chan detect.Batch, s *setup, o options) error {
	done := make(chan struct{})
	var engErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		engErr = e.Run(ctx, in)
		if errors.Is(engErr, context.Canceled) {
			engErr = nil
		}
		if engErr != nil {
			cancel(engErr)
		}
	}()
	title := "rebindwatch"
	switch {
	case o.demo:
		title += " — demo capture"
	case o.read != "":
		title += " — " + o.read
	case len(o.logs) > 0:
		title += " — " + o.logs[0]
		if len(o.logs) > 1 {
			title += " and more"
		}
	}
	cfgPath := config.Find(o.config)
	if o.demo && o.config == "" {
		cfgPath = "" // the demo's config is embedded; `w` writes ./rebindwatch.toml
	}
	opts := ui.Options{
		Backend: e,
		Live:    s.live,
		Title:   title,
		SaveAllowlist: func(hosts, origins []string) (string, error) {
			return config.AddAllowed(cfgPath, hosts, origins)
		},
		Done:    done,
		NoColor: os.Getenv("NO_COLOR") != "",
	}
	if !s.live {
		opts.Pacer = s.pacer
	}
	err := ui.Run(ctx, opts)
	cancel(nil)
	wg.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return engErr
}
