package detect

import "time"

// historyLen is how many seconds of per-second counts are kept.
const historyLen = 60

// secondRing counts events per second of event time over the last minute.
type secondRing struct {
	cur    int64 // unix second of the newest bucket; 0 before the first event
	counts [historyLen]uint32
	peak   uint32
}

// add counts one event at t. Events older than the ring are ignored: they
// still count in totals, just not in the per-second history.
func (s *secondRing) add(t time.Time) {
	sec := t.Unix()
	switch {
	case s.cur == 0:
		s.cur = sec
	case sec > s.cur:
		s.advance(sec)
	case sec <= s.cur-historyLen:
		return
	}
	i := int(((sec % historyLen) + historyLen) % historyLen)
	s.counts[i]++
	if s.counts[i] > s.peak {
		s.peak = s.counts[i]
	}
}

func (s *secondRing) advance(sec int64) {
	if sec-s.cur >= historyLen {
		s.counts = [historyLen]uint32{}
	} else {
		for x := s.cur + 1; x <= sec; x++ {
			s.counts[((x%historyLen)+historyLen)%historyLen] = 0
		}
	}
	s.cur = sec
}

// at returns the count of second sec (0 outside the ring).
func (s *secondRing) at(sec int64) uint32 {
	if s.cur == 0 || sec > s.cur || sec <= s.cur-historyLen {
		return 0
	}
	return s.counts[((sec%historyLen)+historyLen)%historyLen]
}

// rate is the count of the last complete second before now, or of the
// current second once that is the only one (the end of a replay).
func (s *secondRing) rate(now time.Time) float64 {
	sec := now.Unix()
	if c := s.at(sec - 1); c > 0 || s.at(sec) == 0 {
		return float64(c)
	}
	return float64(s.at(sec))
}

// history returns the last historyLen seconds up to now, oldest first.
func (s *secondRing) history(now time.Time) []float64 {
	out := make([]float64, historyLen)
	end := now.Unix()
	for i := range out {
		out[i] = float64(s.at(end - int64(historyLen-1-i)))
	}
	return out
}
