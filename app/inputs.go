package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/cmdsrc"
	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/kafka"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/source"
	"github.com/rebindwatch/rebindwatch/state"
	"github.com/rebindwatch/rebindwatch/syslogsrc"
)

// reorderWindow is how far in event time requests from several sources may
// arrive out of order and still be observed in time order.
const reorderWindow = 2 * time.Second

// setup is everything Run builds before anything starts.
type setup struct {
	cfg     config.Config
	dcfg    detect.Config
	keys    *keys.Extractor // the configured key rules, for messages; each source gets a clone
	sources []input
	pacer   *source.Pacer
	live    bool // a source follows or listens: the run ends on a signal
	merges  bool // a source delivers several sources (syslog senders, a journal's units, a topic's partitions): reorder
	kafka   bool // a Kafka topic is a source
	// flushers are the publishers a Kafka source's commits wait for, set
	// when the sinks are built (after the sources).
	flushers []kafka.Flusher
	cleanup  []func()
	store    *state.Store  // --state
	output   *outputCursor // --state: the output's identity and length, when it is a file
	// endedClean: the engine read every batch and the summary was written
	// (no sink failed, the drain was not cut short).
	endedClean bool
}

// close removes what the setup made (the demo's temporary capture).
func (s *setup) close() {
	for _, f := range s.cleanup {
		f()
	}
}

// names lists the sources, for messages.
func (s *setup) names() []string {
	out := make([]string, 0, len(s.sources))
	for _, src := range s.sources {
		out = append(out, src.name)
	}
	return out
}

// prepare loads the config, applies the flags and builds the sources.
func prepare(o Options, stderr io.Writer) (*setup, error) {
	s := &setup{}
	if err := checkSources(o); err != nil {
		return s, err
	}
	if err := checkReport(o); err != nil {
		return s, err
	}
	var err error
	if o.Demo && o.Config == "" {
		s.cfg, err = config.Parse("demo.toml (embedded)", demoConfig())
	} else {
		s.cfg, err = config.Load(config.Find(o.Config))
	}
	if err != nil {
		return s, UsageError{err}
	}
	if o.NoTUI || o.Suggest { // the dashboard says it in its header; stderr would be under the screen
		sayConfig(stderr, s.cfg.Path)
	}
	s.cfg.Hosts.Allowed = append(s.cfg.Hosts.Allowed, o.AllowHosts...)
	s.cfg.Origins.Allowed = append(s.cfg.Origins.Allowed, o.AllowOrigins...)
	if s.dcfg, err = s.cfg.Detect(); err != nil {
		return s, usagef("%v (from the config or --allow-host/--allow-origin)", err)
	}
	if o.LogFormat != "" {
		if _, err := logsrc.Compile(o.LogFormat); err != nil {
			return s, usagef("--log-format: %v", err)
		}
		if len(o.Logs) == 0 && o.ServerConfig == "" && len(o.Listen) == 0 && o.KafkaIn == "" {
			return s, usagef("--log-format goes with log files, --listen and --kafka-in; -r reads captures, whose format is in the file")
		}
		s.cfg.Log.Format = o.LogFormat
	}
	s.keys = keys.NewExtractor(s.cfg.KeyConfig())

	speed := o.Speed
	if !o.SpeedSet && o.Demo {
		speed = 1
	}
	s.pacer = source.NewPacer(speed)
	capOpts := capture.Options{
		Ports:           s.cfg.Ports(),
		AnyPort:         s.cfg.Capture.AnyPort,
		Pacer:           s.pacer,
		MaxStreams:      s.cfg.Capture.MaxStreams,
		MaxStreamBuffer: s.cfg.Capture.MaxStreamBuffer,
	}
	if o.Demo {
		path, remove, err := demoCapture()
		s.cleanup = append(s.cleanup, remove)
		if err != nil {
			return s, err
		}
		s.sources = append(s.sources, captureSource("demo", path, capOpts, s.keys.Clone()))
	}
	if o.Interface != "" {
		live := capOpts
		live.Keys, live.Pacer, live.Filter = s.keys.Clone(), nil, o.Filter
		iface := o.Interface
		s.live = true
		s.sources = append(s.sources, input{name: "live", run: func(ctx context.Context, out chan<- detect.Batch) error {
			return capture.Live(ctx, iface, live, out)
		}})
	}
	if o.Read != "" {
		if o.Read != "-" {
			fi, err := os.Stat(o.Read)
			if err != nil {
				return s, usagef("-r %s: %v", o.Read, unwrapPath(err))
			}
			if fi.IsDir() {
				return s, usagef("-r %s: is a directory, not a capture", o.Read)
			}
		}
		s.sources = append(s.sources, captureSource(o.Read, o.Read, capOpts, s.keys.Clone()))
	}
	if o.State != "" {
		if len(o.Logs) == 0 && o.ServerConfig == "" && len(o.Listen) == 0 {
			return s, usagef("--state keeps the position of log files; this run reads none")
		}
		if s.store, err = state.Open(o.State); err != nil {
			return s, usagef("--state: %v", err)
		}
		s.cleanup = append(s.cleanup, func() { s.store.Close() })
	}
	if err := s.addLogs(o, stderr); err != nil {
		return s, err
	}
	if err := s.addListeners(o); err != nil {
		return s, err
	}
	if err := s.addKafka(o); err != nil {
		return s, err
	}
	if s.store != nil {
		// Where each log starts, on disk before anything is read.
		if err := s.store.Flush(); err != nil {
			return s, usagef("--state: %v", err)
		}
	}
	if o.Suggest && s.live {
		return s, usagef("--suggest-config reads its input to the end: add --no-follow for logs")
	}
	return s, nil
}

// checkSources refuses a command line that names nothing to watch or
// combines flags that do not go together.
func checkSources(o Options) error {
	n := len(o.Logs) + len(o.Listen)
	for _, set := range []bool{o.ServerConfig != "", o.Read != "", o.Interface != "", o.Demo, o.KafkaIn != ""} {
		if set {
			n++
		}
	}
	if o.Filter != "" && o.Interface == "" {
		return usagef("-f goes with -i (live capture)")
	}
	if n == 0 {
		return usagef("nothing to watch: give -r FILE, -i NAME, LOGFILE ..., --listen syslog://HOST:PORT, --server-config FILE, --kafka-in BROKERS, or --demo")
	}
	if (o.ListenCert != "" || o.ListenKey != "") && len(o.Listen) == 0 {
		return usagef("--listen-cert and --listen-key go with --listen syslog+tls://HOST:PORT")
	}
	return checkFleet(o)
}

// addLogs adds a source per log file, and per journal, container or
// remote host (cmdsrc) named among them.
func (s *setup) addLogs(o Options, stderr io.Writer) error {
	var files []string
	for _, arg := range o.Logs {
		if cmdsrc.Is(arg) {
			if err := s.addCommand(o, arg); err != nil {
				return err
			}
			continue
		}
		files = append(files, arg)
	}
	o.Logs = files
	logs, err := logFiles(o, s.cfg, stderr)
	if err != nil {
		return err
	}
	loc, err := location(o)
	if err != nil {
		return err
	}
	stdinUsed := o.Read == "-"
	for _, lf := range logs {
		if _, err := logsrc.Compile(lf.format); err != nil {
			return usagef("--log-format: %v", err)
		}
		if lf.path == "-" {
			if stdinUsed {
				return usagef("stdin (-) can be read only once")
			}
			stdinUsed = true
		}
		lopts := logsrc.Options{
			Format:   lf.format,
			Follow:   !o.NoFollow && lf.path != "-",
			TailOnly: o.TailOnly,
			Keys:     s.keys.Clone(),
			Location: loc,
			Pacer:    s.pacer,
			State:    s.store,
		}
		if lopts.Follow {
			s.live = true
			lopts.Pacer = nil // lines come at their own pace
		}
		path := lf.path
		if s.store != nil {
			if err := logsrc.Pin(s.store, path, lopts.TailOnly); err != nil {
				return usagef("--state: %v", err)
			}
		}
		s.sources = append(s.sources, input{name: path, run: func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, path, lopts, out)
		}})
	}
	return nil
}

// location is --tz's zone (nil: the machine's).
func location(o Options) (*time.Location, error) {
	if o.TZ == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(o.TZ)
	if err != nil {
		return nil, usagef("--tz %s: %v", o.TZ, err)
	}
	return loc, nil
}

// logFormat is the format lines are read in: --log-format or [log].
func logFormat(cfg config.Config) string {
	if cfg.Log.Format == "json" {
		return jsonMapping(cfg.Log.JSON).Spec()
	}
	return cfg.Log.Format
}

// addCommand adds a journal, container or remote source (cmdsrc).
func (s *setup) addCommand(o Options, arg string) error {
	if err := cmdsrc.Check(arg); err != nil {
		return UsageError{err}
	}
	loc, err := location(o)
	if err != nil {
		return err
	}
	copts := cmdsrc.Options{Format: logFormat(s.cfg), Keys: s.keys.Clone(), Location: loc, Follow: !o.NoFollow, TailOnly: o.TailOnly,
		State: s.store}
	s.live = s.live || copts.Follow
	s.merges = true
	s.sources = append(s.sources, input{name: arg, run: func(ctx context.Context, out chan<- detect.Batch) error {
		return cmdsrc.Run(ctx, arg, copts, out)
	}})
	return nil
}

// addListeners binds each --listen address (a usage error when it cannot
// be bound) and adds its listener.
func (s *setup) addListeners(o Options) error {
	loc, err := location(o)
	if err != nil {
		return err
	}
	for _, spec := range o.Listen {
		l, err := syslogsrc.Listen(spec, syslogsrc.Options{Format: logFormat(s.cfg), Keys: s.keys.Clone(), Location: loc,
			CertFile: o.ListenCert, KeyFile: o.ListenKey, State: s.store})
		if err != nil {
			return UsageError{err}
		}
		s.cleanup = append(s.cleanup, l.Close)
		s.live, s.merges = true, true
		s.sources = append(s.sources, input{name: spec, run: l.Run})
	}
	return nil
}

// logFile is one log to read and its format.
type logFile struct{ path, format string }

// logFiles lists the logs to read: the LOGFILE arguments (globs expanded when
// not following; followed globs also pick up files that appear later) and
// those found by --server-config.
func logFiles(o Options, cfg config.Config, stderr io.Writer) ([]logFile, error) {
	format := logFormat(cfg)
	var out []logFile
	if len(o.Logs) > 0 {
		paths := o.Logs
		if o.NoFollow {
			var err error
			if paths, err = logsrc.Expand(o.Logs); err != nil {
				return nil, UsageError{err}
			}
		}
		var seen []os.FileInfo
		for _, p := range paths {
			if dir, ok := strings.CutPrefix(p, logsrc.ZeekPrefix); ok {
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					return nil, usagef("%s: want a directory of Zeek logs (http.log, dns.log, ssl.log)", p)
				}
				out = append(out, logFile{p, format})
				continue
			}
			if p != "-" && !isGlob(p) {
				fi, err := os.Stat(p)
				if err != nil && (o.NoFollow || !errors.Is(err, fs.ErrNotExist)) {
					return nil, usagef("%s: %v", p, unwrapPath(err))
				}
				if err == nil && slices.ContainsFunc(seen, func(s os.FileInfo) bool { return os.SameFile(s, fi) }) {
					continue // the same file again, by another name or a symlink: read it once
				}
				if err == nil {
					seen = append(seen, fi)
				}
			}
			out = append(out, logFile{p, format})
		}
	}
	if o.ServerConfig != "" {
		found, err := logsrc.ServerConfig(o.ServerConfig)
		if err != nil {
			return nil, usagef("--server-config: %v", err)
		}
		for _, lf := range found {
			if lf.Skip != "" {
				fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(lf.Where+": "+lf.Path+": skipped ("+lf.Skip+")"))
				continue
			}
			out = append(out, logFile{lf.Path, lf.Format})
		}
		if len(out) == 0 {
			return nil, usagef("--server-config %s: no access log to read", o.ServerConfig)
		}
	}
	return out, nil
}

// jsonMapping is the logsrc mapping for [log.json].
func jsonMapping(j config.LogJSON) logsrc.JSONMapping {
	return logsrc.JSONMapping{Host: j.Host, Origin: j.Origin, Referer: j.Referer, UserAgent: j.UserAgent, Client: j.Client,
		Time: j.Time, Method: j.Method, Target: j.Target, Proto: j.Proto, Status: j.Status, Key: j.Key, Request: j.Request, Headers: j.Headers}
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func captureSource(name, path string, opts capture.Options, keys *keys.Extractor) input {
	opts.Keys = keys
	return input{name: name, run: func(ctx context.Context, out chan<- detect.Batch) error {
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

// sayConfig tells which config the run loaded: a run in a folder with a
// rebindwatch.toml in it may not be the run its user thinks.
func sayConfig(w io.Writer, path string) {
	if path != "" {
		fmt.Fprintf(w, "rebindwatch: config: %s\n", sanitize.String(path))
		return
	}
	fmt.Fprintln(w, "rebindwatch: config: none (the defaults; looked for ./rebindwatch.toml and $XDG_CONFIG_HOME/rebindwatch/config.toml)")
}
