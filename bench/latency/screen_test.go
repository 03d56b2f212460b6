package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// What each sequence does to a 6×3 screen.
func TestScreenSequences(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"print_and_newline", "ab\r\ncd", []string{"ab    ", "cd    ", "      "}},
		{"cup_el", "abcdef\x1b[1;3H\x1b[K", []string{"ab    ", "      ", "      "}},
		{"el_left_and_all", "abcdef\x1b[1;3H\x1b[1K\r\nxyz\x1b[2K", []string{"   def", "      ", "      "}},
		{"ich_dch", "abcdef\x1b[1;2H\x1b[2@\x1b[1;5H\x1b[P", []string{"a  bd ", "      ", "      "}},
		{"ech_rep", "abcdef\x1b[1;2H\x1b[3X\x1b[2;1Hz\x1b[4b", []string{"a   ef", "zzzzz ", "      "}},
		{"autowrap_pending", "abcdefg", []string{"abcdef", "g     ", "      "}},
		{"no_autowrap", "\x1b[?7labcdefg", []string{"abcdeg", "      ", "      "}},
		{"scroll_at_bottom", "a\r\nb\r\nc\r\nd", []string{"b     ", "c     ", "d     "}},
		{"region_scroll_up", "a\r\nb\r\nc\x1b[1;2r\x1b[2;1H\n", []string{"b     ", "      ", "c     "}},
		{"reverse_index", "a\r\nb\x1b[1;1H\x1bM", []string{"      ", "a     ", "b     "}},
		{"il_dl", "a\r\nb\r\nc\x1b[2;1H\x1b[L", []string{"a     ", "      ", "b     "}},
		{"dl", "a\r\nb\r\nc\x1b[1;1H\x1b[M", []string{"b     ", "c     ", "      "}},
		{"su_sd", "a\r\nb\r\nc\x1b[S\x1b[2T", []string{"      ", "      ", "b     "}},
		{"insert_mode", "abcd\x1b[1;2H\x1b[4hXY\x1b[4lZ", []string{"aXYZcd", "      ", "      "}},
		{"tabs", "a\tb", []string{"a    b", "      ", "      "}}, // no stop within 6 columns: the last column
		{"cha_vpa_hpa", "\x1b[3Gx\x1b[2dy\x1b[1`z", []string{"  x   ", "z  y  ", "      "}},
		{"wide", "日本x", []string{"日本x ", "      ", "      "}},
		{"ed_below", "abc\r\ndef\r\nghi\x1b[2;2H\x1b[J", []string{"abc   ", "d     ", "      "}},
		{"save_restore", "ab\x1b7\x1b[3;3Hx\x1b8c", []string{"abc   ", "      ", "  x   "}},
		{"alt_screen_blank", "abc\x1b[?1049hd", []string{"   d  ", "      ", "      "}},
		{"sgr_ignored", "\x1b[1;31ma\x1b[0mb", []string{"ab    ", "      ", "      "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScreen(6, 3)
			s.Write([]byte(tt.in))
			if got := strings.Split(s.String(), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestScreenAnswersCursorPosition(t *testing.T) {
	s := newScreen(10, 5)
	s.Write([]byte("\x1b[3;4H\x1b[6n"))
	if got := string(s.reply); got != "\x1b[3;4R" {
		t.Errorf("reply %q", got)
	}
}

// The screen follows Bubble Tea's own renderer (the one the dashboard
// uses): frames that scroll, change in the middle of lines, hold wide
// runes, box drawing and long runs, drawn one after the other; after each,
// the screen must come to show exactly that frame.
func TestScreenFollowsBubbleTea(t *testing.T) {
	const w, h = 60, 16
	frames := testFrames(w, h, 40)
	scr := &lockedScreen{s: newScreen(w, h)}
	m := &frameModel{frames: frames}
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(scr), tea.WithWindowSize(w, h),
		tea.WithEnvironment([]string{"TERM=xterm-256color"}), tea.WithoutSignals())
	errc := make(chan error, 1)
	go func() { _, err := p.Run(); errc <- err }()
	for i, f := range frames {
		if i > 0 {
			p.Send(nextFrame{})
		}
		deadline := time.Now().Add(5 * time.Second)
		for scr.String() != f {
			if time.Now().After(deadline) {
				p.Kill()
				t.Fatalf("frame %d never showed; the screen:\n%s\nthe frame:\n%s", i, scr.String(), f)
			}
			time.Sleep(time.Millisecond)
		}
	}
	p.Quit()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

type nextFrame struct{}

type frameModel struct {
	frames []string
	i      int
}

func (m *frameModel) Init() tea.Cmd { return nil }

func (m *frameModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(nextFrame); ok && m.i < len(m.frames)-1 {
		m.i++
	}
	return m, nil
}

func (m *frameModel) View() tea.View {
	v := tea.NewView(m.frames[m.i])
	v.AltScreen = true
	return v
}

// lockedScreen is a screen written by the program and read by the test.
// It turns a line feed into CR LF, as a terminal in cooked mode does
// (ONLCR): without a terminal for input, Bubble Tea counts on it.
type lockedScreen struct {
	mu sync.Mutex
	s  *screen
}

func (l *lockedScreen) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
	return len(b), nil
}

func (l *lockedScreen) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.String()
}

// testFrames are n full w×h frames, each the last one changed the way a
// dashboard changes: rows scroll up or down by a few, a cell or a word
// changes mid-row, a row grows or shrinks, a box appears or goes.
func testFrames(w, h, n int) []string {
	rng := rand.New(rand.NewPCG(7, 11))
	words := []string{"api.example.com", "evil.rebind.test", "■ CRIT", "● MED", "12:00:47", "200", "日本語", "──────", "│", "┏━ 2 Keys ━━", "72,142", "✓ allowed", "✗ foreign", "   ", "aaaaaaaaaaaa", "…"}
	row := func() string {
		var b strings.Builder
		for width := 0; ; {
			word := words[rng.IntN(len(words))] + " "
			ww := runeWidthOf(word)
			if width+ww > w {
				break
			}
			b.WriteString(word)
			width += ww
		}
		return b.String()
	}
	rows := make([]string, h)
	for i := range rows {
		rows[i] = row()
	}
	var out []string
	for range n {
		switch rng.IntN(5) {
		case 0: // scroll up by k
			k := 1 + rng.IntN(3)
			copy(rows, rows[k:])
			for i := h - k; i < h; i++ {
				rows[i] = row()
			}
		case 1: // scroll down by k, below a fixed header row
			k := 1 + rng.IntN(3)
			copy(rows[1+k:], rows[1:h-k])
			for i := 1; i < 1+k; i++ {
				rows[i] = row()
			}
		case 2: // a few rows change
			for range 1 + rng.IntN(4) {
				rows[rng.IntN(h)] = row()
			}
		case 3: // a cell changes mid-row
			i := rng.IntN(h)
			r := []rune(rows[i])
			if len(r) > 2 {
				j := rng.IntN(len(r) - 1)
				if runeWidthOf(string(r[j])) == 1 {
					r[j] = 'x'
				}
				rows[i] = string(r)
			}
		case 4: // everything
			for i := range rows {
				rows[i] = row()
			}
		}
		lines := make([]string, h)
		for i, r := range rows {
			lines[i] = r + strings.Repeat(" ", w-runeWidthOf(r))
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return out
}

func runeWidthOf(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}
