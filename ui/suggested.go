package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// The Suggested view (p): the allowlist --suggest-config would write,
// proposed live from the traffic seen, with the counts behind each line.
// A adopts the proposed lines for this run, w writes them to the config,
// a allows the selected line whatever the proposal says.

// sgRow is one line of the proposal as the view shows it.
type sgRow struct {
	ProposalEntry
	kind    string // "host" or "origin", as Backend.Allow takes it
	allowed bool   // the allowlist already has it
}

// proposalRows are a proposal's lines of one kind, marked with whether the
// allowlist on screen has them already.
func proposalRows(v *snapView, kind string, es []ProposalEntry) []sgRow {
	rows := make([]sgRow, len(es))
	for i, e := range es {
		allowed := false
		switch {
		case kind == "origin":
			allowed = v.allow.Origin(e.Value)
		case strings.HasPrefix(e.Value, "*."):
			allowed = slices.Contains(v.AllowedHosts, e.Value)
		default:
			allowed = v.allow.Host(e.Value)
		}
		rows[i] = sgRow{ProposalEntry: e, kind: kind, allowed: allowed}
	}
	return rows
}

// adoptable are the proposed lines the allowlist does not have yet.
func adoptable(v *snapView, p *Proposal) (hosts, origins []string) {
	for _, r := range proposalRows(v, "host", p.Hosts) {
		if r.Proposed && !r.allowed {
			hosts = append(hosts, r.Value)
		}
	}
	for _, r := range proposalRows(v, "origin", p.Origins) {
		if r.Proposed && !r.allowed {
			origins = append(origins, r.Value)
		}
	}
	return hosts, origins
}

func (d *detailView) suggestLines(b *detailBody, c *viewCtx, v *snapView, width int) {
	st := &c.st
	p := &d.proposal
	b.add(clipLine(st.title.Render("Suggested allowlist")+st.dim.Render(" — from "+count(p.Requests)+" requests, "+
		count(p.Keyed)+" with a key, "+plural(p.Keys, "key", "keys")), width))
	b.add(wrapCut("The Host names and Origins that carry the keyed traffic (used by several keys), sibling subdomains "+
		"folded into *.parent; IP literals, localhost, null and single-key values left out: the rules of "+
		"rebindwatch --suggest-config. It cannot tell your names from an attacker's: read each line and its counts.", width, 4)...)
	b.add("")
	if !d.loaded {
		b.add(st.dim.Render("collecting…"))
		return
	}
	for _, sec := range []struct {
		title, kind, off string
		entries          []ProposalEntry
	}{{"Hosts", "host", v.HostCheck, p.Hosts}, {"Origins", "origin", v.OriginCheck, p.Origins}} {
		state := st.good.Render("check on")
		if sec.off != "" {
			state = st.bad.Render("check OFF: no allowlist")
		}
		b.add(st.bold.Render(sec.title) + "  " + state)
		if len(sec.entries) == 0 {
			b.add(st.dim.Render("none seen yet"), "")
			continue
		}
		addTable(b, c, suggestCols(), proposalRows(v, sec.kind, sec.entries), width, v.now(), func(r *sgRow) (target, bool) {
			return target{allow: allowTarget{kind: r.kind, value: r.Value, already: r.allowed},
				note: showHost(r.Value).String() + ": " + clean(proposalWhy(&r.ProposalEntry))}, true
		})
		b.add("")
	}
}

// suggestCols are the Suggested view's columns.
func suggestCols() []col[sgRow] {
	return []col[sgRow]{
		{title: "", min: 1,
			cell: func(r *sgRow) string {
				if r.Proposed {
					return "✓"
				}
				return "·"
			},
			accent: func(r *sgRow) accent {
				if r.Proposed {
					return acGood
				}
				return acMuted
			}},
		{title: "VALUE", min: 16, want: 24, flex: 2,
			host: func(r *sgRow) hostText { return showHost(r.Value) }},
		{title: "REQS", min: 6, right: true, cell: func(r *sgRow) string { return count(r.Requests + r.Referer) }},
		{title: "KEYED", min: 6, right: true, drop: 2, cell: func(r *sgRow) string { return count(r.Keyed) }},
		{title: "KEYS", min: 4, right: true,
			cell: func(r *sgRow) string {
				n := strconv.Itoa(r.Keys)
				if r.KeysMore {
					n += "+"
				}
				return n
			}},
		{title: "STATUS", min: 9,
			cell: func(r *sgRow) string {
				switch {
				case r.allowed:
					return "✓ allowed"
				case r.Proposed:
					return "proposed"
				}
				return "left out"
			},
			accent: func(r *sgRow) accent {
				if r.allowed {
					return acGood
				}
				return acNone
			}},
		{title: "WHY", min: 16, flex: 3, drop: 1,
			cell: func(r *sgRow) string { return clean(proposalWhy(&r.ProposalEntry)) }},
	}
}

// proposalWhy is what stands behind a line: a wildcard's names, the ports
// a name was seen with, Referer-only traffic, or why it is left out.
func proposalWhy(e *ProposalEntry) string {
	var parts []string
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if len(e.Members) > 0 {
		names := slices.Clone(e.Members)
		slices.SortFunc(names, cmp.Compare)
		parts = append(parts, "stands for "+strings.Join(names, ", "))
	}
	if e.Referer > 0 {
		parts = append(parts, count(e.Referer)+" only as a Referer")
	}
	if len(e.Ports) > 0 {
		parts = append(parts, "seen on port "+strings.Join(e.Ports, ", ")+" (any port matches)")
	}
	return strings.Join(parts, "; ")
}
