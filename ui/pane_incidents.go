package ui

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
)

// incidentRow is an incident as the list shows it, with the snapshot its
// alerts are in (for what `a` allows).
type incidentRow struct {
	*detect.Incident
	v *snapView
}

// incidentsPane is the Alerts slot's first view: one line per attack (the
// alerts that share a name, or a key and a client), newest first, with its
// highest severity, the detectors it hit as tags, how the server answered,
// its subject, when it opened and how long ago it last fired. enter opens
// its alerts and its evidence timeline.
func incidentsPane() *tablePane[incidentRow] {
	return newTablePane(&tableSpec[incidentRow]{
		name: "incidents", title: "Incidents",
		empty: "no alerts yet", noMatch: "no incident matches the filter",
		emptyWhy: func(v *snapView) string { return clearedText(v) },
		rows: func(v *snapView) []incidentRow {
			rows := make([]incidentRow, len(v.Incidents))
			for i := range v.Incidents {
				rows[i] = incidentRow{&v.Incidents[i], v}
			}
			return rows
		},
		id:  func(r *incidentRow) string { return r.ID },
		tie: func(a, b *incidentRow) int { return cmp.Compare(incidentSeq(b), incidentSeq(a)) },
		seq: incidentSeq,
		match: func(r *incidentRow) []string {
			texts := append([]string{r.ID, r.Severity.String(), detTags(r.Detectors), r.Outcome, r.Class, r.Subject}, detTexts(r.Detectors)...)
			texts = append(texts, r.Names...)
			texts = append(texts, r.Keys...)
			return append(texts, r.Clients...)
		},
		open: func(r *incidentRow) drill {
			return drill{detail: detailView{kind: detailIncident, incident: detect.IncidentDetail{Incident: *r.Incident}}}
		},
		pins:    func(r *incidentRow) []detect.Pin { return incidentPins(r.Incident) },
		partial: func(v *snapView) detect.Partial { return v.Coverage.Alerts },
		allow: func(r *incidentRow) allowTarget {
			alerts := make([]*detect.Alert, 0, len(r.Alerts))
			for _, id := range r.Alerts {
				if a, ok := r.v.alert(id); ok {
					alerts = append(alerts, a)
				}
			}
			return incidentAllow(r.v, alerts)
		},
		cols: []col[incidentRow]{
			sevCol[incidentRow](func(r *incidentRow) detect.Severity { return r.Severity }),
			{title: "DETECTORS", min: 10, flex: 1, want: 22,
				cell: func(r *incidentRow) string { return detTags(r.Detectors) },
				raw:  func(r *incidentRow) any { return strings.Join(r.Detectors, " ") },
				cmp:  func(a, b *incidentRow) int { return cmp.Compare(detTags(a.Detectors), detTags(b.Detectors)) }},
			{title: "OUTCOME", min: 7, drop: 4,
				cell: func(r *incidentRow) string { return orDash(clean(r.Outcome)) },
				accent: func(r *incidentRow) accent {
					if r.Outcome == detect.OutcomeServed || r.Outcome == detect.OutcomeGranted {
						return acBad
					}
					return acNone
				},
				cmp: func(a, b *incidentRow) int { return cmp.Compare(a.Outcome, b.Outcome) }},
			{title: "SUBJECT", min: 14, want: 16, flex: 1,
				host: func(r *incidentRow) hostText { return showHost(r.Subject) },
				raw:  func(r *incidentRow) any { return r.Subject },
				cmp:  func(a, b *incidentRow) int { return cmp.Compare(a.Subject, b.Subject) }},
			{title: "COUNT", min: 5, right: true, drop: 5, desc: true,
				cell: func(r *incidentRow) string { return "×" + count(uint64(r.Count)) },
				raw:  func(r *incidentRow) any { return r.Count },
				cmp:  func(a, b *incidentRow) int { return cmp.Compare(a.Count, b.Count) }},
			timeCol[incidentRow](func(r *incidentRow) time.Time { return r.Opened }),
			{title: "LAST", min: 4, right: true, drop: 2,
				age: func(r *incidentRow) time.Time { return r.Last }},
		},
	})
}

// incidentSeq orders incidents by when they opened: "inc-12" is 12.
func incidentSeq(r *incidentRow) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(r.ID, "inc-"), 10, 64)
	return n
}

// incidentAllow is what `a` allows on an incident: the name it is about
// (its first Host alert's subject), else its first Origin alert's.
func incidentAllow(v *snapView, alerts []*detect.Alert) allowTarget {
	for _, kind := range []string{"host", "origin"} {
		for _, a := range alerts {
			if allowKindOf(a.Detector) == kind {
				return alertAllow(a, v.allowedNow(a))
			}
		}
	}
	return allowTarget{}
}
