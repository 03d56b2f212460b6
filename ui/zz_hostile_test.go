package ui

// Terminal safety through the real paths: the hostile recordings of
// testdata/hostile (nginx's own logs with its \xHH escaping and with
// escape=none, generated lines with every hostile value in every field, and
// a tcpdump capture of a raw-socket client sending them) are read by the
// real logsrc and capture into a real detect.Engine, and the dashboard is
// driven over that engine through its public API (New, Update, View) with
// key presses, at 80x24 and 140x40, into every pane, every row's detail
// and the help. No frame may carry a byte of a hostile value to the
// terminal as itself. hostile_test.go (fake backends) covers the same
// screens with hand-made values; this covers what the parsers really let
// through.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/capture"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/logsrc"
)

const zzHostileDir = "../testdata/hostile/"

// zzHostileEngine feeds every hostile recording through the real sources
// into one engine configured as testdata/hostile/rebindwatch.toml.
func zzHostileEngine(t testing.TB) *detect.Engine {
	t.Helper()
	cfg := detect.DefaultConfig()
	cfg.AllowedHosts = []string{"api.rebind.test", "*.api.rebind.test"}
	cfg.AllowedOrigins = []string{"https://app.rebind.test"}
	e, err := detect.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	extB, err := os.ReadFile("../testdata/rec/ext.fmt")
	if err != nil {
		t.Fatal(err)
	}
	ext := strings.TrimRight(string(extB), "\n")
	// A log whose file name is hostile too: it is the source's name in the
	// header and in every request.
	dir := t.TempDir()
	evilName := filepath.Join(dir, "a\x1b[31m\u202eevil\x07.log")
	data, err := os.ReadFile(zzHostileDir + "hostile_access_ext.log")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(evilName, data, 0o644); err != nil {
		t.Fatal(err)
	}
	keys := detect.NewKeyExtractor(detect.DefaultKeyConfig())
	run := func(name string, f func(ctx context.Context, out chan<- detect.Batch) error) {
		out := make(chan detect.Batch, 16)
		errc := make(chan error, 1)
		go func() {
			errc <- f(context.Background(), out)
			close(out)
		}()
		for b := range out {
			if err := e.Observe(&b); err != nil {
				t.Fatal(err)
			}
		}
		if err := <-errc; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	logs := []struct{ path, spec string }{
		{zzHostileDir + "hostile_gen_escaped.log", "nginx:" + ext},
		{zzHostileDir + "hostile_gen_raw.log", "nginx:escape=none '" + ext + "'"},
		{zzHostileDir + "hostile_access_ext_raw.log", "nginx:escape=none '" + ext + "'"},
		{evilName, "nginx:" + ext},
		// The raw log read as if escaped: lines that do not parse, quoted
		// in Problems.
		{zzHostileDir + "hostile_gen_raw.log", "nginx:" + ext},
	}
	for _, l := range logs {
		run(l.path, func(ctx context.Context, out chan<- detect.Batch) error {
			return logsrc.Run(ctx, l.path, logsrc.Options{Format: l.spec, Keys: keys.Clone(), MaxProblems: 20}, out)
		})
	}
	run("hostile.pcap", func(ctx context.Context, out chan<- detect.Batch) error {
		return capture.ReadFile(ctx, zzHostileDir+"hostile.pcap", capture.Options{Ports: []uint16{18391}, Keys: keys.Clone()}, out)
	})
	return e
}

// zzModel is a dashboard over b at w×h after its first snapshot.
func zzModel(t testing.TB, b Backend, w, h int, title string) Model {
	t.Helper()
	m := New(Options{Backend: b, NoColor: true, Title: title})
	m = zzUpdate(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return zzUpdate(t, m, m.Init()())
}

func zzUpdate(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	out, _ := m.Update(msg)
	mm, ok := out.(Model)
	if !ok {
		t.Fatalf("Update returned %T", out)
	}
	return mm
}

// zzKey builds the message the terminal sends for a key.
func zzKey(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	}
	r, _ := utf8.DecodeRuneInString(k)
	return tea.KeyPressMsg{Code: r, Text: k}
}

// zzPress sends a key and feeds back what the commands it started return
// (Backend calls, one-shot snapshots); commands that do not finish at once
// (ticks) are dropped.
func zzPress(t testing.TB, m Model, k string) Model {
	t.Helper()
	out, cmd := m.Update(zzKey(k))
	m = out.(Model)
	return zzDrain(t, m, cmd, 0)
}

func zzDrain(t testing.TB, m Model, cmd tea.Cmd, depth int) Model {
	t.Helper()
	if cmd == nil || depth > 6 {
		return m
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(50 * time.Millisecond):
		return m
	}
	switch msg := msg.(type) {
	case nil, tea.QuitMsg:
		return m
	case tea.BatchMsg:
		for _, c := range msg {
			m = zzDrain(t, m, c, depth+1)
		}
		return m
	}
	out, next := m.Update(msg)
	return zzDrain(t, out.(Model), next, depth+1)
}

// zzOwnSGR is the styling the dashboard itself emits with colour off:
// bold, faint, italic, underline, reverse and their resets. Any other
// escape sequence, or a colour, came from a value.
var zzOwnSGR = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// zzCheckFrame asserts the frame fits w×h and carries nothing from the
// values to the terminal: after removing the dashboard's own colourless
// SGR sequences there is no ESC, no C0 but newline, no DEL, no C1, no bidi,
// zero-width or other invisible character, and the text is valid UTF-8.
func zzCheckFrame(t testing.TB, what, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) > h {
		t.Errorf("%s: %d lines on a %d-line terminal", what, len(lines), h)
	}
	for i, l := range lines {
		if sw := ansi.StringWidth(l); sw > w {
			t.Errorf("%s: line %d is %d cells wide on a %d-cell terminal: %q", what, i+1, sw, w, ansi.Strip(l))
		}
	}
	if !utf8.ValidString(frame) {
		t.Errorf("%s: frame is not valid UTF-8", what)
	}
	for _, seq := range zzOwnSGR.FindAllString(frame, -1) {
		for _, p := range strings.FieldsFunc(seq[2:len(seq)-1], func(r rune) bool { return r == ';' || r == ':' }) {
			switch p {
			case "0", "1", "2", "3", "4", "7", "22", "23", "24", "27":
			default:
				t.Fatalf("%s: SGR %q with colour off: a value's escape sequence reached the frame", what, seq)
			}
		}
	}
	text := zzOwnSGR.ReplaceAllString(frame, "")
	for i, r := range text {
		bad := ""
		switch {
		case r == '\n':
		case r == 0x1b:
			bad = "ESC"
		case r == '\r':
			bad = "CR"
		case r == '\b':
			bad = "backspace"
		case r < 0x20 || r == 0x7f:
			bad = "control"
		case r >= 0x80 && r <= 0x9f:
			bad = "C1 control"
		case r == utf8.RuneError:
			bad = "invalid UTF-8"
		case detect.Invisible(r):
			bad = "invisible (bidi, zero-width, BOM)"
		}
		if bad != "" {
			t.Fatalf("%s: %s %U at byte %d: %q", what, bad, r, i, text[max(0, i-30):min(len(text), i+30)])
		}
	}
}

// TestHostileRecordingsOnEveryScreen walks every pane and every row's
// detail of a dashboard over the engine fed with the hostile recordings.
func TestHostileRecordingsOnEveryScreen(t *testing.T) {
	e := zzHostileEngine(t)
	s := e.Snapshot()
	if s.Requests < 400 || len(s.Alerts) < 20 || len(s.Problems) == 0 {
		t.Fatalf("the hostile recordings gave %d requests, %d alerts, %d problems: too few to test with", s.Requests, len(s.Alerts), len(s.Problems))
	}
	// The escaped forms must be on screen: the values were shown, escaped,
	// not dropped.
	seen := map[string]bool{}
	want := []string{`\x1b`, `\u202e`, `\x9b`, `\u200d`, `\xff`, `\x07`}
	// Each View costs about 15 ms under -race: 20 rows a pane at 80x24 and
	// 8 at 140x40 (the hostile values sort among the first: every table
	// lists newest or most suspicious first), the end of the detail for the
	// first 5.
	rows := map[int]int{80: 20, 140: 8}
	if testing.Short() {
		rows = map[int]int{80: 8, 140: 4}
	}
	title := "rebindwatch — a\x1b]52;c;ZXZpbA==\x07\u202e.pcap"
	for _, sz := range [][2]int{{80, 24}, {140, 40}} {
		w, h := sz[0], sz[1]
		m := zzModel(t, e, w, h, title)
		check := func(what string, m Model) {
			t.Helper()
			v := m.View()
			name := fmt.Sprintf("%dx%d %s", w, h, what)
			zzCheckFrame(t, name, v.Content, w, h)
			zzCheckFrame(t, name+" (window title)", v.WindowTitle, 1<<20, 1)
			plain := ansi.Strip(v.Content)
			for _, lit := range want {
				if strings.Contains(plain, lit) {
					seen[lit] = true
				}
			}
		}
		check("first screen", m)
		for p := 1; p <= 5; p++ {
			mp := zzPress(t, m, fmt.Sprint(p))
			check(fmt.Sprintf("pane %d", p), mp)
			for row := 0; row < rows[w]; row++ {
				md := zzPress(t, mp, "enter")
				check(fmt.Sprintf("pane %d row %d detail", p, row), md)
				if row < 5 {
					md = zzPress(t, md, "G")
					check(fmt.Sprintf("pane %d row %d detail end", p, row), md)
				}
				mp = zzPress(t, mp, "j")
				check(fmt.Sprintf("pane %d row %d", p, row), mp)
			}
		}
		check("help", zzPress(t, m, "?"))
		check("filter typing an escape", zzPress(t, zzPress(t, zzPress(t, m, "/"), "\x1b"), "x"))
	}
	for _, lit := range want {
		if !seen[lit] {
			t.Errorf("escaped form %q never on screen: hostile values were dropped instead of shown escaped", lit)
		}
	}
}
