package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// view is everything the template shows, every string already sanitised
// (clean): the template formats, it reads nothing from detect itself.
type view struct {
	CSP, CSS string

	Title, Version, Generated, Status string
	Span                              string // first to last event
	Totals                            []fact
	Checks                            []string // checks that are off, and why
	Severities                        []fact   // incidents kept by severity

	Charts []chart

	Sources   []sourceRow
	Detectors []detectorRow

	Incidents     []incidentRow // every incident kept, most severe first
	IncidentsNote string        // what the list misses (incidents dropped)
	Details       []incidentDetail
	DetailsNote   string // incidents not shown in detail

	Keys, Hosts, Origins []tableRow
	KeysNote             string
	HostsNote            string
	OriginsNote          string

	Problems, Notes []problemRow
	ProblemsNote    string

	ConfigPath, ConfigText string
	Added                  []string // allowlist additions made during the run

	Command      string
	CommandDir   string
	CommandNotes []string
}

// fact is a label and its value.
type fact struct{ Label, Value, Class string }

type sourceRow struct {
	Name, State, Note                 string
	Requests, DNS, TLS, Errors, Drops string
	Progress                          string
	Sees, Misses                      []string // fields
	Off                               []string // detectors off, with the reason
	Unknown                           bool     // no request yet: what it sees is not known
}

type detectorRow struct {
	Name, Needs, Alerts, Status string
	Off                         bool
}

type incidentRow struct {
	Anchor, ID, Severity, SevClass     string
	OpenedShort                        string // to the second, for the list
	Opened, Last, Subject, Detectors   string
	Outcome, Class, Names, Keys, Count string
	Clients                            string
	Detailed                           bool
}

type incidentDetail struct {
	incidentRow
	Alerts       []alertRow
	AlertsNote   string
	Timeline     []evidenceRow
	TimelineNote string
}

type alertRow struct {
	ID, Time, Detector, Severity, SevClass, Subject, Message string
	Key, Client, Outcome, Count                              string
	Allowed                                                  bool
}

// evidenceRow is one timeline entry: a request, a DNS answer or a ClientHello.
type evidenceRow struct {
	Time, Kind, Source, Client, Server string
	What                               string // "GET host target HTTP/1.1", "name → addrs", "SNI name"
	Extra                              []string
	Key, Status                        string
}

type tableRow struct {
	Value, LookAlike string
	Cells            []string
	Flag, FlagClass  string
}

type problemRow struct{ Source, Where, Text string }

// collect reads what the report shows from b.
func collect(b Backend, r Run) view {
	q := detect.TableQuery{Sort: "requests", Desc: true}
	s := b.SnapshotFor(detect.Query{Keys: q, Hosts: q, Origins: q})
	h := b.RunHistory()
	v := view{
		CSP: csp, CSS: css,
		Title:     clean(r.Title, cellRunes),
		Version:   clean(r.Version, 40),
		Generated: r.Generated.UTC().Format(time.RFC3339),
	}
	v.Status = runStatus(r, s)
	if len(h.Buckets) > 0 {
		v.Span = h.Start.Format(time.RFC3339) + " to " + s.EventTime.UTC().Format(time.RFC3339) + " (event time, UTC)"
	}
	v.Totals, v.Checks = totals(&s)
	v.Charts = []chart{requestChart(h), alertChart(h)}
	v.Sources = sources(&s)
	v.Detectors = detectors(&s)
	v.incidents(b, &s)
	v.Keys, v.KeysNote = keyRows(s.Keys)
	v.Hosts, v.HostsNote = valueRows(s.Hosts, "Host")
	v.Origins, v.OriginsNote = valueRows(s.Origins, "Origin")
	v.problems(&s)
	v.ConfigPath = clean(r.ConfigPath, cellRunes)
	v.ConfigText = clean(r.ConfigText, 1<<20, "\n")
	for _, a := range s.AddedHosts {
		v.Added = append(v.Added, "host "+clean(a, cellRunes))
	}
	for _, a := range s.AddedOrigins {
		v.Added = append(v.Added, "origin "+clean(a, cellRunes))
	}
	v.Command = clean(ShellLine(r.Command.Args), 1<<16, "\n") // ShellLine writes only printable runes and newlines
	v.CommandDir = clean(r.Command.Dir, cellRunes)
	for _, n := range r.Command.Notes {
		v.CommandNotes = append(v.CommandNotes, clean(n, 1000))
	}
	return v
}

// runStatus says how complete the report is.
func runStatus(r Run, s detect.Snapshot) string {
	var stopped, failed bool
	for _, src := range s.Sources {
		stopped = stopped || src.State == detect.StateStopped || src.State == detect.StateFollowing || src.State == detect.StateLive
		failed = failed || src.State == detect.StateFailed
	}
	switch {
	case !r.Final:
		return "written while the run goes on: the sources had not finished, so later requests and alerts are not in it"
	case r.CutShort:
		return "written when the run was stopped, with the drain cut short: the sources may have held requests that are not in it"
	case failed:
		return "written at the end of the run; a source failed (see Sources)"
	case stopped:
		return "written when the run was stopped: every source handed over what it had read, not the whole of its input"
	}
	return "written at the end of the run: every source was read to its end"
}

func totals(s *detect.Snapshot) (facts []fact, checks []string) {
	var alerts int
	for _, n := range s.AlertsByDetector {
		alerts += n
	}
	facts = []fact{
		{Label: "requests", Value: num(s.Requests)},
		{Label: "alerts", Value: strconv.Itoa(alerts)},
		{Label: "incidents", Value: num(s.IncidentsOpened)},
		{Label: "parse errors", Value: num(s.ParseErrors)},
		{Label: "dropped", Value: num(s.Dropped)},
	}
	for _, k := range slices.Sorted(maps.Keys(s.Evicted)) {
		if n := s.Evicted[k]; n > 0 {
			facts = append(facts, fact{Label: "evicted " + clean(k, 60), Value: num(n), Class: "warn"})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Counters)) {
		if n := s.Counters[k]; n > 0 {
			facts = append(facts, fact{Label: clean(k, 60), Value: num(n)})
		}
	}
	if s.HostCheck != "" {
		checks = append(checks, "Host check "+clean(s.HostCheck, 500))
	}
	if s.OriginCheck != "" {
		checks = append(checks, "Origin check "+clean(s.OriginCheck, 500))
	}
	return facts, checks
}

// fields a source may not see, in the order shown.
var fields = []struct {
	name  string
	blind detect.Blindness
}{{"Host", detect.BlindHost}, {"Origin", detect.BlindOrigin}, {"Referer", detect.BlindReferer}, {"key", detect.BlindKey}}

func sources(s *detect.Snapshot) []sourceRow {
	var out []sourceRow
	for _, src := range s.Sources {
		row := sourceRow{Name: clean(src.Name, cellRunes), State: src.State.String(), Note: clean(src.Note, 1000),
			Requests: num(src.Requests), DNS: num(src.DNS), TLS: num(src.TLS), Errors: num(src.ParseErrors), Drops: num(src.Dropped),
			Unknown: src.Off == nil}
		if src.Total > 0 {
			row.Progress = fmt.Sprintf("%d%%", min(100, src.Done*100/src.Total))
		}
		for _, f := range fields {
			if src.Lacks.Has(f.blind) {
				row.Misses = append(row.Misses, f.name)
			} else {
				row.Sees = append(row.Sees, f.name)
			}
		}
		for _, o := range src.Off {
			row.Off = append(row.Off, clean(o, 500))
		}
		out = append(out, row)
	}
	return out
}

// needs says what each detector must see; what feeds it is decided by
// feeds. A detector a newer engine adds is shown with its name only.
var needs = map[string]string{
	detect.DetUnexpectedHost:          "the Host of requests, and [hosts] allowed",
	detect.DetHostServed:              "the Host and the response status",
	detect.DetForeignOrigin:           "the Origin (or, with check_referer, the Referer), and [origins] allowed",
	detect.DetKeyBurst:                "the key of requests",
	detect.DetKeySpread:               "the key, with the Host or the client address",
	detect.DetDNSPrivateAnswer:        "DNS answers (a capture with port 53, Zeek dns.log, Suricata dns events)",
	detect.DetDNSRebind:               "DNS answers and the requests that follow them",
	detect.DetUnexpectedSNI:           "TLS ClientHellos (a capture, Zeek ssl.log, Suricata tls events), and [hosts] allowed",
	detect.DetPrivateNetworkPreflight: "CORS preflights with their Access-Control-Request-Private-Network header and Origin",
	detect.DetKeyStuffing:             "the key and the client address of requests",
}

// feeds reports whether a source gave det what it needs, and if not why.
func feeds(src *detect.SourceStatus, det string) (bool, string) {
	switch det {
	case detect.DetDNSPrivateAnswer, detect.DetDNSRebind:
		return src.DNS > 0, "no DNS answers"
	case detect.DetUnexpectedSNI:
		return src.TLS > 0, "no ClientHellos"
	}
	for _, o := range src.Off {
		dets, why, _ := strings.Cut(o, ": ")
		if slices.Contains(strings.Split(dets, ", "), det) {
			return false, why
		}
	}
	return src.Requests > 0, "no requests"
}

func detectors(s *detect.Snapshot) []detectorRow {
	names := slices.Clone(detect.Detectors)
	for _, d := range slices.Sorted(maps.Keys(s.AlertsByDetector)) {
		if !slices.Contains(names, d) {
			names = append(names, d)
		}
	}
	var out []detectorRow
	for _, d := range names {
		row := detectorRow{Name: clean(d, 60), Needs: needs[d], Alerts: strconv.Itoa(s.AlertsByDetector[d])}
		switch {
		case s.HostCheck != "" && (d == detect.DetUnexpectedHost || d == detect.DetHostServed || d == detect.DetUnexpectedSNI):
			row.Status, row.Off = "off: "+clean(s.HostCheck, 300), true
		case s.OriginCheck != "" && d == detect.DetForeignOrigin:
			row.Status, row.Off = "off: "+clean(s.OriginCheck, 300), true
		default:
			row.Status, row.Off = fedBy(s, d)
		}
		out = append(out, row)
	}
	return out
}

// fedBy says which sources fed a detector.
func fedBy(s *detect.Snapshot, det string) (string, bool) {
	var fed, not []string
	reasons := map[string]bool{}
	for i := range s.Sources {
		src := &s.Sources[i]
		if ok, why := feeds(src, det); ok {
			fed = append(fed, clean(src.Name, 60))
		} else {
			not = append(not, clean(src.Name, 60))
			reasons[clean(why, 200)] = true
		}
	}
	why := strings.Join(slices.Sorted(maps.Keys(reasons)), "; ")
	switch {
	case len(s.Sources) == 0:
		return "no source yet", true
	case len(fed) == 0:
		return "nothing to see: " + why, true
	case len(not) == 0:
		return "fed by every source", false
	}
	return fmt.Sprintf("fed by %s; not by %s (%s)", list(fed, 5), list(not, 5), why), false
}

// incidents fills the incident list, most severe first, and the details
// of the first ones.
func (v *view) incidents(b Backend, s *detect.Snapshot) {
	incs := slices.Clone(s.Incidents)
	slices.SortStableFunc(incs, func(x, y detect.Incident) int {
		if c := cmp.Compare(y.Severity, x.Severity); c != 0 {
			return c
		}
		return x.Opened.Compare(y.Opened)
	})
	counts := map[detect.Severity]int{}
	for i, inc := range incs {
		counts[inc.Severity]++
		row := incidentRowOf(&inc, "incident-"+strconv.Itoa(i+1))
		if i < detailed {
			row.Detailed = true
			if d, ok := b.IncidentDetail(inc.ID); ok {
				v.Details = append(v.Details, detailOf(row, &d))
			} else {
				row.Detailed = false // gone from the engine between the two reads
			}
		}
		v.Incidents = append(v.Incidents, row)
	}
	for sev := detect.SeverityCritical; sev >= detect.SeverityLow; sev-- {
		v.Severities = append(v.Severities, fact{Label: sev.String(), Value: strconv.Itoa(counts[sev]), Class: "sev-" + sev.String()})
	}
	if kept := uint64(len(incs)); s.IncidentsOpened > kept {
		v.IncidentsNote = fmt.Sprintf("%d incidents opened; the %d oldest and least severe are no longer kept ([limits] alerts)", s.IncidentsOpened, s.IncidentsOpened-kept)
	}
	if len(incs) > detailed {
		v.DetailsNote = fmt.Sprintf("the %d most severe incidents are shown in detail; the other %d are in the list above, and in --emit incident,alert", detailed, len(incs)-detailed)
	}
}

func incidentRowOf(inc *detect.Incident, anchor string) incidentRow {
	return incidentRow{
		Anchor: anchor, ID: clean(inc.ID, 60), Severity: inc.Severity.String(), SevClass: "sev-" + inc.Severity.String(),
		OpenedShort: inc.Opened.UTC().Format("2006-01-02 15:04:05Z"), Opened: stamp(inc.Opened), Last: stamp(inc.Last), Subject: clean(inc.Subject, cellRunes),
		Detectors: cleanList(inc.Detectors, 0), Outcome: clean(inc.Outcome, 40), Class: clean(inc.Class, 40),
		Names: cleanList(inc.Names, 0), Keys: cleanList(inc.Keys, 0), Clients: cleanList(inc.Clients, 0), Count: strconv.Itoa(inc.Count),
	}
}

func detailOf(row incidentRow, d *detect.IncidentDetail) incidentDetail {
	out := incidentDetail{incidentRow: row}
	for i := range d.Alerts {
		a := &d.Alerts[i]
		det := a.Detector
		if a.Dimension != "" {
			det += " (" + a.Dimension + ")"
		}
		out.Alerts = append(out.Alerts, alertRow{
			ID: strconv.FormatUint(a.ID, 10), Time: stamp(a.Time), Detector: clean(det, 80), Severity: a.Severity.String(),
			SevClass: "sev-" + a.Severity.String(), Subject: clean(a.Subject, cellRunes), Message: clean(a.Message, evidenceRunes),
			Key: clean(a.Key, 40), Client: clean(a.Client, 60), Outcome: clean(a.Outcome, 40), Count: strconv.Itoa(a.Count),
			Allowed: a.Allowed,
		})
	}
	if n := len(d.Incident.Alerts); n > len(d.Alerts) {
		out.AlertsNote = fmt.Sprintf("%d of its alerts are no longer kept (the alert list was cleared, or [limits] alerts)", n-len(d.Alerts))
	}
	for i, e := range d.Timeline {
		if i == timelineRows {
			out.TimelineNote = fmt.Sprintf("the first %d of %d pieces of evidence", timelineRows, len(d.Timeline))
			break
		}
		out.Timeline = append(out.Timeline, evidenceOf(&e))
	}
	return out
}

func evidenceOf(e *detect.TimelineEntry) evidenceRow {
	row := evidenceRow{Time: stamp(e.Time)}
	switch {
	case e.Request != nil:
		r := e.Request
		row.Kind, row.Source = "request", clean(r.Source, 80)
		row.Client, row.Server = addr(r.Client.String(), r.Client.IsValid()), addr(r.Server.String(), r.Server.IsValid())
		host := r.Host
		if !r.HasHost {
			host = "(no Host)"
		}
		row.What = clean(r.Method, 40) + " " + clean(host, cellRunes) + " " + clean(r.Target, evidenceRunes) + " " + clean(r.Proto, 20)
		if r.URIHost != "" {
			row.Extra = append(row.Extra, "absolute-form target: "+clean(r.URIHost, cellRunes))
		}
		if r.HasOrigin {
			row.Extra = append(row.Extra, "Origin: "+clean(r.Origin, cellRunes))
		}
		if r.Referer != "" {
			row.Extra = append(row.Extra, "Referer: "+clean(r.Referer, evidenceRunes))
		}
		if r.UserAgent != "" {
			row.Extra = append(row.Extra, "User-Agent: "+clean(r.UserAgent, cellRunes))
		}
		if r.DupHost {
			row.Extra = append(row.Extra, "two Host headers")
		}
		row.Key = clean(r.Key, 40)
		if r.Status != 0 {
			row.Status = strconv.Itoa(r.Status)
		}
	case e.DNS != nil:
		a := e.DNS
		row.Kind, row.Source = "DNS answer", clean(a.Source, 80)
		row.Client, row.Server = addr(a.Client.String(), a.Client.IsValid()), addr(a.Server.String(), a.Server.IsValid())
		var addrs []string
		for _, x := range a.Addrs {
			addrs = append(addrs, x.String())
		}
		row.What = clean(a.Name, cellRunes) + " → " + cleanList(addrs, 0)
		if len(a.CNAMEs) > 0 {
			row.Extra = append(row.Extra, "CNAME "+cleanList(a.CNAMEs, 0))
		}
		flags := "TTL " + strconv.FormatUint(uint64(a.TTL), 10)
		if a.Private {
			flags += ", private"
		}
		if a.Flipped {
			flags += ", flipped between public and private"
		}
		row.Extra = append(row.Extra, flags)
	case e.TLS != nil:
		x := e.TLS
		row.Kind, row.Source = "TLS ClientHello", clean(x.Source, 80)
		row.Client, row.Server = addr(x.Client.String(), x.Client.IsValid()), addr(x.Server.String(), x.Server.IsValid())
		row.What = "server name " + clean(x.SNI, cellRunes)
		if x.SNI == "" {
			row.What = "no server name"
		}
		if len(x.ALPN) > 0 {
			row.Extra = append(row.Extra, "ALPN "+cleanList(x.ALPN, 0))
		}
	}
	return row
}

func keyRows(keys []detect.KeyStat) ([]tableRow, string) {
	var out []tableRow
	for i, k := range keys {
		if i == topRows {
			break
		}
		out = append(out, tableRow{Value: clean(k.Key, 40), Cells: []string{num(k.Requests), fmt.Sprintf("%.0f", k.PeakRate),
			strconv.Itoa(k.Hosts), strconv.Itoa(k.Clients), strconv.Itoa(k.Origins), stamp(k.FirstSeen), stamp(k.LastSeen)},
			Flag: cleanList(k.Fired, 0), FlagClass: flagClass(len(k.Fired) > 0)})
	}
	return out, more(len(keys), "keys")
}

func valueRows(vals []detect.ValueStat, what string) ([]tableRow, string) {
	var out []tableRow
	for i, v := range vals {
		if i == topRows {
			break
		}
		row := tableRow{Value: clean(v.Value, cellRunes), Cells: []string{num(v.Requests), strconv.Itoa(v.Keys), stamp(v.LastSeen)},
			Flag: "allowed", FlagClass: "ok"}
		if !v.Allowed {
			row.Flag, row.FlagClass = "not allowed", "bad"
		}
		if v.FromReferer {
			row.Flag += " (Referer only)"
		}
		if why, latin := sanitize.LookAlike(v.Value); why != "" {
			row.LookAlike = "passes for " + clean(latin, cellRunes) + " (" + why + ")"
		}
		out = append(out, row)
	}
	return out, more(len(vals), what+" values")
}

// more says how many rows a top table leaves out.
func more(n int, what string) string {
	if n <= topRows {
		return ""
	}
	return fmt.Sprintf("the %d with the most requests of %d %s tracked (the dashboard and --emit request have the rest)", topRows, n, what)
}

func (v *view) problems(s *detect.Snapshot) {
	for i, p := range s.Problems {
		if i == problemsShown {
			break
		}
		v.Problems = append(v.Problems, problemRow{Source: clean(p.Source, 80), Where: clean(p.Where, 80), Text: clean(p.Text, evidenceRunes)})
	}
	if s.ParseErrors > uint64(len(v.Problems)) {
		v.ProblemsNote = fmt.Sprintf("%d inputs did not parse; the first %d are shown", s.ParseErrors, len(v.Problems))
	}
	for _, p := range s.Notes {
		v.Notes = append(v.Notes, problemRow{Source: clean(p.Source, 80), Text: clean(p.Text, evidenceRunes)})
	}
}

func flagClass(bad bool) string {
	if bad {
		return "bad"
	}
	return ""
}

// clean makes s safe to show: sanitised (escapes for control characters,
// bidi and invisible runes, invalid UTF-8) and cut to max runes, saying how
// much was cut. keep lists characters that stay as they are (a newline in
// the config's text).
func clean(s string, max int, keep ...string) string {
	if len(keep) > 0 {
		parts := strings.Split(s, keep[0])
		for i, p := range parts {
			parts[i] = clean(p, max)
		}
		return strings.Join(parts, keep[0])
	}
	c := sanitize.String(s)
	if utf8.RuneCountInString(c) <= max {
		return c
	}
	cut, n := 0, 0
	for i := range c {
		if n == max {
			cut = i
			break
		}
		n++
	}
	return c[:cut] + fmt.Sprintf("… (%d bytes in all)", len(s))
}

// cleanList joins values, each cleaned; max 0 shows them all.
func cleanList(vals []string, max int) string {
	out := make([]string, 0, len(vals))
	for i, v := range vals {
		if max > 0 && i == max {
			out = append(out, fmt.Sprintf("and %d more", len(vals)-max))
			break
		}
		out = append(out, clean(v, cellRunes))
	}
	return strings.Join(out, ", ")
}

// list joins names already cleaned, the first max of them.
func list(names []string, max int) string {
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}

func addr(s string, ok bool) string {
	if !ok {
		return ""
	}
	return clean(s, 60)
}

// stamp writes an event time: UTC, microseconds, as the JSON lines do.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func num(n uint64) string { return strconv.FormatUint(n, 10) }
