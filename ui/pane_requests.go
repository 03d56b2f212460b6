package ui

import (
	"cmp"
	"strconv"

	"github.com/rebindwatch/rebindwatch/detect"
)

// requestsPane shows the last requests the engine kept, newest first.
func requestsPane() *tablePane[detect.Request] {
	return newTablePane(&tableSpec[detect.Request]{
		name: "requests", title: "Requests",
		empty: "no requests yet", noMatch: "no recent request matches the filter",
		rows: func(s *detect.Snapshot) []detect.Request { return s.Recent },
		// Good enough to follow a request while newer ones push it down.
		id: func(r *detect.Request) string {
			return strconv.FormatInt(r.Time.UnixNano(), 36) + " " + r.Client.String() + " " + r.Method + " " + r.Target
		},
		tie: func(a, b *detect.Request) int { return b.Time.Compare(a.Time) },
		match: func(r *detect.Request) []string {
			texts := []string{r.Method, r.Host, r.Target, r.Origin, r.Key, r.UserAgent, r.Referer, r.Source, cleanAddr(r.Client)}
			if r.Status != 0 {
				texts = append(texts, strconv.Itoa(r.Status))
			}
			return texts
		},
		open: func(r *detect.Request) drill {
			return drill{detail: detailView{kind: detailRequest, req: *r, loaded: true}}
		},
		cols: requestCols(),
	})
}

// requestCols are the requests pane's columns; the detail views list
// evidence and a key's recent requests with them too.
func requestCols() []col[detect.Request] {
	return []col[detect.Request]{
		{title: "TIME", min: 8, desc: true, natural: true,
			cell:   func(r *detect.Request) string { return clock(r.Time) },
			accent: always[detect.Request](acMuted),
			cmp:    func(a, b *detect.Request) int { return a.Time.Compare(b.Time) }},
		{title: "CLIENT", min: 15, drop: 3, shrink: true,
			cell: func(r *detect.Request) string { return cleanAddr(r.Client) },
			cmp:  func(a, b *detect.Request) int { return a.Client.Compare(b.Client) }},
		{title: "METHOD", min: 6, drop: 4, // mostly GET: the first to go
			cell: func(r *detect.Request) string { return clean(r.Method) },
			cmp:  func(a, b *detect.Request) int { return cmp.Compare(a.Method, b.Method) }},
		{title: "HOST", min: 12, want: 15, flex: 2,
			cell: func(r *detect.Request) string {
				host := clean(r.Host)
				if !r.HasHost && host == "" {
					host = "(no Host)"
				}
				if r.DupHost {
					host += " (dup Host)"
				}
				return host
			},
			cmp: func(a, b *detect.Request) int { return cmp.Compare(a.Host, b.Host) }},
		{title: "TARGET", min: 12, want: 14, flex: 3,
			cell: func(r *detect.Request) string { return clean(r.Target) },
			cmp:  func(a, b *detect.Request) int { return cmp.Compare(a.Target, b.Target) }},
		{title: "ORIGIN", min: 12, want: 15, flex: 2, drop: 2,
			cell: func(r *detect.Request) string {
				if origin := clean(r.Origin); r.HasOrigin || origin != "" {
					return origin
				}
				return "-"
			},
			cmp: func(a, b *detect.Request) int { return cmp.Compare(a.Origin, b.Origin) }},
		{title: "KEY", min: 12, drop: 1,
			cell:   func(r *detect.Request) string { return orDash(clean(r.Key)) },
			accent: always[detect.Request](acKey),
			cmp:    func(a, b *detect.Request) int { return cmp.Compare(a.Key, b.Key) }},
		{title: "ST", min: 3, right: true, drop: 1, desc: true,
			cell: func(r *detect.Request) string {
				if r.Status == 0 {
					return "-"
				}
				return strconv.Itoa(r.Status)
			},
			accent: func(r *detect.Request) accent {
				switch {
				case r.Status >= 500:
					return acBad
				case r.Status >= 400:
					return acWarn
				case r.Status >= 200 && r.Status < 300:
					return acGood
				}
				return acNone
			},
			cmp: func(a, b *detect.Request) int { return cmp.Compare(a.Status, b.Status) }},
	}
}
