package detect

// warmRun is how many requests warm reads ahead for: their words stay in
// cache until observed.
const warmRun = 64

// warmMinIndex is the index size (words) from which a table is warmed: a
// smaller one stays in cache between requests anyway, and warming it would
// only hash every value twice.
const warmMinIndex = 1 << 15

// warm reads the index words that the lookups of a run of requests about
// to be observed will read first. A flood brings a new key, Host and
// client on every request, and each lookup in a large table misses the
// cache: one request at a time, each waits for its miss in turn. Here the
// slots are worked out first, then read in one tight loop of independent
// loads, which the memory system serves many at once.
// (Engine alone over a 400k-request flood: about 800 -> 620 ns a request.)
func (e *Engine) warm(reqs []Request) {
	keys, hosts := e.keys.big(), e.hosts.big()
	clients := e.stuffing != nil && e.stuffing.clients.big()
	if !keys && !hosts && !clients {
		return
	}
	var words [3 * warmRun]*uint64
	n := 0
	for i := range reqs[:min(len(reqs), warmRun)] {
		r := &reqs[i]
		if r.Key != "" {
			if keys {
				words[n] = e.keys.firstWord(r.Key)
				n++
			}
			if clients {
				words[n] = e.stuffing.clients.firstWord(r.Client.Addr())
				n++
			}
		}
		if hosts && r.HasHost {
			// The table holds normalised names; a Host as sent is
			// usually one already.
			words[n] = e.hosts.firstWord(r.Host)
			n++
		}
	}
	var sink uint64
	for _, w := range words[:n] {
		sink |= *w
	}
	e.warmSink |= sink // kept, so that the loads are not optimised away
}

// findStuffing returns the key_stuffing detector, whose client table warm
// reads ahead with the engine's own tables.
func findStuffing(ds []detector) *stuffingDetector {
	for _, d := range ds {
		if s, ok := d.(*stuffingDetector); ok {
			return s
		}
	}
	return nil
}
