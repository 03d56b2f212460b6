package ui

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
)

func TestCount(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", 12_345_678: "12.3M"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want string
	}{{0, "0"}, {-1, "0"}, {math.NaN(), "0"}, {0.5, "0.5"}, {9.96, "10.0"}, {37, "37"}, {9999, "9999"}, {12345, "12.3k"}} {
		if got := rate(c.r); got != c.want {
			t.Errorf("rate(%v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestAgeUsesEventClock(t *testing.T) {
	now := fxNow
	for d, want := range map[time.Duration]string{-time.Second: "0s", 0: "0s", 59 * time.Second: "59s", 3 * time.Minute: "3m", 5 * time.Hour: "5h", 72 * time.Hour: "3d"} {
		if got := age(now, now.Add(-d)); got != want {
			t.Errorf("age(%v) = %q, want %q", d, got, want)
		}
	}
	if age(time.Time{}, now) != "-" || age(now, time.Time{}) != "-" {
		t.Errorf("zero times must read -")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 1500 * time.Millisecond: "2s", 65 * time.Second: "1m05s", 3723 * time.Second: "1h02m", -time.Second: "0s"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSparkline(t *testing.T) {
	cases := []struct {
		vals []float64
		w    int
		want string
	}{
		{nil, 4, "▁▁▁▁"},
		{[]float64{0, 0}, 4, "  ▁▁"},
		{[]float64{0, 1, 2, 4}, 4, "▁▄▅█"},
		{[]float64{1, 0, 0, 0, 0, 0, 0, 8}, 4, "▃▁▁█"}, // bucket max keeps the spike
		{[]float64{math.Inf(1), 1}, 2, "██"},
		{[]float64{math.NaN(), 1}, 2, "▁█"},
	}
	for _, c := range cases {
		got := sparkline(c.vals, c.w)
		if got != c.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", c.vals, c.w, got, c.want)
		}
		if ansi.StringWidth(got) != c.w {
			t.Errorf("sparkline(%v, %d) is %d wide", c.vals, c.w, ansi.StringWidth(got))
		}
	}
}

func TestLayoutColsDropsByPriority(t *testing.T) {
	cols := requestCols()
	names := func(vis []int) string {
		var s []string
		for _, i := range vis {
			s = append(s, cols[i].title)
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		w    int
		want string
	}{
		{200, "TIME CLIENT SERVER SOURCE METHOD HOST TARGET ORIGIN KEY ST"},
		{130, "TIME CLIENT SERVER METHOD HOST TARGET ORIGIN KEY ST"},
		{80, "TIME CLIENT HOST TARGET ORIGIN KEY ST"},
		{60, "TIME HOST TARGET KEY ST"},
		{40, "TIME HOST TARGET"},
		{5, "TIME HOST TARGET"},
	} {
		vis, widths, gap := layoutCols(cols, c.w)
		if got := names(vis); got != c.want {
			t.Errorf("width %d: columns %q, want %q", c.w, got, c.want)
		}
		if total := sumWidths(vis, widths, gap); total != c.w && c.w > 20 {
			t.Errorf("width %d: columns fill %d", c.w, total)
		}
	}
}

// TestSeverityReadsWithoutColour: every severity has a distinct symbol and
// word.
func TestSeverityReadsWithoutColour(t *testing.T) {
	seen := map[string]bool{}
	for s := detect.SeverityLow; s <= detect.SeverityCritical; s++ {
		l := sevLabel(s)
		if seen[l] || !strings.Contains(strings.ToLower(l), strings.ToLower(s.String()[:3])) {
			t.Errorf("severity %v label %q", s, l)
		}
		seen[l] = true
	}
}

func TestNoColorStylesHaveNoColour(t *testing.T) {
	m := newTestModel(t, demoBackend(), 140, 40, noColor())
	checkSafe(t, "no colour", m.View().Content, 140, 40, false)
}

// FuzzCell: whatever arrives from the wire, a cell is exactly its width,
// terminal-safe, and ends in an ellipsis when cut.
func FuzzCell(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v, 12)
	}
	f.Add("GET /api/v1/items?api_key=[redacted] HTTP/1.1", 30)
	f.Add("evil.rebind.test:8080", 8)
	f.Add("漢字", 3)
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = w % 300
		if w < 0 {
			w = -w
		}
		c := clean(s)
		out := fit(c, w)
		if got := ansi.StringWidth(out); got != w {
			t.Fatalf("fit(%q, %d) is %d wide", c, w, got)
		}
		if strings.ContainsAny(out, "\x1b\r\n\b\x07\x00\u009b\u202e\u200d") {
			t.Fatalf("fit(%q, %d) = %q carries a control character", s, w, out)
		}
		if w > 0 && ansi.StringWidth(c) > w && !strings.Contains(out, ellipsis) {
			t.Fatalf("fit(%q, %d) = %q cut without an ellipsis", s, w, out)
		}
	})
}
