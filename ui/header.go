package ui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// header is the status block at the top: sources and their state, the
// request rate with a 60 s sparkline, totals, alerts per detector, errors,
// drops, evictions, progress while catching up, the filter in use, pause
// state and the warnings that must not be missed (Host check off, unsaved
// allowlist changes, parse problems). The root model fills it per frame.
type header struct {
	ctx   *viewCtx
	title string
	snap  *detect.Snapshot

	replay     bool // a Pacer drives the sources
	live       bool
	paused     bool    // replay paused (Pacer)
	held       bool    // display held (live)
	heldSince  uint64  // requests counted since the display was held
	speed      float64 // replay speed; 0 = as fast as possible
	done       bool    // every source finished
	filter     string  // "keys ~ abc", empty when none
	progress   map[string]progress
	canSave    bool
	loaded     bool // a first snapshot arrived
	maxOptLine int  // optional warning lines allowed (terminal height)
}

// progress is a source's catch-up rate, estimated from successive
// snapshots with the wall time the snapshot command recorded.
type progress struct {
	done    int64
	at      time.Time
	rate    float64 // bytes per wall second, smoothed
	samples int
}

// lines returns the header's lines for w cells; height caps them.
func (h *header) lines(w, height int) []string {
	st := &h.ctx.st
	s := h.snap
	out := make([]string, 0, 8)

	// Line 1: title and sources ... state badge and event clock.
	left := st.title.Render(cut(clean(h.title), w))
	if src := h.sources(); src != "" {
		left += "  " + src
	}
	out = append(out, spaceBetween(left, h.badge()+" "+st.bold.Render(clock(s.EventTime)), w))

	// Line 2: rate, sparkline, totals ... filter.
	sparkW := 30
	if w < 100 {
		sparkW = 20
	}
	if w < 70 {
		sparkW = 10
	}
	l2 := "req/s " + st.bold.Render(rate(s.RateNow)) + " " + st.spark.Render(sparkline(s.History, sparkW)) +
		st.dim.Render(" 60s") + " · " + st.bold.Render(count(s.Requests)) + " requests"
	right := ""
	if h.filter != "" {
		right = st.warn.Render("filter " + h.filter)
	}
	out = append(out, spaceBetween(l2, right, w))

	// Line 3: alerts per detector, errors, drops, evictions.
	l3 := h.counters(false)
	if width(l3) > w {
		l3 = h.counters(true)
	}
	out = append(out, clipLine(l3, w))

	opt := h.optional(w)
	if len(opt) > h.maxOptLine {
		opt = opt[:h.maxOptLine]
	}
	for _, l := range opt {
		out = append(out, clipLine(l, w))
	}
	if height > 0 && len(out) > height {
		out = out[:height]
	}
	for i := range out {
		out[i] = clipLine(out[i], w)
	}
	return out
}

// optional returns the warning lines, most important first: the Host
// check off, catch-up progress, unsaved allowlist changes, parse problems.
func (h *header) optional(w int) []string {
	st := &h.ctx.st
	s := h.snap
	var opt []string
	if s.HostCheck != "" {
		// The engine's reason may itself start with "off:"; say it once.
		why := strings.TrimSpace(s.HostCheck)
		if len(why) > 4 && strings.EqualFold(why[:4], "off:") {
			why = strings.TrimSpace(why[4:])
		}
		opt = append(opt, st.bad.Render("⚠ Host check is OFF: "+cut(clean(why), w)))
	}
	opt = append(opt, h.progressLines(w)...)
	if len(s.AddedHosts)+len(s.AddedOrigins) > 0 {
		var parts []string
		if len(s.AddedHosts) > 0 {
			parts = append(parts, "+"+plural(len(s.AddedHosts), "host", "hosts"))
		}
		if len(s.AddedOrigins) > 0 {
			parts = append(parts, "+"+plural(len(s.AddedOrigins), "origin", "origins"))
		}
		msg := "✎ allowlist changed: " + strings.Join(parts, ", ") + " this run"
		if h.canSave {
			msg += " — press w to save"
		} else {
			msg += " (not saved: no config file)"
		}
		opt = append(opt, st.warn.Render(msg))
	}
	if s.ParseErrors > 0 && len(s.Problems) > 0 {
		p := s.Problems[len(s.Problems)-1]
		opt = append(opt, st.warn.Render("⚠ "+count(s.ParseErrors)+" unparsed inputs, e.g. "+cut(clean(p.Where), 40)+": ")+cut(clean(p.Text), w))
	}
	if !h.loaded {
		opt = append(opt, st.dim.Render("waiting for the first snapshot…"))
	}
	return opt
}

// height is how many lines lines() returns, counted without rendering
// (the layout needs it on every update).
func (h *header) height(maxLines int) int {
	s := h.snap
	n := 0
	if s.HostCheck != "" {
		n++
	}
	n += h.catchingUp()
	if len(s.AddedHosts)+len(s.AddedOrigins) > 0 {
		n++
	}
	if s.ParseErrors > 0 && len(s.Problems) > 0 {
		n++
	}
	if !h.loaded {
		n++
	}
	n = 3 + min(n, h.maxOptLine)
	if maxLines > 0 {
		n = min(n, maxLines)
	}
	return n
}

// paced reports a replay at a set speed. Its sources read ahead of the
// pace, so bytes done say nothing about where the replay is: no bar then.
func (h *header) paced() bool { return h.replay && h.speed > 0 }

// catchingUp counts the sources still reading a file or capture with a
// known size, as fast as they can.
func (h *header) catchingUp() int {
	if h.paced() {
		return 0
	}
	n := 0
	for _, src := range h.snap.Sources {
		if catchingUp(&src) {
			n++
		}
	}
	return n
}

func catchingUp(src *detect.SourceStatus) bool {
	return src.Total > 0 && src.Done < src.Total && src.State != detect.StateDone && src.State != detect.StateFailed && src.State != detect.StateStopped
}

// badge is the state at the top right: paused, done, live or replay speed.
func (h *header) badge() string {
	st := &h.ctx.st
	switch {
	case h.held:
		return st.status.Render(" ‖ PAUSED ") + st.warn.Render(" ("+count(h.heldSince)+" events since)")
	case h.paused:
		return st.status.Render(" ‖ PAUSED ") + st.dim.Render(" . steps 1s")
	case h.done:
		return st.good.Render("✓ DONE")
	case h.replay:
		return st.bold.Render("▶ " + speedLabel(h.speed))
	case h.live:
		return st.good.Render("● LIVE")
	}
	return ""
}

// speedLabel names a replay speed: 1×, 10×, 0.5×, max.
func speedLabel(x float64) string {
	if x <= 0 {
		return "max"
	}
	return strconv.FormatFloat(x, 'g', 3, 64) + "×"
}

// sources summarises every source: name, state, percent done, note.
func (h *header) sources() string {
	st := &h.ctx.st
	parts := make([]string, 0, len(h.snap.Sources))
	for _, src := range h.snap.Sources {
		s := cut(clean(sourceName(src.Name)), 40) + " " + src.State.String()
		reading := src.State == detect.StateReplaying || src.State == detect.StateStarting
		if src.Total > 0 && reading && !h.paced() {
			s += " " + pct(src.Done, src.Total)
		}
		if src.Note != "" {
			s += " (" + cut(clean(src.Note), 40) + ")"
		}
		if src.State == detect.StateFailed {
			s = st.bad.Render(s)
		} else {
			s = st.dim.Render(s)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, st.dim.Render(" · "))
}

// counters is line 3: alerts by detector, parse errors, drops, evictions
// and the sources' own counters, each only as loud as it needs to be.
func (h *header) counters(compact bool) string {
	st := &h.ctx.st
	s := h.snap
	total := 0
	for _, n := range s.AlertsByDetector {
		total += n
	}
	var b strings.Builder
	al := "alerts " + strconv.Itoa(total)
	if total > 0 {
		al = st.bad.Render(al)
	} else {
		al = st.good.Render(al)
	}
	b.WriteString(al)
	b.WriteString(st.dim.Render(": "))
	labels := [...]string{"parse errors", "dropped", "evicted", " · ", "  │  "}
	if compact {
		labels = [...]string{"errors", "drops", "evicted", " ", " │ "}
	}
	first := true
	for _, d := range detect.Detectors {
		n := s.AlertsByDetector[d]
		if compact && n == 0 && total > 0 {
			continue // narrow: only the detectors that fired
		}
		if !first {
			b.WriteString(st.dim.Render(labels[3]))
		}
		first = false
		txt := detShort(d, "") + " " + strconv.Itoa(n)
		if n > 0 {
			b.WriteString(st.warn.Render(txt))
		} else {
			b.WriteString(st.dim.Render(txt))
		}
	}
	b.WriteString(st.dim.Render(labels[4]))
	b.WriteString(quiet(st, labels[0], s.ParseErrors))
	b.WriteString(st.dim.Render(" · "))
	b.WriteString(quiet(st, labels[1], s.Dropped))
	var ev uint64
	for _, n := range s.Evicted {
		ev += n
	}
	b.WriteString(st.dim.Render(" · "))
	if ev == 0 {
		b.WriteString(st.dim.Render("evicted 0"))
	} else {
		parts := make([]string, 0, len(s.Evicted))
		for _, k := range slices.Sorted(maps.Keys(s.Evicted)) {
			if s.Evicted[k] > 0 {
				parts = append(parts, cut(clean(k), 20)+" "+count(s.Evicted[k]))
			}
		}
		b.WriteString(st.warn.Render("evicted " + strings.Join(parts, ", ")))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Counters)) {
		if n := s.Counters[k]; n > 0 {
			b.WriteString(st.dim.Render(" · "))
			b.WriteString(st.warn.Render(strings.ReplaceAll(cut(clean(k), 30), "_", " ") + " " + count(n)))
		}
	}
	return b.String()
}

// quiet renders "label n", dim when n is zero, loud otherwise.
func quiet(st *styles, label string, n uint64) string {
	if n == 0 {
		return st.dim.Render(label + " 0")
	}
	return st.warn.Render(label + " " + count(n))
}

// progressLines draws a bar for each source still catching up on a file
// or capture: percent, bytes per second and time left.
func (h *header) progressLines(w int) []string {
	st := &h.ctx.st
	var out []string
	for _, src := range h.snap.Sources {
		if h.paced() || !catchingUp(&src) {
			continue
		}
		frac := float64(src.Done) / float64(src.Total)
		name := cut(clean(sourceName(src.Name)), 24)
		info := " " + pct(src.Done, src.Total) + "  " + bytesHuman(float64(src.Done)) + " of " + bytesHuman(float64(src.Total))
		if p, ok := h.progress[src.Name]; ok && p.rate > 0 && p.samples > 1 {
			left := time.Duration(float64(src.Total-src.Done) / p.rate * float64(time.Second))
			info += " · " + bytesHuman(p.rate) + "/s · " + duration(left) + " left"
		}
		barW := w - width(name) - width(info) - 3
		if barW > 40 {
			barW = 40
		}
		if barW < 5 {
			out = append(out, name+info)
			continue
		}
		full, empty := bar(frac, barW)
		out = append(out, name+" "+st.barFull.Render(full)+st.barEmpty.Render(empty)+info)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// pct is done/total as a whole percent, rounded down so 100% means done.
func pct(done, total int64) string {
	if total <= 0 {
		return "?%"
	}
	return strconv.FormatInt(done*100/total, 10) + "%"
}

// sourceName shortens a source's name for the header: a log's base name
// (the title already names the run).
func sourceName(n string) string {
	if i := strings.LastIndexByte(n, '/'); i >= 0 && i < len(n)-1 {
		return n[i+1:]
	}
	return n
}
