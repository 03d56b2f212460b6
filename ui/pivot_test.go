package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// engineBackend is a real engine fed a minute of traffic: the API's own
// keys on its name from two clients, and an attacker's key from 10.0.0.7
// under a rebinding name with its Origin, answered 200. Its recent ring
// keeps the last 60 requests, so pivots on older traffic are partial.
func engineBackend(t testing.TB) *detect.Engine {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.example.com"}
	cfg.AllowedOrigins = []string{"https://app.example.com"}
	cfg.Limits.Recent = 60
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []detect.Request
	for s := 59; s >= 0; s-- {
		d := time.Duration(s) * time.Second
		reqs = append(reqs,
			fxRequest(d+500*time.Millisecond, "10.0.0.9:40100", "GET", "api.example.com", "/api/v1/items", "https://app.example.com", fpApp, 200),
			fxRequest(d+200*time.Millisecond, "10.0.0.12:33000", "POST", "api.example.com", "/api/v1/orders", "", fpBatch, 201))
		if s >= 20 && s < 30 {
			host := "evil.rebind.test"
			if s%2 == 0 {
				host = "evil.rebind.test:8080"
			}
			reqs = append(reqs, fxRequest(d, "10.0.0.7:51234", "GET", host, "/admin/export", "http://evil.rebind.test", fpEvil, 200))
		}
	}
	// Time order, as a source delivers them.
	for i := 1; i < len(reqs); i++ {
		for j := i; j > 0 && reqs[j].Time.Before(reqs[j-1].Time); j-- {
			reqs[j], reqs[j-1] = reqs[j-1], reqs[j]
		}
	}
	if err := e.Observe(&detect.Batch{Source: "pcap", Requests: reqs}); err != nil {
		t.Fatal(err)
	}
	return e
}

// engineModel is a dashboard over the engine at w×h that has its first
// snapshot, then the keys pressed.
func engineModel(t testing.TB, w, h int, keys ...string) Model {
	t.Helper()
	e := engineBackend(t)
	m := upd(t, New(Options{Backend: e, Title: "rebindwatch — capture.pcap", Pacer: source.NewPacer(0), ConfigPath: "rebindwatch.toml"}),
		tea.WindowSizeMsg{Width: w, Height: h})
	m, _ = drain(t, m, m.fetch(0, false))
	m, _ = press(t, m, keys...)
	return m
}

// TestPivotNarrowsEveryPane: f on the attacker's key leaves, in every
// pane, only what was seen with it, and the header says so.
func TestPivotNarrowsEveryPane(t *testing.T) {
	m := engineModel(t, 140, 40)
	before := len(keysOf(m).shown)
	// The keys pane sorted by requests: the attacker's key is the last.
	m, _ = press(t, m, "2", "G", "f")
	if k := keysOf(m); len(k.shown) != 1 || k.shown[0].Key != fpEvil || before != 3 {
		t.Fatalf("keys under the pin: %d of %d", len(k.shown), before)
	}
	if h := hostsOf(m); len(h.shown) != 2 || !strings.HasPrefix(h.shown[0].Value, "evil.rebind.test") {
		t.Errorf("hosts under the pin: %+v", h.shown)
	}
	for _, r := range requestsOf(m).shown {
		if r.Key != fpEvil {
			t.Errorf("request of another key under the pin: %+v", r.Request)
		}
	}
	// The ring keeps the last 60 requests: 7 of the key's 10, and says so.
	if n, st := len(requestsOf(m).shown), requestsOf(m).status(); n != 7 || !strings.HasSuffix(st, "≈") {
		t.Errorf("requests under the pin: %d, %q", n, st)
	}
	if inc := incidentsOf(m).shown; len(inc) != 1 || !strings.Contains(inc[0].Subject, "evil.rebind.test") {
		t.Errorf("incidents under the pin: %d", len(inc))
	}
	head := headerText(m, 140)
	for _, want := range []string{"⚑ key 3f2a9c1b7d4e — F clears · backspace drops", " 10 of 130 requests", "alerts 5 of 5: host 2 served 2 origin 1"} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q:\n%s", want, head)
		}
	}
	m, _ = press(t, m, "F")
	if k := keysOf(m); len(k.shown) != 3 || strings.Contains(headerText(m, 140), "⚑") {
		t.Errorf("after F: %d keys\n%s", len(k.shown), headerText(m, 140))
	}
}

// TestPivotSaysWhenPartial: a client pinned after the ring has moved on:
// the Hosts seen with it are only known from the recent requests, and the
// pane says so rather than showing an empty table as if it were all.
func TestPivotSaysWhenPartial(t *testing.T) {
	m := engineModel(t, 80, 24, "5", "G", "f", "c")
	if p := m.pins(); len(p) != 1 || p[0].Kind != detect.PinClient {
		t.Fatalf("pins %+v", p)
	}
	m, _ = press(t, m, "3")
	got := stripped(t, m)
	// 10.0.0.12 never sent the attacker's Hosts, but only the recent
	// requests could tell: they are counted, not shown, and not hidden.
	if !strings.Contains(got, "3 Hosts 1 +2?") || !strings.Contains(got, "≈ 2 more Hosts may match: nothing but the recent requests ties these together,") || !strings.Contains(got, "only the last 60 requests are kept (from 21:00:43 on)") {
		t.Errorf("the hosts pane does not say its answer is partial:\n%s", got)
	}
}

// TestRangeNarrowsEveryPane: two marks on the timeline pin a range; the
// requests pane shows only that range.
func TestRangeNarrowsEveryPane(t *testing.T) {
	m := engineModel(t, 140, 40, "5")
	a := m.snap.Activity
	if len(a.Requests) != 30 || a.Step != 2*time.Second {
		t.Fatalf("timeline %d × %v", len(a.Requests), a.Step)
	}
	m, _ = press(t, m, "[", "[", "m", "[", "[", "m")
	r, ok := m.timeRange()
	if !ok || r.to.Sub(r.from) != 6*time.Second {
		t.Fatalf("range %+v", r)
	}
	for _, q := range requestsOf(m).shown {
		if q.Time.Before(r.from) || !q.Time.Before(r.to) {
			t.Errorf("request at %v outside %v–%v", q.Time, r.from, r.to)
		}
	}
	if n := len(requestsOf(m).shown); n != 12 {
		t.Errorf("%d requests in the range, want 2 a second", n)
	}
	if h := headerText(m, 140); !strings.Contains(h, "⚑ ⌚ "+clock(r.from)+"–"+clock(r.to)+" (6s)") || !strings.Contains(h, " 12 of 130 requests") {
		t.Errorf("header:\n%s", h)
	}
	m, _ = press(t, m, "backspace")
	if _, ok := m.timeRange(); ok || len(requestsOf(m).shown) != 60 {
		t.Errorf("backspace kept the range (%d requests)", len(requestsOf(m).shown))
	}
}

// TestMouse: a click selects a tab or a pane and a row, a second click on
// the row opens it, a click on a column title sorts by it, the wheel
// scrolls, a click on the timeline puts the cursor there; with NoMouse
// nothing happens.
func TestMouse(t *testing.T) {
	clickAt := func(t *testing.T, m Model, x, y int, at time.Time) Model {
		t.Helper()
		m.opts.Now = func() time.Time { return at }
		out, cmd := m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
		m, _ = drain(t, out.(Model), cmd)
		return m
	}
	t.Run("tabs_80x24", func(t *testing.T) {
		m := newTestModel(t, manyBackend(), 80, 24)
		tabsY := m.headerHeight()
		_, starts := m.tabs(80)
		m = clickAt(t, m, starts[2]+2, tabsY, wall0)
		if m.focus != paneHosts {
			t.Fatalf("click on tab 3: focus %d", m.focus)
		}
		m = clickAt(t, m, starts[0]+1, tabsY, wall0)
		// Row 3 of the incidents (the column header is the line under the tabs).
		m = clickAt(t, m, 5, tabsY+1+3, wall0)
		if c := incidentsOf(m).cursor; c != 2 || m.mode != modeNormal {
			t.Fatalf("click on the third row: cursor %d mode %d", c, m.mode)
		}
		m = clickAt(t, m, 5, tabsY+1+3, wall0.Add(200*time.Millisecond))
		if m.mode != modeDetail || m.detail.kind != detailIncident {
			t.Fatalf("double click: mode %d", m.mode)
		}
		m, _ = press(t, m, "esc")
		m = clickAt(t, m, 5, tabsY+1+3, wall0.Add(2*time.Second))
		if m.mode != modeNormal {
			t.Errorf("a click long after is not a double click")
		}
		// The wheel.
		out, _ := m.Update(tea.MouseWheelMsg{X: 5, Y: tabsY + 4, Button: tea.MouseWheelDown})
		if c := incidentsOf(out.(Model)).cursor; c != 2+wheelRows {
			t.Errorf("wheel down: cursor %d", c)
		}
		// A click on COUNT sorts by it, most first; again, least first.
		hdr := strings.Split(stripped(t, m), "\n")[tabsY+1]
		x := strings.Index(hdr, "COUNT")
		m = clickAt(t, m, x+1, tabsY+1, wall0.Add(3*time.Second))
		if got := sortedBy(incidentsOf(m)); got != "COUNT↓" {
			t.Errorf("click on COUNT: sorted by %q", got)
		}
		m = clickAt(t, m, x+1, tabsY+1, wall0.Add(4*time.Second))
		if got := sortedBy(incidentsOf(m)); got != "COUNT↑" {
			t.Errorf("second click on COUNT: sorted by %q", got)
		}
		// The timeline: its fifth cell.
		m = clickAt(t, m, timeLabel+4, 1, wall0.Add(5*time.Second))
		if m.cursor.IsZero() || m.snap.Activity.Bucket(m.cursor) != 4 {
			t.Errorf("click on the timeline: cursor %v", m.cursor)
		}
		m = clickAt(t, m, timeLabel+4, 1, wall0.Add(5100*time.Millisecond))
		if m.mark.IsZero() {
			t.Errorf("a double click on the timeline marks it")
		}
	})
	t.Run("grid_140x40", func(t *testing.T) {
		m := newTestModel(t, demoBackend(), 140, 40)
		regions, _ := m.regions()
		r := regions[paneOrigins]
		m = clickAt(t, m, r.x+3, r.y+2, wall0)
		if m.focus != paneOrigins || m.panes[paneOrigins].(*tablePane[valueRow]).cursor != 1 {
			t.Errorf("click in the origins box: focus %d", m.focus)
		}
		m = clickAt(t, m, r.x+3, r.y+2, wall0.Add(100*time.Millisecond))
		if m.focus != paneRequests || requestsOf(m).pinKind != "origin" {
			t.Errorf("double click on an origin: focus %d pin %q", m.focus, requestsOf(m).pinKind)
		}
		k := regions[paneKeys]
		m = clickAt(t, m, k.x+1, k.y+1, wall0.Add(time.Second))
		if m.focus != paneKeys || keysOf(m).cursor != 0 {
			t.Errorf("click in the keys box: focus %d", m.focus)
		}
	})
	t.Run("no_mouse", func(t *testing.T) {
		m := newTestModel(t, demoBackend(), 80, 24, func(o *Options) { o.NoMouse = true })
		if m.View().MouseMode != tea.MouseModeNone {
			t.Errorf("NoMouse still asks for the mouse")
		}
		out, _ := m.Update(tea.MouseClickMsg{X: 30, Y: m.headerHeight(), Button: tea.MouseLeft})
		if out.(Model).focus != paneAlerts {
			t.Errorf("a click acted with NoMouse")
		}
		if newTestModel(t, demoBackend(), 80, 24).View().MouseMode != tea.MouseModeCellMotion {
			t.Errorf("the mouse is not asked for")
		}
	})
}

// colourSGR matches a foreground or background colour in an SGR sequence.
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9]+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]`)

func manyBackend() *fakeBackend {
	b := demoBackend()
	b.setSnap(manySnapshot())
	return b
}

// TestExportNeutralisesFormulas: CSV cells a spreadsheet would run are
// prefixed; JSON keeps them as text; hostile bytes are escaped as on screen.
func TestExportNeutralisesFormulas(t *testing.T) {
	names := []string{"host", "target", "n"}
	rows := [][]any{{"=HYPERLINK(\"http://x\")", "+1", 3}, {"@SUM(A1)", "-2\x1b[31m", uint64(4)}, {"ok", "\tx", 1.5}}
	for i := range rows {
		if s, ok := rows[i][1].(string); ok {
			rows[i][1] = clean(s)
		}
	}
	dir := t.TempDir()
	path, err := writeExport(dir, "hosts", wall0, &exportFormats[1], names, rows)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A tab is escaped as on screen, so it no longer starts the cell.
	want := [][]string{{"host", "target", "n"}, {"'=HYPERLINK(\"http://x\")", "'+1", "3"}, {"'@SUM(A1)", `'-2\x1b[31m`, "4"}, {"ok", `\tx`, "1.5"}}
	if neutralise("\tx") != "'\tx" || neutralise("\r=1") != "'\r=1" || neutralise("a=1") != "a=1" {
		t.Errorf("neutralise")
	}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Errorf("csv %q\nwant %q", recs, want)
	}
	// A second export in the same second gets a file of its own.
	again, err := writeExport(dir, "hosts", wall0, &exportFormats[1], names, rows)
	if err != nil || again == path || filepath.Dir(again) != dir {
		t.Errorf("second export %q (%v)", again, err)
	}
}

// TestExportAllRowsUnderPins: an export writes every matching row of the
// engine's table, not the rows on screen, and only those under the pins.
func TestExportAllRowsUnderPins(t *testing.T) {
	dir := t.TempDir()
	e := engineBackend(t)
	m := upd(t, New(Options{Backend: e, ExportDir: dir, Now: func() time.Time { return wall0 }}), tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = drain(t, m, m.fetch(0, false))
	m, _ = press(t, m, "5")
	if n := len(requestsOf(m).shown); n != 60 {
		t.Fatalf("%d requests on screen", n)
	}
	m, _ = press(t, m, "e", "j")
	b, err := os.ReadFile(filepath.Join(dir, "rebindwatch-requests-20261126-220000.jsonl"))
	if err != nil {
		t.Fatal(err, m.flash)
	}
	if n := strings.Count(string(b), "\n"); n != 60 {
		t.Errorf("%d rows exported", n)
	}
	m, _ = press(t, m, "2", "G", "f", "5", "e", "c")
	b, err = os.ReadFile(filepath.Join(dir, "rebindwatch-requests-20261126-220000.csv"))
	if err != nil {
		t.Fatal(err, m.flash)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1+7 || !strings.HasPrefix(lines[0], "time,client,server,source,method,host,target,origin,key,status") ||
		strings.Count(string(b), fpEvil) != 7 {
		t.Errorf("export under the key pin:\n%s", b)
	}
}

// TestBackgroundColours: a light background gets the darker palette; the
// model keeps working, and NO_COLOR is unaffected.
func TestBackgroundColours(t *testing.T) {
	m := newTestModel(t, demoBackend(), 80, 24)
	dark := m.ctx.st.warn
	m = upd(t, m, tea.BackgroundColorMsg{Color: ansi.BasicColor(7)}) // white
	if m.ctx.st.dark || m.ctx.st.warn == dark {
		t.Errorf("a light background kept the dark palette")
	}
	m = upd(t, m, tea.BackgroundColorMsg{Color: ansi.BasicColor(0)})
	if !m.ctx.st.dark || m.ctx.st.warn != dark {
		t.Errorf("a dark background: %+v", m.ctx.st.warn)
	}
	screen(t, m)
	nc := newTestModel(t, demoBackend(), 80, 24, noColor())
	nc = upd(t, nc, tea.BackgroundColorMsg{Color: ansi.BasicColor(7)})
	if got := screen(t, nc); colourSGR.MatchString(got) {
		t.Errorf("NO_COLOR drew colours on a light background: %q", colourSGR.FindString(got))
	}
}

// TestHeaderNamesTheConfig: the header says which config the run loaded,
// or that none was.
func TestHeaderNamesTheConfig(t *testing.T) {
	for _, c := range []struct{ path, want string }{{"", "no config"}, {"/etc/rebindwatch/config.toml", "config /etc/rebindwatch/config.toml"}} {
		m := newTestModel(t, demoBackend(), 140, 40, func(o *Options) { o.ConfigPath = c.path })
		if h := headerText(m, 140); !strings.Contains(h, c.want) {
			t.Errorf("header lacks %q:\n%s", c.want, h)
		}
	}
}

// TestHeaderHeightCounts: the layout counts the header's lines without
// drawing them; the count must be what is drawn, in every state (chips,
// the timeline's alert line, warnings), or a pane loses its last line.
func TestHeaderHeightCounts(t *testing.T) {
	for _, st := range states() {
		for _, sz := range append(sizes, [2]int{160, 50}, [2]int{60, 20}) {
			m := st.model(t, sz[0], sz[1])
			h := m.header()
			if got, want := h.height(sz[1]/2), len(h.lines(sz[0], sz[1]/2)); got != want {
				t.Errorf("%s at %dx%d: header counted %d lines, drew %d", st.name, sz[0], sz[1], got, want)
			}
		}
	}
}
