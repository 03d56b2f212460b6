package ui

import (
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
)

// tlRow is one piece of evidence in a timeline: a DNS answer, a TLS
// ClientHello or a request (foreign when its Host is not allowed).
type tlRow struct {
	detect.TimelineEntry
	req reqRow
}

// addTimeline draws evidence in time order as one table; the request rows
// are targets (enter shows the request whole). Entries that carry nothing
// (a request with no time and no method) are left out rather than drawn
// as blank rows.
func addTimeline(b *detailBody, c *viewCtx, v *snapView, entries []detect.TimelineEntry, width int, none string) {
	st := &c.st
	rows := timelineRows(v, entries)
	var reqs, dns, tls int
	for _, r := range rows {
		switch {
		case r.Request != nil:
			reqs++
		case r.DNS != nil:
			dns++
		case r.TLS != nil:
			tls++
		}
	}
	if len(rows) == 0 {
		b.add(st.dim.Render(none))
		return
	}
	var kinds []string
	for _, k := range []struct {
		n         int
		one, many string
	}{{dns, "DNS answer", "DNS answers"}, {tls, "ClientHello", "ClientHellos"}, {reqs, "request", "requests"}} {
		if k.n > 0 {
			kinds = append(kinds, plural(k.n, k.one, k.many))
		}
	}
	title := st.bold.Render("Evidence — " + strings.Join(kinds, ", ") + ", in time order")
	if reqs > 0 {
		title += st.dim.Render(" (enter opens a request)")
	}
	b.add(title)
	addTable(b, c, timelineCols(), rows, width, v.now(), func(r *tlRow) (target, bool) {
		if r.Request == nil {
			return target{}, false
		}
		return openRequest(&r.req)
	})
}

// timelineRows are the entries as rows; those that carry nothing (a
// request with no time and no method) are left out rather than drawn as
// blank rows.
func timelineRows(v *snapView, entries []detect.TimelineEntry) []tlRow {
	rows := make([]tlRow, 0, len(entries))
	for _, e := range entries {
		r := tlRow{TimelineEntry: e}
		switch {
		case e.Request != nil:
			if e.Request.Time.IsZero() && e.Request.Method == "" {
				continue
			}
			r.req = reqRows(v, []detect.Request{*e.Request})[0]
		case e.DNS == nil && e.TLS == nil:
			continue
		}
		rows = append(rows, r)
	}
	return rows
}

// timelineCols are a timeline's columns: each kind of evidence fills them
// with what it has.
func timelineCols() []col[tlRow] {
	return []col[tlRow]{
		{title: "TIME", min: 8, accent: always[tlRow](acMuted),
			cell: func(r *tlRow) string { return clock(r.Time) },
			raw:  func(r *tlRow) any { return r.Time }},
		{title: "WHAT", min: 6,
			cell: func(r *tlRow) string {
				switch {
				case r.DNS != nil:
					return "DNS"
				case r.TLS != nil:
					return "TLS"
				}
				return clean(r.Request.Method)
			}},
		{title: "CLIENT", min: 15, drop: 3, shrink: true,
			cell: func(r *tlRow) string {
				switch {
				case r.DNS != nil:
					return cleanAddr(r.DNS.Client)
				case r.TLS != nil:
					return cleanAddr(r.TLS.Client)
				}
				return cleanAddr(r.Request.Client)
			}},
		{title: "SERVER", min: 21, drop: 4, shrink: true,
			cell: func(r *tlRow) string {
				switch {
				case r.DNS != nil:
					return addrPort(r.DNS.Server)
				case r.TLS != nil:
					return addrPort(r.TLS.Server)
				}
				return addrPort(r.Request.Server)
			}},
		{title: "HOST / NAME", name: "host", min: 14, want: 18, flex: 2,
			raw: func(r *tlRow) any {
				switch {
				case r.DNS != nil:
					return r.DNS.Name
				case r.TLS != nil:
					return r.TLS.SNI
				}
				return checkedHost(r.Request)
			},
			host: func(r *tlRow) hostText {
				switch {
				case r.DNS != nil:
					return showHost(r.DNS.Name)
				case r.TLS != nil:
					return showHost(r.TLS.SNI)
				}
				return requestHost(&r.req)
			},
			accent: func(r *tlRow) accent {
				if r.Request != nil && r.req.foreign {
					return acBad
				}
				return acNone
			}},
		{title: "DETAIL", min: 14, want: 34, flex: 3,
			cell: func(r *tlRow) string {
				switch {
				case r.DNS != nil:
					return dnsText(r.DNS)
				case r.TLS != nil:
					return "ClientHello" + orNone(" ALPN ", r.TLS.ALPN)
				}
				return clean(r.Request.Target)
			},
			accent: func(r *tlRow) accent {
				if r.DNS != nil && r.DNS.Private {
					return acBad
				}
				return acNone
			}},
		{title: "ORIGIN", min: 12, flex: 1, drop: 2,
			raw: func(r *tlRow) any {
				if r.Request == nil {
					return ""
				}
				return r.Request.Origin
			},
			host: func(r *tlRow) hostText {
				if r.Request == nil || !r.Request.HasOrigin {
					return hostText{name: "-"}
				}
				return showHost(r.Request.Origin)
			}},
		{title: "KEY", min: 12, drop: 1, accent: always[tlRow](acKey),
			cell: func(r *tlRow) string {
				if r.Request == nil {
					return "-"
				}
				return orDash(clean(r.Request.Key))
			}},
		statusCol[tlRow](func(r *tlRow) int {
			if r.Request == nil {
				return 0
			}
			return r.Request.Status
		}),
	}
}

// dnsText is a DNS answer in one cell: the addresses (or the rcode), the
// TTL, the CNAME chain and what is notable about it.
func dnsText(a *detect.DNSAnswer) string {
	var b strings.Builder
	b.WriteString("→ ")
	if len(a.Addrs) == 0 {
		b.WriteString("rcode " + strconv.Itoa(a.Rcode))
	}
	for i, ip := range a.Addrs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(clean(ip.String()))
	}
	b.WriteString(" ttl " + strconv.FormatUint(uint64(a.TTL), 10) + "s")
	for _, n := range []struct {
		on   bool
		word string
	}{{a.Private, "private"}, {a.Flipped, "flipped"}, {a.Internal, "internal"}} {
		if n.on {
			b.WriteString(" " + n.word)
		}
	}
	b.WriteString(orNone(" via ", a.CNAMEs))
	return b.String()
}

// orNone is prefix and the cleaned values joined, or "" when there are none.
func orNone(prefix string, vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = clean(v)
	}
	return prefix + strings.Join(out, ", ")
}
