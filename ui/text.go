package ui

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

const ellipsis = "…"

// maxShown bounds how much of one value is ever sanitised for display: no
// cell or detail line is that wide, and a 10 kB header must not cost a
// 10 kB escape pass per cell per frame.
const maxShown = 2048

// clean makes a string from traffic or a log safe to render. The model
// holds bytes as sent, so this is the dashboard's sanitising edge: every
// such string is drawn through it, and it is the only caller of the
// sanitiser. It costs nothing on the plain ASCII fast path. Values longer
// than maxShown bytes are cut first and end in "…".
func clean(s string) string {
	tail := ""
	if len(s) > maxShown {
		i := maxShown
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, tail = s[:i], ellipsis
	}
	return sanitize.String(s) + tail
}

// cleanAddr renders a client address without its port (ports are noise in
// a table); a zone from a log could carry anything, so it is sanitised.
func cleanAddr(a netip.AddrPort) string {
	if !a.IsValid() {
		return "-"
	}
	return clean(a.Addr().String())
}

// cut truncates s to at most w display cells, ending in "…" when it had to
// cut. s must not contain escape sequences (it is sanitised text).
func cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	// A 10 kB value would be scanned twice per cell per frame; anything
	// longer than a generous bound cannot fit, so drop its tail first.
	trimmed := false
	if limit := 8*w + 64; len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, trimmed = s[:i], true
	}
	if !trimmed {
		return ansi.Truncate(s, w, ellipsis)
	}
	out := ansi.Truncate(s, w, ellipsis)
	if !strings.HasSuffix(out, ellipsis) {
		// The kept prefix fitted (zero-width marks); still show the cut.
		out = ansi.Truncate(s, w-1, "") + ellipsis
	}
	return out
}

// fit cuts s to w cells and pads it with spaces to exactly w.
func fit(s string, w int) string {
	s = cut(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		return s + strings.Repeat(" ", pad)
	}
	return s
}

// fitRight is fit, aligned right.
func fitRight(s string, w int) string {
	s = cut(s, w)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		return strings.Repeat(" ", pad) + s
	}
	return s
}

// width is the display width of s (escape sequences ignored).
func width(s string) int { return ansi.StringWidth(s) }

// clipLine makes a rendered (possibly styled) line exactly w cells wide.
func clipLine(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, ellipsis)
	}
	if sw < w {
		return s + strings.Repeat(" ", w-sw)
	}
	return s
}

// spaceBetween puts left and right on one line of width w, right-aligned,
// cutting left first when they do not both fit.
func spaceBetween(left, right string, w int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if rw >= w {
		return ansi.Truncate(right, w, "")
	}
	if lw+rw+1 > w {
		left = ansi.Truncate(left, w-rw-1, ellipsis)
		lw = ansi.StringWidth(left)
	}
	return left + strings.Repeat(" ", w-lw-rw) + right
}

// count formats a counter with thousands separators: 12,345; above ten
// million it switches to 12.3M.
func count(n uint64) string {
	if n >= 10_000_000 {
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// rate formats requests per second: 0, 0.5, 12.3, 123, 1.2k.
func rate(r float64) string {
	switch {
	case r <= 0 || math.IsNaN(r):
		return "0"
	case r < 10:
		return strconv.FormatFloat(r, 'f', 1, 64)
	case r < 10_000:
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r/1000, 'f', 1, 64) + "k"
}

// age formats how long before the event clock t happened: 4s, 3m, 2h, 5d.
// It never reads the wall clock: now is the latest event time.
func age(now, t time.Time) string {
	if t.IsZero() || now.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// clock formats an event time as it came (its own zone), to the second.
func clock(t time.Time) string {
	if t.IsZero() {
		return "--:--:--"
	}
	return t.Format("15:04:05")
}

// duration formats a wall-clock estimate (time left): 42s, 3m05s, 1h02m.
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h > 0:
		return strconv.Itoa(h) + "h" + pad2(m) + "m"
	case m > 0:
		return strconv.Itoa(m) + "m" + pad2(s) + "s"
	}
	return strconv.Itoa(s) + "s"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// bytesHuman formats a byte count or rate: 512 B, 12.3 kB, 4.5 MB.
func bytesHuman(n float64) string {
	const unit = 1000
	if n < unit {
		return strconv.FormatFloat(n, 'f', 0, 64) + " B"
	}
	units := "kMGTP"
	i := -1
	for n >= unit && i < len(units)-1 {
		n /= unit
		i++
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + " " + units[i:i+1] + "B"
}

var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values (oldest first) in w cells (see sparkCells).
func sparkline(vals []float64, w int) string { return strings.Join(sparkCells(vals, w), "") }

// sparkCells draws values (oldest first) as w cells. When there are more
// values than cells, each cell shows the highest value of its bucket so a
// short burst is never averaged away; zero is the lowest bar and any
// non-zero value is at least the second, so idle and quiet differ. Fewer
// values than cells are padded on the left with blanks, so the newest
// value is always at the right edge.
func sparkCells(vals []float64, w int) []string {
	if w <= 0 {
		return nil
	}
	out := make([]string, 0, w)
	if len(vals) == 0 {
		for range w {
			out = append(out, string(sparkRunes[0]))
		}
		return out
	}
	cells := make([]float64, 0, w)
	if len(vals) <= w {
		cells = append(cells, vals...)
	} else {
		for i := 0; i < w; i++ {
			lo, hi := i*len(vals)/w, (i+1)*len(vals)/w
			m := 0.0
			for _, v := range vals[lo:hi] {
				m = math.Max(m, v)
			}
			cells = append(cells, m)
		}
	}
	maxV := 0.0
	for _, v := range cells {
		if v > maxV && !math.IsInf(v, 0) {
			maxV = v
		}
	}
	for i := len(cells); i < w; i++ {
		out = append(out, " ")
	}
	top := len(sparkRunes) - 1
	for _, v := range cells {
		idx := 0
		if v > 0 && maxV > 0 && !math.IsNaN(v) {
			idx = 1 + int(math.Round(math.Min(v/maxV, 1)*float64(top-1)))
		}
		out = append(out, string(sparkRunes[idx]))
	}
	return out
}

// bar draws a progress bar of w cells for frac in [0,1].
func bar(frac float64, w int) (full, empty string) {
	if w <= 0 {
		return "", ""
	}
	if frac < 0 || math.IsNaN(frac) {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	n := int(math.Round(frac * float64(w)))
	return strings.Repeat("█", n), strings.Repeat("░", w-n)
}

// containsFold reports whether hay contains the lower-case needle, ignoring
// ASCII case (the filter is matched against display text).
func containsFold(hay, lowerNeedle string) bool {
	if lowerNeedle == "" {
		return true
	}
	if len(hay) < len(lowerNeedle) {
		return false
	}
	return strings.Contains(strings.ToLower(hay), lowerNeedle)
}
