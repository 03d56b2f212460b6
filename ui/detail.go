package ui

import (
	"net/netip"
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
	detailKey
	detailRequest
)

// detailView is the drill-down that replaces the panes: an alert with its
// evidence, a key with its hosts, clients, origins, rate and requests, or
// one request with every field. It scrolls; esc goes back.
type detailView struct {
	kind   detailKind
	alert  detect.Alert
	key    detect.KeyDetail
	req    detect.Request
	loaded bool // the Backend answered (evidence / key detail present)
	gone   bool // the Backend no longer has it (cleared, evicted)
	scrollView
}

// hint is the footer while the detail is open: how to get back, what `a`
// does here, and where the scroll is in a body of n lines.
func (d *detailView) hint(n, height int) (left, right string) {
	left = "esc back · ↑↓ scroll"
	if t := alertAllow(&d.alert); d.kind == detailAlert && t.kind != "" && !t.already {
		left += " · a allow this " + t.kind
	}
	return left, d.position(n, height)
}

// lines is the whole body at event time now; the scroll view shows a
// window of it.
func (d *detailView) lines(c *viewCtx, width int, now time.Time) []string {
	switch d.kind {
	case detailAlert:
		return d.alertLines(c, width, now)
	case detailKey:
		return d.keyLines(c, width, now)
	case detailRequest:
		return d.requestLines(c, width, now)
	}
	return nil
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

func (d *detailView) alertLines(c *viewCtx, width int, now time.Time) []string {
	st := &c.st
	a := &d.alert
	var out []string
	head := st.accents[sevAccent(a.Severity)].Render(sevLabel(a.Severity)) + "  " + st.bold.Render(clean(a.Detector))
	if a.Dimension != "" {
		head += st.dim.Render(" (" + clean(a.Dimension) + ")")
	}
	head += "  " + clean(a.Subject)
	if a.Allowed {
		head += st.good.Render("  ✓ allowed")
	}
	out = append(out, clipLine(head, width))
	out = append(out, wrapCut(clean(a.Message), width, 3)...)
	out = append(out, "")
	n := "×" + strconv.Itoa(a.Count)
	out = append(out,
		kv(st, "raised", clock(a.Time)+" ("+age(now, a.Time)+" ago)", width),
		kv(st, "last seen", clock(a.LastSeen)+" ("+age(now, a.LastSeen)+" ago) · "+n, width),
	)
	// HTTP alerts show every field, "-" saying "absent"; DNS alerts have
	// no request fields, so only what they carry.
	dns := len(a.DNS) > 0
	for _, f := range [...][2]string{{"key", a.Key}, {"client", a.Client}, {"host", a.Host}, {"origin", a.Origin}, {"target", a.Target}} {
		if !dns || f[1] != "" {
			out = append(out, kv(st, f[0], orDash(clean(f[1])), width))
		}
	}
	if a.Status != 0 {
		out = append(out, kv(st, "status", strconv.Itoa(a.Status), width))
	}
	if a.Outcome != "" {
		out = append(out, kv(st, "answer", outcomeText(a.Outcome), width))
	}
	if a.Class != "" {
		out = append(out, kv(st, "looks like", classText(a.Class), width))
	}
	out = append(out, "")
	if len(a.DNS) > 0 {
		out = append(out, st.bold.Render("DNS answers — "+plural(len(a.DNS), "answer", "answers")+", oldest first"))
		out = append(out, listTable(c, dnsCols(), a.DNS, width, now)...)
		out = append(out, "")
	}
	switch {
	case d.gone:
		out = append(out, st.warn.Render("this alert is no longer kept by the engine (cleared or evicted)"))
	case !d.loaded:
		out = append(out, st.dim.Render("loading evidence…"))
	case len(a.Evidence) == 0 && len(a.DNS) > 0:
		// DNS alerts: the answers above are the evidence.
	case len(a.Evidence) == 0:
		out = append(out, st.dim.Render("no evidence kept for this alert"))
	default:
		out = append(out, st.bold.Render("Evidence — "+plural(len(a.Evidence), "request", "requests")+", oldest first"))
		out = append(out, listTable(c, requestCols(), a.Evidence, width, now)...)
	}
	return out
}

func (d *detailView) keyLines(c *viewCtx, width int, now time.Time) []string {
	st := &c.st
	k := &d.key
	s := &k.Stat
	var out []string
	head := st.bold.Render("Key ") + st.accents[acKey].Render(clean(k.Key))
	if len(s.Fired) > 0 {
		names := make([]string, len(s.Fired))
		for i, f := range s.Fired {
			names[i] = clean(f)
		}
		head += "  " + st.bad.Render("fired: "+strings.Join(names, ", "))
	}
	out = append(out, clipLine(head, width))
	out = append(out, clipLine(strings.Join([]string{
		count(s.Requests) + " requests",
		"now " + rate(s.RateNow) + "/s",
		"peak " + rate(s.PeakRate) + "/s",
		"first " + clock(s.FirstSeen),
		"last " + clock(s.LastSeen) + " (" + age(now, s.LastSeen) + " ago)",
	}, " · "), width))
	out = append(out, "")
	peak := 0.0
	for _, v := range k.History {
		peak = max(peak, v)
	}
	out = append(out, st.bold.Render("Rate, last 60 s")+st.dim.Render(" (max "+rate(peak)+"/s)"))
	sw := min(width, max(len(k.History), 60)*2)
	out = append(out, st.spark.Render(sparkline(stretch(k.History, sw), sw)))
	out = append(out, st.dim.Render(spaceBetween("-60s", "now", sw)))
	out = append(out, "")
	switch {
	case d.gone:
		out = append(out, st.warn.Render("this key is no longer tracked by the engine (evicted)"))
		return out
	case !d.loaded:
		out = append(out, st.dim.Render("loading…"))
		return out
	}
	out = append(out, countColumns(st, width, []countList{
		{"Hosts", k.Hosts, s.Hosts},
		{"Clients", k.Clients, s.Clients},
		{"Origins", k.Origins, s.Origins},
	})...)
	out = append(out, "")
	if len(k.Recent) == 0 {
		out = append(out, st.dim.Render("no recent requests kept for this key"))
		return out
	}
	out = append(out, st.bold.Render("Recent requests ("+strconv.Itoa(len(k.Recent))+"), newest first"))
	out = append(out, listTable(c, requestCols(), k.Recent, width, now)...)
	return out
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
	title string
	items []detect.Count
	total int // distinct values the engine counted (may exceed the list)
}

const countRows = 8

// countColumns lays out lists side by side (one under the other when
// narrow), each value with its count right-aligned.
func countColumns(st *styles, width int, lists []countList) []string {
	render := func(l countList, w int) []string {
		title := l.title + " (" + strconv.Itoa(max(l.total, len(l.items))) + ")"
		lines := []string{st.bold.Render(fit(title, w))}
		nw := 1
		for _, it := range l.items[:min(len(l.items), countRows)] {
			nw = max(nw, len(count(it.N)))
		}
		for i, it := range l.items {
			if i == countRows {
				lines = append(lines, st.dim.Render(fit("… "+strconv.Itoa(len(l.items)-countRows)+" more", w)))
				break
			}
			n := count(it.N)
			v := clean(it.Value)
			if v == "" {
				v = "(none)"
			}
			lines = append(lines, fit(v, w-nw-1)+" "+fitRight(n, nw))
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

func (d *detailView) requestLines(c *viewCtx, width int, now time.Time) []string {
	st := &c.st
	r := &d.req
	out := []string{
		clipLine(st.bold.Render(clean(r.Method)+" "+clean(r.Target)+" "+clean(r.Proto)), width),
		"",
		kv(st, "time", clock(r.Time)+" ("+age(now, r.Time)+" ago) · "+r.Time.Format("2006-01-02 15:04:05.000000 -0700"), width),
		kv(st, "source", orDash(clean(r.Source)), width),
		kv(st, "client", addrPort(r.Client), width),
		kv(st, "server", addrPort(r.Server), width),
	}
	host := clean(r.Host)
	if !r.HasHost {
		host = "(no Host header)"
	}
	if r.DupHost {
		host += st.bad.Render("  (two or more Host headers)")
	}
	origin := clean(r.Origin)
	if !r.HasOrigin {
		origin = "(no Origin header)"
	}
	out = append(out,
		kv(st, "host", host, width),
		kv(st, "origin", origin, width),
		kv(st, "referer", orDash(clean(r.Referer)), width),
		kv(st, "user-agent", orDash(clean(r.UserAgent)), width),
		kv(st, "key", orDash(clean(r.Key)), width),
	)
	if r.Status != 0 {
		out = append(out, kv(st, "status", strconv.Itoa(r.Status), width))
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
	}
	return clean(o)
}

// classText explains an unexpected_host alert's class.
func classText(c string) string {
	switch c {
	case detect.ClassRebinding:
		return "DNS rebinding: a name that is not ours, with a key or an Origin"
	case detect.ClassScanner:
		return "a scanner: an IP literal or scanner path, no key, no Origin"
	case detect.ClassForeign:
		return "a foreign name"
	}
	return clean(c)
}

// dnsCols are the columns of an alert's DNS answers; a private answer is
// marked in words so it reads without colour.
func dnsCols() []col[detect.DNSAnswer] {
	private := func(a *detect.DNSAnswer) accent {
		if a.Private {
			return acBad
		}
		return acNone
	}
	return []col[detect.DNSAnswer]{
		{title: "TIME", min: 8, accent: always[detect.DNSAnswer](acMuted),
			cell: func(a *detect.DNSAnswer) string { return clock(a.Time) }},
		{title: "NAME", min: 16, flex: 2,
			cell: func(a *detect.DNSAnswer) string { return clean(a.Name) }},
		{title: "ANSWER", min: 15, flex: 2, accent: private,
			cell: func(a *detect.DNSAnswer) string {
				addrs := make([]string, 0, len(a.Addrs))
				for _, ip := range a.Addrs {
					addrs = append(addrs, clean(ip.String()))
				}
				if len(addrs) == 0 {
					return "rcode " + strconv.Itoa(a.Rcode)
				}
				return strings.Join(addrs, " ")
			}},
		{title: "TTL", min: 5, right: true,
			cell: func(a *detect.DNSAnswer) string { return strconv.FormatUint(uint64(a.TTL), 10) + "s" }},
		{title: "CNAME CHAIN", min: 12, flex: 1, drop: 2,
			cell: func(a *detect.DNSAnswer) string {
				chain := make([]string, 0, len(a.CNAMEs))
				for _, c := range a.CNAMEs {
					chain = append(chain, clean(c))
				}
				return orDash(strings.Join(chain, " → "))
			}},
		{title: "ASKED BY", min: 15, drop: 3, shrink: true,
			cell: func(a *detect.DNSAnswer) string {
				if !a.Client.IsValid() {
					return "-"
				}
				return clean(a.Client.Addr().String())
			}},
		{title: "NOTE", min: 15, drop: 1, accent: private,
			cell: func(a *detect.DNSAnswer) string {
				var notes []string
				if a.Private {
					notes = append(notes, "private")
				}
				if a.Flipped {
					notes = append(notes, "flipped")
				}
				if a.Internal {
					notes = append(notes, "internal")
				}
				return orDash(strings.Join(notes, ","))
			}},
	}
}
