package ui

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/rebindwatch/rebindwatch/detect"
)

type detailKind uint8

const (
	detailNone detailKind = iota
	detailAlert
	detailIncident
	detailKey
	detailRequest
	detailSuggest
)

// detailView is the drill-down that replaces the panes: an incident with
// its alerts and evidence timeline, an alert with its evidence, a key with
// its hosts, clients, origins, rate and requests, one request with every
// field, or the suggested allowlist. It scrolls; ↑↓ select the rows enter
// opens (an evidence request, an incident's alert); esc goes back.
type detailView struct {
	kind     detailKind
	alert    detect.Alert
	incident detect.IncidentDetail
	key      detect.KeyDetail
	req      detect.Request
	proposal Proposal
	loaded   bool // the Backend answered (evidence, key detail, proposal present)
	gone     bool // the Backend no longer has it (cleared, evicted)
	sel      int  // the selected row among those enter opens; -1: none
	scrollView
}

// answered records the Backend's answer: ok, or no longer there.
func (d *detailView) answered(ok bool) {
	if ok {
		d.loaded, d.gone = true, false
	} else {
		d.gone = true
	}
}

// detailBody is a detail view's lines and the rows among them that enter
// opens or `a` allows, in order.
type detailBody struct {
	lines   []string
	targets []target
	sel     int // the detail's selection, for drawing it
}

// target is a row of a detail that leads somewhere.
type target struct {
	line  int
	open  drill       // detail.kind == detailNone: nowhere
	allow allowTarget // kind "": nothing
	note  string      // shown whole under the table while the row is selected
}

func (b *detailBody) add(lines ...string) { b.lines = append(b.lines, lines...) }

// addTable draws rows as a table; the rows for which pick says ok are
// targets (enter or `a` act on them), the selected one highlighted.
func addTable[T any](b *detailBody, c *viewCtx, cols []col[T], rows []T, w int, now time.Time, pick func(r *T) (target, bool)) {
	cursor := -1
	top := len(b.lines) + 1 // the table's header line comes first
	var ts []target
	for i := range rows {
		if t, ok := pick(&rows[i]); ok {
			if len(b.targets)+len(ts) == b.sel {
				cursor = i
			}
			t.line = top + i
			ts = append(ts, t)
		}
	}
	b.add(listTable(c, cols, rows, w, now, cursor)...)
	b.targets = append(b.targets, ts...)
	if t, ok := b.selected(); ok && t.note != "" && cursor >= 0 {
		b.add(wrapCut("↳ "+t.note, w, 3)...)
	}
}

// selected is the selected target, if any.
func (b *detailBody) selected() (target, bool) {
	if b.sel < 0 || b.sel >= len(b.targets) {
		return target{}, false
	}
	return b.targets[b.sel], true
}

// hint is the footer while the detail is open: how to get back and what
// the keys do here, and where the scroll is in a body of n lines.
func (d *detailView) hint(v *snapView, body *detailBody, height int) (left, right string) {
	left = "esc back"
	switch {
	case slices.ContainsFunc(body.targets, func(t target) bool { return t.open.detail.kind != detailNone }):
		left += " · ↑↓ select · enter open"
	case len(body.targets) > 0:
		left += " · ↑↓ select"
	default:
		left += " · ↑↓ scroll"
	}
	if t, ok := d.allowTarget(v, body); ok && t.kind != "" && !t.already {
		left += " · a allow this " + t.kind
	}
	if d.kind == detailSuggest {
		left += " · A adopt · w write"
	}
	return left, d.position(len(body.lines), height)
}

// allowTarget is what `a` allows here: the selected row's value, or the
// alert the view is about.
func (d *detailView) allowTarget(v *snapView, body *detailBody) (allowTarget, bool) {
	if t, ok := body.selected(); ok && t.allow.kind != "" {
		return t.allow, true
	}
	switch d.kind {
	case detailAlert:
		return alertAllow(&d.alert, v.allowedNow(&d.alert)), true
	case detailIncident:
		alerts := make([]*detect.Alert, len(d.incident.Alerts))
		for i := range d.incident.Alerts {
			alerts[i] = &d.incident.Alerts[i]
		}
		return incidentAllow(v, alerts), true
	}
	return allowTarget{}, false
}

// move selects the next (+1) or previous row enter opens and scrolls it
// into a window of height lines; above the first, the view scrolls to
// the top with nothing selected.
func (d *detailView) move(body *detailBody, dir, height int) {
	d.sel = max(-1, min(len(body.targets)-1, d.sel+dir))
	if d.sel < 0 {
		d.offset = 0
		return
	}
	line := body.targets[d.sel].line
	if line < d.offset {
		d.offset = line
	}
	if line >= d.offset+height {
		d.offset = line - height + 1
	}
}

// pickVisible selects, after a page or a jump, the first row enter opens
// in the window (the last one, at the bottom), or none.
func (d *detailView) pickVisible(body *detailBody, height int, last bool) {
	d.sel = -1
	for i, t := range body.targets {
		if t.line >= d.offset && t.line < d.offset+height {
			d.sel = i
			if !last {
				return
			}
		}
	}
}

// body is the whole detail at the snapshot on screen; the scroll view
// shows a window of it.
func (d *detailView) body(c *viewCtx, v *snapView, width int) *detailBody {
	b := &detailBody{sel: d.sel}
	switch d.kind {
	case detailAlert:
		d.alertLines(b, c, v, width)
	case detailIncident:
		d.incidentLines(b, c, v, width)
	case detailKey:
		d.keyLines(b, c, v, width)
	case detailRequest:
		d.requestLines(b, c, v, width)
	case detailSuggest:
		d.suggestLines(b, c, v, width)
	}
	return b
}

// kv renders "label  value" with the label in a fixed column.
func kv(st *styles, label, value string, width int) string {
	const lw = 11
	return st.dim.Render(fit(label, lw)) + cut(value, width-lw)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hostLines are the lines of a host-like field: the value, and a second
// line when it could pass for another name.
func hostLines(st *styles, label, raw string, width int) []string {
	out := []string{kv(st, label, orDash(clean(raw)), width)}
	if l := lookAlikeText(raw); l != "" {
		out = append(out, kv(st, "", st.bad.Render(l), width))
	}
	return out
}

func (d *detailView) alertLines(b *detailBody, c *viewCtx, v *snapView, width int) {
	st := &c.st
	a := &d.alert
	now := v.now()
	allowed := v.allowedNow(a)
	head := st.accents[sevAccent(a.Severity)].Render(sevLabel(a.Severity)) + "  " + st.bold.Render(detLabel(a)) +
		st.dim.Render(" ("+clean(a.Detector)+")") + "  " + showHost(a.Subject).String()
	if allowed {
		head += st.good.Render("  ✓ allowed")
	}
	b.add(clipLine(head, width))
	b.add(wrapCut(clean(a.Message), width, 3)...)
	b.add("")
	n := "×" + count(uint64(a.Count))
	b.add(
		kv(st, "raised", clock(a.Time)+" ("+age(now, a.Time)+" ago)", width),
		kv(st, "last seen", clock(a.LastSeen)+" ("+age(now, a.LastSeen)+" ago) · "+n, width),
	)
	if a.Incident != "" {
		b.add(kv(st, "incident", clean(a.Incident), width))
	}
	// HTTP alerts show every field, "-" saying "absent"; DNS and TLS
	// alerts have no request fields, so only what they carry.
	http := len(a.DNS) == 0 && len(a.TLS) == 0
	for _, f := range [...][2]string{{"key", a.Key}, {"client", a.Client}} {
		if http || f[1] != "" {
			b.add(kv(st, f[0], orDash(clean(f[1])), width))
		}
	}
	for _, f := range [...][2]string{{"host", a.Host}, {"origin", a.Origin}} {
		if http || f[1] != "" {
			b.add(hostLines(st, f[0], f[1], width)...)
		}
	}
	if http || a.Target != "" {
		b.add(kv(st, "target", orDash(clean(a.Target)), width))
	}
	if a.Status != 0 {
		b.add(kv(st, "status", strconv.Itoa(a.Status), width))
	}
	b.add(alertFacts(st, a, width)...)
	b.add("")
	switch {
	case d.gone:
		b.add(st.warn.Render("this alert is no longer kept by the engine (cleared or evicted)"))
	case !d.loaded:
		b.add(st.dim.Render("loading evidence…"))
	default:
		addTimeline(b, c, v, detect.Timeline(*a), width, "no evidence kept for this alert")
	}
}

// alertFacts are the lines an alert's kind adds: how the server answered,
// what it looks like, then its evidence facts.
func alertFacts(st *styles, a *detect.Alert, width int) []string {
	var out []string
	if a.Outcome != "" {
		out = append(out, kv(st, "answer", outcomeText(a.Outcome), width))
	}
	if a.Class != "" {
		out = append(out, kv(st, "looks like", classText(a.Class), width))
	}
	return append(out, evidenceFacts(st, a, width)...)
}

// evidenceFacts are what some detectors decode: the rebinding service a
// name belongs to and the addresses the name carries; a client's keys and
// how many the server refused.
func evidenceFacts(st *styles, a *detect.Alert, width int) []string {
	var out []string
	if a.Tool != "" {
		out = append(out, kv(st, "service", st.bad.Render(clean(string(a.Tool)))+" — its name carries "+addrList(a.Addrs), width))
	}
	if a.Detector == detect.DetKeyStuffing {
		out = append(out, kv(st, "keys", clean(a.Client)+" presented "+strconv.Itoa(a.Keys)+" distinct keys, "+
			strconv.Itoa(a.Rejected)+" refused (401/403)", width))
	}
	return out
}

// addrList lists addresses: "127.0.0.1, 192.168.1.50".
func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "no address"
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = clean(a.String())
	}
	return strings.Join(out, ", ")
}

func (d *detailView) incidentLines(b *detailBody, c *viewCtx, v *snapView, width int) {
	st := &c.st
	inc := &d.incident.Incident
	now := v.now()
	head := st.accents[sevAccent(inc.Severity)].Render(sevLabel(inc.Severity)) + "  " + st.bold.Render(detTags(inc.Detectors)) +
		"  " + showHost(inc.Subject).String() + st.dim.Render("  "+clean(inc.ID))
	b.add(clipLine(head, width))
	b.add(clipLine("opened "+clock(inc.Opened)+" ("+age(now, inc.Opened)+" ago) · last "+clock(inc.Last)+" ("+age(now, inc.Last)+
		" ago) · ×"+count(uint64(inc.Count))+" in "+plural(len(inc.Alerts), "alert", "alerts"), width))
	b.add("")
	for i, n := range inc.Names {
		label := ""
		if i == 0 {
			label = "names"
		}
		b.add(hostLines(st, label, n, width)...)
	}
	for _, l := range [...]struct {
		label string
		vals  []string
	}{{"keys", inc.Keys}, {"clients", inc.Clients}} {
		if len(l.vals) > 0 {
			vals := make([]string, len(l.vals))
			for i, x := range l.vals {
				vals[i] = clean(x)
			}
			b.add(kv(st, l.label, strings.Join(vals, ", "), width))
		}
	}
	if inc.Outcome != "" {
		b.add(kv(st, "answer", outcomeText(inc.Outcome), width))
	}
	if inc.Class != "" {
		b.add(kv(st, "looks like", classText(inc.Class), width))
	}
	var facts []string
	for i := range d.incident.Alerts {
		for _, l := range evidenceFacts(st, &d.incident.Alerts[i], width) {
			if !slices.Contains(facts, l) {
				facts = append(facts, l)
			}
		}
	}
	b.add(facts...)
	b.add("")
	switch {
	case d.gone:
		b.add(st.warn.Render("this incident is no longer kept by the engine (evicted)"))
		return
	case !d.loaded:
		b.add(st.dim.Render("loading alerts and evidence…"))
		return
	}
	alerts := make([]alertRow, len(d.incident.Alerts))
	for i := range d.incident.Alerts {
		alerts[i] = alertRow{&d.incident.Alerts[i], v.allowedNow(&d.incident.Alerts[i])}
	}
	if len(alerts) == 0 {
		b.add(st.dim.Render("its alerts were cleared"))
	} else {
		b.add(st.bold.Render("Alerts — "+plural(len(alerts), "alert", "alerts")+", oldest first") + st.dim.Render(" (enter opens one)"))
		addTable(b, c, alertsPane().cols, alerts, width, now, func(a *alertRow) (target, bool) {
			d := *a.Alert
			d.Evidence = nil
			return target{open: drill{detail: detailView{kind: detailAlert, alert: d}}, allow: alertAllow(a.Alert, a.allowed)}, true
		})
	}
	b.add("")
	addTimeline(b, c, v, d.incident.Timeline, width, "no evidence kept for this incident")
}

func (d *detailView) keyLines(b *detailBody, c *viewCtx, v *snapView, width int) {
	st := &c.st
	k := &d.key
	s := &k.Stat
	now := v.now()
	head := st.bold.Render("Key ") + st.accents[acKey].Render(clean(k.Key))
	if len(s.Fired) > 0 {
		names := make([]string, len(s.Fired))
		for i, f := range s.Fired {
			names[i] = infoOf(f).label
		}
		head += "  " + st.bad.Render("fired: "+strings.Join(names, ", "))
	}
	b.add(clipLine(head, width))
	b.add(clipLine(strings.Join([]string{
		count(s.Requests) + " requests",
		"now " + rate(s.RateNow) + "/s",
		"peak " + rate(s.PeakRate) + "/s",
		"first " + clock(s.FirstSeen),
		"last " + clock(s.LastSeen) + " (" + age(now, s.LastSeen) + " ago)",
	}, " · "), width))
	b.add("")
	peak := 0.0
	for _, v := range k.History {
		peak = max(peak, v)
	}
	b.add(st.bold.Render("Rate, last 60 s") + st.dim.Render(" (max "+rate(peak)+"/s)"))
	sw := min(width, max(len(k.History), 60)*2)
	b.add(st.spark.Render(sparkline(stretch(k.History, sw), sw)))
	b.add(st.dim.Render(spaceBetween("-60s", "now", sw)))
	b.add("")
	switch {
	case d.gone:
		b.add(st.warn.Render("this key is no longer tracked by the engine (evicted)"))
		return
	case !d.loaded:
		b.add(st.dim.Render("loading…"))
		return
	}
	b.add(countColumns(st, width, []countList{
		{title: "Hosts", items: k.Hosts, total: s.Hosts, counted: true},
		{title: "Clients", items: k.Clients, total: s.Clients, counted: true},
		{title: "Origins", items: k.Origins, total: s.Origins, counted: countsKept(k.Origins)},
	})...)
	b.add("")
	if len(k.Recent) == 0 {
		b.add(st.dim.Render("no recent requests kept for this key"))
		return
	}
	b.add(st.bold.Render("Recent requests ("+strconv.Itoa(len(k.Recent))+"), newest first") + st.dim.Render(" (enter opens one)"))
	addTable(b, c, requestCols(), reqRows(v, k.Recent), width, now, openRequest)
}

// openRequest makes a request row a target: enter shows it whole.
func openRequest(r *reqRow) (target, bool) {
	return target{open: drill{detail: detailView{kind: detailRequest, req: *r.Request, loaded: true}}}, true
}

// countsKept reports whether a list carries counts (the engine sends some
// lists as values only).
func countsKept(items []detect.Count) bool {
	for _, it := range items {
		if it.N > 0 {
			return true
		}
	}
	return len(items) == 0
}

func (d *detailView) requestLines(b *detailBody, c *viewCtx, v *snapView, width int) {
	st := &c.st
	r := &d.req
	now := v.now()
	b.add(
		clipLine(st.bold.Render(clean(r.Method)+" "+clean(r.Target)+" "+clean(r.Proto)), width),
		"",
		kv(st, "time", clock(r.Time)+" ("+age(now, r.Time)+" ago) · "+r.Time.Format("2006-01-02 15:04:05.000000 -0700"), width),
		kv(st, "source", orDash(clean(r.Source)), width),
		kv(st, "client", addrPort(r.Client), width),
		kv(st, "server", addrPort(r.Server), width),
	)
	if r.Malformed != "" {
		b.add(kv(st, "request line", st.bad.Render("≠ malformed: "+clean(r.Malformed)), width))
	}
	switch {
	case !r.HasHost:
		b.add(kv(st, "host", "(no Host header)", width))
	default:
		b.add(hostLines(st, "host", r.Host, width)...)
	}
	if r.DupHost {
		b.add(kv(st, "", st.bad.Render("two or more Host headers"), width))
	}
	if r.URIHost != "" {
		b.add(hostLines(st, "target host", r.URIHost, width)...)
	}
	if h := checkedHost(r); v.allow.HostCheck() && h != "" {
		if v.allow.Host(h) {
			b.add(kv(st, "", st.good.Render("✓ an allowed Host"), width))
		} else {
			b.add(kv(st, "", st.bad.Render("✗ not an allowed Host"), width))
		}
	}
	if r.HasOrigin {
		b.add(hostLines(st, "origin", r.Origin, width)...)
	} else {
		b.add(kv(st, "origin", "(no Origin header)", width))
	}
	b.add(
		kv(st, "referer", orDash(clean(r.Referer)), width),
		kv(st, "user-agent", orDash(clean(r.UserAgent)), width),
		kv(st, "key", orDash(clean(r.Key)), width),
	)
	if r.Status != 0 {
		b.add(kv(st, "status", strconv.Itoa(r.Status), width))
	}
}

// stretch repeats each value so a 60-value history fills w cells.
func stretch(vals []float64, w int) []float64 {
	if len(vals) == 0 || w <= len(vals) {
		return vals
	}
	out := make([]float64, 0, w)
	for i := 0; i < w; i++ {
		out = append(out, vals[i*len(vals)/w])
	}
	return out
}

// countList is one titled list of values with counts.
type countList struct {
	title   string
	items   []detect.Count
	total   int  // distinct values the engine counted (may exceed the list)
	counted bool // the items carry counts (else only the values are shown)
}

const countRows = 8

// countColumns lays out lists side by side (one under the other when
// narrow), each value with its count right-aligned.
func countColumns(st *styles, width int, lists []countList) []string {
	render := func(l countList, w int) []string {
		title := l.title + " (" + strconv.Itoa(max(l.total, len(l.items))) + ")"
		lines := []string{st.bold.Render(fit(title, w))}
		nw := 0
		for _, it := range l.items[:min(len(l.items), countRows)] {
			if l.counted {
				nw = max(nw, len(count(it.N)))
			}
		}
		for i, it := range l.items {
			if i == countRows {
				lines = append(lines, st.dim.Render(fit("… "+strconv.Itoa(len(l.items)-countRows)+" more", w)))
				break
			}
			h := showHost(it.Value)
			if h.name == "" {
				h.name = "(none)"
			}
			if !l.counted {
				lines = append(lines, h.fit(w))
				continue
			}
			lines = append(lines, h.fit(w-nw-1)+" "+fitRight(count(it.N), nw))
		}
		if len(l.items) == 0 {
			lines = append(lines, st.dim.Render(fit("none", w)))
		}
		return lines
	}
	if width < 60 {
		var out []string
		for _, l := range lists {
			out = append(out, render(l, width)...)
		}
		return out
	}
	gap := 3
	colW := (width - gap*(len(lists)-1)) / len(lists)
	cols := make([][]string, len(lists))
	rows := 0
	for i, l := range lists {
		cols[i] = render(l, colW)
		rows = max(rows, len(cols[i]))
	}
	out := make([]string, 0, rows)
	blank := strings.Repeat(" ", colW)
	for r := 0; r < rows; r++ {
		var b strings.Builder
		for i := range cols {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", gap))
			}
			if r < len(cols[i]) {
				b.WriteString(cols[i][r])
			} else {
				b.WriteString(blank)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func addrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return "-"
	}
	return clean(a.String())
}

// wrapCut wraps sanitised text to width and keeps at most n lines, the last
// one cut with an ellipsis when there was more.
func wrapCut(s string, w, n int) []string {
	if s == "" || w <= 0 {
		return nil
	}
	if len(s) > w*n*4+64 {
		s = cut(s, w*n+8)
	}
	lines := strings.Split(ansi.Wrap(s, w, " /&?="), "\n")
	if len(lines) > n {
		lines = lines[:n]
		if l := lines[n-1]; width(l) < w {
			lines[n-1] = l + ellipsis
		} else {
			lines[n-1] = cut(l+"..", w)
		}
	}
	for i := range lines {
		lines[i] = cut(lines[i], w)
	}
	return lines
}

// outcomeText says what the server's answer means for the alert.
func outcomeText(o string) string {
	switch o {
	case detect.OutcomeServed:
		return "served (2xx/3xx): the server handled the request"
	case detect.OutcomeBlocked:
		return "blocked (400/403/421): refused, as Host validation does"
	case detect.OutcomeOther:
		return "other status (401, 404, 5xx…)"
	case detect.OutcomeUnknown:
		return "unknown: no response seen"
	case detect.OutcomeGranted:
		return "granted: the server allowed the private-network request"
	case detect.OutcomeDenied:
		return "denied: the server did not allow the private-network request"
	}
	return clean(o)
}

// classText explains an unexpected_host alert's class.
func classText(c string) string {
	switch c {
	case detect.ClassRebindingService:
		return "DNS rebinding through a public rebinding service"
	case detect.ClassRebinding:
		return "DNS rebinding: a name that is not ours, with a key or an Origin"
	case detect.ClassScanner:
		return "a scanner: an IP literal or scanner path, no key, no Origin"
	case detect.ClassForeign:
		return "a foreign name"
	}
	return clean(c)
}
