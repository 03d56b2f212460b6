package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/app"
)

// options are the parsed command line: what the run needs (app.Options)
// and the commands that print something and exit.
type options struct {
	app.Options
	version     bool
	importAllow string
	printLogCfg string
}

var errHelp = errors.New("help shown")

// listFlag is a repeatable string flag.
type listFlag struct{ vals *[]string }

func (l listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, ",")
}
func (l listFlag) Set(s string) error { *l.vals = append(*l.vals, s); return nil }

// The replay paces --speed takes besides 0.
const (
	minSpeed = 0.001
	maxSpeed = 1e6
)

// speedFlag records whether --speed was given, since its default depends on the source.
type speedFlag struct {
	v   *float64
	set *bool
}

func (s speedFlag) String() string {
	if s.v == nil {
		return "0"
	}
	return strconv.FormatFloat(*s.v, 'g', -1, 64)
}

func (s speedFlag) Set(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	// NaN and Inf are numbers to ParseFloat; a pace below a thousandth of
	// the recorded one would wait for ever (and 1e-300 overflowed to no
	// pacing at all).
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 0 && (f < minSpeed || f > maxSpeed) {
		return fmt.Errorf("want 0 (as fast as possible) or a pace from %g to %g (1 = as recorded)", minSpeed, maxSpeed)
	}
	*s.v, *s.set = f, true
	return nil
}

const usageText = `rebindwatch watches HTTP traffic to an API protected by API keys and flags
DNS rebinding and key abuse: unexpected Host names, foreign Origins, bursts on
one key, one key under many hostnames or from many clients.

Usage:
  rebindwatch [flags] [LOGFILE ...]
  rebindwatch fingerprint [-c FILE]     read a key on stdin, print its fingerprint

Sources:
  -r, --read FILE          replay a pcap or pcapng file ("-" = stdin)
  -i, --interface NAME     live capture (Linux AF_PACKET, "any" for all; needs root or
                           setcap cap_net_raw,cap_net_admin+ep on the binary)
  -f, --filter EXPR        tcpdump filter for live capture (builds with -tags pcap only)
  LOGFILE ...              access logs to follow ("-" = stdin), and:
                             zeek:DIR                   a Zeek log directory (http.log, dns.log, ssl.log) as one source
                             journal:UNIT, journal:     the journal (journalctl), one unit or all
                             journal-file:PATH          a journal file (recorded, or another machine's)
                             docker:NAME, podman:NAME   a container's logs (stdout and stderr)
                             ssh://[user@]host[:port]/path/to/access.log   a remote log (globs allowed)
                             ssh://host/journal:UNIT    a remote journal
      --listen URL         receive syslog: syslog://HOST:PORT (UDP and TCP), syslog+tls://HOST:PORT
                           (repeatable; nginx: access_log syslog:server=HOST:PORT,tag=api ...;)
      --listen-cert FILE   certificate (PEM) for syslog+tls://
      --listen-key FILE    its private key (PEM)
      --demo               replay the embedded demo capture in the dashboard
      --kafka-in BROKERS   consume a Kafka topic as a member of a consumer group (host:port,...):
                           the fleet's raw access-log lines (Vector, Fluent Bit, Filebeat or bare)
                           or the normalised requests a parse stage published
      --topic TOPIC        the topic --kafka-in consumes
      --group GROUP        its consumer group (default rebindwatch); processes of one group split
                           the partitions

Configuration:
  -c, --config FILE        TOML config (default: ./rebindwatch.toml, then
                           $XDG_CONFIG_HOME/rebindwatch/config.toml)
      --allow-host H       add an allowed Host pattern (repeatable)
      --allow-origin O     add an allowed Origin (repeatable)
      --log-format FMT     auto | nginx-combined | apache-combined | apache-common | vhost_combined |
                           werkzeug | gunicorn | caddy | traefik | json:host=...,origin=... |
                           zeek | suricata | alb | cloudfront | gcp | cloudflare | azure-frontdoor |
                           nginx:'<log_format>' | apache:'<LogFormat>' | gunicorn:'<access_log_format>'
                           (the bare string, or the directive pasted from the server's config)
      --server-config FILE read access_log/CustomLog and their formats from an nginx or Apache
                           config (following includes) and follow those files
      --no-follow          read logs to their end, then stop
      --tail-only          follow logs from their end (default: read them whole, then follow)
      --state FILE         keep each log's position in FILE and resume there: a restart reads
                           every line once (also across rotation; see the README)
      --tz ZONE            time zone of logs whose times have none (werkzeug; default: local)
      --speed X            replay pace: 0 = as fast as possible (default for -r),
                           1 = as recorded (default for --demo), 10 = ten times faster

Tools:
      --import-allowlist FILE
                           read an app's own allowlist (Django settings.py, Flask config,
                           Rails config, vite.config.*, webpack.config.js, MCP server code,
                           nginx server_name) and print [hosts]/[origins] for rebindwatch.toml
      --print-log-config SERVER
                           print a log format snippet for nginx, apache, gunicorn or flask that
                           logs the Host, the Origin and a key suffix, so every detector can see;
                           for zeek, suricata, alb, cloudfront, gcp, cloudflare, azure-frontdoor:
                           what to turn on, or what their logs cannot show
      --suggest-config     read the capture or logs to the end and print a commented config:
                           the Hosts and Origins seen, the service's own proposed as allowed,
                           burst and spread thresholds from the observed per-key rates

Output:
      --no-tui             no dashboard: write JSON lines (default stdout)
      --no-mouse           the dashboard leaves the mouse to the terminal (its own selection)
  -o, --output FILE        where JSON lines go
      --emit LIST          any of alert,request,summary,dns (default alert,summary)
      --metrics ADDR       serve Prometheus metrics on ADDR (e.g. 127.0.0.1:9464) at /metrics
      --webhook URL        POST each alert as JSON to URL (bounded queue, retries)
      --webhook-header H   add a header to webhook posts, "Name: value" (repeatable)
      --output-format F    json (default) | ecs (request and alert lines in the Elastic Common
                           Schema) | ocsf (alerts as OCSF Detection Findings)
      --syslog URL         send each alert to udp://HOST:PORT or tcp://HOST:PORT as RFC 5424
      --kafka-out TOPIC    publish every request, normalised and keyed by key fingerprint (the
                           parse stage, or a local rebindwatch feeding a fleet's detect stage)
      --alerts-topic TOPIC publish every alert to a Kafka topic (in --output-format)
      --kafka-brokers B    brokers for --kafka-out and --alerts-topic (default: --kafka-in's)
      --kafka-tls          reach the brokers over TLS (the system's roots)
      --kafka-ca FILE      trust these PEM roots instead (implies --kafka-tls)
      --kafka-cert FILE    client certificate for mutual TLS (PEM), with --kafka-key FILE
      --kafka-sasl MECH    plain | scram-sha-256 | scram-sha-512, as --kafka-user USER; the password
                           from --kafka-password-file FILE or $REBINDWATCH_KAFKA_PASSWORD
      --report FILE        write the incident report (one self-contained HTML file) to FILE at
                           the end of the run, or when it is stopped; R in the dashboard writes it
      --version            print the version
  -h, --help               this help

Examples:
  rebindwatch --demo
  rebindwatch --no-tui -c rebindwatch.toml -r capture.pcapng
  rebindwatch --no-tui -c rebindwatch.toml -r capture.pcapng --report incident.html
  rebindwatch --no-tui --allow-host api.example.com -r capture.pcap --emit alert,request
  rebindwatch --no-tui --no-follow --log-format "nginx:$(cat fmt.txt)" /var/log/nginx/api.log
  rebindwatch --no-tui --emit alert -c rebindwatch.toml /var/log/nginx/api.log >> alerts.jsonl
  echo -n "$API_KEY" | rebindwatch fingerprint
  rebindwatch --import-allowlist mysite/settings.py >> rebindwatch.toml
  rebindwatch --suggest-config -r capture.pcap > rebindwatch.toml
  rebindwatch --server-config /etc/nginx/nginx.conf
  rebindwatch --no-tui --listen syslog://0.0.0.0:5514
  rebindwatch journal:myapp.service docker:api ssh://web-3/var/log/nginx/access.log
  rebindwatch --no-tui 'logs/*.log' --tz Europe/Paris
  rebindwatch --no-tui --kafka-in k1:9092 --topic access-logs --group rebindwatch-parse --kafka-out rebindwatch-requests
  rebindwatch --no-tui --kafka-in k1:9092 --topic rebindwatch-requests --group rebindwatch-detect --output-format ecs

Exit status: 0 on success, 1 on a runtime failure, 2 on a usage or config error.
`

// parseFlags parses args, allowing flags after positional arguments.
func parseFlags(args []string, stderr io.Writer) (o options, err error) {
	o.Emit = "alert,summary"
	fs := flag.NewFlagSet("rebindwatch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, n := range []string{"r", "read"} {
		fs.StringVar(&o.Read, n, "", "")
	}
	for _, n := range []string{"i", "interface"} {
		fs.StringVar(&o.Interface, n, "", "")
	}
	for _, n := range []string{"f", "filter"} {
		fs.StringVar(&o.Filter, n, "", "")
	}
	for _, n := range []string{"c", "config"} {
		fs.StringVar(&o.Config, n, "", "")
	}
	for _, n := range []string{"o", "output"} {
		fs.StringVar(&o.Output, n, "", "")
	}
	fs.BoolVar(&o.Demo, "demo", false, "")
	fs.Var(listFlag{&o.AllowHosts}, "allow-host", "")
	fs.Var(listFlag{&o.AllowOrigins}, "allow-origin", "")
	fs.StringVar(&o.LogFormat, "log-format", "", "")
	fs.BoolVar(&o.NoFollow, "no-follow", false, "")
	fs.Var(speedFlag{&o.Speed, &o.SpeedSet}, "speed", "")
	fs.BoolVar(&o.NoTUI, "no-tui", false, "")
	fs.BoolVar(&o.NoMouse, "no-mouse", false, "")
	fs.StringVar(&o.Emit, "emit", o.Emit, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.StringVar(&o.importAllow, "import-allowlist", "", "")
	fs.BoolVar(&o.Suggest, "suggest-config", false, "")
	fs.StringVar(&o.ServerConfig, "server-config", "", "")
	fs.Var(listFlag{&o.Listen}, "listen", "")
	fs.StringVar(&o.ListenCert, "listen-cert", "", "")
	fs.StringVar(&o.ListenKey, "listen-key", "", "")
	fs.StringVar(&o.printLogCfg, "print-log-config", "", "")
	fs.StringVar(&o.TZ, "tz", "", "")
	fs.BoolVar(&o.TailOnly, "tail-only", false, "")
	fs.StringVar(&o.State, "state", "", "")
	fs.StringVar(&o.Metrics, "metrics", "", "")
	fs.StringVar(&o.Webhook, "webhook", "", "")
	fs.Var(listFlag{&o.WebhookHdrs}, "webhook-header", "")
	fs.StringVar(&o.KafkaIn, "kafka-in", "", "")
	fs.StringVar(&o.Topic, "topic", "", "")
	fs.StringVar(&o.Group, "group", "", "")
	fs.StringVar(&o.KafkaOut, "kafka-out", "", "")
	fs.StringVar(&o.KafkaBrokers, "kafka-brokers", "", "")
	fs.StringVar(&o.AlertsTopic, "alerts-topic", "", "")
	fs.BoolVar(&o.KafkaSecurity.TLS, "kafka-tls", false, "")
	fs.StringVar(&o.KafkaSecurity.CAFile, "kafka-ca", "", "")
	fs.StringVar(&o.KafkaSecurity.CertFile, "kafka-cert", "", "")
	fs.StringVar(&o.KafkaSecurity.KeyFile, "kafka-key", "", "")
	fs.StringVar(&o.KafkaSecurity.SASL, "kafka-sasl", "", "")
	fs.StringVar(&o.KafkaSecurity.User, "kafka-user", "", "")
	fs.StringVar(&o.KafkaPasswordFile, "kafka-password-file", "", "")
	fs.StringVar(&o.OutputFormat, "output-format", "", "")
	fs.StringVar(&o.Syslog, "syslog", "", "")
	fs.StringVar(&o.Report, "report", "", "")
	help := false
	for _, n := range []string{"h", "help"} {
		fs.BoolVar(&help, n, false, "")
	}
	defer func() {
		fs.Visit(func(f *flag.Flag) { o.EmitSet = o.EmitSet || f.Name == "emit" })
		if err == nil {
			err = o.check()
		}
	}()
	rest := args
	for {
		before := rest
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, usageText)
				return o, errHelp
			}
			return o, app.UsageError{Err: err}
		}
		if help {
			fmt.Fprint(stderr, usageText)
			return o, errHelp
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		// "--" ends flags; otherwise this is one positional argument and
		// flags may follow it.
		if n := len(before) - len(rest); n > 0 && before[n-1] == "--" {
			o.Logs = append(o.Logs, rest...)
			break
		}
		o.Logs = append(o.Logs, rest[0])
		rest = rest[1:]
	}
	return o, nil
}

// check refuses flags that cannot go together, so none is dropped silently.
func (o *options) check() error {
	switch {
	case strings.TrimSpace(strings.ReplaceAll(o.Emit, ",", "")) == "":
		return app.UsageError{Err: errors.New("--emit names nothing to write (use any of alert,incident,request,summary,dns)")}
	case o.TailOnly && o.NoFollow:
		return app.UsageError{Err: errors.New("--tail-only starts following at the end of the logs, --no-follow reads them to their end: give one")}
	case o.Demo && (o.Read != "" || o.Interface != "" || len(o.Logs) > 0 || o.ServerConfig != "" || len(o.Listen) > 0):
		return app.UsageError{Err: errors.New("--demo replays the embedded capture; it does not mix with -r, -i, log files, --listen or --server-config")}
	}
	return nil
}
