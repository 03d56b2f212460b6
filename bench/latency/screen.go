package main

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// screen is the smallest terminal that keeps up with what the dashboard's
// renderer (ultraviolet) writes: cursor moves, erases, inserts and deletes
// of characters and lines, scroll regions, tab stops, repeats, insert
// mode, autowrap. It keeps characters only (no colours): enough to read
// what a frame shows. The parser is x/ansi's (the same package writes the
// sequences).
type screen struct {
	w, h     int
	cells    [][]rune // h rows of w cells; a wide rune's second cell is 0
	x, y     int
	sx, sy   int  // saved cursor
	top, bot int  // scroll region, inclusive
	wrap     bool // autowrap (DECAWM)
	pending  bool // at the right margin with autowrap: the next rune wraps first
	insert   bool // insert mode (IRM)
	tabs     []bool
	last     rune   // the last rune printed, for REP
	reply    []byte // answers to the program's queries (cursor position), not yet sent
	p        *ansi.Parser
}

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h, wrap: true, p: ansi.NewParser()}
	s.reset()
	s.p.SetHandler(ansi.Handler{Print: s.print, Execute: s.execute, HandleCsi: s.csi, HandleEsc: s.esc})
	return s
}

// reset is a terminal as it starts: blank, cursor home, whole-screen
// scroll region, tab stops every 8 columns.
func (s *screen) reset() {
	s.cells = make([][]rune, s.h)
	for i := range s.cells {
		s.cells[i] = blank(s.w)
	}
	s.x, s.y, s.top, s.bot, s.pending, s.insert = 0, 0, 0, s.h-1, false, false
	s.tabs = make([]bool, s.w)
	for i := 8; i < s.w; i += 8 {
		s.tabs[i] = true
	}
}

func blank(w int) []rune { return []rune(strings.Repeat(" ", w)) }

// Write feeds the program's output.
func (s *screen) Write(b []byte) (int, error) {
	s.p.Parse(b)
	return len(b), nil
}

// Row is row y as text (a wide rune once).
func (s *screen) Row(y int) string {
	var b strings.Builder
	for _, r := range s.cells[y] {
		if r != 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Contains reports whether any row holds text.
func (s *screen) Contains(text string) bool {
	for y := range s.h {
		if strings.Contains(s.Row(y), text) {
			return true
		}
	}
	return false
}

// String is the whole screen, a line per row.
func (s *screen) String() string {
	rows := make([]string, s.h)
	for y := range rows {
		rows[y] = s.Row(y)
	}
	return strings.Join(rows, "\n")
}

func runeWidth(r rune) int {
	if r < 0x80 {
		return 1
	}
	return ansi.StringWidth(string(r))
}

func (s *screen) print(r rune) {
	w := runeWidth(r)
	if w == 0 {
		return // combining marks, variation selectors: part of the cell before
	}
	if s.pending {
		s.pending = false
		s.x = 0
		s.lineFeed()
	}
	if s.x+w > s.w {
		if !s.wrap {
			s.x = s.w - w
		} else {
			s.x = 0
			s.lineFeed()
		}
	}
	row := s.cells[s.y]
	if s.insert {
		copy(row[s.x+w:], row[s.x:])
	}
	row[s.x] = r
	if w == 2 {
		row[s.x+1] = 0
	}
	s.last = r
	if s.x+w >= s.w {
		s.x = s.w - 1
		s.pending = s.wrap
		return
	}
	s.x += w
}

func (s *screen) execute(b byte) {
	s.pending = false
	switch b {
	case '\r':
		s.x = 0
	case '\n', '\v', '\f':
		s.lineFeed()
	case '\b':
		s.x = max(0, s.x-1)
	case '\t':
		s.tab(1)
	}
}

// lineFeed moves down a row, scrolling the region at its bottom margin.
func (s *screen) lineFeed() {
	if s.y == s.bot {
		s.scrollUp(1)
		return
	}
	s.y = min(s.h-1, s.y+1)
}

func (s *screen) reverseIndex() {
	if s.y == s.top {
		s.scrollDown(1)
		return
	}
	s.y = max(0, s.y-1)
}

func (s *screen) scrollUp(n int) {
	n = min(n, s.bot-s.top+1)
	copy(s.cells[s.top:], s.cells[s.top+n:s.bot+1])
	for i := s.bot - n + 1; i <= s.bot; i++ {
		s.cells[i] = blank(s.w)
	}
}

func (s *screen) scrollDown(n int) {
	n = min(n, s.bot-s.top+1)
	copy(s.cells[s.top+n:s.bot+1], s.cells[s.top:s.bot+1-n])
	for i := s.top; i < s.top+n; i++ {
		s.cells[i] = blank(s.w)
	}
}

// tab moves to the n-th next tab stop (back when n < 0).
func (s *screen) tab(n int) {
	for ; n > 0 && s.x < s.w-1; n-- {
		for s.x++; s.x < s.w-1 && !s.tabs[s.x]; s.x++ {
		}
	}
	for ; n < 0 && s.x > 0; n++ {
		for s.x--; s.x > 0 && !s.tabs[s.x]; s.x-- {
		}
	}
}

func (s *screen) esc(cmd ansi.Cmd) {
	s.pending = false
	if cmd.Intermediate() != 0 {
		return // charset designations and the like
	}
	switch cmd.Final() {
	case '7':
		s.sx, s.sy = s.x, s.y
	case '8':
		s.x, s.y = s.sx, s.sy
	case 'D':
		s.lineFeed()
	case 'E':
		s.x = 0
		s.lineFeed()
	case 'M':
		s.reverseIndex()
	case 'H':
		s.tabs[s.x] = true
	case 'c':
		s.reset()
	}
}

func (s *screen) csi(cmd ansi.Cmd, params ansi.Params) {
	s.pending = false
	n := func(i int) int { // a count or position: 0 and missing mean 1
		v, _, _ := params.Param(i, 1)
		return max(1, v)
	}
	switch cmd.Prefix() {
	case '?':
		s.privateMode(cmd, params)
		return
	case 0:
	default:
		return
	}
	if cmd.Intermediate() != 0 {
		return
	}
	row := s.cells[s.y]
	switch cmd.Final() {
	case '@': // ICH
		k := min(n(0), s.w-s.x)
		copy(row[s.x+k:], row[s.x:])
		copy(row[s.x:s.x+k], blank(k))
	case 'P': // DCH
		k := min(n(0), s.w-s.x)
		copy(row[s.x:], row[s.x+k:])
		copy(row[s.w-k:], blank(k))
	case 'X': // ECH
		k := min(n(0), s.w-s.x)
		copy(row[s.x:s.x+k], blank(k))
	case 'b': // REP
		for range min(n(0), s.w*s.h) {
			s.print(s.last)
		}
	case 'A': // stops at the top margin when below it
		lim := 0
		if s.y >= s.top {
			lim = s.top
		}
		s.y = max(lim, s.y-n(0))
	case 'B', 'e': // stops at the bottom margin when above it
		lim := s.h - 1
		if s.y <= s.bot {
			lim = s.bot
		}
		s.y = min(lim, s.y+n(0))
	case 'C', 'a':
		s.x = min(s.w-1, s.x+n(0))
	case 'D':
		s.x = max(0, s.x-n(0))
	case 'E':
		s.y, s.x = min(s.bot, s.y+n(0)), 0
	case 'F':
		s.y, s.x = max(s.top, s.y-n(0)), 0
	case 'G', '`':
		s.x = min(s.w, n(0)) - 1
	case 'd':
		s.y = min(s.h, n(0)) - 1
	case 'H', 'f':
		s.y, s.x = min(s.h, n(0))-1, min(s.w, n(1))-1
	case 'I':
		s.tab(n(0))
	case 'Z':
		s.tab(-n(0))
	case 'J':
		s.eraseDisplay(param(params, 0))
	case 'K':
		s.eraseLine(param(params, 0))
	case 'L', 'M': // IL, DL: within the scroll region, from the cursor's row
		if s.y < s.top || s.y > s.bot {
			return
		}
		top := s.top
		s.top = s.y
		if cmd.Final() == 'L' {
			s.scrollDown(n(0))
		} else {
			s.scrollUp(n(0))
		}
		s.top = top
		s.x = 0
	case 'S':
		s.scrollUp(n(0))
	case 'T':
		s.scrollDown(n(0))
	case 'r': // DECSTBM
		top, bot := n(0)-1, s.h-1
		if v, _, ok := params.Param(1, 0); ok && v > 0 {
			bot = min(s.h, v) - 1
		}
		if top < bot {
			s.top, s.bot = top, bot
		}
		s.x, s.y = 0, 0
	case 'g': // TBC
		switch param(params, 0) {
		case 0:
			s.tabs[s.x] = false
		case 3:
			clear(s.tabs)
		}
	case 'h', 'l':
		if param(params, 0) == 4 {
			s.insert = cmd.Final() == 'h'
		}
	case 's':
		s.sx, s.sy = s.x, s.y
	case 'u':
		s.x, s.y = s.sx, s.sy
	case 'n':
		if param(params, 0) == 6 { // the cursor's position, asked
			s.reply = append(s.reply, "\x1b["+strconv.Itoa(s.y+1)+";"+strconv.Itoa(s.x+1)+"R"...)
		}
	}
}

func param(params ansi.Params, i int) int {
	v, _, _ := params.Param(i, 0)
	return v
}

func (s *screen) privateMode(cmd ansi.Cmd, params ansi.Params) {
	switch cmd.Final() {
	case 'h', 'l':
		on := cmd.Final() == 'h'
		params.ForEach(0, func(_, p int, _ bool) {
			switch p {
			case 7:
				s.wrap = on
			case 47, 1047, 1049: // the alternate screen starts blank
				if p == 1049 && on {
					s.sx, s.sy = s.x, s.y
				}
				for i := range s.cells {
					s.cells[i] = blank(s.w)
				}
				if p == 1049 && !on {
					s.x, s.y = s.sx, s.sy
				}
			}
		})
	case 'W': // DECST8C: tab stops every 8 columns again
		if param(params, 0) == 5 {
			clear(s.tabs)
			for i := 8; i < s.w; i += 8 {
				s.tabs[i] = true
			}
		}
	}
}

func (s *screen) eraseDisplay(mode int) {
	switch mode {
	case 0:
		s.eraseLine(0)
		for y := s.y + 1; y < s.h; y++ {
			s.cells[y] = blank(s.w)
		}
	case 1:
		s.eraseLine(1)
		for y := 0; y < s.y; y++ {
			s.cells[y] = blank(s.w)
		}
	case 2, 3:
		for y := range s.cells {
			s.cells[y] = blank(s.w)
		}
	}
}

func (s *screen) eraseLine(mode int) {
	row := s.cells[s.y]
	switch mode {
	case 0:
		copy(row[s.x:], blank(s.w-s.x))
	case 1:
		copy(row[:s.x+1], blank(s.x+1))
	case 2:
		copy(row, blank(s.w))
	}
}
