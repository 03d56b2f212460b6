package ui

import "strings"

// What a source cannot see. The engine lists, per source, the detectors
// that are off for it and the field it lacks (SourceStatus.Blind); the
// header and the panes that cannot fill say so in those terms.

// printLogConfigHint is where a log format that has every field comes from.
const printLogConfigHint = "rebindwatch --print-log-config nginx (or apache, gunicorn, flask) shows a format that has it"

// blindSources names the sources that cannot see field, and whether they
// are all the sources that have sent requests (so that nothing fills what
// needs it).
func blindSources(v *snapView, field string) (names []string, all bool) {
	known := 0
	for _, src := range v.Sources {
		if src.Blind == nil {
			continue // no request from it yet
		}
		known++
		for _, b := range src.Blind {
			if strings.EqualFold(b.Field, field) {
				names = append(names, sourceName(src.Name))
				break
			}
		}
	}
	return names, known > 0 && len(names) == known
}

// blindText says which sources have no field: "access.log has no Host
// field".
func blindText(names []string, field string) string {
	cleaned := make([]string, len(names))
	for i, n := range names {
		cleaned[i] = cut(clean(n), 30)
	}
	has := " has"
	if len(names) > 1 {
		has = " have"
	}
	return strings.Join(cleaned, ", ") + has + " no " + field + " field"
}

// blindTo is why a pane for field cannot fill: every source that has sent
// requests lacks it. "" when one can see it, or none has said yet.
func blindTo(v *snapView, field string) string {
	names, all := blindSources(v, field)
	if !all {
		return ""
	}
	what := "this log has"
	if len(names) > 1 {
		what = "these logs have"
	}
	return what + " no " + field + " field: " + printLogConfigHint
}
