package e2e

// The dashboard in a real terminal: tmux (Debian's package) runs the
// binary in a pty at 80×24 and 160×50; keys and mouse events (SGR mouse
// sequences, as a terminal sends them) go in through tmux send-keys, the
// screen comes back as text through capture-pane. Each step waits for
// what it expects on screen, never for a time.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// term is one tmux server (its own socket) running the binary in one pane.
type term struct {
	t      *testing.T
	sock   string
	status string // where the shell writes the binary's exit status
	w, h   int
}

// newTerm starts the binary with args in a w×h terminal whose working
// directory is dir; the server goes with the test. A shell runs the binary
// and writes its exit status to a file: tmux 3.3 sometimes loses a dead
// pane's status (pane_dead_status empty) when the process exits as the
// pty closes.
func newTerm(t *testing.T, w, h int, dir string, args ...string) *term {
	t.Helper()
	if testing.Short() {
		t.Skip("terminal run skipped with -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("SKIPPED LOUDLY: tmux is not installed (apt-get install tmux), so the dashboard is not tested in a terminal")
	}
	tmp := t.TempDir()
	tm := &term{t: t, sock: filepath.Join(tmp, "tmux.sock"), status: filepath.Join(tmp, "status"), w: w, h: h}
	quoted := make([]string, 0, len(args)+1)
	for _, a := range append([]string{bin}, args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	// TERM as a terminal emulator would set it; NO_COLOR keeps the screen
	// text what a reader sees (the colours are tested in package ui).
	inner := "env TERM=xterm-256color NO_COLOR=1 " + strings.Join(quoted, " ") + "; echo $? > '" + tm.status + "'"
	tm.tmux("-f", "/dev/null", "new-session", "-d", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), "-c", dir, "-s", "rw", inner)
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is what the terminal shows now.
func (tm *term) screen() string {
	tm.t.Helper()
	s := tm.tmux("capture-pane", "-p", "-t", "rw")
	noKeys(tm.t, "the dashboard's screen", s)
	return s
}

// waitFor waits until the screen satisfies cond, and returns it.
func (tm *term) waitFor(what string, cond func(s string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%dx%d: %s: not on screen after %v:\n%s", tm.w, tm.h, what, patience, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitText waits until every text is on screen.
func (tm *term) waitText(texts ...string) string {
	tm.t.Helper()
	return tm.waitFor(strings.Join(texts, " and "), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// keys sends key names as tmux spells them ("Enter", "Escape", "BSpace")
// or single characters.
func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	for _, k := range keys {
		tm.tmux("send-keys", "-t", "rw", k)
	}
}

// click sends a left click at column x, line y (0-based), as an xterm
// in SGR mouse mode does: press, then release.
func (tm *term) click(x, y int) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", "rw", "-l", fmt.Sprintf("\x1b[<0;%d;%dM", x+1, y+1))
	tm.tmux("send-keys", "-t", "rw", "-l", fmt.Sprintf("\x1b[<0;%d;%dm", x+1, y+1))
}

// wheel sends one wheel step down (or up) at (x, y).
func (tm *term) wheel(x, y int, down bool) {
	tm.t.Helper()
	b := 64
	if down {
		b = 65
	}
	tm.tmux("send-keys", "-t", "rw", "-l", fmt.Sprintf("\x1b[<%d;%d;%dM", b, x+1, y+1))
}

// find returns the column and line where text first shows, or fails.
func (tm *term) find(s, text string) (x, y int) {
	tm.t.Helper()
	for i, l := range strings.Split(s, "\n") {
		if j := strings.Index(l, text); j >= 0 {
			return len([]rune(l[:j])), i
		}
	}
	tm.t.Fatalf("%q not on screen:\n%s", text, s)
	return 0, 0
}

// exited waits for the binary to exit and returns its status.
func (tm *term) exited() int {
	tm.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		if b, err := os.ReadFile(tm.status); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			n, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				tm.t.Fatalf("exit status %q", b)
			}
			return n
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the dashboard did not exit:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// line returns the screen's line that holds text ("" when none).
func line(s, text string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, text) {
			return l
		}
	}
	return ""
}

// TestDashboardInATerminal drives the dashboard through a real pty at
// 80×24 (tabs) and 160×50 (the grid), replaying the recorded scenarios:
// pivots, the time cursor and a range, the mouse, an export and the
// column chooser, then q.
func TestDashboardInATerminal(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 50}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			dir := t.TempDir()
			cfg, _ := filepath.Abs(rec + "rebindwatch.toml")
			pcap, _ := filepath.Abs(rec + "scenarios.pcap")
			tm := newTerm(t, w, h, dir, "-c", cfg, "--speed", "0", "-r", pcap)
			s := tm.waitText("DONE", "alerts 11", "config ")
			grid := w >= 140

			// Pivot: the busiest key, pinned; every pane follows.
			tm.keys("2")
			tm.waitText("PEAK")
			tm.keys("f")
			s = tm.waitText("⚑ key ", "F clears")
			chip := line(s, "⚑ key ")
			key := regexp.MustCompile(`⚑ key ([0-9a-f]{12})`).FindStringSubmatch(chip)
			if key == nil {
				t.Fatalf("chip %q", chip)
			}
			if !strings.Contains(s, "Keys 1") || !regexp.MustCompile(`\d+ of 197 requests`).MatchString(s) {
				t.Errorf("the keys pane and the header do not follow the pin:\n%s", s)
			}
			tm.keys("5")
			s = tm.waitText("Requests")
			for _, l := range strings.Split(s, "\n") {
				if m := regexp.MustCompile(`\b[0-9a-f]{12}\b`).FindAllString(l, -1); len(m) > 0 && regexp.MustCompile(`^\s*│?\d\d:\d\d:\d\d `).MatchString(l) {
					for _, k := range m {
						if k != key[1] {
							t.Errorf("a request of another key under the pin: %q", l)
						}
					}
				}
			}
			tm.keys("F")
			tm.waitFor("the pin cleared", func(s string) bool { return !strings.Contains(s, "⚑") })

			// Time: the cursor, two marks, the range; backspace drops it.
			tm.keys("[")
			tm.waitText("▸ ")
			tm.keys("[", "m", "[", "m")
			s = tm.waitText("⚑ ⌚ ")
			if !regexp.MustCompile(`\d+ of 197 requests`).MatchString(s) {
				t.Errorf("the range does not narrow the count:\n%s", s)
			}
			tm.keys("BSpace")
			tm.waitFor("the range dropped", func(s string) bool { return !strings.Contains(s, "⌚") })
			tm.keys("Escape")
			tm.waitFor("the cursor gone", func(s string) bool { return !strings.Contains(s, "▸ ") })

			// The mouse: a pane or a tab, a row, a column title, a double click.
			tm.keys("1")
			s = tm.waitText("DETECTORS")
			if grid {
				x, y := tm.find(s, "4 Origins")
				tm.click(x, y+2)
				s = tm.waitText("┏━ 4 Origins")
			} else {
				x, y := tm.find(s, "3 Hosts")
				tm.click(x+1, y)
				s = tm.waitFor("the Hosts tab", func(s string) bool { return line(s, "REQS") != "" && strings.Contains(s, "STATUS") })
			}
			// A click on REQS (sorted most first) sorts least first.
			x, y := tm.find(s, "REQS↓")
			tm.click(x+1, y)
			tm.waitText("REQS↑")
			// A double click on the first incident (under the column titles) opens it.
			tm.keys("1")
			s = tm.waitText("DETECTORS")
			x, y = tm.find(s, "DETECTORS")
			tm.click(x, y+1)
			tm.click(x, y+1)
			s = tm.waitText("Evidence", "esc back")
			tm.wheel(x, y+3, true)
			tm.keys("Escape")
			tm.waitText("DETECTORS")

			// An export of the keys pane, every row, as CSV.
			tm.keys("2", "e")
			tm.waitText("export keys as: j JSON lines · c CSV")
			tm.keys("c")
			s = tm.waitText("exported 6 rows to ")
			files, _ := filepath.Glob(filepath.Join(dir, "rebindwatch-keys-*.csv"))
			if len(files) != 1 {
				t.Fatalf("export files %v:\n%s", files, s)
			}
			b, _ := os.ReadFile(files[0])
			noKeys(t, "the export", string(b))
			if l := strings.Split(string(b), "\n"); len(l) != 8 || l[0] != "key,requests,rate,peak,hosts,clients,origins,last,flags" {
				t.Errorf("export:\n%s", b)
			}

			// Columns: hide REQS in the keys pane (not saved: n).
			tm.keys("C")
			tm.waitText("Columns of keys")
			tm.keys("j", "Space", "Enter")
			tm.waitFor("the question to save the columns", func(s string) bool {
				return strings.Contains(s, "[y/N]") && (strings.Contains(s, "keys columns") || strings.Contains(s, "columns of keys"))
			})
			tm.keys("n")
			s = tm.waitText("columns kept for this run only")
			if l := line(s, "KEY "); l == "" || strings.Contains(l, "REQS") {
				t.Errorf("REQS still shown: %q", l)
			}

			tm.keys("q")
			if code := tm.exited(); code != 0 {
				t.Errorf("exit status %d", code)
			}
		})
	}
}

// TestDashboardNoMouse: with --no-mouse the dashboard does not take the
// mouse (the terminal keeps its own selection): a click changes nothing.
func TestDashboardNoMouse(t *testing.T) {
	pcap, _ := filepath.Abs(rec + "scenarios.pcap")
	cfg, _ := filepath.Abs(rec + "rebindwatch.toml")
	tm := newTerm(t, 80, 24, t.TempDir(), "--no-mouse", "-c", cfg, "--speed", "0", "-r", pcap)
	s := tm.waitText("DONE", "DETECTORS")
	if m := tm.tmux("display-message", "-p", "-t", "rw", "#{mouse_any_flag}#{mouse_sgr_flag}"); strings.TrimSpace(m) != "00" {
		t.Errorf("the mouse modes are on: %q", m)
	}
	x, y := tm.find(s, "3 Hosts")
	tm.click(x+1, y)
	tm.keys("?") // something to wait for after the click
	tm.waitText("? or esc closes the help")
	tm.keys("Escape")
	if s := tm.waitText("DETECTORS"); !strings.Contains(s, "SUBJECT") {
		t.Errorf("a click changed the pane with --no-mouse:\n%s", s)
	}
	tm.keys("q")
	tm.exited()
}

// TestDashboardUsesProposedFormat: an nginx log whose format adds the
// Host, the Origin and a key after combined's columns is auto-detected as
// combined, blind to the Host; the header says so, and L (after y) reads
// it again with the format auto-detection proposes: the Host alerts come.
func TestDashboardUsesProposedFormat(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, readFile(t, "../testdata/logs/nginx_ext_combined.log"), 0o644)
	cfg, _ := filepath.Abs(rec + "rebindwatch.toml")
	tm := newTerm(t, 80, 24, dir, "-c", cfg, log)
	tm.waitText("L reads it with the proposed format", "alerts 1: origin 1", "Host check is OFF")
	tm.keys("L")
	tm.waitText("starts over", "[y/N]")
	tm.keys("y")
	s := tm.waitFor("the Host alerts", func(s string) bool { return regexp.MustCompile(`alerts \d+: host [1-9]`).MatchString(s) })
	if strings.Contains(s, "Host check is OFF") || strings.Contains(s, "L reads it") || strings.Contains(s, "WARNING") {
		t.Errorf("after L the log is still read blind:\n%s", s)
	}
	tm.keys("q")
	if code := tm.exited(); code != 0 {
		t.Errorf("exit status %d", code)
	}
}
