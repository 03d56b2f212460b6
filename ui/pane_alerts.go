package ui

import (
	"cmp"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// alertRow is an alert as the list shows it: allowed when the engine marked
// it or its subject is allowed now.
type alertRow struct {
	*detect.Alert
	allowed bool
}

// alertsPane lists every alert, newest first unless sorted otherwise (the
// Alerts slot shows incidents; v shows this). Its cursor sticks to the top
// so a new alert shows at once; when the user has scrolled away, the
// title counts the alerts they have not seen yet.
func alertsPane() *tablePane[alertRow] {
	return newTablePane(&tableSpec[alertRow]{
		name: "alerts", title: "Alerts",
		empty: "no alerts yet", noMatch: "no alert matches the filter",
		emptyWhy: func(v *snapView) string { return clearedText(v) },
		rows: func(v *snapView) []alertRow {
			rows := make([]alertRow, len(v.Alerts))
			for i := range v.Alerts {
				rows[i] = alertRow{&v.Alerts[i], v.allowedNow(&v.Alerts[i])}
			}
			return rows
		},
		id:  func(a *alertRow) string { return strconv.FormatUint(a.ID, 10) },
		tie: func(a, b *alertRow) int { return cmp.Compare(b.ID, a.ID) },
		dim: func(a *alertRow) bool { return a.allowed },
		seq: func(a *alertRow) uint64 { return a.ID },
		match: func(a *alertRow) []string {
			texts := []string{a.Detector, detLabel(a.Alert), a.Dimension, a.Class, a.Outcome, a.Severity.String(), a.Subject, a.Key,
				a.Client, a.Host, a.Origin, a.Target, a.Message, a.Incident}
			if a.allowed {
				texts = append(texts, "allowed")
			}
			return texts
		},
		open: func(a *alertRow) drill {
			d := *a.Alert
			d.Evidence = nil // the Backend sends it with the detail
			return drill{detail: detailView{kind: detailAlert, alert: d}}
		},
		allow:   func(a *alertRow) allowTarget { return alertAllow(a.Alert, a.allowed) },
		pins:    func(a *alertRow) []detect.Pin { return alertPins(a.Alert) },
		partial: func(v *snapView) detect.Partial { return v.Coverage.Alerts },
		cols: []col[alertRow]{
			sevCol[alertRow](func(a *alertRow) detect.Severity { return a.Severity }),
			{title: "DETECTOR", min: 13,
				cell: func(a *alertRow) string { return detLabel(a.Alert) },
				raw:  func(a *alertRow) any { return a.Detector },
				cmp:  func(a, b *alertRow) int { return cmp.Compare(detLabel(a.Alert), detLabel(b.Alert)) }},
			{title: "SUBJECT", min: 16, flex: 3,
				raw: func(a *alertRow) any { return a.Subject },
				host: func(a *alertRow) hostText {
					h := showHost(a.Subject)
					if a.allowed {
						h.mark, h.note = "✓ "+h.mark, " (allowed)"
					}
					return h
				},
				cmp: func(a, b *alertRow) int { return cmp.Compare(a.Subject, b.Subject) }},
			{title: "KEY", min: 12, drop: 2,
				cell:   func(a *alertRow) string { return orDash(clean(a.Key)) },
				accent: always[alertRow](acKey),
				cmp:    func(a, b *alertRow) int { return cmp.Compare(a.Key, b.Key) }},
			{title: "CLIENT", min: 15, drop: 5, shrink: true,
				cell: func(a *alertRow) string { return orDash(clean(a.Client)) },
				cmp:  func(a, b *alertRow) int { return cmp.Compare(a.Client, b.Client) }},
			{title: "COUNT", min: 5, right: true, drop: 4, desc: true,
				raw: func(a *alertRow) any { return a.Count },
				cell: func(a *alertRow) string {
					if a.Count > 1 {
						return "×" + count(uint64(a.Count))
					}
					return ""
				},
				cmp: func(a, b *alertRow) int { return cmp.Compare(a.Count, b.Count) }},
			timeCol[alertRow](func(a *alertRow) time.Time { return a.Time }),
			{title: "AGE", min: 4, right: true, drop: 1,
				age: func(a *alertRow) time.Time { return a.Time }},
		},
	})
}

// sevCol is a severity column: symbol and word, most severe first when picked.
func sevCol[T any](sev func(r *T) detect.Severity) col[T] {
	return col[T]{title: "SEV", name: "severity", min: 6, desc: true,
		raw:    func(r *T) any { return sev(r).String() },
		cell:   func(r *T) string { return sevLabel(sev(r)) },
		accent: func(r *T) accent { return sevAccent(sev(r)) },
		cmp:    func(a, b *T) int { return cmp.Compare(sev(a), sev(b)) }}
}

// timeCol is an absolute time column (the event clock's time of day) that
// stands for the engine's order, newest first.
func timeCol[T any](at func(r *T) time.Time) col[T] {
	return col[T]{title: "TIME", min: 8, drop: 3, desc: true, natural: true,
		cell:   func(r *T) string { return clock(at(r)) },
		raw:    func(r *T) any { return at(r) },
		accent: always[T](acMuted),
		cmp:    func(a, b *T) int { return at(a).Compare(at(b)) }}
}

// clearedText is what an empty alert or incident list says: after c, that
// it was cleared; on a first run without an allowlist, why it is quiet and
// where an allowlist comes from.
func clearedText(v *snapView) string {
	switch {
	case !v.clearedAt.IsZero():
		return "cleared at " + clock(v.clearedAt) + "; new alerts show here (the header still counts every alert)"
	case v.HostCheck != "" && v.OriginCheck != "":
		return "no alerts yet — without an allowlist only the key, DNS and rebinding-service detectors run: " +
			"p proposes an allowlist from this traffic; rebindwatch --suggest-config writes one"
	}
	return ""
}

// alertAllow is what `a` allows on an alert, in the list or its detail:
// its subject, for the detectors whose subject is a host or an origin.
func alertAllow(a *detect.Alert, allowed bool) allowTarget {
	return allowTarget{kind: allowKindOf(a.Detector), value: a.Subject, already: allowed}
}

// allowKindOf says what `a` would allow for an alert of this detector.
func allowKindOf(det string) string { return detect.AllowKind(det) }
