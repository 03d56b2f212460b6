package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/kafka"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/schema"
	"github.com/rebindwatch/rebindwatch/syslogout"
)

// publishWait is how long the publishers get at exit to deliver what they
// hold.
const publishWait = 5 * time.Second

// kafkaPasswordEnv holds the SASL password when no file is given: a
// password on the command line would be in every ps listing.
const kafkaPasswordEnv = "REBINDWATCH_KAFKA_PASSWORD"

// kafkaSecurity is TLS and SASL for the brokers, the same for the
// consumer and the publishers (one cluster), checked before anything
// starts.
func kafkaSecurity(o Options) (kafka.Security, error) {
	sec := o.KafkaSecurity
	if o.KafkaIn == "" && o.KafkaOut == "" && o.AlertsTopic == "" {
		if sec != (kafka.Security{}) || o.KafkaPasswordFile != "" {
			return sec, usagef("--kafka-tls, --kafka-ca, --kafka-cert, --kafka-key, --kafka-sasl and --kafka-user go with --kafka-in, --kafka-out or --alerts-topic")
		}
		return sec, nil
	}
	if sec.SASL != "" {
		if o.KafkaPasswordFile != "" {
			b, err := os.ReadFile(o.KafkaPasswordFile)
			if err != nil {
				return sec, usagef("--kafka-password-file: %v", err)
			}
			sec.Password = strings.TrimRight(string(b), "\r\n")
		} else {
			sec.Password = os.Getenv(kafkaPasswordEnv)
		}
		if sec.Password == "" {
			return sec, usagef("--kafka-sasl %s: no password (put it in --kafka-password-file FILE or $%s)", sanitize.String(sec.SASL), kafkaPasswordEnv)
		}
	}
	if _, err := sec.Opts(); err != nil {
		return sec, usagef("Kafka security: %v", err)
	}
	return sec, nil
}

// brokers splits a comma-separated broker list.
func brokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// outBrokers are the brokers --kafka-out and --alerts-topic publish to.
func outBrokers(o Options) []string {
	if o.KafkaBrokers != "" {
		return brokers(o.KafkaBrokers)
	}
	return brokers(o.KafkaIn)
}

// checkFleet refuses fleet flags that do not go together.
func checkFleet(o Options) error {
	switch {
	case o.KafkaIn != "" && o.Topic == "":
		return usagef("--kafka-in needs --topic: the topic to consume")
	case o.KafkaIn == "" && (o.Topic != "" || o.Group != ""):
		return usagef("--topic and --group go with --kafka-in")
	case (o.KafkaOut != "" || o.AlertsTopic != "") && len(outBrokers(o)) == 0:
		return usagef("--kafka-out and --alerts-topic publish to the brokers of --kafka-in, or of --kafka-brokers: give one")
	case o.KafkaOut != "" && o.KafkaOut == o.Topic:
		return usagef("--kafka-out %s is the topic being consumed: the parse stage publishes to another topic", o.KafkaOut)
	}
	return nil
}

// addKafka adds the Kafka consumer as a source: raw lines are read as
// log lines are (logsrc.Feeder), per producing host and file, as
// --log-format says (auto by default).
func (s *setup) addKafka(o Options) error {
	if o.KafkaIn == "" {
		return nil
	}
	format := logFormat(s.cfg)
	if _, err := logsrc.Compile(format); err != nil {
		return usagef("--log-format: %v", err)
	}
	loc, err := location(o)
	if err != nil {
		return err
	}
	group := o.Group
	if group == "" {
		group = "rebindwatch"
	}
	sec, err := kafkaSecurity(o)
	if err != nil {
		return err
	}
	opts := kafka.Options{
		Brokers: brokers(o.KafkaIn), Topic: o.Topic, Group: group, Keys: s.keys.Clone(), Security: sec,
		Lines:     &logsrc.FeederOptions{Format: format, Location: loc},
		Republish: o.KafkaOut != "",
	}
	s.live, s.merges, s.kafka = true, true, true
	s.sources = append(s.sources, input{name: "kafka:" + o.Topic, run: func(ctx context.Context, out chan<- detect.Batch) error {
		opts.Flushers = s.flushers // the publishers, built with the sinks
		return kafka.Run(ctx, opts, out)
	}})
	return nil
}

// fleetOutputs are the outputs for a fleet and a SIEM: the request and
// alert topics, and syslog.
type fleetOutputs struct {
	requests *kafka.RequestPublisher
	alerts   *kafka.AlertPublisher
	syslog   *syslogout.Sender
}

// newFleetOutputs builds --kafka-out, --alerts-topic and --syslog.
func newFleetOutputs(o Options, enc schema.Encoder, node string) (*fleetOutputs, error) {
	f := &fleetOutputs{}
	sec, err := kafkaSecurity(o)
	if err != nil {
		return nil, err
	}
	if o.KafkaOut != "" {
		n := node
		if o.KafkaIn != "" {
			n = "" // the requests' Source is already their producing host
		}
		if f.requests, err = kafka.NewRequestPublisher(kafka.PublisherOptions{Brokers: outBrokers(o), Topic: o.KafkaOut, Node: n, Security: sec}); err != nil {
			return nil, usagef("--kafka-out: %v", err)
		}
	}
	if o.AlertsTopic != "" {
		if f.alerts, err = kafka.NewAlertPublisher(kafka.PublisherOptions{Brokers: outBrokers(o), Topic: o.AlertsTopic, Alert: enc.Alert, Security: sec}); err != nil {
			return nil, usagef("--alerts-topic: %v", err)
		}
	}
	if o.Syslog != "" {
		if f.syslog, err = syslogout.New(syslogout.Options{URL: o.Syslog}); err != nil {
			return nil, usagef("--syslog %s: %v", sanitize.String(o.Syslog), err)
		}
	}
	return f, nil
}

func (f *fleetOutputs) sinks() []detect.Sink {
	var out []detect.Sink
	if f.requests != nil {
		out = append(out, f.requests)
	}
	if f.alerts != nil {
		out = append(out, f.alerts)
	}
	if f.syslog != nil {
		out = append(out, f.syslog)
	}
	return out
}

// flushers are the outputs a Kafka consumer's commits wait for.
func (f *fleetOutputs) flushers() []kafka.Flusher {
	var out []kafka.Flusher
	if f.requests != nil {
		out = append(out, f.requests)
	}
	if f.alerts != nil {
		out = append(out, f.alerts)
	}
	return out
}

// start runs the syslog worker; the returned function, called once the
// engine is done, delivers what the outputs still hold (a bounded time)
// and closes them.
func (f *fleetOutputs) start(ctx context.Context) func() error {
	var wg sync.WaitGroup
	var syslogErr error
	if f.syslog != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			syslogErr = f.syslog.Run(ctx)
		}()
	}
	var closers []func(context.Context) error
	if f.requests != nil {
		closers = append(closers, f.requests.Close)
	}
	if f.alerts != nil {
		closers = append(closers, f.alerts.Close)
	}
	return func() error {
		var errs []error
		for _, close := range closers {
			c, cancel := context.WithTimeout(context.Background(), publishWait)
			errs = append(errs, close(c))
			cancel()
		}
		wg.Wait()
		return errors.Join(append(errs, syslogErr)...)
	}
}

// count adds the outputs' counts to the summary's counters.
func (f *fleetOutputs) count(c map[string]uint64) {
	add := func(name string, v uint64) {
		if v > 0 {
			c[name] += v
		}
	}
	if f.requests != nil {
		st := f.requests.Stats()
		add("kafka_out_sent", st.Sent)
		add("kafka_out_dropped", st.Dropped)
		add("kafka_out_failed", st.Failed)
	}
	if f.alerts != nil {
		st := f.alerts.Stats()
		add("kafka_alerts_sent", st.Sent)
		add("kafka_alerts_dropped", st.Dropped)
		add("kafka_alerts_failed", st.Failed)
	}
	if f.syslog != nil {
		st := f.syslog.Stats()
		add("syslog_sent", st.Sent)
		add("syslog_dropped", st.Dropped)
		add("syslog_failed", st.Failed)
	}
}

// encoder is the output format's encoder, chosen once.
func encoder(o Options, node string) (schema.Encoder, error) {
	f, err := schema.ParseFormat(o.OutputFormat)
	if err != nil {
		return schema.Encoder{}, usagef("--output-format: %v", err)
	}
	enc := schema.NewEncoder(f, schema.EncoderOptions{Node: node, SourceIsHost: o.KafkaIn != "", Version: o.Version})
	if enc.Request == nil && strings.Contains(o.Emit, "request") {
		return enc, usagef("--output-format %s writes alerts only (OCSF Detection Findings): drop request from --emit, or use ecs", o.OutputFormat)
	}
	return enc, nil
}

// hostname names this machine for the lines that say where traffic was
// seen (ECS host.name, a local publisher's node).
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}

// sayParseStage tells a parse stage where its alerts are.
func sayParseStage(w io.Writer, o Options) {
	if o.KafkaIn != "" && o.KafkaOut != "" && !o.EmitSet {
		fmt.Fprintln(w, "rebindwatch: parse stage: requests go to "+sanitize.String(o.KafkaOut)+
			"; alerts are the detect stage's (consume that topic), so only the summary is written here (--emit alert to write them too)")
	}
}
