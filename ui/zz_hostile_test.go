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
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/rebindwatch/rebindwatch/internal/testkit"
)

// hostileCorpus is testdata/hostile/corpus.py's CORPUS, shared with the report's tests.
var hostileCorpus = testkit.HostileCorpus()

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
