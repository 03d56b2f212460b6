package suggest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// Threshold rules.
const (
	headroom      = 1.5
	minBurst      = 10
	minSpreadHost = 2
	minSpreadCli  = 3
	minStuffKeys  = 3
	quantileQ     = 0.999
)

// Config renders the suggestion as TOML that config.Parse accepts, with
// comments explaining each choice and the counts behind it. source names
// what was read (for the header comment). It does not change the Collector:
// more requests may follow and Config be called again.
func (c *Collector) Config(source string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var w writer
	c.header(&w, source)
	c.hostSection(&w)
	c.originSection(&w)
	c.burstSection(&w)
	c.spreadSection(&w)
	c.stuffingSection(&w)
	return w.String()
}

// writer builds the output; every string that came from traffic reaches it
// through quote or clean.
type writer struct{ strings.Builder }

func (w *writer) line(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// comment writes text as "# " lines wrapped at about 78 columns.
func (w *writer) comment(text string) {
	for para := range strings.SplitSeq(text, "\n") {
		for l := range strings.SplitSeq(wrap(para, 76), "\n") {
			w.line("# %s", l)
		}
	}
}

// clean makes a traffic string safe for a terminal and for a TOML comment.
func clean(s string) string { return sanitize.String(s) }

// quote renders a traffic string as a TOML basic string: sanitised first,
// then '"' and '\' escaped, and any control character left as \uXXXX (TOML
// does not accept Go's \x and \a escapes, so strconv.Quote will not do).
func quote(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatUint(n, 10) + " " + many
}

func pct(part, whole uint64) string {
	if whole == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

// keyedText is "N with a key, K keys", or "none with a key".
func keyedText(keyed uint64, k *keySet) string {
	if keyed == 0 {
		return "none with a key"
	}
	return strconv.FormatUint(keyed, 10) + " with a key, " + keysText(k)
}

func keysText(k *keySet) string {
	n := strconv.Itoa(k.n())
	if k.full {
		n += "+"
	}
	if k.n() == 1 && !k.full {
		return "1 key"
	}
	return n + " keys"
}

// fmtDuration writes a duration as config.toml.example does ("10s", "10m").
func fmtDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// keyBlind reports whether the input shows no key at all because its source
// has no key field: the rules then weigh all requests instead.
func (c *Collector) keyBlind() bool { return c.keyed == 0 && c.blindKey > 0 }

func (c *Collector) header(w *writer, source string) {
	w.line("# rebindwatch configuration suggested by --suggest-config from %s.", clean(source))
	if c.timed {
		first, last := time.Unix(0, c.first).UTC(), time.Unix(0, c.last).UTC()
		w.line("# Read %s, %s to %s (%s of event time).", plural(c.requests, "request", "requests"),
			first.Format(time.RFC3339), last.Format(time.RFC3339), last.Sub(first).Round(time.Millisecond))
	} else {
		w.line("# Read %s.", plural(c.requests, "request", "requests"))
	}
	w.comment("It summarises what was seen and cannot tell your names from an attacker's: " +
		"read every proposed line and the counts beside it before using this file.")
	w.line("#")
	nk := uint64(c.keys.keyCount())
	switch {
	case c.keyBlind():
		w.comment("Keys: none visible; the source has no key field, so the rules below weigh all requests " +
			"and the burst and spread thresholds keep their defaults.")
	case c.keyed == 0:
		w.comment("Keys: no request carried a key (check [keys] headers and query), so no Host or Origin " +
			"is proposed and the burst and spread thresholds keep their defaults.")
	default:
		more, left := "", ""
		if c.keys.untrackedReqs > 0 {
			more = " or more"
			left = fmt.Sprintf(" %s came from keys beyond the %d tracked for rates and are not in the thresholds below.",
				plural(c.keys.untrackedReqs, "keyed request", "keyed requests"), c.keys.max)
		}
		w.comment(fmt.Sprintf("Keys: %s%s, on %d of %d requests (%s).%s Keys are counted by fingerprint; none is written here.",
			plural(nk, "distinct key", "distinct keys"), more, c.keyed, c.requests, pct(c.keyed, c.requests), left))
	}
	w.comment("Sections not written here ([keys], [alerts], [capture], [log], [limits]) keep their defaults: " +
		"copy them from the configuration this input was read with, [keys] above all, since it decides what counts as a key.")
	w.line("")
}

// hostCandidates folds the tracked Host values into names without a port.
func (c *Collector) hostCandidates() []*candidate {
	byName := map[string]*candidate{}
	var out []*candidate
	blind := c.keyBlind()
	for _, s := range c.hosts.list {
		name, port := detect.SplitHostPort(s.norm)
		cd := byName[name]
		if cd == nil {
			cd = &candidate{value: name}
			byName[name] = cd
			out = append(out, cd)
		}
		cd.requests += s.requests
		cd.keyed += s.keyed
		cd.keys.merge(&s.keys)
		if port == "" && !strings.HasSuffix(s.norm, ":") {
			cd.bare = true
		} else if !slices.Contains(cd.ports, port) {
			if len(cd.ports) < 4 {
				cd.ports = append(cd.ports, port)
			} else {
				cd.morePorts++
			}
		}
	}
	for _, cd := range out {
		cd.weight, cd.nkeys = cd.keyed, cd.keys.n()
		if blind {
			cd.weight, cd.nkeys = cd.requests, 0
		}
		cd.reason = hostReason(cd.value)
		if cd.reason == "" && cd.weight == 0 {
			cd.reason = reasonNoKey
		}
	}
	sortCandidates(out)
	return out
}

func sortCandidates(l []*candidate) {
	slices.SortStableFunc(l, func(a, b *candidate) int {
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(b.nkeys, a.nkeys); c != 0 {
			return c
		}
		if c := cmp.Compare(b.requests, a.requests); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
}

func (c *Collector) hostSection(w *writer) {
	w.line("[hosts]")
	p := c.planHosts()
	switch {
	case c.withHost == 0 && c.blindHost > 0:
		w.comment("The source has no Host field: nothing to propose, and unexpected_host is off for it anyway.")
	case c.withHost == 0:
		w.comment("No request had a Host header: nothing to propose.")
	default:
		w.comment(c.ruleText("names", p.unit+" to names", p.total) + " IP literals, localhost and names " +
			"seen only without a key are never proposed. A name is proposed without its port: it matches any " +
			"port. With an empty list the Host check is off.")
	}

	w.line("allowed = [")
	for _, e := range p.entries {
		for _, b := range e.hostComments() {
			for l := range strings.SplitSeq(wrap(b, 74), "\n") {
				w.line("  # %s", l)
			}
		}
		w.line("  %s, # %s", quote(e.value), e.hostNote(&p))
	}
	c.listRejected(w, p.rejected, "hosts", func(cd *candidate) string {
		s := plural(cd.requests, "request", "requests") + ", " + keyedText(cd.keyed, &cd.keys)
		if len(cd.ports) > 0 {
			ports := make([]string, len(cd.ports))
			for i, p := range cd.ports {
				ports[i] = clean(p)
			}
			s += "; port"
			if len(ports) > 1 {
				s += "s"
			}
			s += " " + strings.Join(ports, ", ")
			if cd.morePorts > 0 {
				s += fmt.Sprintf(" and %d more", cd.morePorts)
			}
		}
		return s
	})
	if c.hosts.otherRequests > 0 {
		w.line("  # %s (%d with a key) had a Host beyond the first %d distinct values, not tracked.",
			plural(c.hosts.otherRequests, "request", "requests"), c.hosts.otherKeyed, c.hosts.max)
	}
	w.line("]")
	if c.noHost > 0 {
		w.comment(fmt.Sprintf("%s had no Host header (%d of them HTTP/1.1, which raises unexpected_host once a name is allowed; HTTP/1.0 may omit it).",
			plural(c.noHost, "request", "requests"), c.noHostV11))
	}
	if c.blindHost > 0 && c.withHost > 0 {
		w.comment(fmt.Sprintf("%s came from a source with no Host field.", plural(c.blindHost, "request", "requests")))
	}
	w.line("")
}

// hostComments are the comment paragraphs before a wildcard entry: the
// names it stands for, and those it also matches.
func (e *entry) hostComments() []string {
	if !e.wildcard() {
		return nil
	}
	parent := clean(e.value[2:])
	labels := make([]string, 0, min(len(e.members), maxCovered)+1)
	for i, m := range e.members {
		switch {
		case i < maxCovered:
			labels = append(labels, fmt.Sprintf("%s (%s, %s)", clean(m.value), plural(m.requests, "request", "requests"), keysText(&m.keys)))
		case i == maxCovered:
			labels = append(labels, fmt.Sprintf("and %d more", len(e.members)-i))
		}
	}
	out := []string{fmt.Sprintf("%d names under %s carry keyed traffic: %s. One pattern stands for them; "+
		"it matches any subdomain of %s at any port, not %s itself.",
		len(e.members), parent, strings.Join(labels, ", "), parent, parent)}
	if len(e.covered) > 0 {
		var covered []string
		for _, cd := range e.covered[:min(len(e.covered), maxCovered)] {
			covered = append(covered, fmt.Sprintf("%s (%s, %s)", clean(cd.value), plural(cd.requests, "request", "requests"), cd.reason))
		}
		more := ""
		if len(e.covered) > len(covered) {
			more = fmt.Sprintf(" and %d more", len(e.covered)-len(covered))
		}
		out = append(out, fmt.Sprintf("Note: it also matches %s%s, not proposed on their own; list the names instead if those are not yours.",
			strings.Join(covered, ", "), more))
	}
	return out
}

// hostNote is the trailing comment of a [hosts] entry: the counts behind it.
func (e *entry) hostNote(p *hostPlan) string {
	req, keyed, keys := e.counts()
	if e.wildcard() {
		return fmt.Sprintf("%s, %d with a key, %s in all", plural(req, "request", "requests"), keyed, keysText(&keys))
	}
	cd := e.members[0]
	note := fmt.Sprintf("%s, %d with a key, %s, %s of the %s to names",
		plural(cd.requests, "request", "requests"), cd.keyed, keysText(&cd.keys), pct(cd.weight, p.total), p.unit)
	if len(cd.ports) > 0 {
		seen := make([]string, 0, len(cd.ports)+1)
		if cd.bare {
			seen = append(seen, clean(cd.value))
		}
		for _, p := range cd.ports {
			seen = append(seen, clean(cd.value)+":"+clean(p))
		}
		more := ""
		if cd.morePorts > 0 {
			more = fmt.Sprintf(" and %d more ports", cd.morePorts)
		}
		note += "; seen as " + strings.Join(seen, ", ") + more + ": the name without a port matches any port"
	}
	return note
}

// ruleText explains choose for kind ("names", "origins") weighed in unit.
func (c *Collector) ruleText(kind, unit string, total uint64) string {
	switch {
	case c.keyBlind():
		return fmt.Sprintf("Proposed: the fewest %s that together carry most of the %s (%d), and any other with "+
			"at least 1%% of them and 3 or more requests; no key is visible, so volume is all there is.", kind, unit, total)
	case c.keys.keyCount() == 1:
		return fmt.Sprintf("Proposed: the fewest %s that together carry most of the %s (%d), and any other with "+
			"at least 1%% of them. The input has a single key, so the usual rule of 2 or more keys per value cannot apply.",
			kind, unit, total)
	}
	return fmt.Sprintf("Proposed: among the %s used by 2 or more keys, the fewest that together carry most of "+
		"their %s (%d), and any other with at least 1%% of them. A value used by a single key is only listed: "+
		"one stolen key can make any number of requests.", kind, unit, total)
}

// listRejected writes the values not proposed as commented array elements,
// most requests first, capped.
func (c *Collector) listRejected(w *writer, rejected []*candidate, what string, counts func(*candidate) string) {
	if len(rejected) == 0 {
		return
	}
	sortSeen(rejected)
	w.line("  # Seen but not proposed (most requests first; uncomment a line to allow it):")
	for i, cd := range rejected {
		if i == maxListed {
			var req uint64
			for _, r := range rejected[i:] {
				req += r.requests + r.refRequests
			}
			w.line("  # ... and %d more %s (%s).", len(rejected)-i, what, plural(req, "request", "requests"))
			break
		}
		v := quote(cd.value)
		switch {
		case cd.value == "":
			v = "(no name)"
		case len(v) > maxShown:
			v = quote(shorten(clean(cd.value), maxShown)) + fmt.Sprintf(" (cut: %d bytes)", len(cd.value))
		}
		w.line("  # %s, # %s: %s", v, counts(cd), cd.reason)
	}
}

// sortSeen orders values not proposed as they are listed: most requests
// (with an Origin or a Referer) first.
func sortSeen(l []*candidate) {
	slices.SortStableFunc(l, func(a, b *candidate) int {
		if c := cmp.Compare(b.requests+b.refRequests, a.requests+a.refRequests); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
}

// maxShown is the longest value shown whole in a comment; a longer one
// (no valid name is longer than 253 bytes) is cut.
const maxShown = 256

// shorten cuts s to at most n bytes at a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// wrap breaks text into lines of about width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for word := range strings.FieldsSeq(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// originBlind reports whether no Origin header could be seen at all (a log
// without an Origin column): Referers are then the only evidence.
func (c *Collector) originBlind() bool {
	return c.blindOrigin > 0 && c.blindOrigin == c.requests
}

func (c *Collector) originCandidates() (cands []*candidate, null *valueStat) {
	blindK, blindO := c.keyBlind(), c.originBlind()
	for _, s := range c.origins.list {
		if s.norm == "null" {
			null = s
			continue
		}
		cd := &candidate{value: s.norm, requests: s.requests, keyed: s.keyed, refRequests: s.refRequests, refKeyed: s.refKeyed}
		cd.keys = s.keys
		cd.weight, cd.nkeys = s.keyed, s.keys.n()
		if blindO {
			cd.keys = s.refKeys
			cd.weight, cd.nkeys = s.refKeyed, s.refKeys.n()
		}
		if blindK {
			cd.weight, cd.nkeys = s.requests, 0
			if blindO {
				cd.weight = s.refRequests
			}
		}
		cd.reason = originReason(s.norm)
		if cd.reason == "" && cd.weight == 0 {
			if s.requests == 0 && !blindO {
				cd.reason = reasonReferer
			} else {
				cd.reason = reasonNoKey
			}
		}
		cands = append(cands, cd)
	}
	sortCandidates(cands)
	return cands, null
}

func (c *Collector) originSection(w *writer) {
	w.line("[origins]")
	p := c.planOrigins()
	if c.originBlind() {
		w.comment("The source has no Origin field: the origins below come from Referers, which is what " +
			"check_referer checks for it.")
	}
	if len(p.cands) == 0 {
		w.comment("No request had an Origin (or a Referer with one): nothing to propose.")
	} else {
		w.comment(c.ruleText("origins", p.unit, p.total) + " null, IP literals, localhost and origins seen only in a Referer " +
			"are never proposed. Origins are compared exactly (default ports dropped).")
	}

	w.line("allowed = [")
	for _, e := range p.entries {
		cd := e.members[0]
		note := fmt.Sprintf("%s with this Origin, %d with a key, %s, %s of the %s",
			plural(cd.requests, "request", "requests"), cd.keyed, keysText(&cd.keys), pct(cd.weight, p.total), p.unit)
		if c.originBlind() {
			note = fmt.Sprintf("the Referer of %s, %d with a key, %s, %s of the %s",
				plural(cd.refRequests, "request", "requests"), cd.refKeyed, keysText(&cd.keys), pct(cd.weight, p.total), p.unit)
		} else if cd.refRequests > 0 {
			note += fmt.Sprintf("; also the Referer of %s without an Origin", plural(cd.refRequests, "request", "requests"))
		}
		w.line("  %s, # %s", quote(cd.value), note)
	}
	c.listRejected(w, p.rejected, "origins", func(cd *candidate) string {
		var s string
		if cd.requests > 0 {
			s = plural(cd.requests, "request", "requests") + " with this Origin, " + keyedText(cd.keyed, &cd.keys)
		}
		if cd.refRequests > 0 {
			if s != "" {
				s += "; "
			}
			s += fmt.Sprintf("the Referer of %s without an Origin, %d with a key", plural(cd.refRequests, "request", "requests"), cd.refKeyed)
		}
		return s
	})
	if c.origins.otherRequests > 0 {
		w.line("  # %s (%d with a key) had an origin beyond the first %d distinct values, not tracked.",
			plural(c.origins.otherRequests, "request", "requests"), c.origins.otherKeyed, c.origins.max)
	}
	w.line("]")
	if null := p.null; null != nil {
		w.comment(fmt.Sprintf("Origin: null on %s (%d with a key). Sandboxed iframes, file: pages and some redirects "+
			"send it, and so can an attacker's page; it stays foreign. Allow it only if your own pages send it.",
			plural(null.requests, "request", "requests"), null.keyed))
	} else {
		w.comment("Origin: null was not seen; it stays foreign.")
	}
	w.line("allow_null = false")
	w.comment("When a request has no Origin, check the origin of its Referer.")
	refOnly := 0
	for _, cd := range p.rejected {
		if cd.reason == reasonReferer {
			refOnly++
		}
	}
	if refOnly > 0 {
		them := "them if they are"
		if refOnly == 1 {
			them = "it if it is"
		}
		w.comment(fmt.Sprintf("%s above seen only in a Referer would raise foreign_origin on this same traffic. "+
			"Uncomment %s yours (pages that link to the API), or set check_referer = false.",
			plural(uint64(refOnly), "origin", "origins"), them))
	}
	if c.badReferer > 0 {
		w.comment(fmt.Sprintf("%s had a Referer without an origin (not a URL); it is not checked.", plural(c.badReferer, "request", "requests")))
	}
	w.line("check_referer = true")
	w.line("")
}

// niceUp rounds n up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten.
func niceUp(n uint64) uint64 {
	if n <= 10 {
		return n
	}
	steps := []uint64{10, 12, 15, 20, 25, 30, 40, 50, 60, 80}
	scale := uint64(1)
	for n > 80*scale {
		if scale > math.MaxUint64/100 {
			return n
		}
		scale *= 10
	}
	for _, s := range steps {
		if s*scale >= n {
			return s * scale
		}
	}
	return 100 * scale
}

func ceilMul(v uint32, f float64) uint64 { return uint64(math.Ceil(float64(v) * f)) }

// distText describes a distribution of per-key (or per-client: what, whats)
// maxima.
func distText(d distribution, what, whats string) string {
	few := ""
	if d.n < 1000 {
		few = fmt.Sprintf(" (under 1000 %s, so p99.9 is the maximum)", whats)
	}
	return fmt.Sprintf("over %s: median %d, p99 %d, p99.9 %d, max %d%s",
		plural(d.n, what, whats), d.quantile(0.5), d.quantile(0.99), d.quantile(quantileQ), d.max(), few)
}

func (c *Collector) shortInput(window time.Duration) string {
	if !c.timed || c.last-c.first >= int64(window) {
		return ""
	}
	return fmt.Sprintf(" The input spans %s, less than the %s window: the rates may be higher over a longer stretch of traffic.",
		time.Duration(c.last-c.first).Round(time.Millisecond), fmtDuration(window))
}

func (c *Collector) burstSection(w *writer) {
	def := detect.DefaultConfig()
	win := c.opts.BurstWindow
	w.line("[burst]")
	w.comment("key_burst: one key makes more than max_requests requests within window.")
	suggested := uint64(def.BurstMax)
	if c.keys.keyCount() == 0 {
		w.comment(fmt.Sprintf("No keyed request was seen: the default %d is kept.", def.BurstMax))
	} else {
		d := c.keys.burstDist()
		p := d.quantile(quantileQ)
		raw := ceilMul(p, headroom)
		suggested = max(niceUp(raw), minBurst)
		w.comment(fmt.Sprintf("Observed: per key, the most requests in any %s window (counted in %s buckets, so it may read up to 10%% high), %s.",
			fmtDuration(win), fmtDuration(win/burstSlots), distText(d, "key", "keys")))
		how := fmt.Sprintf("rounded up to %d", suggested)
		if niceUp(raw) < minBurst {
			how = fmt.Sprintf("raised to the minimum, %d", minBurst)
		}
		w.comment(fmt.Sprintf("Suggested: p99.9 %d x %.1f headroom = %d, %s.%s", p, headroom, raw, how, c.shortInput(win)))
	}
	w.line("window = %s", quote(fmtDuration(win)))
	w.line("max_requests = %d", suggested)
	w.line("")
}

func (c *Collector) spreadSection(w *writer) {
	def := detect.DefaultConfig()
	win := c.opts.SpreadWindow
	w.line("[spread]")
	w.comment("key_spread: one key seen under more than max_hosts distinct Host values, or from more than " +
		"max_clients client addresses, within window.")
	hosts, clients := uint64(def.SpreadMaxHosts), uint64(def.SpreadMaxClients)
	if c.keys.keyCount() == 0 {
		w.comment(fmt.Sprintf("No keyed request was seen: the defaults %d and %d are kept.", hosts, clients))
	} else {
		hd, cd := c.keys.spreadDist(false), c.keys.spreadDist(true)
		hp, cp := hd.quantile(quantileQ), cd.quantile(quantileQ)
		hosts = spreadLimit(hp, minSpreadHost)
		clients = spreadLimit(cp, minSpreadCli)
		w.comment(fmt.Sprintf("Observed: per key, the most distinct Host values (port kept, as the detector counts them) within any %s, %s.%s",
			fmtDuration(win), distText(hd, "key", "keys"), capNote(hd, "key", "such a key is a shared one")))
		w.comment(fmt.Sprintf("Suggested max_hosts: the larger of p99.9 + 1 and p99.9 x %.1f, rounded up = %d (never below %d).",
			headroom, hosts, minSpreadHost))
		w.comment(fmt.Sprintf("Observed: per key, the most client addresses within any %s, %s.%s",
			fmtDuration(win), distText(cd, "key", "keys"), capNote(cd, "key", "such a key is a shared one")))
		w.comment(fmt.Sprintf("Suggested max_clients: the larger of p99.9 + 1 and p99.9 x %.1f, rounded up = %d (never below %d).%s",
			headroom, clients, minSpreadCli, c.shortInput(win)))
	}
	w.line("window = %s", quote(fmtDuration(win)))
	w.line("max_hosts = %d", hosts)
	w.line("max_clients = %d", clients)
	w.line("")
}

// capNote warns that a per-key (or per-client) maximum reached the cap on
// the values tracked, so the real one may be higher.
func capNote(d distribution, per, shared string) string {
	if d.max() >= spreadCap {
		return fmt.Sprintf(" At most %d values are tracked per %s, so the real number may be higher; raise it if %s.", spreadCap, per, shared)
	}
	return ""
}

// spreadLimit is the threshold suggested over a p99.9 of distinct values:
// the larger of p99.9 + 1 and p99.9 x headroom, never below floor.
func spreadLimit(p uint32, floor uint64) uint64 {
	return max(uint64(p)+1, ceilMul(p, headroom), floor)
}

func (c *Collector) stuffingSection(w *writer) {
	def := detect.DefaultConfig()
	win := c.opts.StuffingWindow
	w.line("[stuffing]")
	w.comment("key_stuffing: one client presents more than max_keys distinct keys within window, as a client " +
		"trying leaked or guessed keys does.")
	limit := uint64(def.StuffingMaxKeys)
	if c.clients.count() == 0 {
		w.comment(fmt.Sprintf("No keyed request with a client address was seen: the default %d is kept.", limit))
	} else {
		d := c.clients.keysDist()
		p := d.quantile(quantileQ)
		limit = spreadLimit(p, minStuffKeys)
		w.comment(fmt.Sprintf("Observed: per client, the most distinct keys within any %s, %s.%s",
			fmtDuration(win), distText(d, "client", "clients"), capNote(d, "client", "a shared address (a NAT, a proxy) carries many keys")))
		left := ""
		if c.clients.untracked > 0 {
			left = fmt.Sprintf(" %s came from clients beyond the %d tracked and are not in it.",
				plural(c.clients.untracked, "keyed request", "keyed requests"), c.clients.max)
		}
		w.comment(fmt.Sprintf("Suggested max_keys: the larger of p99.9 + 1 and p99.9 x %.1f, rounded up = %d (never below %d). "+
			"Clients behind one address (a NAT, a proxy) count as one: raise it if yours are.%s%s",
			headroom, limit, minStuffKeys, left, c.shortInput(win)))
	}
	w.line("window = %s", quote(fmtDuration(win)))
	w.line("max_keys = %d", limit)
}
