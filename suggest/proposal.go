package suggest

// Proposal is the suggestion as data, for a live view of it: the allowlist
// entries with the counts behind each, and the values seen but not proposed
// with why. It applies the same rules as Config.
type Proposal struct {
	Requests uint64 // requests seen
	Keyed    uint64 // of which with a key
	Keys     int    // distinct keys (tracked)
	KeyBlind bool   // the source shows no key: the rules weigh all requests
	Hosts    []Entry
	Origins  []Entry
}

// Entry is one value of a Proposal: proposed ones first (heaviest first),
// then the others, most requests first, at most 30 of them.
type Entry struct {
	Value    string // as it would be written: a name (any port), "*.parent", or an origin
	Proposed bool
	Reason   string // why it is not proposed ("" when it is)
	Requests uint64 // requests carrying it (a name: on any port; a wildcard: all its names)
	Keyed    uint64 // of which with a key
	Keys     int    // distinct keys behind it (a lower bound when KeysMore)
	KeysMore bool
	Referer  uint64   // origins: requests without an Origin whose Referer had it
	Ports    []string // names: the ports they were seen with (at most 4)
	Members  []string // wildcards: the names it stands for
}

// Proposal returns the current proposal. It may be called from any
// goroutine while requests arrive.
func (c *Collector) Proposal() Proposal {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := Proposal{Requests: c.requests, Keyed: c.keyed, Keys: c.keys.keyCount(), KeyBlind: c.keyBlind()}
	hp := c.planHosts()
	for i := range hp.entries {
		e := &hp.entries[i]
		req, keyed, keys := e.counts()
		pe := Entry{Value: e.value, Proposed: true, Requests: req, Keyed: keyed, Keys: keys.n(), KeysMore: keys.full}
		if e.wildcard() {
			for _, m := range e.members {
				pe.Members = append(pe.Members, m.value)
			}
		} else {
			pe.Ports = e.members[0].ports
		}
		p.Hosts = append(p.Hosts, pe)
	}
	for _, e := range hp.entries {
		for _, cd := range e.covered {
			x := seenEntry(cd)
			x.Reason = "not proposed on its own (" + cd.reason + "), but " + e.value + " matches it"
			p.Hosts = append(p.Hosts, x)
		}
	}
	p.Hosts = appendSeen(p.Hosts, hp.rejected)
	op := c.planOrigins()
	for _, e := range op.entries {
		p.Origins = append(p.Origins, seenEntry(e.members[0]))
		p.Origins[len(p.Origins)-1].Proposed = true
	}
	p.Origins = appendSeen(p.Origins, op.rejected)
	return p
}

// seenEntry is a candidate as an Entry, its reason kept.
func seenEntry(cd *candidate) Entry {
	return Entry{Value: cd.value, Reason: cd.reason, Requests: cd.requests, Keyed: cd.keyed, Keys: cd.keys.n(),
		KeysMore: cd.keys.full, Referer: cd.refRequests, Ports: cd.ports}
}

// appendSeen appends the candidates not proposed, in the order and number
// Config lists them.
func appendSeen(out []Entry, rejected []*candidate) []Entry {
	sortSeen(rejected)
	for _, cd := range rejected[:min(len(rejected), maxListed)] {
		out = append(out, seenEntry(cd))
	}
	return out
}
