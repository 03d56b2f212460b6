package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/jsonl"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/suggest"
)

// reorderWindow is how far in event time requests from several sources may
// arrive out of order and still be observed in time order.
const reorderWindow = 2 * time.Second

// source is one input started by the pipeline.
type source struct {
	name string
	run  func(ctx context.Context, out chan<- detect.Batch) error
}

// setup is everything runWatch builds before anything starts.
type setup struct {
	cfg     config.Config
	dcfg    detect.Config
	sources []source
	pacer   *source.Pacer
	live    bool // a source follows or listens: the run ends on a signal
	cleanup []func()
}

func runWatch(o options, stdin io.Reader, stdout, stderr io.Writer) error {
	s, err := prepare(o)
	defer func() {
		for _, f := range s.cleanup {
			f()
		}
	}()
	if err != nil {
		return err
	}
	if o.suggest && s.live {
		return usagef("--suggest-config reads its input to the end: add --no-follow for logs")
	}
	emit, err := jsonl.ParseEmit(o.emit)
	if err != nil {
		return usageError{err}
	}
	exp, err := newExports(o)
	if err != nil {
		return err
	}
	out := stdout
	if o.output != "" {
		f, err := os.OpenFile(o.output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return usagef("-o %s: %v", o.output, unwrapPath(err))
		}
		defer f.Close()
		out = f
	}
	tui := !o.noTUI && !o.suggest
	if tui && !uiAvailable {
		fmt.Fprintln(stderr, "rebindwatch: the dashboard is not in this build yet; writing JSON lines as with --no-tui")
		tui = false
	}
	sinks := []detect.Sink{}
	var w *jsonl.Writer
	var sug *suggest.Collector
	if o.suggest {
		// --suggest-config prints a config instead of JSON lines.
		sug = suggest.New(suggest.Options{BurstWindow: s.dcfg.BurstWindow, SpreadWindow: s.dcfg.SpreadWindow,
			MaxKeys: s.dcfg.Limits.Keys, MaxValues: s.dcfg.Limits.Values})
		sinks = append(sinks, sug)
	} else if !tui || o.output != "" {
		w = jsonl.New(out, emit)
		sinks = append(sinks, w)
	}
	if !tui {
		sinks = append(sinks, &stderrReporter{w: stderr, max: 5})
		if len(s.dcfg.AllowedHosts) == 0 {
			fmt.Fprintln(stderr, "rebindwatch: no allowed hosts configured, so the Host check is off (set [hosts] allowed or --allow-host)")
		}
	}
	sinks = append(sinks, exp.sinks()...)
	engine, err := detect.NewEngine(s.dcfg, sinks...)
	if err != nil {
		return usageError{err}
	}
	exp.attach(engine)
	if len(s.sources) > 1 {
		// Several files deliver slightly out of step; merge them in time order.
		engine.SetReorder(reorderWindow)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	batches := make(chan detect.Batch, 64)
	srcErrs := startSources(ctx, cancel, s.sources, batches)
	go reloadOnHUP(ctx, engine, o)
	exportsDone := exp.start(ctx)

	var runErr error
	if tui {
		runErr = runDashboard(ctx, cancel, engine, batches, s, o)
	} else {
		runErr = engine.Run(ctx, batches)
		if errors.Is(runErr, context.Canceled) {
			runErr = nil
		}
	}
	cancel(nil)
	errs := srcErrs()
	if err := exportsDone(); err != nil {
		errs = append(errs, err)
	}
	if w != nil {
		if err := w.Summary(engine.Summary()); err != nil && runErr == nil {
			runErr = err
		}
	}
	if sug != nil && runErr == nil {
		if _, err := io.WriteString(out, sug.Config(strings.Join(s.names(), ", "))); err != nil {
			runErr = fmt.Errorf("writing the suggested config: %w", err)
		}
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if runErr != nil {
		return runErr
	}
	return errors.Join(errs...)
}

// names lists the sources, for messages.
func (s *setup) names() []string {
	out := make([]string, 0, len(s.sources))
	for _, src := range s.sources {
		out = append(out, src.name)
	}
	return out
}

// reloadOnHUP reloads the config on SIGHUP. A bad config is reported and the
// old one kept.
func reloadOnHUP(ctx context.Context, e *detect.Engine, o options) {
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

func reload(e *detect.Engine, o options) error {
	if o.demo && o.config == "" {
		return fmt.Errorf("the demo's config is embedded; give -c FILE to reload one")
	}
	cfg, err := config.Load(config.Find(o.config))
	if err != nil {
		return err
	}
	cfg.Hosts.Allowed = append(cfg.Hosts.Allowed, o.allowHosts...)
	cfg.Origins.Allowed = append(cfg.Origins.Allowed, o.allowOrigins...)
	dcfg, err := cfg.Detect()
	if err != nil {
		return err
	}
	return e.Reload(dcfg)
}

// startSources runs each source in its own goroutine and closes out when all
// have finished. A panic in a source ends the run with the error. The returned
// function waits for the sources and gives their errors.
func startSources(ctx context.Context, cancel context.CancelCauseFunc, srcs []source, out chan<- detect.Batch) func() []error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					cancel(fmt.Errorf("internal error in source %s: %v\n%s", src.name, p, debug.Stack()))
				}
			}()
			if err := src.run(ctx, out); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, classify(err))
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(out)
		close(done)
	}()
	return func() []error {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return errs
	}
}

// classify makes bad input files usage errors (exit 2).
func classify(err error) error {
	if errors.Is(err, capture.ErrNotCapture) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, logsrc.ErrUnknownFormat) ||
		errors.Is(err, logsrc.ErrBinaryFile) || errors.Is(err, logsrc.ErrNoMatch) ||
		errors.Is(err, capture.ErrPrivilege) || errors.Is(err, capture.ErrNoInterface) ||
		errors.Is(err, capture.ErrBadFilter) || errors.Is(err, capture.ErrFilterNeedsPcap) {
		return usageError{err}
	}
	return err
}

// prepare loads the config, applies the flags and builds the sources.
func prepare(o options) (*setup, error) {
	s := &setup{}
	nsrc := len(o.logs)
	if o.serverConfig != "" {
		nsrc++
	}
	if o.read != "" {
		nsrc++
	}
	if o.iface != "" {
		nsrc++
	}
	if o.filter != "" && o.iface == "" {
		return s, usagef("-f goes with -i (live capture)")
	}
	if o.demo {
		nsrc++
	}
	if nsrc == 0 {
		return s, usagef("nothing to watch: give -r FILE, -i NAME, LOGFILE ..., --server-config FILE, or --demo")
	}
	cfgPath := config.Find(o.config)
	var err error
	if o.demo && o.config == "" {
		s.cfg, err = config.Parse("demo.toml (embedded)", demoConfig())
	} else {
		s.cfg, err = config.Load(cfgPath)
	}
	if err != nil {
		return s, usageError{err}
	}
	s.cfg.Hosts.Allowed = append(s.cfg.Hosts.Allowed, o.allowHosts...)
	s.cfg.Origins.Allowed = append(s.cfg.Origins.Allowed, o.allowOrigins...)
	if s.dcfg, err = s.cfg.Detect(); err != nil {
		return s, usagef("%v (from the config or --allow-host/--allow-origin)", err)
	}
	if o.logFormat != "" {
		s.cfg.Log.Format = o.logFormat
	}

	speed := o.speed
	if !o.speedSet && o.demo {
		speed = 1
	}
	s.pacer = source.NewPacer(speed)
	keys := keys.NewExtractor(s.cfg.KeyConfig())
	capOpts := capture.Options{
		Ports:           s.cfg.Ports(),
		AnyPort:         s.cfg.Capture.AnyPort,
		Pacer:           s.pacer,
		MaxStreams:      s.cfg.Capture.MaxStreams,
		MaxStreamBuffer: s.cfg.Capture.MaxStreamBuffer,
	}
	if o.demo {
		path, remove, err := demoCapture()
		if err != nil {
			return s, err
		}
		s.cleanup = append(s.cleanup, remove)
		if o.config == "" {
			capOpts.Ports = s.cfg.Ports()
		}
		s.sources = append(s.sources, captureSource("demo", path, capOpts, keys.Clone()))
	}
	if o.iface != "" {
		live := capOpts
		live.Keys, live.Pacer, live.Filter = keys.Clone(), nil, o.filter
		iface := o.iface
		s.live = true
		s.sources = append(s.sources, source{name: "live", run: func(ctx context.Context, out chan<- detect.Batch) error {
			return capture.Live(ctx, iface, live, out)
		}})
	}
	if o.read != "" {
		if o.read != "-" {
			if _, err := os.Stat(o.read); err != nil {
				return s, usagef("-r %s: %v", o.read, unwrapPath(err))
			}
		}
		s.sources = append(s.sources, captureSource(o.read, o.read, capOpts, keys.Clone()))
	}
	logs, err := logFiles(o, s.cfg)
	if err != nil {
		return s, err
	}
	var loc *time.Location
	if o.tz != "" {
		if loc, err = time.LoadLocation(o.tz); err != nil {
			return s, usagef("--tz %s: %v", o.tz, err)
		}
	}
	stdinUsed := o.read == "-"
	for _, lf := range logs {
		if _, err := logsrc.Compile(lf.format); err != nil {
			return s, usagef("--log-format: %v", err)
		}
		if lf.path == "-" {
			if stdinUsed {
				return s, usagef("stdin (-) can be read only once")
			}
			stdinUsed = true
		}
		lopts := logsrc.Options{
			Format:   lf.format,
			Follow:   !o.noFollow && lf.path != "-",
			TailOnly: o.tailOnly,
			Keys:     keys.Clone(),
			Location: loc,
		}
		if lopts.Follow {
			s.live = true
		}
		path := lf.path
		s.sources = append(s.sources, source{name: path, run: func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, path, lopts, out)
		}})
	}
	return s, nil
}

// logFile is one log to read and its format.
type logFile struct{ path, format string }

// logFiles lists the logs to read: the LOGFILE arguments (globs expanded when
// not following; followed globs also pick up files that appear later) and
// those found by --server-config.
func logFiles(o options, cfg config.Config) ([]logFile, error) {
	format := cfg.Log.Format
	if format == "json" {
		format = cfg.Log.JSON.Mapping().Spec()
	}
	var out []logFile
	if len(o.logs) > 0 {
		paths := o.logs
		if o.noFollow {
			var err error
			if paths, err = logsrc.Expand(o.logs); err != nil {
				return nil, usageError{err}
			}
		}
		for _, p := range paths {
			if p != "-" && !isGlob(p) {
				if _, err := os.Stat(p); err != nil && (o.noFollow || !errors.Is(err, fs.ErrNotExist)) {
					return nil, usagef("%s: %v", p, unwrapPath(err))
				}
			}
			out = append(out, logFile{p, format})
		}
	}
	if o.serverConfig != "" {
		found, err := logsrc.ServerConfig(o.serverConfig)
		if err != nil {
			return nil, usagef("--server-config: %v", err)
		}
		for _, lf := range found {
			if lf.Skip != "" {
				fmt.Fprintf(os.Stderr, "rebindwatch: %s: %s: skipped (%s)\n", lf.Where, lf.Path, lf.Skip)
				continue
			}
			out = append(out, logFile{lf.Path, lf.Format})
		}
		if len(out) == 0 {
			return nil, usagef("--server-config %s: no access log to read", o.serverConfig)
		}
	}
	return out, nil
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func captureSource(name, path string, opts capture.Options, keys *keys.Extractor) source {
	opts.Keys = keys
	return source{name: name, run: func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, path, opts, out)
	}}
}

// unwrapPath drops the *PathError prefix the caller already printed.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stderrReporter prints the first few unparsed inputs and source notes.
type stderrReporter struct {
	w     io.Writer
	max   int
	shown int
}

func (r *stderrReporter) Request(*detect.Request) error { return nil }
func (r *stderrReporter) Alert(*detect.Alert) error     { return nil }

// Problem prints one unparsed input (already sanitised by the engine).
func (r *stderrReporter) Problem(p detect.Problem) {
	if r.shown >= r.max {
		return
	}
	r.shown++
	fmt.Fprintf(r.w, "rebindwatch: %s: %s\n", p.Where, p.Text)
	if r.shown == r.max {
		fmt.Fprintln(r.w, "rebindwatch: further unparsed input is counted in the summary (parse_errors), not shown")
	}
}

// Note prints a source's status note.
func (r *stderrReporter) Note(source, note string) {
	fmt.Fprintf(r.w, "rebindwatch: %s: %s\n", sanitize.String(source), note)
}
