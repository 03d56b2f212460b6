package ui

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
)

// header is the status block at the top: sources and their state, the
// request rate with a 60 s sparkline, totals, alerts per detector, errors,
// drops, evictions, progress while catching up, the filter in use, pause
// state and the warnings that must not be missed (checks that are off, and
// why; unsaved allowlist changes; parse problems). The root model fills it
// per frame.
type header struct {
	ctx   *viewCtx
	title string
	view  *snapView

	replay     bool // a Pacer drives the sources
	live       bool
	paused     bool    // replay paused (Pacer)
	stepped    bool    // a paused replay stepped with .: the clock is the step's
	held       bool    // display held (live)
	heldSince  uint64  // requests counted since the display was held
	speed      float64 // replay speed; 0 = as fast as possible
	done       bool    // every source finished
	filter     string  // "keys ~ \"abc\"", empty when none
	progress   map[string]progress
	canSave    bool
	canSuggest bool
	loaded     bool // a first snapshot arrived
	maxOptLine int  // optional warning lines allowed (terminal height)

	unsavedHosts, unsavedOrigins []string

	config       string    // the config file loaded; "" for none
	chips        []chip    // pins and the range (pivot.go)
	cursor, mark time.Time // the timeline's cursor and a first mark (zero: none)
	from, to     time.Time // the pinned range (zero: none)
	zoom         string    // the timeline's span: "1m", "all"
	canUseFormat bool      // L can read a log again with a proposed format
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
	s := h.view
	out := make([]string, 0, 8)

	// Line 1: title and sources ... state badge and clock. The sources
	// get a line of their own when they do not fit beside the title.
	right := h.badge() + " " + st.bold.Render(clock(s.now()))
	left := st.title.Render(cut(clean(h.title), w))
	src := h.sources()
	if h.inline(src, w) {
		left += "  " + src
		src = ""
	}
	out = append(out, spaceBetween(left, right, w))
	if src != "" {
		out = append(out, clipLine(src, w))
	}

	// Rate, timeline, totals ... filter; alerts by detector under it; the
	// pins and the range (kept whatever the height: they change what
	// every pane shows).
	out = append(out, spaceBetween(h.rateLine(w), h.filterText(), w))
	if h.showHistogram() {
		out = append(out, h.histogramLine(w))
	}
	if h.showChips() {
		out = append(out, h.chipsLine(w))
	}

	// Alerts per detector ... errors, drops, evictions (these first when
	// they are not zero: they say the screen is missing something).
	out = append(out, h.counters(w))

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

// rateLine is the request rate, the timeline of requests and the count:
// of the pinned traffic when pins narrow it ("12 of 370 requests").
func (h *header) rateLine(w int) string {
	st := &h.ctx.st
	s := h.view
	r := s.RateNow
	total := count(s.Requests) + " requests"
	if h.narrowed() {
		r = narrowRate(&s.Activity)
		approx := ""
		if s.Coverage.Matched.Why != "" {
			approx = "≥"
		}
		total = approx + count(s.Matched) + " of " + total
	}
	label := fit("req/s "+rate(r), timeLabel-1) + " "
	line := st.bold.Render(label) + h.timeCells(sparkWidth(w)) + st.dim.Render(" "+h.zoom) + " · " + st.bold.Render(total)
	room := w - ansi.StringWidth(line) - ansi.StringWidth(h.filterText()) - 4
	if by := h.sourceRates(room); by != "" {
		line += " · " + st.dim.Render(by)
	}
	return line
}

// sourceRates is the busiest sources' request rates, cut to w: on a
// fleet, its web servers; with several logs, the files. Not when pins
// narrow the view (the rates are the whole traffic's).
func (h *header) sourceRates(w int) string {
	rs := h.view.SourceRates
	if len(rs) == 0 || w < 20 || h.narrowed() {
		return ""
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, cut(clean(sourceName(r.Source)), 24)+" "+rate(r.Rate))
	}
	return cut("by source "+strings.Join(parts, ", "), w)
}

// filterText is the typed filters in use, for the right of the rate line.
func (h *header) filterText() string {
	if h.filter == "" {
		return ""
	}
	return h.ctx.st.warn.Render("filter " + h.filter)
}

// narrowed reports whether pins or a range narrow what is shown.
func (h *header) narrowed() bool { return len(h.chips) > 0 }

// showHistogram: the alerts-by-detector line, once there are alerts (or
// the cursor is on the timeline, to read it).
func (h *header) showHistogram() bool {
	total := 0
	for _, n := range h.view.AlertsByDetector {
		total += n
	}
	return total > 0 || !h.cursor.IsZero()
}

// histogramLine is the alerts of each bucket of the timeline, by
// detector (letter), under the request cells, with a legend.
func (h *header) histogramLine(w int) string {
	st := &h.ctx.st
	cells, used := h.alertCells(sparkWidth(w))
	var legend []string
	for _, d := range used {
		i := infoOf(d)
		legend = append(legend, i.letter+" "+i.label)
	}
	return clipLine(st.bold.Render(fit("alerts", timeLabel-1)+" ")+cells+st.dim.Render(" "+strings.Join(legend, "  ")), w)
}

// showChips: the line of pins, once there is a pin, a range, a cursor or
// a mark.
func (h *header) showChips() bool {
	return len(h.chips) > 0 || !h.cursor.IsZero() || !h.mark.IsZero()
}

// chipsLine shows the pins and the range, then the cursor, then what
// undoes them. The chips come first: the hint goes, then the cursor,
// then the chips are cut, and those that still do not fit are counted.
func (h *header) chipsLine(w int) string {
	st := &h.ctx.st
	var right string
	switch {
	case !h.mark.IsZero():
		right = "mark " + clock(h.mark) + " · m pins the range"
	case !h.cursor.IsZero():
		right = h.cursorText()
	}
	if len(h.chips) == 0 {
		return spaceBetween("", st.dim.Render(right), w)
	}
	const hint = " — F clears · backspace drops"
	chips := func(n, each int) string {
		parts := make([]string, 0, n)
		for _, c := range h.chips[:n] {
			parts = append(parts, chipText(c, each))
		}
		l := "⚑ " + strings.Join(parts, " × ")
		if n < len(h.chips) {
			l += " +" + strconv.Itoa(len(h.chips)-n) + " more"
		}
		return l
	}
	full := chips(len(h.chips), 80)
	for _, c := range []struct{ left, right string }{{full + hint, right}, {full, right}, {full + hint, ""}, {full, ""}} {
		if width(c.left)+1+width(c.right) <= w {
			return spaceBetween(st.warn.Render(c.left), st.dim.Render(c.right), w)
		}
	}
	for n := len(h.chips); n > 0; n-- {
		if l := chips(n, max(16, (w-12)/n-3)); width(l) <= w || n == 1 {
			return st.warn.Render(cut(l, w))
		}
	}
	return ""
}

// inline reports whether the sources (src, as drawn) fit on the first
// line, beside the title, the badge and the clock.
func (h *header) inline(src string, w int) bool {
	if src == "" {
		return true
	}
	return width(cut(clean(h.title), w))+2+width(src)+1+width(h.badge())+1+8 <= w
}

// optional returns the warning lines, most important first: checks that
// are off (no allowlist, or a source blind to the field), catch-up
// progress, unsaved allowlist changes, parse problems.
func (h *header) optional(w int) []string {
	st := &h.ctx.st
	s := h.view
	var opt []string
	opt = append(opt, h.checkLines(w)...)
	if l := h.formatLine(w); l != "" {
		opt = append(opt, st.bad.Render(l))
	}
	opt = append(opt, h.progressLines(w)...)
	if len(h.unsavedHosts)+len(h.unsavedOrigins) > 0 {
		var parts []string
		if n := len(h.unsavedHosts); n > 0 {
			parts = append(parts, "+"+plural(n, "host", "hosts"))
		}
		if n := len(h.unsavedOrigins); n > 0 {
			parts = append(parts, "+"+plural(n, "origin", "origins"))
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

// checkLines say which checks are off and why: no allowlist (the engine's
// HostCheck and OriginCheck), or sources that cannot see the field (their
// Off list), so that a Host allowlist over a log without a Host column
// does not pass for a Host check. A hint on what to do follows when the
// width allows.
func (h *header) checkLines(w int) []string {
	s := h.view
	type off struct {
		check, why string
		hints      []string // longest first: the first that fits is shown
	}
	suggest := []string{" (rebindwatch --suggest-config writes one)", " (see --suggest-config)"}
	if h.canSuggest {
		suggest = []string{" — p proposes one from this traffic (rebindwatch --suggest-config writes one)",
			" — p proposes one from this traffic", " — p proposes one"}
	}
	logHint := []string{" — rebindwatch --print-log-config shows a format that has it", " — see --print-log-config"}
	var offs []off
	for _, c := range []struct{ check, cfg, field string }{{"Host", s.HostCheck, "Host"}, {"Origin", s.OriginCheck, "Origin"}} {
		switch names, all := blindSources(s, c.field); {
		case c.cfg != "" && (s.HostCheck == "" || s.OriginCheck == ""):
			offs = append(offs, off{c.check + " check is", offReason(c.cfg), suggest})
		case c.cfg != "":
			offs = append(offs, off{c.check + " check is", "no allowlist", suggest})
		case all:
			offs = append(offs, off{c.check + " check is", blindText(names, c.field), logHint})
		case len(names) > 0:
			offs = append(offs, off{c.check + " check is", "for " + blindText(names, c.field), logHint})
		}
	}
	if len(offs) == 2 && offs[0].why == offs[1].why {
		offs = []off{{"Host and Origin checks are", offs[0].why, offs[0].hints}}
	}
	if names, _ := blindSources(s, "key"); len(names) > 0 {
		offs = append(offs, off{"burst and spread are", blindText(names, "key") + " (keys come from query strings only)", logHint})
	}
	out := make([]string, 0, len(offs))
	for _, o := range offs {
		l := "⚠ " + o.check + " OFF: " + o.why
		for _, hint := range o.hints {
			if w <= 0 || width(l+hint) <= w {
				l += hint
				break
			}
		}
		out = append(out, h.ctx.st.bad.Render(l))
	}
	return out
}

// offReason is the engine's reason a check is off, said once.
func offReason(why string) string {
	why = strings.TrimSpace(why)
	if len(why) > 4 && strings.EqualFold(why[:4], "off:") {
		why = strings.TrimSpace(why[4:])
	}
	return clean(why)
}

// height is how many lines lines() returns, counted without rendering
// (the layout needs it on every update).
func (h *header) height(maxLines int) int {
	s := h.view
	n := len(h.checkLines(0))
	n += h.catchingUp()
	if h.formatLine(0) != "" {
		n++
	}
	if len(h.unsavedHosts)+len(h.unsavedOrigins) > 0 {
		n++
	}
	if s.ParseErrors > 0 && len(s.Problems) > 0 {
		n++
	}
	if !h.loaded {
		n++
	}
	n = 3 + min(n, h.maxOptLine)
	if !h.inline(h.sources(), h.ctx.width) {
		n++
	}
	if h.showHistogram() {
		n++
	}
	if h.showChips() {
		n++
	}
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
	for _, src := range h.view.Sources {
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
	case h.paused && h.done:
		return st.status.Render(" ‖ PAUSED ") + st.good.Render(" ✓ DONE")
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
	parts := make([]string, 0, len(h.view.Sources))
	topics := map[string]*topicLag{}
	for _, src := range h.view.Sources {
		if topic, ok := kafkaTopic(src.Name); ok {
			// A topic's partitions are one entry: how many, the lag
			// they add up to and the partition furthest behind.
			if t := topics[topic]; t != nil {
				t.add(src)
				continue
			}
			topics[topic] = &topicLag{topic: topic}
			topics[topic].add(src)
			parts = append(parts, "\x00"+topic) // filled in below, in first-seen order
			continue
		}
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
	for i, p := range parts {
		if t, ok := strings.CutPrefix(p, "\x00"); ok {
			parts[i] = topics[t].render(st)
		}
	}
	parts = append(parts, st.dim.Render(h.configText()))
	return strings.Join(parts, st.dim.Render(" · "))
}

// kafkaTopic is the topic of a Kafka partition's source name
// ("kafka:TOPIC/P").
func kafkaTopic(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "kafka:")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// topicLag sums a topic's partitions for the header: the operator must
// see when detection falls behind, without a line per partition.
type topicLag struct {
	topic      string
	partitions int
	lag        int64
	worst      string // the partition furthest behind
	worstLag   int64
	state      detect.SourceState
	note       string
	failed     bool
}

func (t *topicLag) add(src detect.SourceStatus) {
	t.partitions++
	if t.partitions == 1 || src.State != detect.StateFollowing {
		t.state = src.State // a partition not following is the news
	}
	t.failed = t.failed || src.State == detect.StateFailed
	part := src.Name[strings.LastIndexByte(src.Name, '/')+1:]
	if t.worst == "" {
		t.worst = part
	}
	if src.HasLag {
		t.lag += src.Lag
		if src.Lag > t.worstLag {
			t.worst, t.worstLag = part, src.Lag
		}
	}
	if t.note == "" {
		t.note = src.Note
	}
}

// lagLoud is the lag from which the header shows it as a warning.
const lagLoud = 10_000

func (t *topicLag) render(st *styles) string {
	s := "kafka:" + cut(clean(t.topic), 30)
	if t.partitions == 1 {
		s += "/" + clean(t.worst)
	} else {
		s += " " + strconv.Itoa(t.partitions) + " partitions"
	}
	s += " " + t.state.String() + " lag " + count(uint64(max(t.lag, 0)))
	if t.partitions > 1 && t.worstLag > 0 {
		s += " (most: p" + clean(t.worst) + " " + count(uint64(t.worstLag)) + ")"
	}
	if t.note != "" {
		s += " (" + cut(clean(t.note), 40) + ")"
	}
	switch {
	case t.failed:
		return st.bad.Render(s)
	case t.lag >= lagLoud:
		return st.warn.Render(s)
	}
	return st.dim.Render(s)
}

// configText names the config the run loaded, or says there is none.
func (h *header) configText() string {
	if h.config == "" {
		return "no config"
	}
	return "config " + elideHost(clean(h.config), 32)
}

// counters is the alerts line: alerts by detector on the left; parse
// errors, drops, evictions and the sources' own counters on the right,
// each only as loud as it needs to be. When they are not all zero they
// keep their place and the detectors are cut instead.
func (h *header) counters(w int) string {
	st := &h.ctx.st
	byDet, of := h.alertCounts()
	total := 0
	for _, n := range byDet {
		total += n
	}
	loud := h.problems()
	for _, compact := range []bool{false, true} {
		var b strings.Builder
		al := "alerts " + count(uint64(total)) + of
		if total > 0 {
			al = st.bad.Render(al)
		} else {
			al = st.good.Render(al)
		}
		b.WriteString(al)
		b.WriteString(st.dim.Render(": "))
		sep := " · "
		if compact {
			sep = " "
		}
		first := true
		for _, d := range detInfos {
			n := byDet[d.name]
			if compact && n == 0 && total > 0 {
				continue // narrow: only the detectors that fired
			}
			if !first {
				b.WriteString(st.dim.Render(sep))
			}
			first = false
			txt := d.label + " " + count(uint64(n))
			if n > 0 {
				b.WriteString(st.warn.Render(txt))
			} else {
				b.WriteString(st.dim.Render(txt))
			}
		}
		left := b.String()
		if of != "" && total == 0 {
			left = st.good.Render("alerts 0" + of + " match")
		}
		right := loud
		if right == "" {
			right = h.quietProblems()
		}
		if !compact && width(left)+3+width(right) > w {
			continue
		}
		if loud != "" && width(left)+3+width(loud) > w {
			// What was lost matters more than the per-detector counts;
			// the total stays.
			total := "alerts " + count(uint64(total)) + of
			room := max(width(total), w-3-width(loud))
			if room <= width(total)+3 {
				left = st.bad.Render(total)
			} else {
				left = st.bad.Render(cut(ansi.Strip(left), room))
			}
			right = st.warn.Render(cut(ansi.Strip(loud), max(0, w-3-width(left))))
		}
		return clipLine(left+st.dim.Render(" │ ")+right, w)
	}
	return ""
}

// alertCounts are the alerts by detector the alerts line counts: every
// one raised, or under pins or a range those of the alerts kept that
// match, with " of N" saying how many were raised in all.
func (h *header) alertCounts() (map[string]int, string) {
	s := h.view
	if !h.narrowed() {
		return s.AlertsByDetector, ""
	}
	total := 0
	for _, n := range s.AlertsByDetector {
		total += n
	}
	by := map[string]int{}
	for i := range s.Alerts {
		by[s.Alerts[i].Detector]++
	}
	return by, " of " + count(uint64(total))
}

// problems is the right of the alerts line when something was lost or not
// understood: parse errors, drops, evictions per table, source counters;
// "" when all are zero.
func (h *header) problems() string {
	st := &h.ctx.st
	s := h.view
	var parts []string
	if s.ParseErrors > 0 {
		parts = append(parts, "errors "+count(s.ParseErrors))
	}
	if s.Dropped > 0 {
		parts = append(parts, "drops "+count(s.Dropped))
	}
	var ev []string
	for _, k := range slices.Sorted(maps.Keys(s.Evicted)) {
		if s.Evicted[k] > 0 {
			ev = append(ev, cut(clean(k), 20)+" "+count(s.Evicted[k]))
		}
	}
	if len(ev) > 0 {
		parts = append(parts, "evicted "+strings.Join(ev, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Counters)) {
		if n := s.Counters[k]; n > 0 {
			parts = append(parts, strings.ReplaceAll(cut(clean(k), 30), "_", " ")+" "+count(n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return st.warn.Render(strings.Join(parts, " · "))
}

// quietProblems is the right of the alerts line when nothing was lost.
func (h *header) quietProblems() string {
	return h.ctx.st.dim.Render("errors 0 · drops 0 · evicted 0")
}

// progressLines draws a bar for each source still catching up on a file
// or capture: percent, bytes per second and time left.
func (h *header) progressLines(w int) []string {
	st := &h.ctx.st
	var out []string
	for _, src := range h.view.Sources {
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
