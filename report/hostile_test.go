package report

// Hostile strings in the report: the recorded corpora of testdata/hostile
// (corpus.py's terminal attacks in hostile.pcap and in every field of
// hostile_gen_raw.log; markup.txt's HTML attacks in markup.pcap, recorded
// from nginx by record.sh) run through the real capture, log reader and
// engine; and the same values put by hand into every field the report
// shows that no recording reaches (source names, notes, DNS and TLS
// evidence, the config, the command, the title). The parsed page must be
// made of the report's own elements only, with no event handler and no
// link out; every value must be shown as text; no byte that a reader
// could not see as itself may be in the file.

import (
	"bufio"
	"context"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

const hostileDir = "../testdata/hostile/"

// markup reads markup.txt: name -> value.
func markup(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(hostileDir + "markup.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			name, value, _ := strings.Cut(l, "\t")
			out[name] = value
		}
	}
	if len(out) < 20 {
		t.Fatalf("%d values in markup.txt: the test would test little", len(out))
	}
	return out
}

// terminal is corpus.py's CORPUS, shared with the dashboard's tests.
var terminal = testkit.HostileCorpus()

// checkBytes fails on anything in the file that a reader could not see as
// itself: control characters but newline, bidi and invisible runes,
// invalid UTF-8.
func checkBytes(t *testing.T, page string) {
	t.Helper()
	if i, r := unseen(page); i >= 0 {
		t.Errorf("byte %d of the report is %U: %q", i, r, page[max(0, i-60):min(len(page), i+20)])
	}
}

// unseen finds the first rune a reader could not see as itself (a control
// character but newline, a bidi or invisible rune, a byte that is not
// UTF-8, returned as U+FFFD) and its offset; -1 when there is none. A
// U+FFFD that was sent as such is a visible character.
func unseen(s string) (int, rune) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r != '\n' && (r < 0x20 || r == 0x7f) || sanitize.Invisible(r) {
			return i, r
		}
		i += size
	}
	return -1, 0
}

// shown fails unless every value is in the page's text, as sanitize shows
// it (its first 200 runes: cells are cut), in any case (a Host is shown as
// sent in the evidence and lower-cased as an alert's subject).
func shown(t *testing.T, d *html.Node, values map[string]string) {
	t.Helper()
	all := strings.ToLower(text(d))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		want := sanitize.String(values[name])
		if utf8.RuneCountInString(want) > 200 {
			want = string([]rune(want)[:200])
		}
		if !strings.Contains(all, strings.ToLower(want)) {
			t.Errorf("%s: %q is not shown as text", name, want)
		}
	}
}

// TestHostileRecordingsInTheReport runs the recordings through the real
// sources and engine into one report.
func TestHostileRecordingsInTheReport(t *testing.T) {
	e, cfg, kx := engineFor(t, hostileDir+"rebindwatch.toml")
	for _, p := range []string{"hostile.pcap", "markup.pcap"} {
		testkit.Feed(t, e, p, func(ctx context.Context, out chan<- detect.Batch) error {
			return capture.ReadFile(ctx, hostileDir+p, capture.Options{Ports: cfg.Ports(), Keys: kx.Clone()}, out)
		})
	}
	ext, err := os.ReadFile(rec + "ext.fmt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ path, format string }{
		{"hostile_gen_raw.log", "nginx:escape=none '" + string(ext) + "'"},
		{"markup_access_ext.log", "nginx:" + string(ext)},
	} {
		testkit.Feed(t, e, l.path, func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, hostileDir+l.path, logsrc.Options{Format: l.format, Keys: kx.Clone()}, out)
		})
	}
	s := e.Snapshot()
	if len(s.Incidents) < 40 || len(s.Problems) == 0 {
		t.Fatalf("the recordings gave %d incidents and %d problems: too few to test anything", len(s.Incidents), len(s.Problems))
	}
	text, _ := cfg.InForce()
	page := render(t, e, Run{Title: "hostile", Final: true, ConfigPath: cfg.Path, ConfigText: text,
		Command: Command{Args: []string{"rebindwatch", "-r", hostileDir + "markup.pcap"}}})
	d := doc(t, page)
	checkInert(t, d)
	checkBytes(t, page)
	shown(t, d, markup(t))
	shown(t, d, terminal)
}

// TestHostileInEveryField puts every value in every field the report
// shows, by hand.
func TestHostileInEveryField(t *testing.T) {
	values := markup(t)
	maps.Copy(values, terminal)
	b := hostileBackend(values)
	var vals []string
	for _, n := range slices.Sorted(maps.Keys(values)) {
		vals = append(vals, values[n])
	}
	joined := strings.Join(vals, " ")
	page := render(t, b, Run{Title: joined, Version: joined, Final: true, ConfigPath: joined, ConfigText: joined,
		Command: Command{Args: append([]string{"rebindwatch"}, vals...), Dir: joined, Notes: vals}})
	d := doc(t, page)
	checkInert(t, d)
	checkBytes(t, page)
	shown(t, d, values)
	// The values went into the head too: still one title, and the
	// policy untouched.
	n := 0
	each(d, "title", func(*html.Node) { n++ })
	var policy string
	each(d, "meta", func(m *html.Node) {
		if attr(m, "http-equiv") != "" {
			policy = attr(m, "content")
		}
	})
	if policy != csp || n != 1+countBars(d) {
		t.Errorf("policy %q, %d titles", policy, n)
	}
}

// countBars counts the chart bars, each of which has a title (tooltip).
func countBars(d *html.Node) int {
	n := 0
	each(d, "rect", func(*html.Node) { n++ })
	return n
}

// fakeBackend answers with a fixed snapshot.
type fakeBackend struct {
	snap      detect.Snapshot
	incidents map[string]detect.IncidentDetail
	history   detect.RunHistory
}

func (f *fakeBackend) SnapshotFor(detect.Query) detect.Snapshot { return f.snap }
func (f *fakeBackend) IncidentDetail(id string) (detect.IncidentDetail, bool) {
	d, ok := f.incidents[id]
	return d, ok
}
func (f *fakeBackend) RunHistory() detect.RunHistory { return f.history }

var fxNow = time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)

// hostileBackend puts each value in every string field of a snapshot,
// incident details (alerts, requests, DNS answers, ClientHellos) and
// source statuses.
func hostileBackend(values map[string]string) *fakeBackend {
	b := &fakeBackend{incidents: map[string]detect.IncidentDetail{},
		history: detect.RunHistory{Start: fxNow, Width: time.Second, Buckets: []detect.HistoryBucket{{Requests: 3, Alerts: [4]uint64{1, 0, 0, 2}}, {Requests: 1}}}}
	s := &b.snap
	s.EventTime, s.AlertsByDetector, s.Evicted, s.Counters = fxNow, map[string]int{}, map[string]uint64{}, map[string]uint64{}
	for i, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		r := detect.Request{Time: fxNow, Source: v, Client: netip.MustParseAddrPort("10.0.0.7:51234"), Server: netip.MustParseAddrPort("10.0.0.1:80"),
			Method: v, Host: v, HasHost: true, Target: "/" + v, URIHost: v, Proto: v, Origin: v, HasOrigin: true, Referer: v, UserAgent: v, Key: v, Status: 200}
		dns := detect.DNSAnswer{Time: fxNow, Source: v, Name: v, CNAMEs: []string{v}, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, TTL: 1, Private: true}
		hello := detect.TLSHello{Time: fxNow, Source: v, SNI: v, ALPN: []string{v}}
		a := detect.Alert{ID: uint64(100 + i), Time: fxNow, LastSeen: fxNow, Detector: v, Severity: detect.Severity(i % 4), Subject: v, Dimension: v,
			Key: v, Client: v, Host: v, Origin: v, Target: v, Message: v, Outcome: v, Class: v, Count: 1, Incident: v, Allowed: i%2 == 0,
			Evidence: []detect.Request{r}, DNS: []detect.DNSAnswer{dns}, TLS: []detect.TLSHello{hello}}
		inc := detect.Incident{ID: v, Opened: fxNow, Last: fxNow, Severity: a.Severity, Detectors: []string{v}, Outcome: v, Class: v, Subject: v,
			Names: []string{v}, Keys: []string{v}, Clients: []string{v}, Alerts: []uint64{a.ID}, Count: 1}
		b.incidents[v] = detect.IncidentDetail{Incident: inc, Alerts: []detect.Alert{a}, Timeline: detect.Timeline(a)}
		s.Incidents = append(s.Incidents, inc)
		s.Alerts = append(s.Alerts, a)
		s.Recent = append(s.Recent, r)
		s.Keys = append(s.Keys, detect.KeyStat{Key: v, Requests: uint64(100 - i), FirstSeen: fxNow, LastSeen: fxNow, Fired: []string{v}})
		s.Hosts = append(s.Hosts, detect.ValueStat{Value: v, Requests: uint64(100 - i), LastSeen: fxNow, FromReferer: i%2 == 0})
		s.Origins = append(s.Origins, detect.ValueStat{Value: v, Requests: uint64(100 - i), LastSeen: fxNow, Allowed: i%2 == 0})
		s.Problems = append(s.Problems, detect.Problem{Source: v, Where: v, Text: v})
		s.Notes = append(s.Notes, detect.Problem{Source: v, Text: v})
		s.Sources = append(s.Sources, detect.SourceStatus{Name: v, State: detect.StateDone, Requests: 1, Note: v, Off: []string{v + ": " + v}})
		s.AlertsByDetector[v] = 1
		s.Evicted[v] = 1
		s.Counters[v] = 1
		s.AddedHosts = append(s.AddedHosts, v)
		s.AddedOrigins = append(s.AddedOrigins, v)
	}
	s.HostCheck, s.OriginCheck = strings.Join(slices.Collect(maps.Values(values)), " "), "off"
	s.IncidentsOpened = uint64(len(s.Incidents) + 5)
	s.ParseErrors = uint64(len(s.Problems))
	return b
}
