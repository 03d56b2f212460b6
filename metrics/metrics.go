// Package metrics serves what the engine sees as Prometheus metrics
// (--metrics ADDR), for the dashboards and alert rules of the rest of the
// stack.
//
// Labels carry only names from a fixed set (detector, severity, table,
// counter) or from the command line (source). Nothing that came off the wire
// or out of a log — a key fingerprint, a Host, an Origin, a client, a target —
// is ever a label value, so the number of series is bounded by the program,
// not by the traffic, and the metrics leak nothing the JSON lines would not.
//
// Metrics (this block is copied into the README):
//
//	rebindwatch_requests_total                      counter  Requests the engine observed.
//	rebindwatch_alerts_total{detector,severity}     counter  Alerts raised, by detector (the JSON names) and severity (low, medium,
//	                                                         high, critical) when raised; every pair is present from the start at 0.
//	                                                         Repeats inside the de-duplication window only raise the alert's count.
//	rebindwatch_parse_errors_total                  counter  Log lines or messages that did not parse, all sources.
//	rebindwatch_dropped_total                       counter  Requests or packets lost before the engine (kernel drops, caps), all sources.
//	rebindwatch_evictions_total{table}              counter  Entries evicted from a capped table: keys, hosts, origins, alerts, dedupe.
//	rebindwatch_source_requests_total{source}       counter  Requests per source: "pcap", "live" or the log file as named on the command line.
//	rebindwatch_input_events_total{counter}         counter  Source-specific counts, e.g. truncated_packets, streams_evicted, rotations.
//	rebindwatch_source_lag{source}                  gauge    Records waiting behind what a source read: a Kafka partition's lag ("kafka:TOPIC/P").
//	rebindwatch_event_time_seconds                  gauge    Event time (Unix seconds) of the newest request seen; 0 before the first.
//	rebindwatch_host_check_enabled                  gauge    1 when the unexpected_host check runs, 0 when no allowed hosts are configured.
//	rebindwatch_webhook_sent_total                  counter  Alerts the webhook receiver accepted (with --webhook).
//	rebindwatch_webhook_failed_total                counter  Alerts given up (retries exhausted, a 4xx answer, or the exit deadline).
//	rebindwatch_webhook_dropped_total               counter  Alerts dropped because the webhook queue was full.
//	rebindwatch_webhook_retries_total               counter  Webhook delivery attempts that were retried.
//	rebindwatch_webhook_queue_length                gauge    Alerts waiting for webhook delivery.
//	go_*, process_*                                          The Go runtime and process collectors.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// Metric names, shared by the code and the tests.
const (
	nameRequests       = "rebindwatch_requests_total"
	nameAlerts         = "rebindwatch_alerts_total"
	nameParseErrors    = "rebindwatch_parse_errors_total"
	nameDropped        = "rebindwatch_dropped_total"
	nameEvictions      = "rebindwatch_evictions_total"
	nameSourceRequests = "rebindwatch_source_requests_total"
	nameSourceLag      = "rebindwatch_source_lag"
	nameInputEvents    = "rebindwatch_input_events_total"
	nameEventTime      = "rebindwatch_event_time_seconds"
	nameHostCheck      = "rebindwatch_host_check_enabled"
)

// severities lists every severity, lowest first, so all alert series exist
// from the start: rate() and increase() need the zero sample.
var severities = [...]detect.Severity{detect.SeverityLow, detect.SeverityMedium, detect.SeverityHigh, detect.SeverityCritical}

// Exporter counts what the engine emits and serves it for Prometheus. It is
// a detect.Sink: pass it to detect.NewEngine. Request and Alert run on the
// engine goroutine and only touch atomics; everything the engine already
// keeps is read through the summary function when Prometheus scrapes.
type Exporter struct {
	reg *prometheus.Registry

	requests  prometheus.Counter
	eventTime atomic.Int64 // Unix nanoseconds of the newest request; 0 = none yet

	alerts *prometheus.CounterVec
	// known holds the pre-made series of the fixed detector × severity set,
	// so Alert does no label lookup for them.
	known [][len(severities)]prometheus.Counter
}

// New makes an exporter with its own registry (never the global default
// one, so nothing else in the process can add series to it). summary is
// called at scrape time for what the engine keeps (parse errors, drops,
// evictions per table, requests per source): pass engine.Summary. A nil
// summary leaves those metrics out.
func New(summary func() detect.Summary) *Exporter {
	x := &Exporter{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: nameRequests,
			Help: "Requests the engine observed.",
		}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: nameAlerts,
			Help: "Alerts raised, by detector and by severity when raised.",
		}, []string{"detector", "severity"}),
	}
	x.known = make([][len(severities)]prometheus.Counter, len(detect.Detectors))
	for i, d := range detect.Detectors {
		for j, s := range severities {
			x.known[i][j] = x.alerts.WithLabelValues(d, s.String())
		}
	}
	x.reg.MustRegister(
		x.requests,
		x.alerts,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: nameEventTime,
			Help: "Event time (Unix seconds) of the newest request seen; 0 before the first.",
		}, func() float64 { return float64(x.eventTime.Load()) / 1e9 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if summary != nil {
		x.reg.MustRegister(&summaryCollector{summary: summary})
	}
	return x
}

// Request counts r and advances the event-time gauge. It must not allocate:
// it runs once per request on the engine goroutine.
func (x *Exporter) Request(r *detect.Request) error {
	x.requests.Inc()
	t := r.Time.UnixNano()
	for {
		cur := x.eventTime.Load()
		if t <= cur || x.eventTime.CompareAndSwap(cur, t) {
			return nil
		}
	}
}

// Alert counts a by detector and severity.
func (x *Exporter) Alert(a *detect.Alert) error {
	// severities[s] is Severity(s): the index is the severity itself.
	if s := int(a.Severity); s >= 0 && s < len(severities) {
		for i, d := range detect.Detectors {
			if d == a.Detector {
				x.known[i][s].Inc()
				return nil
			}
		}
	}
	// A detector added later than this package, or an out-of-range
	// severity: still a name from the program, never from the wire.
	x.alerts.WithLabelValues(a.Detector, a.Severity.String()).Inc()
	return nil
}

// DeliveryStats are a delivering sink's counters (the webhook's).
type DeliveryStats struct {
	Sent    uint64 // accepted by the receiver
	Failed  uint64 // given up
	Dropped uint64 // not accepted: the queue was full
	Retries uint64 // attempts that were retried
	Queued  int    // waiting
}

// WatchWebhook adds the webhook delivery counters (rebindwatch_webhook_*),
// read from stats at scrape time. Call it once, before serving.
func (x *Exporter) WatchWebhook(stats func() DeliveryStats) {
	x.reg.MustRegister(&webhookCollector{stats: stats})
}

// Registry returns the exporter's registry, for a caller that has more to
// expose. It is not the global default registry.
func (x *Exporter) Registry() *prometheus.Registry { return x.reg }

// Handler returns the /metrics handler on the exporter's registry.
func (x *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{
		// A failing collector must not hide the others from the scrape.
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are rare; more than a few at once is a misbehaving
		// client, and each one takes the engine lock for a summary.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Serve listens on addr (e.g. "127.0.0.1:9464" or ":9464") and serves
// /metrics until ctx ends. A listen error is returned at once.
func (x *Exporter) Serve(ctx context.Context, addr string) error {
	serve, err := x.Listen(addr)
	if err != nil {
		return err
	}
	return serve(ctx)
}

// Listen binds addr and returns a function that serves /metrics until ctx
// ends, so main can report a bad or busy address (exit 2) before it starts
// anything else. The serve function returns nil when ctx ends.
func (x *Exporter) Listen(addr string) (serve func(ctx context.Context) error, err error) {
	serve, _, err = x.ListenAddr(addr)
	return serve, err
}

// ListenAddr is Listen that also returns the address bound, for ":0" (tests)
// and for telling the user where the metrics are.
func (x *Exporter) ListenAddr(addr string) (serve func(ctx context.Context) error, bound net.Addr, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, &listenError{addr: addr, err: err}
	}
	return x.serveOn(ln), ln.Addr(), nil
}

// listenError names the address that could not be bound. Its text is
// sanitised: the address came from the command line and net's errors repeat
// it verbatim.
type listenError struct {
	addr string
	err  error
}

func (e *listenError) Error() string {
	inner := e.err
	// net.OpError's "listen tcp <addr>:" would repeat the address.
	var op *net.OpError
	if errors.As(inner, &op) && op.Err != nil {
		inner = op.Err
	}
	return sanitize.String(fmt.Sprintf("metrics address %q: %v", e.addr, inner))
}

func (e *listenError) Unwrap() error { return e.err }

func (x *Exporter) serveOn(ln net.Listener) func(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", x.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("rebindwatch: metrics are at /metrics\n"))
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	return func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			return fmt.Errorf("serving metrics: %w", err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving metrics: %w", err)
		}
		return nil
	}
}

// summaryCollector turns the engine's summary into metrics at scrape time:
// one summary (one engine lock) per scrape.
type summaryCollector struct {
	summary func() detect.Summary
}

var (
	descParseErrors = prometheus.NewDesc(nameParseErrors,
		"Log lines or messages that did not parse, all sources.", nil, nil)
	descDropped = prometheus.NewDesc(nameDropped,
		"Requests or packets lost before the engine (kernel drops, caps), all sources.", nil, nil)
	descEvictions = prometheus.NewDesc(nameEvictions,
		"Entries evicted from a capped table (keys, hosts, origins, alerts, dedupe).", []string{"table"}, nil)
	descSourceRequests = prometheus.NewDesc(nameSourceRequests,
		`Requests per source: "pcap", "live" or the log file as named on the command line.`, []string{"source"}, nil)
	descSourceLag = prometheus.NewDesc(nameSourceLag,
		`Records waiting behind what a source read: a Kafka partition's lag ("kafka:TOPIC/P").`, []string{"source"}, nil)
	descInputEvents = prometheus.NewDesc(nameInputEvents,
		"Source-specific counts (truncated_packets, streams_evicted, ...), all sources.", []string{"counter"}, nil)
	descHostCheck = prometheus.NewDesc(nameHostCheck,
		"1 when the unexpected_host check runs, 0 when no allowed hosts are configured.", nil, nil)
)

func (c *summaryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descParseErrors, descDropped, descEvictions, descSourceRequests, descSourceLag, descInputEvents, descHostCheck} {
		ch <- d
	}
}

// nameLabel is what a table or counter name may look like to become a label
// value: they are constants in our sources, and this keeps it so.
var nameLabel = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (c *summaryCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.summary()
	ch <- prometheus.MustNewConstMetric(descParseErrors, prometheus.CounterValue, float64(s.ParseErrors))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped))
	for table, n := range s.Evicted {
		if nameLabel.MatchString(table) {
			ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(n), table)
		}
	}
	for name, n := range s.Counters {
		if nameLabel.MatchString(name) {
			ch <- prometheus.MustNewConstMetric(descInputEvents, prometheus.CounterValue, float64(n), name)
		}
	}
	// Source names come from the command line; Sanitize makes any byte
	// string valid, printable UTF-8, as label values must be. Two sources
	// that sanitise alike are summed rather than made a duplicate series.
	perSource := make(map[string]uint64, len(s.Sources))
	lag := map[string]int64{}
	order := make([]string, 0, len(s.Sources))
	for _, src := range s.Sources {
		name := sanitize.String(src.Name)
		if _, ok := perSource[name]; !ok {
			order = append(order, name)
		}
		perSource[name] += src.Requests
		if src.HasLag {
			lag[name] += src.Lag
		}
	}
	for _, name := range order {
		ch <- prometheus.MustNewConstMetric(descSourceRequests, prometheus.CounterValue, float64(perSource[name]), name)
		if n, ok := lag[name]; ok {
			ch <- prometheus.MustNewConstMetric(descSourceLag, prometheus.GaugeValue, float64(n), name)
		}
	}
	on := 1.0
	if s.HostCheck != "" {
		on = 0
	}
	ch <- prometheus.MustNewConstMetric(descHostCheck, prometheus.GaugeValue, on)
}

// webhookCollector reads the webhook poster's counters at scrape time.
type webhookCollector struct {
	stats func() DeliveryStats
}

var (
	descWebhookSent = prometheus.NewDesc("rebindwatch_webhook_sent_total",
		"Alerts the webhook receiver accepted.", nil, nil)
	descWebhookFailed = prometheus.NewDesc("rebindwatch_webhook_failed_total",
		"Alerts given up: retries exhausted, a 4xx answer, or the exit deadline.", nil, nil)
	descWebhookDropped = prometheus.NewDesc("rebindwatch_webhook_dropped_total",
		"Alerts dropped because the webhook queue was full.", nil, nil)
	descWebhookRetries = prometheus.NewDesc("rebindwatch_webhook_retries_total",
		"Webhook delivery attempts that were retried.", nil, nil)
	descWebhookQueue = prometheus.NewDesc("rebindwatch_webhook_queue_length",
		"Alerts waiting for webhook delivery.", nil, nil)
)

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWebhookSent, descWebhookFailed, descWebhookDropped, descWebhookRetries, descWebhookQueue} {
		ch <- d
	}
}

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descWebhookSent, prometheus.CounterValue, float64(s.Sent))
	ch <- prometheus.MustNewConstMetric(descWebhookFailed, prometheus.CounterValue, float64(s.Failed))
	ch <- prometheus.MustNewConstMetric(descWebhookDropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(descWebhookRetries, prometheus.CounterValue, float64(s.Retries))
	ch <- prometheus.MustNewConstMetric(descWebhookQueue, prometheus.GaugeValue, float64(s.Queued))
}
