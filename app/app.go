// Package app is rebindwatch's composition root: it builds the sources, the
// engine and the sinks from the command line's Options, runs them, and
// stops them by the source rule (drain, flush, close) when the input ends,
// the dashboard quits or a signal arrives. main keeps flags and exit codes.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/jsonl"
	"github.com/rebindwatch/rebindwatch/kafka"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// Options is what the command line asked for.
type Options struct {
	Read         string   // -r: a capture file, "-" = stdin
	Interface    string   // -i: live capture
	Filter       string   // -f: a libpcap filter
	Logs         []string // LOGFILE ...: logs to follow (globs, "-" = stdin; journal:, journal-file:, docker:, podman:, ssh://)
	Listen       []string // --listen: syslog://HOST:PORT, syslog+tls://HOST:PORT, ...
	ListenCert   string   // --listen-cert: syslog+tls's certificate
	ListenKey    string   // --listen-key: its private key
	Demo         bool     // --demo: the embedded demo capture
	Config       string   // -c
	AllowHosts   []string // --allow-host
	AllowOrigins []string // --allow-origin
	LogFormat    string
	ServerConfig string
	NoFollow     bool
	TailOnly     bool
	State        string // --state: the checkpoint file
	TZ           string
	Speed        float64
	SpeedSet     bool // --speed was given; its default depends on the source
	NoTUI        bool
	Output       string // -o
	Emit         string // --emit
	Suggest      bool   // --suggest-config
	Metrics      string
	Webhook      string
	WebhookHdrs  []string
	Report       string // --report: the incident report to write at the end of the run (and on R)
	Version      string // for the webhook's User-Agent, the report and OCSF's metadata.product
	NoMouse      bool   // --no-mouse: the dashboard leaves the mouse to the terminal
	EmitSet      bool   // --emit was given (a parse stage writes only the summary otherwise)

	KafkaIn      string // --kafka-in: brokers to consume from
	Topic        string // --topic
	Group        string // --group (default "rebindwatch")
	KafkaOut     string // --kafka-out: publish the requests to this topic
	KafkaBrokers string // --kafka-brokers: where --kafka-out and --alerts-topic publish without --kafka-in
	AlertsTopic  string // --alerts-topic
	// KafkaSecurity is --kafka-tls, --kafka-ca, --kafka-cert, --kafka-key,
	// --kafka-sasl and --kafka-user; the password comes from
	// KafkaPasswordFile or the environment (kafkaPasswordEnv), never argv.
	KafkaSecurity     kafka.Security
	KafkaPasswordFile string
	OutputFormat      string // --output-format: json, ecs, ocsf
	Syslog            string // --syslog udp://HOST:PORT | tcp://HOST:PORT
}

// UsageError is a mistake in flags, config or input files (exit status 2).
type UsageError struct{ Err error }

func (u UsageError) Error() string { return u.Err.Error() }
func (u UsageError) Unwrap() error { return u.Err }

func usagef(format string, a ...any) error { return UsageError{fmt.Errorf(format, a...)} }

// Stopping. A stop (ctx done, SIGINT, SIGTERM) lets every source drain what
// it already has; drainDeadline or a second signal cuts that short.
const drainDeadline = 5 * time.Second

// Run watches what o names until the input ends, the dashboard quits, or
// the run is stopped: ctx ending (or SIGINT/SIGTERM) asks for a stop, which
// loses nothing that was already read. Its errors may quote input: the
// caller must sanitise them before they reach a terminal.
//
// When the dashboard's user takes the log format auto-detection proposed
// (L), the run starts over with it: what was read without those columns
// cannot be corrected in place, so the log is read again from its start.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	for {
		err := runOnce(ctx, o, stdout, stderr)
		var again *restartError
		if !errors.As(err, &again) {
			return err
		}
		o.LogFormat = again.format
		fmt.Fprintf(stderr, "rebindwatch: reading %s again with --log-format %s\n", sanitize.String(again.source),
			sanitize.String(shellQuote(again.format)))
	}
}

// restartError ends a run whose dashboard asked to read its log again
// with another format.
type restartError struct{ source, format string }

func (r *restartError) Error() string { return "restart with --log-format " + r.format }

// shellQuote quotes s for a shell command line, as the user would type it.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runOnce is one run of Run.
func runOnce(ctx context.Context, o Options, stdout, stderr io.Writer) (err error) {
	s, err := prepare(o, stderr)
	defer s.close()
	defer func() { err = s.hide(err) }()
	if err != nil {
		return err
	}
	out, closeOut, err := openOutput(o, stdout)
	if err != nil {
		return err
	}
	defer closeOut()
	if s.store != nil {
		out = s.guardOutput(out, stderr)
		stopFlushing := s.flushState(stderr)
		defer func() {
			stopFlushing()
			if cerr := s.closeState(); cerr != nil && err == nil {
				err = cerr
			}
		}()
	}
	tui := !o.NoTUI && !o.Suggest
	sk, err := newSinks(o, s, out, stderr, tui)
	if err != nil {
		return err
	}
	engine, err := detect.NewEngine(s.dcfg, sk.list...)
	if err != nil {
		return UsageError{err}
	}
	sk.exports.attach(engine)
	if s.kafka {
		// The processes of a fleet number their incidents each on its
		// own: the IDs say which process.
		engine.SetIncidentPrefix(fmt.Sprintf("inc-%s-%d-", sanitize.String(hostname()), os.Getpid()))
	}
	if len(s.sources) > 1 || s.merges {
		// Several sources (or a topic's partitions, a syslog listener's
		// senders) deliver slightly out of step; merge them in time order.
		engine.SetReorder(reorderWindow)
	}

	forced := &inForce{cfg: s.cfg}
	rep := newReporter(engine, o, s, forced)

	st := newStopper(ctx)
	defer st.close()
	var term terminal
	if tui {
		term = openTerminal()
		go stopWithTerminal(st.stop, st, term)
	}
	go reloadOnHUP(st.stop, st, engine, o, s.dcfg, term, forced)
	batches := make(chan detect.Batch, 64)
	srcs := startSources(st, s.sources, batches)
	exportsDone := sk.exports.start(st.stop)
	fleetDone := sk.fleet.start(st.stop)

	var runErr error
	var restart *restartError
	if tui {
		restart, runErr = runDashboard(st, engine, batches, srcs, s, sk.suggest, o, rep)
	} else {
		runErr = runHeadless(st, engine, batches, srcs)
	}
	// The output's reader went away: the summary goes to stderr, and the
	// run ends cleanly when that was stdout (| head), with an error when
	// it was -o (whatever consumed the alerts is gone). Or the output
	// stopped reading and the drain was cut short: the engine may be stuck
	// in a write, so the summary goes to stderr too.
	summaryOut := sk.json
	if errors.Is(runErr, syscall.EPIPE) || srcs.cutShort() && sk.json != nil {
		summaryOut = jsonl.New(stderr, jsonl.Emit{Summary: true})
		if errors.Is(runErr, syscall.EPIPE) && o.Output == "" {
			runErr = nil
		}
	}
	st.stopNow(nil)
	errs := srcs.errors()
	if err := exportsDone(); err != nil {
		errs = append(errs, err)
	}
	if err := fleetDone(); err != nil {
		errs = append(errs, err)
	}
	if restart != nil && runErr == nil {
		return restart // no summary: the run starts over
	}
	sum := engine.Summary()
	sum.Config = s.cfg.Path
	sk.fleet.count(sum.Counters)
	// An input rejected before it gave anything (-r /dev/zero, -i nosuch)
	// is a usage error: exit 2 with the reason, and no summary of a run
	// that did not happen.
	var ue UsageError
	rejected := errors.As(errors.Join(errs...), &ue) && sum.Requests == 0 && runErr == nil
	if summaryOut != nil && !rejected {
		if err := summaryOut.Summary(sum); err != nil && runErr == nil {
			runErr = err
		}
	}
	if sk.json != nil && summaryOut == sk.json {
		// A queued output writes what it holds (at most the drain
		// deadline). Not when the engine may be stuck in a write.
		if err := sk.json.Close(drainDeadline); err != nil && runErr == nil {
			runErr = err
		}
	}
	s.endedClean = runErr == nil && !srcs.cutShort() && summaryOut == sk.json
	if o.Report != "" && !rejected {
		if err := rep.final(srcs.cutShort(), stderr); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Suggest && runErr == nil {
		if _, err := io.WriteString(out, sk.suggest.Config(strings.Join(s.names(), ", "))); err != nil {
			runErr = fmt.Errorf("writing the suggested config: %w", err)
		}
	}
	if srcs.cutShort() {
		fmt.Fprintln(stderr, "rebindwatch: stopped before every source had drained (second signal or "+drainDeadline.String()+" deadline): the summary misses what they still held")
	}
	if cause := st.failure(); cause != nil && runErr == nil {
		return cause
	}
	if runErr != nil {
		return runErr
	}
	return errors.Join(errs...)
}

// runHeadless runs the engine until the sources have all returned (a stop
// makes them drain first), or until the drain is cut short.
func runHeadless(st *stopper, e *detect.Engine, in <-chan detect.Batch, srcs *sourceGroup) error {
	done := make(chan error, 1)
	go func() { done <- e.Run(in) }()
	select {
	case err := <-done:
		if err != nil {
			st.stopNow(stopCause(err))
			go drain(in)
		}
		return err
	case <-st.hard:
		srcs.markCutShort()
		go drain(in)
		return nil
	}
}

// stopCause is why a failing engine stops the run: nothing, when only its
// output's reader went away, which stops it like a signal (Run decides the
// exit status).
func stopCause(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// drain reads in until it is closed, so sources that still send after the
// engine stopped reading do not block for ever.
func drain(in <-chan detect.Batch) {
	for range in {
	}
}

// openOutput opens -o (appending) or returns stdout.
func openOutput(o Options, stdout io.Writer) (io.Writer, func(), error) {
	if o.Output == "" {
		return stdout, func() {}, nil
	}
	f, err := os.OpenFile(o.Output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, usagef("-o %s: %v", o.Output, unwrapPath(err))
	}
	return f, func() { f.Close() }, nil
}

// emitted parses --emit.
func emitted(o Options) (jsonl.Emit, error) {
	e, err := jsonl.ParseEmit(o.Emit)
	if err != nil {
		return e, UsageError{err}
	}
	return e, nil
}

// hide returns err with key material in its text hidden by the configured
// key rules (the defaults when the config could not be read): errors may
// quote input, such as the first line of a log no format reads.
func (s *setup) hide(err error) error {
	if err == nil {
		return nil
	}
	k := s.keys
	if k == nil {
		k = keys.NewExtractor(keys.DefaultConfig())
	}
	return &hiddenError{msg: k.RedactText(err.Error()), err: err}
}

// hiddenError is an error whose text had its key material hidden; errors.Is
// and errors.As still see the original.
type hiddenError struct {
	msg string
	err error
}

func (e *hiddenError) Error() string { return e.msg }
func (e *hiddenError) Unwrap() error { return e.err }
