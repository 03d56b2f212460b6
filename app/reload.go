package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
)

// reloadOnHUP reloads the config on SIGHUP until ctx ends. A bad config is
// reported and the old one kept.
func reloadOnHUP(ctx context.Context, e *detect.Engine, o Options, tui bool) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			err := reload(e, o)
			text := "config reloaded"
			if err != nil {
				text = "config reload failed, the old config stays: " + err.Error()
			}
			e.Report(detect.Problem{Source: "config", Where: "SIGHUP", Text: text})
		}
	}
}

func reload(e *detect.Engine, o Options) error {
	if o.Demo && o.Config == "" {
		return fmt.Errorf("the demo's config is embedded; give -c FILE to reload one")
	}
	cfg, err := config.Load(config.Find(o.Config))
	if err != nil {
		return err
	}
	cfg.Hosts.Allowed = append(cfg.Hosts.Allowed, o.AllowHosts...)
	cfg.Origins.Allowed = append(cfg.Origins.Allowed, o.AllowOrigins...)
	dcfg, err := cfg.Detect()
	if err != nil {
		return err
	}
	return e.Reload(dcfg)
}
