package ui

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
	"github.com/rebindwatch/rebindwatch/source"
)

// hostileValues are strings an attacker controls (Host, Origin, a target,
// a User-Agent, a log line) that try to reach the terminal as commands or
// to pass for something else.
var hostileValues = map[string]string{
	"csi_color":   "evil\x1b[31mRED\x1b[0m.test",
	"osc52_clip":  "x\x1b]52;c;ZXZpbA==\x07y",
	"osc8_link":   "\x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\",
	"c1_raw":      "a\x9b31mb",
	"c1_utf8":     "a\u009b31mb",
	"cr":          "api.example.com\rEVIL",
	"backspace":   "adm\b\b\bxyz",
	"rlo":         "\u202etset.elpmaxe",
	"zwj":         "a\u200db.example.com",
	"invalid":     "\xff\xfe\xfdhost",
	"huge":        strings.Repeat("A", 10_000),
	"huge_wide":   strings.Repeat("漢", 5_000),
	"wide":        "漢字ドメイン.test",
	"combining":   "e\u0301\u0301\u0301\u0301x.test",
	"bel_nul":     "a\x07b\x00c",
	"del":         "a\x7fb",
	"tab_newline": "a\tb\nc",
	"bidi_isol":   "\u2066ab\u2069",
	"nonchar":     "a\ufffeb\U0010ffff",
}

// hostileSnapshot is hostileSnapshotOf(hostileValues).
func hostileSnapshot() detect.Snapshot { return hostileSnapshotOf(hostileValues) }

// hostileSnapshotOf puts each value in every field that can come from
// traffic or a log: one value per row and per problem (in name order), and
// all of them, joined, in the header's single places (the Host check's
// reason, the sources' names and notes, an eviction and a counter name).
func hostileSnapshotOf(values map[string]string) detect.Snapshot {
	s := demoSnapshot()
	vals := make([]string, 0, len(values))
	for _, n := range slices.Sorted(maps.Keys(values)) {
		vals = append(vals, values[n])
	}
	var reqs []detect.Request
	var alerts []detect.Alert
	var incidents []detect.Incident
	var hosts, origins []detect.ValueStat
	var keys []detect.KeyStat
	var problems []detect.Problem
	for i, v := range vals {
		r := fxRequest(0, "10.0.0.7:51234", v, v, "/"+v, v, v, 200)
		r.UserAgent, r.Referer, r.Source, r.Proto = v, v, v, v
		reqs = append(reqs, r)
		alerts = append(alerts, detect.Alert{
			ID: uint64(100 + i), Time: fxNow, LastSeen: fxNow, Detector: detect.DetUnexpectedHost, Severity: detect.Severity(i % 4),
			Subject: v, Dimension: v, Key: v, Client: v, Host: v, Origin: v, Target: v, Message: "Host " + v + " is not allowed", Count: i,
			Outcome: v, Class: v,
			Evidence: []detect.Request{r},
			DNS: []detect.DNSAnswer{{Time: fxNow, Source: v, Client: ap("10.0.0.7:5353"), Name: v, CNAMEs: []string{v, v},
				Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, TTL: 1, Private: true}},
		})
		incidents = append(incidents, detect.Incident{ID: "inc-" + v, Opened: fxNow, Last: fxNow, Severity: detect.Severity(i % 4),
			Detectors: []string{v, detect.DetUnexpectedHost}, Outcome: v, Class: v, Subject: v, Names: []string{v}, Keys: []string{v},
			Clients: []string{v}, Alerts: []uint64{uint64(100 + i)}, Count: i})
		hosts = append(hosts, detect.ValueStat{Value: v, Requests: uint64(i), LastSeen: fxNow, FromReferer: i%2 == 0})
		origins = append(origins, detect.ValueStat{Value: v, Requests: uint64(i), LastSeen: fxNow})
		keys = append(keys, detect.KeyStat{Key: v, Requests: uint64(1000 - i), Fired: []string{v, detect.DetKeyBurst}, LastSeen: fxNow})
		problems = append(problems, detect.Problem{Source: v, Where: v, Text: v})
	}
	s.Recent, s.Alerts, s.Hosts, s.Origins, s.Keys, s.Problems = reqs, alerts, hosts, origins, keys, problems
	s.Incidents = incidents
	s.ParseErrors = uint64(len(s.Problems))
	// Each value's start, so all of them fit in what the header sanitises
	// of one string (maxShown).
	var all string
	for _, v := range vals {
		all += v[:min(len(v), 64)] + " "
	}
	s.HostCheck = all
	s.OriginCheck = all
	s.Sources = []detect.SourceStatus{
		{Name: all, State: detect.StateReplaying, Done: 1, Total: 3, Note: all, Off: []string{all + ": " + all, all},
			Blind: []detect.Blind{{Detectors: []string{all}, Field: all}}},
		{Name: all, State: detect.StateFailed, Note: all},
	}
	s.Evicted = map[string]uint64{all: 3}
	s.Counters = map[string]uint64{all: 2}
	s.AlertsByDetector[all] = 1
	s.AddedHosts, s.AddedOrigins = vals, vals
	return s
}

// hostileBackend is a fake backend over hostileSnapshotOf(values) whose
// alert and key details are as hostile.
func hostileBackend(values map[string]string) *fakeBackend {
	s := hostileSnapshotOf(values)
	b := &fakeBackend{snap: s, alerts: map[uint64]detect.Alert{}, keys: map[string]detect.KeyDetail{}, incidents: map[string]detect.IncidentDetail{}}
	for _, a := range s.Alerts {
		a.TLS = []detect.TLSHello{{Time: fxNow, Source: a.Subject, Client: ap("10.0.0.7:5353"), SNI: a.Subject, ALPN: []string{a.Subject}}}
		b.alerts[a.ID] = a
	}
	for i, inc := range s.Incidents {
		a := b.alerts[inc.Alerts[0]]
		b.incidents[inc.ID] = detect.IncidentDetail{Incident: inc, Alerts: []detect.Alert{a}, Timeline: detect.Timeline(a)}
		_ = i
	}
	var counts []detect.Count
	for _, r := range s.Recent {
		counts = append(counts, detect.Count{Value: r.Host, N: 1})
	}
	for _, k := range s.Keys {
		b.keys[k.Key] = detect.KeyDetail{Key: k.Key, Stat: k, Hosts: counts, Clients: counts, Origins: counts, Recent: s.Recent, History: s.History}
	}
	return b
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// checkSafe asserts a frame carries nothing from the hostile values to the
// terminal: no escape sequence but our own SGR styling, no control or C1
// character, no bidi or zero-width character, valid UTF-8, every line
// within the width. With colour off our SGRs carry no colour, so a leaked
// ESC[31m would be caught.
func checkSafe(t testing.TB, what, frame string, w, h int, colour bool) {
	t.Helper()
	checkFrame(t, frame, w, h)
	if !utf8.ValidString(frame) {
		t.Errorf("%s: frame is not valid UTF-8", what)
	}
	if !colour {
		for _, seq := range sgr.FindAllString(frame, -1) {
			for _, p := range strings.FieldsFunc(seq[2:len(seq)-1], func(r rune) bool { return r == ';' || r == ':' }) {
				switch p {
				case "0", "1", "2", "4", "7", "22", "24", "27":
				default:
					t.Errorf("%s: SGR %q with colour off (leaked or coloured)", what, seq)
				}
			}
		}
	}
	text := sgr.ReplaceAllString(frame, "")
	for i, r := range text {
		switch {
		case r == '\n':
		case r == utf8.RuneError:
			t.Fatalf("%s: invalid UTF-8 at byte %d", what, i)
		case r < 0x20 || r == 0x7f:
			t.Fatalf("%s: control character %U at byte %d: %q", what, r, i, around(text, i))
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("%s: C1 control %U at byte %d: %q", what, r, i, around(text, i))
		case unicode.Is(unicode.Cf, r):
			t.Fatalf("%s: format character %U (bidi/zero-width) at byte %d: %q", what, r, i, around(text, i))
		case sanitize.Invisible(r):
			t.Fatalf("%s: invisible character %U at byte %d", what, r, i)
		}
	}
}

func around(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+20)]
}

// walkScreens visits every screen a user reaches over m with keys, and
// hands each to check: every pane; its first rows rows, each row's detail
// and the end of the detail for the first ends of them, and `a` on the row
// the walk ends on; the help; and a filter typed with an escape in it.
func walkScreens(t *testing.T, m Model, rows, ends int, check func(what string, m Model)) {
	t.Helper()
	check("main", m)
	for p := 1; p <= 5; p++ {
		mp, _ := press(t, m, fmt.Sprint(p))
		check(fmt.Sprintf("pane %d", p), mp)
		for i := 0; i < rows; i++ {
			md, _ := press(t, mp, "enter")
			check(fmt.Sprintf("pane %d row %d detail", p, i), md)
			if i < ends {
				md, _ = press(t, md, "G")
				check(fmt.Sprintf("pane %d row %d detail end", p, i), md)
			}
			mp, _ = press(t, mp, "j")
			check(fmt.Sprintf("pane %d row %d", p, i), mp)
		}
		if rows > 0 {
			// Allowing the selected value puts it in the flash.
			ma, _ := press(t, mp, "a")
			check(fmt.Sprintf("pane %d allow", p), ma)
		}
	}
	mh, _ := press(t, m, "?")
	check("help", mh)
	mf, _ := press(t, m, "/", "\x1b", "x")
	check("filter with typed escape", mf)
}

// escapes returns the visible escapes (\x1b, \u202e, \r) that sanitising
// the values yields: each must be on some screen, or a hostile value
// vanished instead of being shown escaped.
func escapes(values map[string]string) map[string]bool {
	want := map[string]bool{}
	for _, v := range values {
		for _, e := range escapeRE.FindAllString(clean(v), -1) {
			want[e] = false
		}
	}
	return want
}

var escapeRE = regexp.MustCompile(`\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[trn])`)

// seeEscapes marks the escapes of want that plain (a stripped frame) shows.
func seeEscapes(want map[string]bool, plain string) {
	for e, seen := range want {
		if !seen && strings.Contains(plain, e) {
			want[e] = true
		}
	}
}

func checkEscapesSeen(t *testing.T, want map[string]bool) {
	t.Helper()
	for _, e := range slices.Sorted(maps.Keys(want)) {
		if !want[e] {
			t.Errorf("escaped form %q never shown: hostile text vanished instead of being escaped", e)
		}
	}
}

// TestHostileStrings renders every screen over a snapshot full of hostile
// strings, with colour off and on, at both sizes.
func TestHostileStrings(t *testing.T) {
	want := escapes(hostileValues)
	// Wide runes and cut values must show too.
	want["…"], want["漢"] = false, false
	for _, colour := range []bool{false, true} {
		for _, sz := range sizes {
			opts := []testOpt{withPacer(source.NewPacer(1)), func(o *Options) { o.Title = hostileValues["osc52_clip"] }}
			if !colour {
				opts = append(opts, noColor())
			}
			m := newTestModel(t, hostileBackend(hostileValues), sz[0], sz[1], opts...)
			check := func(what string, m Model) {
				t.Helper()
				v := m.View()
				name := fmt.Sprintf("%s colour=%v %dx%d", what, colour, sz[0], sz[1])
				checkSafe(t, name, v.Content, sz[0], sz[1], colour)
				checkSafe(t, name+" title", v.WindowTitle, 1<<20, 1, colour)
				seeEscapes(want, ansi.Strip(v.Content))
			}
			// The coloured run checks the main screens; the colourless one,
			// which can tell our SGRs from leaked ones, walks every row and
			// detail.
			rows := len(hostileValues)
			if colour {
				rows = 0
			}
			walkScreens(t, m, rows, rows, check)
		}
	}
	checkEscapesSeen(t, want)
}

// TestCutWidths checks cut and fit on hostile and wide strings at every
// width: never wider than asked, an ellipsis when something was cut.
func TestCutWidths(t *testing.T) {
	for name, v := range hostileValues {
		s := clean(v)
		for w := 0; w <= 40; w++ {
			c := cut(s, w)
			if cw := ansi.StringWidth(c); cw > w {
				t.Fatalf("%s: cut to %d is %d wide: %q", name, w, cw, c)
			}
			if w > 0 && ansi.StringWidth(s) > w && !strings.HasSuffix(c, ellipsis) {
				t.Fatalf("%s: cut to %d lost the ellipsis: %q", name, w, c)
			}
			if f := fit(s, w); ansi.StringWidth(f) != w {
				t.Fatalf("%s: fit to %d is %d wide: %q", name, w, ansi.StringWidth(f), f)
			}
		}
	}
}
