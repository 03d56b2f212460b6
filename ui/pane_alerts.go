package ui

import (
	"cmp"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// alertsPane lists alerts, newest first unless sorted otherwise. Its cursor
// sticks to the top so a new alert shows at once; when the user has
// scrolled away, the title counts the alerts they have not seen yet.
func alertsPane() *tablePane[detect.Alert] {
	return newTablePane(&tableSpec[detect.Alert]{
		name: "alerts", title: "Alerts",
		empty: "no alerts yet", noMatch: "no alert matches the filter",
		rows: func(s *detect.Snapshot) []detect.Alert { return s.Alerts },
		id:   func(a *detect.Alert) string { return strconv.FormatUint(a.ID, 10) },
		tie:  func(a, b *detect.Alert) int { return cmp.Compare(b.ID, a.ID) },
		dim:  func(a *detect.Alert) bool { return a.Allowed },
		seq:  func(a *detect.Alert) uint64 { return a.ID },
		match: func(a *detect.Alert) []string {
			texts := []string{a.Detector, a.Dimension, a.Class, a.Outcome, a.Severity.String(), a.Subject, a.Key, a.Client, a.Host, a.Origin, a.Target, a.Message}
			if a.Allowed {
				texts = append(texts, "allowed")
			}
			return texts
		},
		open: func(a *detect.Alert) drill {
			d := *a
			d.Evidence = nil // the Backend sends it with the detail
			return drill{detail: detailView{kind: detailAlert, alert: d}}
		},
		allow: alertAllow,
		cols: []col[detect.Alert]{
			{title: "SEV", min: 6, desc: true,
				cell:   func(a *detect.Alert) string { return sevLabel(a.Severity) },
				accent: func(a *detect.Alert) accent { return sevAccent(a.Severity) },
				cmp:    func(a, b *detect.Alert) int { return cmp.Compare(a.Severity, b.Severity) }},
			{title: "DETECTOR", min: 13,
				cell: detLabel,
				cmp:  func(a, b *detect.Alert) int { return cmp.Compare(detLabel(a), detLabel(b)) }},
			{title: "SUBJECT", min: 16, flex: 3,
				cell: func(a *detect.Alert) string {
					if a.Allowed {
						return "✓ " + clean(a.Subject) + " (allowed)"
					}
					return clean(a.Subject)
				},
				cmp: func(a, b *detect.Alert) int { return cmp.Compare(a.Subject, b.Subject) }},
			{title: "KEY", min: 12, drop: 2,
				cell:   func(a *detect.Alert) string { return orDash(clean(a.Key)) },
				accent: always[detect.Alert](acKey),
				cmp:    func(a, b *detect.Alert) int { return cmp.Compare(a.Key, b.Key) }},
			{title: "CLIENT", min: 15, drop: 4, shrink: true,
				cell: func(a *detect.Alert) string { return orDash(clean(a.Client)) },
				cmp:  func(a, b *detect.Alert) int { return cmp.Compare(a.Client, b.Client) }},
			{title: "COUNT", min: 5, right: true, drop: 3, desc: true,
				cell: func(a *detect.Alert) string {
					if a.Count > 1 {
						return "×" + strconv.Itoa(a.Count)
					}
					return ""
				},
				cmp: func(a, b *detect.Alert) int { return cmp.Compare(a.Count, b.Count) }},
			{title: "AGE", min: 4, right: true, drop: 1, desc: true, natural: true,
				age: func(a *detect.Alert) time.Time { return a.Time },
				cmp: func(a, b *detect.Alert) int { return a.Time.Compare(b.Time) }},
		},
	})
}

// alertAllow is what `a` allows on an alert, in the list or its detail:
// its subject, for the detectors whose subject is a host or an origin.
func alertAllow(a *detect.Alert) allowTarget {
	return allowTarget{kind: allowKindOf(a.Detector), value: a.Subject, already: a.Allowed}
}

// allowKindOf says what `a` would allow for an alert of this detector.
func allowKindOf(det string) string {
	switch det {
	case detect.DetUnexpectedHost, detect.DetHostServed, detect.DetUnexpectedSNI:
		return "host" // SNI names are checked against the same [hosts] allowed
	case detect.DetForeignOrigin:
		return "origin"
	}
	return ""
}
