package ui

import (
	"cmp"
	"strconv"

	"github.com/rebindwatch/rebindwatch/detect"
)

// reqRow is a request as the tables show it: foreign when the Host check
// is on and its Host is not allowed.
type reqRow struct {
	*detect.Request
	foreign bool
}

// reqRows makes rows of requests for the snapshot on screen.
func reqRows(v *snapView, reqs []detect.Request) []reqRow {
	rows := make([]reqRow, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		h := checkedHost(r)
		rows[i] = reqRow{r, v.allow.HostCheck() && h != "" && !v.allow.Host(h)}
	}
	return rows
}

// checkedHost is the Host the engine checks: an absolute-form target's
// authority, else the Host header.
func checkedHost(r *detect.Request) string {
	if r.URIHost != "" {
		return r.URIHost
	}
	return r.Host
}

// requestsPane shows the last requests the engine kept, newest first.
func requestsPane() *tablePane[reqRow] {
	return newTablePane(&tableSpec[reqRow]{
		name: "requests", title: "Requests",
		empty: "no requests yet", noMatch: "no recent request matches the filter",
		rows: func(v *snapView) []reqRow { return reqRows(v, v.Recent) },
		// Good enough to follow a request while newer ones push it down.
		id: func(r *reqRow) string {
			return strconv.FormatInt(r.Time.UnixNano(), 36) + " " + r.Client.String() + " " + r.Method + " " + r.Target
		},
		tie: func(a, b *reqRow) int { return b.Time.Compare(a.Time) },
		match: func(r *reqRow) []string {
			texts := []string{r.Method, r.Host, r.Target, r.Origin, r.Key, r.UserAgent, r.Referer, r.Source, cleanAddr(r.Client)}
			if r.Status != 0 {
				texts = append(texts, strconv.Itoa(r.Status))
			}
			if r.foreign {
				texts = append(texts, "foreign")
			}
			if r.Malformed != "" {
				texts = append(texts, "malformed", r.Malformed)
			}
			return texts
		},
		pin: func(r *reqRow, kind, value string) bool {
			switch kind {
			case "host":
				return (r.HasHost || r.URIHost != "") && detect.NormalizeHost(checkedHost(r.Request)) == value
			case "origin":
				if r.HasOrigin {
					return detect.NormalizeOrigin(r.Origin) == value
				}
				return r.Referer != "" && detect.RefererOrigin(r.Referer) == value
			}
			return false
		},
		open: func(r *reqRow) drill {
			return drill{detail: detailView{kind: detailRequest, req: *r.Request, loaded: true}}
		},
		pins:    func(r *reqRow) []detect.Pin { return requestPins(r.Request) },
		partial: func(v *snapView) detect.Partial { return v.Coverage.Requests },
		cols:    requestCols(),
	})
}

// requestCols are the requests pane's columns; the detail views list
// evidence and a key's recent requests with them too.
func requestCols() []col[reqRow] {
	return []col[reqRow]{
		{title: "TIME", min: 8, desc: true, natural: true,
			cell:   func(r *reqRow) string { return clock(r.Time) },
			raw:    func(r *reqRow) any { return r.Time },
			accent: always[reqRow](acMuted),
			cmp:    func(a, b *reqRow) int { return a.Time.Compare(b.Time) }},
		{title: "CLIENT", min: 15, drop: 3, shrink: true,
			cell: func(r *reqRow) string { return cleanAddr(r.Client) },
			cmp:  func(a, b *reqRow) int { return a.Client.Compare(b.Client) }},
		// The server (ip:port) a capture saw: traffic to servers that are
		// not ours tells by it. Logs know none ("-").
		{title: "SERVER", min: 21, drop: 4, shrink: true,
			cell: func(r *reqRow) string { return addrPort(r.Server) },
			cmp:  func(a, b *reqRow) int { return a.Server.Compare(b.Server) }},
		// The source a request came from: a log file, a syslog sender and
		// tag, a remote host's file, a container. The first to go; pin it
		// (f, s) to see one source's traffic.
		{title: "SOURCE", min: 10, drop: 6, shrink: true,
			cell: func(r *reqRow) string { return clean(r.Source) },
			cmp:  func(a, b *reqRow) int { return cmp.Compare(a.Source, b.Source) }},
		{title: "METHOD", min: 6, drop: 5, // mostly GET: the first after the source
			cell: func(r *reqRow) string { return clean(r.Method) },
			cmp:  func(a, b *reqRow) int { return cmp.Compare(a.Method, b.Method) }},
		{title: "HOST", min: 12, want: 24, flex: 3,
			host: requestHost,
			raw:  func(r *reqRow) any { return checkedHost(r.Request) },
			accent: func(r *reqRow) accent {
				if r.foreign {
					return acBad
				}
				return acNone
			},
			cmp: func(a, b *reqRow) int { return cmp.Compare(a.Host, b.Host) }},
		{title: "TARGET", min: 12, want: 12, flex: 2,
			cell: requestTarget,
			cmp:  func(a, b *reqRow) int { return cmp.Compare(a.Target, b.Target) }},
		{title: "ORIGIN", min: 12, want: 14, flex: 2, drop: 2,
			host: func(r *reqRow) hostText {
				if r.HasOrigin || r.Origin != "" {
					return showHost(r.Origin)
				}
				return hostText{name: "-"}
			},
			raw: func(r *reqRow) any { return r.Origin },
			cmp: func(a, b *reqRow) int { return cmp.Compare(a.Origin, b.Origin) }},
		{title: "KEY", min: 12, drop: 1,
			cell:   func(r *reqRow) string { return orDash(clean(r.Key)) },
			accent: always[reqRow](acKey),
			cmp:    func(a, b *reqRow) int { return cmp.Compare(a.Key, b.Key) }},
		statusCol[reqRow](func(r *reqRow) int { return r.Status }),
	}
}

// requestTarget is a request's TARGET cell: "≠ " before the target of a
// request whose request line was malformed (taken as a server would take
// it; the detail says why).
func requestTarget(r *reqRow) string {
	if r.Malformed != "" {
		return "≠ " + clean(r.Target)
	}
	return clean(r.Target)
}

// requestHost is a request's HOST cell: "✗ " before a foreign Host, the
// look-alike mark, "(no Host)", "(dup Host)".
func requestHost(r *reqRow) hostText {
	h := showHost(checkedHost(r.Request))
	if !r.HasHost && r.URIHost == "" && h.name == "" {
		h.name = "(no Host)"
	}
	if r.foreign {
		h.mark = "✗ " + h.mark
	}
	if r.DupHost {
		h.note = " (dup Host)"
	}
	return h
}

// statusCol is a response status column, coloured by class.
func statusCol[T any](status func(r *T) int) col[T] {
	return col[T]{title: "ST", name: "status", min: 3, right: true, drop: 1, desc: true,
		raw: func(r *T) any { return status(r) },
		cell: func(r *T) string {
			if status(r) == 0 {
				return "-"
			}
			return strconv.Itoa(status(r))
		},
		accent: func(r *T) accent {
			switch s := status(r); {
			case s >= 500:
				return acBad
			case s >= 400:
				return acWarn
			case s >= 200 && s < 300:
				return acGood
			}
			return acNone
		},
		cmp: func(a, b *T) int { return cmp.Compare(status(a), status(b)) }}
}
