package ui

// Terminal safety for the recorded corpus: the strings of
// testdata/hostile/corpus.py, which testdata/hostile/record.sh sends to
// real nginx and captures, exactly as the bytes went on the wire. Sources
// hand the engine bytes as sent, so these reach the model raw; here they
// are put straight into detect values, in every field the dashboard can
// show, and the dashboard is driven through every pane, every row's detail
// and the help at 80x24 and 140x40. No frame may carry a byte of them to
// the terminal as itself. hostile_test.go does the same for hand-made
// values (wide runes, combining marks, non-characters); the root package's
// hostile_test.go runs the recordings themselves through the real sources.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// hostileCorpus is testdata/hostile/corpus.py's CORPUS, byte for byte.
var hostileCorpus = map[string]string{
	"csi_red":       "evil\x1b[31mRED\x1b[0m.test",
	"csi_clear":     "x\x1b[2J\x1b[Hcleared",
	"osc52":         "x\x1b]52;c;ZXZpbA==\x07y",
	"osc8":          "\x1b]8;;http://evil.test/\x1b\\click\x1b]8;;\x1b\\",
	"c1_8bit":       "a\x9b31mb\x9d0;t\x9c",
	"c1_utf8":       "a\u009b31mb\u009d0;t\u009c",
	"cr":            "api.rebind.test\rEVIL",
	"backspace":     "admin\b\b\b\b\bguest",
	"rlo":           "api.rebind.test\u202etset.live",
	"bidi_isolates": "a\u2066b\u2067c\u2068d\u2069e",
	"lrm_rlm":       "a\u200eb\u200fc",
	"zwj_zwsp":      "a\u200db\u200bc",
	"bom":           "\ufeffapi.rebind.test",
	"invalid_utf8":  "\xff\xfe\xc0\x80\xed\xa0\x80host",
	"del_bel":       "a\x7fb\x07c",
	"big":           strings.Repeat("B", 10000),
}

// TestHostileCorpusOnEveryScreen walks every pane and every row's detail
// of a dashboard whose every field holds a corpus string, colour off (so
// our own SGRs cannot hide a leaked one), the title hostile too.
func TestHostileCorpusOnEveryScreen(t *testing.T) {
	want := escapes(hostileCorpus)
	// Each View costs about 15 ms under -race: every row at 80x24, half of
	// them at 140x40 (the walk is the same, only wider), the end of the
	// detail for the first five.
	rows := map[int]int{80: len(hostileCorpus), 140: len(hostileCorpus) / 2}
	if testing.Short() {
		rows = map[int]int{80: 8, 140: 4}
	}
	title := "rebindwatch — a\x1b]52;c;ZXZpbA==\x07\u202e.pcap"
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		m := newTestModel(t, hostileBackend(hostileCorpus), w, h, noColor(), func(o *Options) { o.Title = title })
		walkScreens(t, m, rows[w], 5, func(what string, m Model) {
			t.Helper()
			v := m.View()
			name := fmt.Sprintf("%dx%d %s", w, h, what)
			checkSafe(t, name, v.Content, w, h, false)
			checkSafe(t, name+" (window title)", v.WindowTitle, 1<<20, 1, false)
			seeEscapes(want, ansi.Strip(v.Content))
		})
	}
	checkEscapesSeen(t, want)
}
