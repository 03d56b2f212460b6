package detect

import "time"

// historyLen is how many seconds of per-second counts are kept.
const historyLen = 60

// rateOf is the count of the last complete second before now, or of the
// current second once that is the only one (the end of a replay).
func rateOf(at func(sec int64) uint32, now time.Time) float64 {
	sec := now.Unix()
	if c := at(sec - 1); c > 0 || at(sec) == 0 {
		return float64(c)
	}
	return float64(at(sec))
}

// historyOf returns the counts of the last historyLen seconds up to now,
// oldest first.
func historyOf(at func(sec int64) uint32, now time.Time) []float64 {
	out := make([]float64, historyLen)
	end := now.Unix()
	for i := range out {
		out[i] = float64(at(end - int64(historyLen-1-i)))
	}
	return out
}

// keyRates is a key's secondRing in a quarter of its room: the current and
// the previous second are counted exactly (the rate shown), and so is the
// peak; the seconds before are kept up to 255 each (the history drawn in
// a key's detail).
type keyRates struct {
	cur       int64 // unix second of the newest count; 0 before the first
	now, prev uint32
	peak      uint32
	hist      [historyLen]uint8 // by second mod historyLen
}

// add counts one request at ns (unix nanoseconds).
func (r *keyRates) add(ns int64) {
	sec := floorDiv(ns, int64(time.Second))
	switch {
	case r.cur == 0:
		r.cur = sec
	case sec > r.cur:
		r.advance(sec)
	case sec <= r.cur-historyLen:
		return
	}
	var n uint32
	switch sec {
	case r.cur:
		r.now++
		n = r.now
	case r.cur - 1:
		r.prev++
		n = r.prev
	default:
		n = uint32(r.hist[ringIndex(sec)]) + 1
	}
	r.peak = max(r.peak, n)
	if h := &r.hist[ringIndex(sec)]; *h < 255 {
		*h++
	}
}

func (r *keyRates) advance(sec int64) {
	if sec-r.cur >= historyLen {
		r.hist = [historyLen]uint8{}
	} else {
		for x := r.cur + 1; x <= sec; x++ {
			r.hist[ringIndex(x)] = 0
		}
	}
	r.prev = 0
	if sec == r.cur+1 {
		r.prev = r.now
	}
	r.now, r.cur = 0, sec
}

// at returns the count of second sec (0 outside the ring).
func (r *keyRates) at(sec int64) uint32 {
	switch {
	case r.cur == 0 || sec > r.cur || sec <= r.cur-historyLen:
		return 0
	case sec == r.cur:
		return r.now
	case sec == r.cur-1:
		return r.prev
	}
	return uint32(r.hist[ringIndex(sec)])
}

func ringIndex(sec int64) int { return int(((sec % historyLen) + historyLen) % historyLen) }

// floorDiv divides rounding towards minus infinity (times before 1970).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
