package detect

import (
	"cmp"
	"slices"
	"time"
)

// maxSourceRates is how many sources' rates are counted: a fleet's web
// servers, a handful of log files. A source past it has no rate of its own
// (its requests count everywhere else), so hostile source names cannot
// grow the table.
const maxSourceRates = 256

// sourceRates counts requests per second by the source a request names (a
// log file; on a fleet, the producing host), for the header's per-host
// rates. The last source looked up is kept: a batch's requests name the
// same (interned) string, so the map is touched once per change of source.
type sourceRates struct {
	m         map[string]*keyRates
	last      string
	lastRates *keyRates
}

// add counts one request of source at ns (unix nanoseconds).
func (s *sourceRates) add(source string, ns int64) {
	if s.lastRates == nil || source != s.last {
		r := s.m[source]
		if r == nil {
			if len(s.m) >= maxSourceRates {
				return
			}
			if s.m == nil {
				s.m = map[string]*keyRates{}
			}
			r = &keyRates{}
			s.m[source] = r
		}
		s.last, s.lastRates = source, r
	}
	s.lastRates.add(ns)
}

// SourceRate is one source's request rate at the snapshot's time.
type SourceRate struct {
	Source string  // as requests name it (a log's path, a producing host)
	Rate   float64 // requests in the last complete second
}

// top returns the n busiest sources at now, busiest first (then by
// name), when requests named more than one source; nil otherwise.
func (s *sourceRates) top(now time.Time, n int) []SourceRate {
	if len(s.m) < 2 {
		return nil
	}
	out := make([]SourceRate, 0, len(s.m))
	for name, r := range s.m {
		out = append(out, SourceRate{Source: name, Rate: rateOf(r.at, now)})
	}
	slices.SortFunc(out, func(a, b SourceRate) int {
		if c := cmp.Compare(b.Rate, a.Rate); c != 0 {
			return c
		}
		return cmp.Compare(a.Source, b.Source)
	})
	return out[:min(n, len(out))]
}
