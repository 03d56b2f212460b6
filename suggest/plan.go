package suggest

import (
	"cmp"
	"slices"
	"strings"
)

// The rules applied, before anything is written: Config renders a plan as
// TOML with comments, Proposal as data for the dashboard. Both take the
// Collector's lock and call these.

// entry is one line of a proposed allowlist.
type entry struct {
	value   string
	weight  uint64
	members []*candidate // the names it stands for: one, or a wildcard's
	covered []*candidate // wildcards: names it also matches, not proposed on their own
}

func (e *entry) wildcard() bool { return strings.HasPrefix(e.value, "*.") }

// counts sums the entry's members: requests, keyed requests, distinct keys.
func (e *entry) counts() (req, keyed uint64, keys keySet) {
	for _, m := range e.members {
		req += m.requests
		keyed += m.keyed
		keys.merge(&m.keys)
	}
	return req, keyed, keys
}

// hostPlan is the [hosts] proposal: the candidates with the rules applied,
// the allowlist entries (proposed names, several under one parent folded
// into "*.parent"), the candidates neither proposed nor matched by a
// wildcard, and the weight (in unit) the shares are of.
type hostPlan struct {
	cands    []*candidate
	entries  []entry
	rejected []*candidate
	total    uint64
	unit     string
}

func (c *Collector) planHosts() hostPlan {
	p := hostPlan{cands: c.hostCandidates(), unit: "keyed requests"}
	blind := c.keyBlind()
	if blind {
		p.unit = "requests"
	}
	p.total = choose(p.cands, blind, c.keys.keyCount(), reasonSmall, reasonOneKey)

	// Wildcards: three or more proposed names under one parent.
	groups := map[string][]*candidate{}
	for _, cd := range p.cands {
		if !cd.proposed {
			continue
		}
		if parent, ok := wildcardParent(cd.value); ok {
			groups[parent] = append(groups[parent], cd)
		}
	}
	inGroup := map[*candidate]bool{}
	for parent, members := range groups {
		if len(members) < minWildcard {
			continue
		}
		e := entry{value: "*." + parent, members: members}
		for _, m := range members {
			inGroup[m] = true
			e.weight += m.weight
		}
		for _, cd := range p.cands {
			if !cd.proposed && matchesWildcard(cd.value, parent) {
				e.covered = append(e.covered, cd)
			}
		}
		p.entries = append(p.entries, e)
	}
	for _, cd := range p.cands {
		if cd.proposed && !inGroup[cd] {
			p.entries = append(p.entries, entry{value: cd.value, weight: cd.weight, members: []*candidate{cd}})
		}
	}
	slices.SortStableFunc(p.entries, func(a, b entry) int {
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for _, cd := range p.cands {
		if cd.proposed {
			continue
		}
		covered := false
		for _, e := range p.entries {
			if e.wildcard() && matchesWildcard(cd.value, e.value[2:]) {
				covered = true
			}
		}
		if !covered {
			p.rejected = append(p.rejected, cd)
		}
	}
	return p
}

// originPlan is the [origins] proposal, as hostPlan (origins are never
// folded: each entry is one origin); null is Origin: null's counts.
type originPlan struct {
	cands    []*candidate
	entries  []entry
	rejected []*candidate
	total    uint64
	unit     string
	null     *valueStat
}

func (c *Collector) planOrigins() originPlan {
	var p originPlan
	p.cands, p.null = c.originCandidates()
	blindK, blindO := c.keyBlind(), c.originBlind()
	p.total = choose(p.cands, blindK, c.keys.keyCount(), reasonSmallOrg, reasonOneKeyOrg)
	switch {
	case blindO && blindK:
		p.unit = "requests with a Referer"
	case blindO:
		p.unit = "keyed requests with a Referer"
	case blindK:
		p.unit = "requests with an Origin"
	default:
		p.unit = "keyed requests with an Origin"
	}
	for _, cd := range p.cands {
		if cd.proposed {
			p.entries = append(p.entries, entry{value: cd.value, weight: cd.weight, members: []*candidate{cd}})
		} else {
			p.rejected = append(p.rejected, cd)
		}
	}
	return p
}
