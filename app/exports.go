package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/metrics"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/webhook"
)

// exports are the optional outputs for the rest of the stack: Prometheus
// metrics and an alert webhook.
type exports struct {
	engine  atomic.Pointer[detect.Engine] // set once built; the metrics read its totals
	metrics *metrics.Exporter
	serve   func(context.Context) error
	webhook *webhook.Poster
}

// newExports checks --metrics and --webhook before anything starts, so a bad
// address or URL is a usage error.
func newExports(o Options) (*exports, error) {
	x := &exports{}
	if o.Webhook != "" {
		hdrs := map[string]string{}
		for _, h := range o.WebhookHdrs {
			name, value, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return nil, usagef("--webhook-header %q: want \"Name: value\"", sanitize.String(h))
			}
			hdrs[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		p, err := webhook.New(webhook.Options{URL: o.Webhook, Headers: hdrs, UserAgent: "rebindwatch/" + o.Version})
		if err != nil {
			return nil, usagef("--webhook: %v", err)
		}
		x.webhook = p
	}
	if o.Metrics != "" {
		// The engine needs the exporter as a sink before it exists, so
		// the exporter reads the engine's totals through a pointer set later.
		x.metrics = metrics.New(func() detect.Summary {
			if e := x.engine.Load(); e != nil {
				return e.Summary()
			}
			return detect.Summary{}
		})
		serve, err := x.metrics.Listen(o.Metrics)
		if err != nil {
			return nil, usagef("--metrics: %v", err)
		}
		x.serve = serve
		if x.webhook != nil {
			x.metrics.WatchWebhook(func() metrics.DeliveryStats { return metrics.DeliveryStats(x.webhook.Stats()) })
		}
	}
	return x, nil
}

func (x *exports) sinks() []detect.Sink {
	var out []detect.Sink
	if x.metrics != nil {
		out = append(out, x.metrics)
	}
	if x.webhook != nil {
		out = append(out, x.webhook)
	}
	return out
}

// attach gives the metrics the engine's totals, read at scrape time.
func (x *exports) attach(e *detect.Engine) { x.engine.Store(e) }

// start runs the metrics server and the webhook worker; the returned
// function waits for them after ctx ends (the webhook drains its queue).
func (x *exports) start(ctx context.Context) func() error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	run := func(name string, f func(context.Context) error, c context.Context) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(c); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		}()
	}
	if x.serve != nil {
		run("metrics", x.serve, ctx)
	}
	if x.webhook != nil {
		run("webhook", x.webhook.Run, ctx)
	}
	return func() error {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	}
}
