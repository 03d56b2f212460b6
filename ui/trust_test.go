package ui

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// Tests for "Alerts an operator can trust" and "What the operator sees
// must be true": each would fail on the dashboard before them.

// paneText renders one pane alone, stripped.
func paneText(m Model, p paneID, w, h int) string {
	return ansi.Strip(m.panes[p].render(m.ctx, w, h, p == m.focus, m.view.now()))
}

// headerText renders the header alone, stripped.
func headerText(m Model, w int) string {
	hd := m.header()
	return ansi.Strip(strings.Join(hd.lines(w, 20), "\n"))
}

// TestZeroConfigSaysChecksOff: without an allowlist the header says the
// Host and Origin checks are off, and points to the proposal; the quiet
// incident list says why it is quiet.
func TestZeroConfigSaysChecksOff(t *testing.T) {
	m := newTestModel(t, backendFor(zeroConfigSnapshot()), 140, 40, live(), withProposal(demoProposal))
	h := headerText(m, 140)
	for _, want := range []string{"Host and Origin checks are OFF: no allowlist", "p proposes one", "--suggest-config"} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	s := zeroConfigSnapshot()
	s.Alerts, s.Incidents = nil, nil
	m = newTestModel(t, backendFor(s), 80, 24, live(), withProposal(demoProposal))
	if got := paneText(m, paneAlerts, 80, 6); !strings.Contains(got, "p proposes an allowlist") || !strings.Contains(got, "--suggest-") {
		t.Errorf("the empty list gives no first-run hint:\n%s", got)
	}
	// With an allowlist for Hosts only, the Origin check says so alone.
	s = demoSnapshot()
	s.OriginCheck = "off: no allowed origins configured ([origins] allowed or --allow-origin)"
	m = newTestModel(t, backendFor(s), 100, 30)
	if h := headerText(m, 100); !strings.Contains(h, "Origin check is OFF: no allowed origins configured") || strings.Contains(h, "Host and Origin") {
		t.Errorf("header:\n%s", h)
	}
	// Origins are not "foreign" while nothing checks them.
	if got := paneText(newTestModel(t, backendFor(zeroConfigSnapshot()), 80, 24), paneOrigins, 80, 8); strings.Contains(got, "foreign") ||
		!strings.Contains(got, "no check") {
		t.Errorf("origins with the check off:\n%s", got)
	}
}

// TestRefererOriginsListedAndAllowed: an origin seen only in Referers is
// listed, marked, and `a` allows it like any origin.
func TestRefererOriginsListedAndAllowed(t *testing.T) {
	b := backendFor(zeroConfigSnapshot())
	m := newTestModel(t, b, 80, 24)
	m, _ = press(t, m, "4", "G")
	if got := stripped(t, m); !strings.Contains(got, "https://docs.example.org (Referer)") {
		t.Fatalf("the Referer-only origin is not marked:\n%s", got)
	}
	m, _ = press(t, m, "a")
	if want := [][2]string{{"origin", "https://docs.example.org"}}; !reflect.DeepEqual(b.allowed, want) {
		t.Errorf("Allow calls %v, want %v", b.allowed, want)
	}
	if m, _ = press(t, m, "/", "r", "e", "f"); len(m.panes[paneOrigins].(*tablePane[valueRow]).shown) != 1 {
		t.Errorf("/ref does not find the Referer-only origin")
	}
}

// TestBlindLogSaysWhy: on a combined log with --allow-host, the header
// does not pretend the Host check is on, and each pane that needs a field
// the log lacks says so and how to get a log that has it.
func TestBlindLogSaysWhy(t *testing.T) {
	s := blindSnapshot()
	if s.HostCheck != "" || len(s.AllowedHosts) == 0 {
		t.Fatal("the fixture must have an allowlist (the engine's Host check is on)")
	}
	m := newTestModel(t, backendFor(s), 80, 24, live())
	h := headerText(m, 80)
	for _, want := range []string{"Host check is OFF: access.log has no Host field", "burst and spread are OFF: access.log has no key field"} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	for _, c := range []struct {
		p     paneID
		field string
	}{{paneHosts, "Host"}, {paneOrigins, "Origin"}, {paneKeys, "key"}} {
		got := paneText(m, c.p, 80, 6)
		if !strings.Contains(got, "this log has no "+c.field+" field") || !strings.Contains(got, "--print-log-config nginx") ||
			strings.Contains(got, "seen yet") {
			t.Errorf("pane %d:\n%s", c.p+1, got)
		}
	}
	// A second source that can see the Host: the pane fills from it, the
	// header names the blind one.
	s.Sources = append(s.Sources, detect.SourceStatus{Name: "caddy.log", State: detect.StateFollowing, Off: []string{}, Blind: []detect.Blind{}})
	m = newTestModel(t, backendFor(s), 100, 30, live())
	if h := headerText(m, 100); !strings.Contains(h, "Host check is OFF: for access.log has no Host field") {
		t.Errorf("header with one blind source of two:\n%s", h)
	}
	if got := paneText(m, paneHosts, 80, 6); !strings.Contains(got, "none seen yet") {
		t.Errorf("hosts pane with a source that sees Hosts:\n%s", got)
	}
}

// TestIncidentsPane: one line per incident with its highest severity, its
// detectors as tags, the outcome, the subject, an absolute time and age.
func TestIncidentsPane(t *testing.T) {
	m := newTestModel(t, demoBackend(), 80, 24)
	got := paneText(m, paneAlerts, 80, 6)
	for _, want := range []string{"DETECTORS", "OUTCOME", "TIME", "LAST",
		"■ CRIT  host served origin dns  served   evil.rebind.test    ×34  21:00:30    0s"} {
		if !strings.Contains(got, want) {
			t.Errorf("incidents pane lacks %q:\n%s", want, got)
		}
	}
	if n := len(incidentsOf(m).shown); n != len(demoSnapshot().Incidents) {
		t.Errorf("%d rows for %d incidents", n, len(demoSnapshot().Incidents))
	}
}

// TestIncidentDetail: enter shows the incident's alerts and one evidence
// timeline in time order (DNS answers, then the requests with status),
// without blank rows; a rebinding service's tool and decoded addresses;
// a stuffing client's keys and refusals.
func TestIncidentDetail(t *testing.T) {
	m := newTestModel(t, demoBackend(), 140, 40)
	m, _ = press(t, m, "j", "j", "enter")
	body := strings.Join(detailLines(m), "\n")
	plain := ansi.Strip(body)
	order := []string{"Alerts — 4 alerts", "dns/rebind", "origin", "host/rebind", "served",
		"Evidence — 2 DNS answers, 2 requests", "→ 203.0.113.66 ttl 1s", "→ 127.0.0.1 ttl 1s private flipped", "/api/v1/users", "/admin/export"}
	at := 0
	for _, w := range order {
		i := strings.Index(plain[at:], w)
		if i < 0 {
			t.Fatalf("incident detail lacks %q after byte %d:\n%s", w, at, plain)
		}
		at += i + len(w)
	}
	if strings.Contains(plain, "(no Host)") {
		t.Errorf("a blank evidence row:\n%s", plain)
	}

	m = newTestModel(t, backendFor(serviceSnapshot()), 140, 40)
	m, _ = press(t, m, "enter")
	if got := ansi.Strip(strings.Join(detailLines(m), "\n")); !strings.Contains(got, "service    rbndr — its name carries 127.0.0.1, 192.168.1.50") ||
		!strings.Contains(got, "granted: the server allowed the private-network request") {
		t.Errorf("rebinding-service incident:\n%s", got)
	}
	m, _ = press(t, m, "esc", "j", "enter")
	if got := ansi.Strip(strings.Join(detailLines(m), "\n")); !strings.Contains(got, "203.0.113.66 presented 14 distinct keys, 12 refused (401/403)") {
		t.Errorf("key stuffing incident:\n%s", got)
	}
}

// TestDNSAlertEvidenceNoBlankRows: a DNS alert's evidence is its answers
// and the real requests, never a "(no Host)" row made of nothing.
func TestDNSAlertEvidenceNoBlankRows(t *testing.T) {
	m := newTestModel(t, demoBackend(), 140, 40)
	m, _ = press(t, m, "v", "G", "k", "enter")
	if m.detail.alert.Detector != detect.DetDNSRebind {
		t.Fatalf("opened %s", m.detail.alert.Detector)
	}
	got := ansi.Strip(strings.Join(detailLines(m), "\n"))
	if strings.Contains(got, "(no Host)") || !strings.Contains(got, "2 DNS answers, 1 request") {
		t.Errorf("DNS alert evidence:\n%s", got)
	}
}

// TestDetectorLabels: every detector has a label, a tag, a unique letter
// and help; the help screen explains each label, the Host classes too.
func TestDetectorLabels(t *testing.T) {
	letters := map[string]string{}
	for _, d := range detect.Detectors {
		if !knownDetector(d) {
			t.Errorf("detector %s has no label", d)
			continue
		}
		i := infoOf(d)
		if i.label == "" || i.tag == "" || i.letter == "" || i.help == "" {
			t.Errorf("%s: %+v", d, i)
		}
		if o, ok := letters[i.letter]; ok {
			t.Errorf("%s and %s share the letter %s", d, o, i.letter)
		}
		letters[i.letter] = d
	}
	m := newTestModel(t, demoBackend(), 100, 60)
	m, _ = press(t, m, "?")
	help := strings.Join(strings.Fields(ansi.Strip(strings.Join(m.help.lines(m.ctx, 100), "\n"))), " ")
	for _, want := range []string{"served", "host/foreign", "host/rebind", "host/service", "host/scan", "dns/rebind", "pna", "stuffing",
		"spread/client", "look Latin", "punycode", "(Referer)", "AGE↓: oldest first"} {
		if !strings.Contains(help, want) {
			t.Errorf("the help does not explain %q", want)
		}
	}
	a := detect.Alert{Detector: detect.DetUnexpectedHost, Class: detect.ClassRebindingService}
	if got := detLabel(&a); got != "host/service" {
		t.Errorf("rebinding-service Host alert labelled %q", got)
	}
}

// TestKeysKeepOriginsAt140: with ten detectors the FLAGS column shows only
// those that fired, so ORIGINS stays in the grid at 140 columns.
func TestKeysKeepOriginsAt140(t *testing.T) {
	m := newTestModel(t, demoBackend(), 140, 40)
	got := stripped(t, m)
	if !strings.Contains(got, "ORIGINS") || !strings.Contains(got, "FLAGS") || !strings.Contains(got, " HAOBS") {
		t.Errorf("keys pane at 140x40:\n%s", got)
	}
	if f := flags(append(slices.Clone(detect.Detectors), "newer_detector")); f != "HAOBSPRTNKN" {
		t.Errorf("flags of every detector: %q", f)
	}
	if f := flags(nil); f != "·" {
		t.Errorf("no flags: %q", f)
	}
}

// TestHostCellsKeepTheirEnds: two origins that share a long prefix read
// differently in a narrow cell; the registrable domain and port stay.
func TestHostCellsKeepTheirEnds(t *testing.T) {
	a, b := "https://app.example.test:8443", "https://app.example.test.evil.net"
	for w := 12; w <= 30; w++ {
		ca, cb := showHost(a).cut(w), showHost(b).cut(w)
		if width(ca) > w || width(cb) > w {
			t.Fatalf("%d: %q %q wider than the cell", w, ca, cb)
		}
		if ca == cb || !strings.HasSuffix(ca, "test:8443") || !strings.HasSuffix(cb, "evil.net") {
			t.Errorf("%d: %q and %q", w, ca, cb)
		}
	}
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"https://app.example.test:8443", 30, "https://app.example.test:8443"},
		{"https://app.example.test:8443", 27, "…app.example.test:8443"},
		{"https://app.example.test:8443", 22, "…app.example.test:8443"},
		{"https://app.example.test:8443", 20, "…p.example.test:8443"},
		{"https://app.example.test.evil.net", 20, "https://app…evil.net"},
		{"evil.rebind.test:8080", 16, "…ebind.test:8080"},
		{"eu.api.rebind.test", 16, "eu.a…rebind.test"},
		{"192.168.1.50:8080", 12, "…8.1.50:8080"},
		{"api.example.com", 15, "api.example.com"},
		{"ap.api.rebind.test:8080", 19, "ap…rebind.test:8080"},
		{"us.api.rebind.test:8080", 19, "us…rebind.test:8080"},
		{"paypal.com.evil-domain.com:8080", 16, "…domain.com:8080"},
	} {
		if got := elideHost(c.in, c.w); got != c.want {
			t.Errorf("elideHost(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}

// TestLookAlikesMarked: mixed-script and confusable names show as their
// punycode with a mark in the tables; the detail says what they pass for;
// foreign Hosts are marked in the Requests pane.
func TestLookAlikesMarked(t *testing.T) {
	m := newTestModel(t, backendFor(lookalikeSnapshot()), 140, 40)
	hosts := paneText(m, paneHosts, 60, 8)
	for _, want := range []string{"⚠ xn--pypal-4ve.example.com", "⚠ xn--80ak6aa92e.com:8443"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts pane lacks %q:\n%s", want, hosts)
		}
	}
	if strings.Contains(hosts, "pаypal") {
		t.Errorf("the look-alike shows as itself:\n%s", hosts)
	}
	reqs := paneText(m, paneRequests, 120, 6)
	if !strings.Contains(reqs, "✗ app.example.te") || !strings.Contains(reqs, "evil.net") || strings.Contains(reqs, "✗ app.example.test:8443") {
		t.Errorf("foreign Hosts not marked (or allowed ones marked):\n%s", reqs)
	}
	m, _ = press(t, m, "5", "j", "j", "enter")
	if got := ansi.Strip(strings.Join(detailLines(m), "\n")); !strings.Contains(got, "⚠ mixed scripts: Latin and Cyrillic: looks like paypal.example.com, is xn--pypal-4ve.example.com") {
		t.Errorf("request detail:\n%s", got)
	}
}

// TestMalformedRequestMarked: a request whose request line was read
// leniently (HTTP/0.9, a bad version) is marked in the Requests pane, the
// filter finds it by "malformed", and its detail says why.
func TestMalformedRequestMarked(t *testing.T) {
	s := demoSnapshot()
	r := fxRequest(time.Second, "10.0.0.9:40000", "GET", "", "/index.html", "", "", 0)
	r.Proto, r.Malformed = "HTTP/0.9", "no_version"
	s.Recent = append([]detect.Request{r}, s.Recent...)
	m := newTestModel(t, backendFor(s), 140, 40)
	reqs := paneText(m, paneRequests, 120, 6)
	if !strings.Contains(reqs, "≠ /index.html") {
		t.Errorf("malformed request not marked:\n%s", reqs)
	}
	if strings.Count(reqs, "≠") != 1 {
		t.Errorf("well-formed requests marked too:\n%s", reqs)
	}
	m, _ = press(t, m, "5", "g", "enter")
	if got := ansi.Strip(strings.Join(detailLines(m), "\n")); !strings.Contains(got, "≠ malformed: no_version") || !strings.Contains(got, "GET /index.html HTTP/0.9") {
		t.Errorf("request detail:\n%s", got)
	}
}

// TestLiveClock: a live view asks the engine for rates at the wall clock
// (a replay at event time), and a snapshot whose only change is the clock
// still moves ages and rates on screen.
func TestLiveClock(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24, live())
	before := time.Now()
	msg := m.fetch(0, false)().(snapMsg)
	if q := b.lastQuery(); q.Now.Before(before) || q.Now.After(time.Now()) || msg.snap.Now != q.Now {
		t.Errorf("live query Now %v, snapshot Now %v", q.Now, msg.snap.Now)
	}
	r := newTestModel(t, demoBackend(), 80, 24, withPacer(source.NewPacer(1)))
	if q := r.query(); !q.Now.IsZero() {
		t.Errorf("a replay asks for Now %v", q.Now)
	}

	m, _ = press(t, m, "2")
	s := b.Snapshot()
	s.Now = fxNow.Add(90 * time.Second) // no event since, the wall clock moved
	m = snap(t, m, s, wall0.Add(90*time.Second))
	if got := stripped(t, m); !strings.Contains(got, "21:02:40") || !regexp.MustCompile(`3f2a9c1b7d4e .* 1m +HAOBS`).MatchString(got) {
		t.Errorf("the clock did not move the screen:\n%s", got)
	}
}

// TestQueryFollowsPanes: the engine is asked for each table's rows in the
// pane's order and filter, so the rows are the top of the whole table.
func TestQueryFollowsPanes(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24)
	want := detect.Query{Keys: detect.TableQuery{Sort: "requests", Desc: true}, Hosts: detect.TableQuery{Sort: "requests", Desc: true},
		Origins: detect.TableQuery{Sort: "requests", Desc: true}}
	if q := b.lastQuery(); !sameTables(q, want) || q.Span != time.Minute || q.Buckets != 20 {
		t.Errorf("first query %+v, want %+v", q, want)
	}
	for _, c := range []struct {
		keys []string
		get  func(q detect.Query) detect.TableQuery
		want detect.TableQuery
	}{
		{[]string{"2", "s"}, func(q detect.Query) detect.TableQuery { return q.Keys }, detect.TableQuery{Sort: "rate", Desc: true}},
		{[]string{"2", "S"}, func(q detect.Query) detect.TableQuery { return q.Keys }, detect.TableQuery{Sort: "requests"}},
		{[]string{"2", "/", "3", "f"}, func(q detect.Query) detect.TableQuery { return q.Keys }, detect.TableQuery{Sort: "requests", Desc: true, Filter: "3f"}},
		// A label is matched by the detectors it names.
		{[]string{"2", "/", "d", "n", "s", "/", "r", "e", "b"}, func(q detect.Query) detect.TableQuery { return q.Keys },
			detect.TableQuery{Sort: "requests", Desc: true, Filter: "dns/reb", Detectors: []string{detect.DetDNSRebind}}},
		{[]string{"2", "/", "/"}, func(q detect.Query) detect.TableQuery { return q.Keys }, detect.TableQuery{Sort: "requests", Desc: true,
			Filter: "/", Detectors: []string{detect.DetDNSPrivateAnswer, detect.DetDNSRebind, detect.DetUnexpectedSNI}}},
		// LAST↑ is youngest first: the engine's "last", newest first.
		{[]string{"3", "s", "s", "s"}, func(q detect.Query) detect.TableQuery { return q.Hosts }, detect.TableQuery{Sort: "last", Desc: true}},
		{[]string{"3", "/", "e", "v", "i", "l"}, func(q detect.Query) detect.TableQuery { return q.Hosts }, detect.TableQuery{Sort: "requests", Desc: true, Filter: "evil"}},
		{[]string{"3", "/", "f", "o", "r"}, func(q detect.Query) detect.TableQuery { return q.Hosts }, detect.TableQuery{Sort: "requests", Desc: true}},
		{[]string{"4", "/", "x", "n", "-", "-"}, func(q detect.Query) detect.TableQuery { return q.Origins }, detect.TableQuery{Sort: "requests", Desc: true}},
	} {
		mm, _ := press(t, m, c.keys...)
		if got := c.get(b.lastQuery()); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: query %+v, want %+v", c.keys, got, c.want)
		}
		_ = mm
	}
}

// TestRealEngineTopRows: against the engine, the keys pane shows the
// busiest key even when it is the least recently seen and the table holds
// more keys than a snapshot's row cap.
func TestRealEngineTopRows(t *testing.T) {
	cfg := detect.DefaultConfig()
	cfg.Limits.Rows = 3
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []detect.Request
	for i := range 50 { // the busy key, early
		reqs = append(reqs, fxRequest(time.Duration(600-i)*time.Second, "10.0.0.1:1", "GET", "api.example.com", "/", "", "0000000000aa", 200))
	}
	for i := range 10 { // ten quieter keys, later
		reqs = append(reqs, fxRequest(time.Duration(10-i)*time.Second, "10.0.0.2:1", "GET", "api.example.com", "/", "", fmt.Sprintf("%012x", i+1), 200))
	}
	if err := e.Observe(&detect.Batch{Source: "test", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
	m := upd(t, New(Options{Backend: e}), tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = drain(t, m, m.fetch(0, false))
	if k := keysOf(m); len(k.shown) != 3 || k.shown[0].Key != "0000000000aa" {
		t.Errorf("keys shown %d, first %+v", len(k.shown), k.shown[0])
	}
	// The engine's default (most recently seen) would not have it.
	if s := e.Snapshot(); slices.ContainsFunc(s.Keys, func(k detect.KeyStat) bool { return k.Key == "0000000000aa" }) {
		t.Errorf("the fixture does not show the difference")
	}
}

// TestEvictionsShownAt80: the header keeps the evictions at 80 columns,
// cutting the per-detector counts instead; large totals read with
// thousands separators.
func TestEvictionsShownAt80(t *testing.T) {
	s := warningSnapshot()
	s.AlertsByDetector[detect.DetUnexpectedHost] = 5020
	m := newTestModel(t, backendFor(s), 80, 24)
	h := headerText(m, 80)
	if !strings.Contains(h, "evicted hosts 3, keys 1,200") || !strings.Contains(h, "alerts 5,026") {
		t.Errorf("header at 80:\n%s", h)
	}
}

// TestHeaderSourcesNotCut: a source's note (the log format chosen) shows
// whole at 80 and 100 columns, on its own line when the first is full.
func TestHeaderSourcesNotCut(t *testing.T) {
	s := demoSnapshot()
	s.Sources = []detect.SourceStatus{{Name: "/var/log/app/flask.log", State: detect.StateFollowing, Off: []string{},
		Note: "format: werkzeug (auto-detected)"}}
	for _, w := range []int{80, 100} {
		m := newTestModel(t, backendFor(s), w, 30, live(), func(o *Options) { o.Title = "rebindwatch — /var/log/app/flask.log" })
		if h := headerText(m, w); !strings.Contains(h, "flask.log following (format: werkzeug (auto-detected))") {
			t.Errorf("%d columns:\n%s", w, h)
		}
		hd := m.header()
		if got, want := len(hd.lines(w, 15)), hd.height(15); got != want {
			t.Errorf("%d columns: %d lines, %d counted", w, got, want)
		}
	}
}

// TestFilterMatchesLabels: the filter finds an alert by the label shown as
// well as by the detector's JSON name.
func TestFilterMatchesLabels(t *testing.T) {
	for _, f := range []string{"dns/rebind", "dns_rebind", "host/rebind", "spread/host"} {
		m := newTestModel(t, demoBackend(), 80, 24)
		keys := append([]string{"v", "/"}, strings.Split(f, "")...)
		m, _ = press(t, m, keys...)
		if n := len(alertsOf(m).shown); n != 1 {
			t.Errorf("/%s finds %d alerts, want 1", f, n)
		}
	}
	m := newTestModel(t, demoBackend(), 80, 24)
	m, _ = press(t, m, "/", "d", "n", "s")
	if n := len(incidentsOf(m).shown); n != 1 {
		t.Errorf("/dns finds %d incidents, want 1", n)
	}
}

// TestKeyDetailOriginsWithoutCounts: the engine keeps a key's origins
// without counts; the detail lists them without a column of zeros.
func TestKeyDetailOriginsWithoutCounts(t *testing.T) {
	m := newTestModel(t, demoBackend(), 140, 40)
	m, _ = press(t, m, "2", "enter")
	for _, l := range detailLines(m) {
		l = ansi.Strip(l)
		if i := strings.Index(l, "http://7f000001"); i >= 0 && strings.HasSuffix(strings.TrimSpace(l), " 0") {
			t.Errorf("origin with a zero count: %q", l)
		}
	}
}

// TestAllowMarksEveryRowOfIt: `a` on a Host alert marks its served twin
// too (the engine marks only the Host alert), and allowing a name without
// a port says it allows every port.
func TestAllowMarksEveryRowOfIt(t *testing.T) {
	s := demoSnapshot()
	s.AllowedHosts = append(s.AllowedHosts, "evil.rebind.test")
	for i := range s.Alerts {
		if s.Alerts[i].Detector == detect.DetUnexpectedHost && s.Alerts[i].Subject == "evil.rebind.test" {
			s.Alerts[i].Allowed = true // what the engine's Allow marks
		}
	}
	m := newTestModel(t, backendFor(s), 140, 40)
	m, _ = press(t, m, "v")
	for _, a := range alertsOf(m).shown {
		if a.Subject == "evil.rebind.test" && allowKindOf(a.Detector) == "host" && !a.allowed {
			t.Errorf("%s alert on an allowed Host not marked", a.Detector)
		}
	}

	s = demoSnapshot()
	s.Hosts = append(s.Hosts, detect.ValueStat{Value: "localhost", Requests: 3, LastSeen: fxNow}, detect.ValueStat{Value: "localhost:8080", Requests: 2, LastSeen: fxNow})
	b := backendFor(s)
	m = newTestModel(t, b, 80, 24)
	m, _ = press(t, m, "3", "/", "l", "o", "c", "a", "l", "h", "o", "s", "t", "enter")
	for m.panes[paneHosts].(*tablePane[valueRow]).shown[m.panes[paneHosts].(*tablePane[valueRow]).cursor].Value != "localhost" {
		m, _ = press(t, m, "j")
	}
	m, _ = press(t, m, "a")
	if !strings.Contains(m.flash, "allowed host localhost on any port, so also localhost:5000, localhost:8080") {
		t.Errorf("flash %q", m.flash)
	}
}

// TestAgeSortsByTime: AGE↓ puts the oldest first, AGE↑ the youngest, by
// time, not by the text of the age.
func TestAgeSortsByTime(t *testing.T) {
	s := demoSnapshot()
	s.Alerts[0].Time = fxNow.Add(-14 * time.Second)
	s.Alerts[1].Time = fxNow.Add(-2 * time.Minute) // "2m" sorts before "14s" as text
	m := newTestModel(t, backendFor(s), 80, 24)
	m, _ = press(t, m, "v")
	for sortedBy(alertsOf(m)) != "AGE↑" {
		m, _ = press(t, m, "s")
	}
	a := alertsOf(m)
	for i := 1; i < len(a.shown); i++ {
		if a.shown[i].Time.After(a.shown[i-1].Time) {
			t.Fatalf("AGE↑ row %d is younger than row %d", i, i-1)
		}
	}
	m, _ = press(t, m, "S")
	if a := alertsOf(m); sortedBy(a) != "AGE↓" || a.shown[0].ID != 5 {
		t.Errorf("AGE↓ starts with alert %d, want the oldest, 2m ago (5)", a.shown[0].ID)
	}
}

// TestReplayToastGoesWhenDone: a pace message goes when the replay ends,
// and the pace keys then say the replay is over.
func TestReplayToastGoesWhenDone(t *testing.T) {
	b := demoBackend()
	m := newTestModel(t, b, 80, 24, withPacer(source.NewPacer(1)))
	m, _ = press(t, m, "+")
	if !strings.Contains(m.flash, "replay at") {
		t.Fatalf("flash %q", m.flash)
	}
	msg := tickMsg(m, b.Snapshot(), wall0.Add(time.Second))
	msg.done = true
	m = upd(t, m, msg)
	if m.flash != "" {
		t.Errorf("after DONE the flash still says %q", m.flash)
	}
	for _, k := range []string{"+", "-", ".", "space"} {
		if m2, _ := press(t, m, k); !strings.Contains(m2.flash, "the replay has finished") {
			t.Errorf("%s after DONE: %q", k, m2.flash)
		}
	}
}

// TestStepOneSecond: each . moves the clock on screen by exactly one
// second of event time, whatever the events.
func TestStepOneSecond(t *testing.T) {
	b := demoBackend()
	p := source.NewPacer(1)
	m := newTestModel(t, b, 80, 24, withPacer(p))
	m, _ = press(t, m, "space", ".", ".")
	if q := m.query(); !q.Now.Equal(fxNow.Add(2 * time.Second)) {
		t.Errorf("query Now %v, want the event clock + 2 s", q.Now)
	}
	m, _ = drain(t, m, m.fetch(0, false))
	if got := stripped(t, m); !strings.Contains(got, "21:01:12") {
		t.Errorf("the clock did not move by 2 s:\n%s", got)
	}
	m, _ = press(t, m, "space")
	if !m.stepTo.IsZero() || !m.query().Now.IsZero() {
		t.Errorf("resuming keeps the step clock")
	}
}

// TestWriteSuggested: w in the Suggested view names the file, allows the
// proposed lines and writes them.
func TestWriteSuggested(t *testing.T) {
	b := backendFor(zeroConfigSnapshot())
	var wrote []string
	m := newTestModel(t, b, 80, 24, withProposal(demoProposal), withSave(func(path string, h, o []string) (string, error) {
		wrote = append(append([]string{path}, h...), o...)
		return path, nil
	}))
	m, _ = press(t, m, "p", "w")
	if got := stripped(t, m); !strings.Contains(got, "Allow and write 2 hosts and 1 origin to /tmp/rw.toml? [y/N]") {
		t.Fatalf("question:\n%s", got)
	}
	m, _ = press(t, m, "y")
	if want := []string{"/tmp/rw.toml", "api.example.com", "*.api.example.com", "https://app.example.com"}; !reflect.DeepEqual(wrote, want) {
		t.Errorf("wrote %v, want %v", wrote, want)
	}
	if len(b.allowed) != 3 || m.mode != modeDetail {
		t.Errorf("Allow calls %v, mode %d", b.allowed, m.mode)
	}
}

// TestSuggestedSelect: a line of the proposal can be selected and allowed
// by hand, and its reason shows whole under the table.
func TestSuggestedSelect(t *testing.T) {
	b := backendFor(zeroConfigSnapshot())
	m := newTestModel(t, b, 80, 24, withProposal(demoProposal))
	m, _ = press(t, m, "p", "j", "j", "j")
	got := ansi.Strip(strings.Join(detailLines(m), "\n"))
	if !strings.Contains(got, "↳ evil.rebind.test: a single key (the service's names are used by several); seen") || !strings.Contains(got, "port 8080") {
		t.Errorf("the selected line's reason:\n%s", got)
	}
	m, _ = press(t, m, "a")
	if want := [][2]string{{"host", "evil.rebind.test"}}; !reflect.DeepEqual(b.allowed, want) {
		t.Errorf("Allow calls %v", b.allowed)
	}
}

// TestHeaderShowsKafkaLag: a topic's partitions are one entry in the
// header, with their summed lag and the partition furthest behind, loud
// once detection falls far behind; one partition shows its own name.
func TestHeaderShowsKafkaLag(t *testing.T) {
	s := demoSnapshot()
	s.Sources = []detect.SourceStatus{
		{Name: "kafka:rebindwatch-requests/0", State: detect.StateFollowing, Lag: 120, HasLag: true},
		{Name: "kafka:rebindwatch-requests/1", State: detect.StateFollowing, Lag: 40_000, HasLag: true,
			Note: "per-key state starts cold after a rebalance"},
		{Name: "kafka:rebindwatch-requests/2", State: detect.StateFollowing, Lag: 0, HasLag: true},
		{Name: "kafka:access-logs/5", State: detect.StateFollowing, Lag: 7, HasLag: true},
	}
	m := newTestModel(t, backendFor(s), 200, 40, live())
	h := headerText(m, 200)
	for _, want := range []string{
		"kafka:rebindwatch-requests 3 partitions following lag 40,120 (most: p1 40,000) (per-key state starts cold",
		"kafka:access-logs/5 following lag 7",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if strings.Count(h, "kafka:rebindwatch-requests") != 1 {
		t.Errorf("a topic's partitions are listed one by one:\n%s", h)
	}
	hd := m.header()
	if got, want := len(hd.lines(200, 20)), hd.height(20); got != want {
		t.Errorf("%d lines, %d counted", got, want)
	}
}

// TestHeaderShowsRatesBySource: with requests from several sources (a
// fleet's web servers), the rate line names the busiest with their rates,
// as far as the width allows, and no header line outgrows the terminal.
func TestHeaderShowsRatesBySource(t *testing.T) {
	s := demoSnapshot()
	s.SourceRates = []detect.SourceRate{{Source: "web-2.eu", Rate: 120}, {Source: "/var/log/nginx/web-1.log", Rate: 80}}
	m := newTestModel(t, backendFor(s), 160, 40, live())
	if h := headerText(m, 160); !strings.Contains(h, "by source web-2.eu 120, web-1.log 80") {
		t.Errorf("the rate line lacks the sources' rates:\n%s", h)
	}
	for _, w := range []int{80, 60} {
		m := newTestModel(t, backendFor(s), w, 24, live())
		for _, l := range strings.Split(headerText(m, w), "\n") {
			if ansi.StringWidth(l) > w {
				t.Errorf("%d columns: a header line is %d wide: %q", w, ansi.StringWidth(l), l)
			}
		}
	}
}

// TestAllowRefusedHostAgainstEngine: a and w against the engine on values
// no allowlist entry can hold or match as sent (a Host with a quote, a Host
// in raw UTF-8, an Origin with a quote): a says it did not allow them and
// why, the value stays foreign, and w has nothing to write. An ordinary
// Host beside them is allowed and written.
func TestAllowRefusedHostAgainstEngine(t *testing.T) {
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []detect.Request{
		fxRequest(3*time.Second, "10.0.0.2:1", "GET", `evil"x.test`, "/", `https://evil"o.test`, "0000000000aa", 200),
		fxRequest(2*time.Second, "10.0.0.3:1", "GET", "bücher.example", "/", "", "0000000000bb", 200),
		fxRequest(1*time.Second, "10.0.0.4:1", "GET", "plain.test", "/", "", "0000000000cc", 200),
	}
	if err := e.Observe(&detect.Batch{Source: "test", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
	var saved [][]string
	m := newTestModel(t, e, 140, 40, withSave(func(path string, h, o []string) (string, error) {
		saved = append(saved, h, o)
		return path, nil
	}))
	m0 := m
	allow := func(pane, value string) Model {
		t.Helper()
		mp, _ := press(t, m0, pane, "/")
		for _, r := range value {
			mp, _ = press(t, mp, string(r))
		}
		mp, _ = press(t, mp, "enter", "a")
		return mp
	}
	for _, c := range []struct{ pane, value, host string }{
		{"3", `evil"x`, `evil"x.test`},
		{"3", "cher.example", "bücher.example"},
		{"4", `evil"o`, `https://evil"o.test`},
	} {
		if ma := allow(c.pane, c.value); !strings.HasPrefix(ma.flash, "not allowed: ") {
			t.Errorf("a on %q: flash %q, want the refusal", c.host, ma.flash)
		}
	}
	s := e.Snapshot()
	for _, v := range append(s.Hosts, s.Origins...) {
		if v.Allowed && v.Value != "plain.test" {
			t.Errorf("%q is shown allowed after a refused a", v.Value)
		}
	}
	m = allow("3", "plain")
	if !strings.HasPrefix(m.flash, "allowed host plain.test") {
		t.Fatalf("a on plain.test: flash %q", m.flash)
	}
	m, _ = press(t, m, "esc", "w", "y")
	if len(saved) != 2 || fmt.Sprint(saved[0]) != "[plain.test]" || len(saved[1]) != 0 {
		t.Errorf("w wrote %q, want only plain.test", saved)
	}
}

// TestAdoptSaysWhatWasRefused: A adopts the proposal; a line the backend
// refuses is named in the flash instead of being counted as adopted in
// silence.
func TestAdoptSaysWhatWasRefused(t *testing.T) {
	b := backendFor(zeroConfigSnapshot())
	m := newTestModel(t, b, 100, 30, live(), withProposal(func() Proposal {
		p := demoProposal()
		p.Hosts = append(p.Hosts, ProposalEntry{Value: `bad"host.test`, Proposed: true, Requests: 5})
		return p
	}))
	m, _ = press(t, m, "p", "A")
	if !strings.Contains(m.flash, "1 value not allowed: ") || !strings.Contains(m.flash, `bad\"host.test`) {
		t.Errorf("flash %q does not name the refused line", m.flash)
	}
}

// TestReloadNoteIsShown: a SIGHUP reload (or its refusal) is said on the
// dashboard once, when it is new: the engine's notes reach no stderr while
// the dashboard owns the terminal, so without the flash a reload under the
// dashboard went unsaid. A refusal is a warning; a note already shown is
// not shown again when the flash has gone.
func TestReloadNoteIsShown(t *testing.T) {
	e, err := detect.NewEngine(detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := newTestModel(t, e, 120, 30)
	if m.flash != "" {
		t.Fatalf("flash %q before any note", m.flash)
	}
	e.Note("config", "config reloaded: allowed hosts +1 -0")
	m = snap(t, m, e.SnapshotFor(m.query()), wall0.Add(time.Second))
	if m.flash != "config: config reloaded: allowed hosts +1 -0" || m.warn {
		t.Errorf("after a reload: flash %q (warn %v)", m.flash, m.warn)
	}
	if !strings.Contains(stripped(t, m), "config reloaded: allowed hosts +1 -0") {
		t.Errorf("the screen does not show the reload:\n%s", stripped(t, m))
	}
	m = snap(t, m, e.SnapshotFor(m.query()), wall0.Add(2*time.Second))
	m = snap(t, m, e.SnapshotFor(m.query()), wall0.Add(2*time.Second+flashFor+time.Second))
	if m.flash != "" {
		t.Errorf("the reload is flashed again: %q", m.flash)
	}
	e.Note("config", "config reload refused, the old config stays: the new config has no hosts.allowed\x1b[31m")
	m = snap(t, m, e.SnapshotFor(m.query()), wall0.Add(10*time.Second))
	if !strings.HasPrefix(m.flash, "config: config reload refused") || !m.warn || strings.ContainsRune(m.flash, 0x1b) {
		t.Errorf("after a refusal: flash %q (warn %v)", m.flash, m.warn)
	}
	// Two reloads within one tick: both are shown, the newest first, and
	// a refusal among them makes it a warning.
	e.Note("config", "config reload refused, the old config stays: x")
	e.Note("config", "config reloaded: allowed hosts +0 -1")
	m = snap(t, m, e.SnapshotFor(m.query()), wall0.Add(20*time.Second))
	want := "config: config reloaded: allowed hosts +0 -1 · config: config reload refused, the old config stays: x"
	if m.flash != want || !m.warn {
		t.Errorf("after two reloads: flash %q (warn %v), want %q", m.flash, m.warn, want)
	}
}
