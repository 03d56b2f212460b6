package suggest

import "strings"

// maxKeysPerValue caps the distinct keys remembered per Host or Origin: the
// rules only need to know "one or several", and the output says "32+".
const maxKeysPerValue = 32

// keySet is a small set of key IDs, capped at maxKeysPerValue.
type keySet struct {
	ids  []uint64
	full bool // more distinct keys were seen than ids holds
}

func (k *keySet) add(id uint64) {
	for _, v := range k.ids {
		if v == id {
			return
		}
	}
	if len(k.ids) >= maxKeysPerValue {
		k.full = true
		return
	}
	if k.ids == nil {
		k.ids = make([]uint64, 0, 4)
	}
	k.ids = append(k.ids, id)
}

// merge adds o's keys to k.
func (k *keySet) merge(o *keySet) {
	for _, id := range o.ids {
		k.add(id)
	}
	if o.full {
		k.full = true
	}
}

// n is the number of distinct keys known (a lower bound when full).
func (k *keySet) n() int { return len(k.ids) }

// valueStat counts one normalised Host or Origin.
type valueStat struct {
	norm     string // the normalised value (detect.NormalizeHost / NormalizeOrigin)
	hash     uint32 // hash32(norm), for the per-key spread sets
	requests uint64 // requests carrying it (Host, or Origin header)
	keyed    uint64 // of which with a key
	keys     keySet

	// Origins only: requests without an Origin whose Referer has this origin.
	refRequests uint64
	refKeyed    uint64
	refKeys     keySet
}

func (s *valueStat) add(keyed bool, kid uint64) {
	s.requests++
	if keyed {
		s.keyed++
		s.keys.add(kid)
	}
}

func (s *valueStat) addReferer(keyed bool, kid uint64) {
	s.refRequests++
	if keyed {
		s.refKeyed++
		s.refKeys.add(kid)
	}
}

// valueTable maps values as sent, and their normalised forms, to their
// stats. A value sent in a non-normalised spelling ("API.Example.com.") is
// kept as an alias of its normalised form so that seeing it again costs a
// map lookup, not a normalisation. Entries (aliases included) are capped.
type valueTable struct {
	max  int
	m    map[string]*valueStat
	list []*valueStat // distinct stats, first seen first

	otherRequests uint64 // requests whose value did not fit under the cap
	otherKeyed    uint64
}

func (t *valueTable) init(max int) {
	t.max = max
	t.m = make(map[string]*valueStat)
}

// get returns the stat for raw, creating it (norm gives the normalised
// form) while the table has room; nil when it is full and raw is new.
func (t *valueTable) get(raw string, norm func(string) string) *valueStat {
	if s, ok := t.m[raw]; ok {
		return s
	}
	n := norm(raw)
	if s, ok := t.m[n]; ok {
		if len(t.m) < t.max {
			t.m[strings.Clone(raw)] = s
		}
		return s
	}
	if len(t.m) >= t.max {
		return nil
	}
	n = strings.Clone(n) // raw may share memory with a larger buffer
	s := &valueStat{norm: n, hash: hash32(n)}
	t.m[n] = s
	t.list = append(t.list, s)
	if raw != n && len(t.m) < t.max {
		t.m[strings.Clone(raw)] = s
	}
	return s
}

// other counts a request whose value did not fit in the table.
func (t *valueTable) other(keyed bool) {
	t.otherRequests++
	if keyed {
		t.otherKeyed++
	}
}
