package app

import (
	"fmt"
	"io"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/jsonl"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/suggest"
)

// outputQueueBytes bounds the lines waiting for a slow -o beside the
// dashboard: some seconds of alerts and requests at full replay speed.
const outputQueueBytes = 16 << 20

// sinks are the engine's outputs for this run.
type sinks struct {
	list    []detect.Sink
	json    *jsonl.Writer      // JSON lines (headless, or -o with the dashboard)
	suggest *suggest.Collector // --suggest-config, and the dashboard's Suggested view
	exports *exports           // --metrics, --webhook
	fleet   *fleetOutputs      // --kafka-out, --alerts-topic, --syslog
}

// newSinks builds the outputs o asks for.
func newSinks(o Options, s *setup, out, stderr io.Writer, tui bool) (*sinks, error) {
	if o.KafkaIn != "" && o.KafkaOut != "" && !o.EmitSet {
		o.Emit = "summary" // a parse stage: the detect stage writes the alerts
	}
	emit, err := emitted(o)
	if err != nil {
		return nil, err
	}
	node := hostname()
	enc, err := encoder(o, node)
	if err != nil {
		return nil, err
	}
	exp, err := newExports(o)
	if err != nil {
		return nil, err
	}
	fleet, err := newFleetOutputs(o, enc, node)
	if err != nil {
		return nil, err
	}
	s.flushers = fleet.flushers()
	sk := &sinks{exports: exp, fleet: fleet}
	if o.Suggest || tui {
		// --suggest-config prints its proposal instead of JSON lines; the
		// dashboard shows it live (the Suggested view).
		sk.suggest = suggest.New(suggest.Options{BurstWindow: s.dcfg.BurstWindow, SpreadWindow: s.dcfg.SpreadWindow,
			StuffingWindow: s.dcfg.StuffingWindow, MaxKeys: s.dcfg.Limits.Keys, MaxValues: s.dcfg.Limits.Values})
		sk.list = append(sk.list, sk.suggest)
	}
	switch {
	case o.Suggest:
	case tui && o.Output != "" && s.store == nil:
		// Beside the dashboard, a slow -o target must not freeze the
		// engine (and so the screen and a live capture's ring): lines it
		// cannot take are dropped and counted. With --state the output
		// stays synchronous, as its exactly-once resume needs.
		sk.json = jsonl.NewQueued(out, emit, enc, outputQueueBytes)
		sk.list = append(sk.list, sk.json)
	case !tui || o.Output != "":
		sk.json = jsonl.NewFormat(out, emit, enc)
		sk.list = append(sk.list, sk.json)
	}
	if !tui {
		sayParseStage(stderr, o)
		sk.list = append(sk.list, &stderrReporter{w: stderr, max: 5})
		if len(s.dcfg.AllowedHosts) == 0 {
			fmt.Fprintln(stderr, "rebindwatch: no allowed hosts configured, so the Host check is off (set [hosts] allowed or --allow-host; --suggest-config proposes them)")
		}
		if len(s.dcfg.AllowedOrigins) == 0 {
			fmt.Fprintln(stderr, "rebindwatch: no allowed origins configured, so the Origin check is off (set [origins] allowed or --allow-origin)")
		}
	}
	sk.list = append(sk.list, exp.sinks()...)
	sk.list = append(sk.list, fleet.sinks()...)
	return sk, nil
}

// stderrReporter prints the first few unparsed inputs and source notes: an
// edge, so it sanitises what it prints.
type stderrReporter struct {
	w     io.Writer
	max   int
	shown int
}

// Problem prints one unparsed input.
func (r *stderrReporter) Problem(p detect.Problem) {
	if r.shown >= r.max {
		return
	}
	r.shown++
	fmt.Fprintf(r.w, "rebindwatch: %s: %s\n", sanitize.String(p.Where), sanitize.String(p.Text))
	if r.shown == r.max {
		fmt.Fprintln(r.w, "rebindwatch: further unparsed input is counted in the summary (parse_errors), not shown")
	}
}

// Note prints a source's status note.
func (r *stderrReporter) Note(source, note string) {
	fmt.Fprintf(r.w, "rebindwatch: %s: %s\n", sanitize.String(source), sanitize.String(note))
}
