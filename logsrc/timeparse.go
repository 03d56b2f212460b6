package logsrc

import (
	"time"
)

// Hand-written parsers for the fixed layouts nginx and Apache write. They do
// not allocate (time.Parse with a zone offset builds a *time.Location per
// call) and return times in UTC; event-time arithmetic does not care about
// the zone and JSON output shows UTC.

var monthIndex = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// timeMemo remembers the last time a parser read, as written and as an
// instant: a log is written in time order, so line after line carries the
// same second, and reading it again is a comparison.
type timeMemo struct {
	ok   bool
	kind fieldKind
	n    int
	raw  [40]byte
	t    time.Time
}

// parse returns what parse makes of b, a time of kind k, from the memo when
// b is the text it read last. Only times that parsed are remembered.
func (m *timeMemo) parse(k fieldKind, b []byte, parse func([]byte) (time.Time, bool)) (time.Time, bool) {
	if m.ok && m.kind == k && string(m.raw[:m.n]) == string(b) {
		return m.t, true
	}
	t, ok := parse(b)
	if ok && len(b) <= len(m.raw) {
		m.ok, m.kind, m.n, m.t = true, k, copy(m.raw[:], b), t
	}
	return t, ok
}

// parseTimeLocal parses "02/Jan/2006:15:04:05 -0700" ($time_local, Apache %t).
func parseTimeLocal(b []byte) (time.Time, bool) {
	if len(b) != len("02/Jan/2006:15:04:05 -0700") ||
		b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := num(b[0:2])
	year, ok2 := num(b[7:11])
	hour, ok3 := num(b[12:14])
	min, ok4 := num(b[15:17])
	sec, ok5 := num(b[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false
	}
	month := monthNum(b[3:6])
	if month == 0 {
		return time.Time{}, false
	}
	off, ok := parseOffset(b[21:], false)
	if !ok {
		return time.Time{}, false
	}
	return civil(year, month, day, hour, min, sec, 0, off)
}

// parseISO parses "2006-01-02T15:04:05+00:00" ($time_iso8601), also with a
// fraction of a second, "Z", or a "+0000" offset.
func parseISO(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") ||
		b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	min, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		var ok bool
		var n int
		nsec, n, ok = fraction(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		rest = rest[1+n:]
	}
	var off int
	if len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z') {
		off = 0
	} else {
		var ok bool
		if off, ok = parseOffset(rest, true); !ok {
			return time.Time{}, false
		}
	}
	return civil(year, month, day, hour, min, sec, nsec, off)
}

// parseMsec parses "1700000000.123" ($msec: seconds since the epoch with
// milliseconds; more or fewer fraction digits are accepted).
func parseMsec(b []byte) (time.Time, bool) {
	if len(b) == 0 {
		return time.Time{}, false
	}
	var sec int64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		c := b[i]
		if c < '0' || c > '9' || i >= 12 {
			return time.Time{}, false
		}
		sec = sec*10 + int64(c-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	nsec := 0
	if i < len(b) {
		var n int
		var ok bool
		nsec, n, ok = fraction(b[i+1:])
		if !ok || i+1+n != len(b) {
			return time.Time{}, false
		}
	}
	return time.Unix(sec, int64(nsec)).UTC(), true
}

// fraction parses the digits of a fraction of a second (1 to 9 used, more
// ignored) and returns nanoseconds and how many bytes it read.
func fraction(b []byte) (nsec, n int, ok bool) {
	scale := 100000000
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		nsec += int(b[n]-'0') * scale
		scale /= 10
		n++
	}
	return nsec, n, n > 0
}

// parseOffset parses "+hhmm" or, when colon is allowed, "+hh:mm" into seconds
// east of UTC.
func parseOffset(b []byte, colon bool) (int, bool) {
	var hh, mm []byte
	switch {
	case len(b) == 5:
		hh, mm = b[1:3], b[3:5]
	case colon && len(b) == 6 && b[3] == ':':
		hh, mm = b[1:3], b[4:6]
	default:
		return 0, false
	}
	h, ok1 := num(hh)
	m, ok2 := num(mm)
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	switch b[0] {
	case '+':
		return off, true
	case '-':
		return -off, true
	}
	return 0, false
}

// num parses a short run of ASCII digits.
func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// civil converts a validated civil time with a UTC offset to an instant.
func civil(year, month, day, hour, min, sec, nsec, off int) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	// Days from 1970-01-01 (H. Hinnant, "days_from_civil"); years here are >= 0.
	y := year
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	unix := days*86400 + int64(hour*3600+min*60+sec) - int64(off)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// monthNum returns 1..12 for "Jan".."Dec", else 0.
func monthNum(b []byte) int {
	if len(b) != 3 {
		return 0
	}
	for i, m := range monthIndex {
		if b[0] == m[0] && b[1] == m[1] && b[2] == m[2] {
			return i + 1
		}
	}
	return 0
}

// parseTimeAny parses a JSON log's time: RFC 3339 (an offset-less one is
// in loc), nginx's $time_local, or a number of seconds, milliseconds,
// microseconds or nanoseconds since 1970 (told apart by their size, as
// loggers write them: Caddy's ts is float seconds, others use ms).
func parseTimeAny(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) == 0 {
		return time.Time{}, false
	}
	if b[0] >= '0' && b[0] <= '9' && (len(b) < 5 || b[4] != '-') && (len(b) < 3 || b[2] != '/') {
		return parseEpoch(b)
	}
	if t, ok := parseISO(b); ok {
		return t, true
	}
	if len(b) >= 19 && len(b) <= 29 && b[4] == '-' {
		// No zone: "2026-11-26T22:13:19" or with a fraction.
		if t, ok := parseISO(append(append(make([]byte, 0, 32), b...), 'Z')); ok {
			return inLocation(t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
		return time.Time{}, false
	}
	if t, ok := parseTimeLocal(b); ok {
		return t, true
	}
	// Rarer layouts through the standard library (which allocates).
	for _, layout := range [...]string{time.RFC1123Z, time.RFC1123, time.ANSIC, time.RFC850} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseEpoch parses seconds since 1970, with a fraction, or a whole number
// of milliseconds (13 digits), microseconds (16) or nanoseconds (19).
func parseEpoch(b []byte) (time.Time, bool) {
	digits := 0
	for digits < len(b) && b[digits] >= '0' && b[digits] <= '9' {
		digits++
	}
	if digits == len(b) {
		var scale int64
		switch {
		case digits <= 11:
			return parseMsec(b)
		case digits <= 14:
			scale = 1e6
		case digits <= 17:
			scale = 1e3
		case digits <= 19:
			scale = 1
		default:
			return time.Time{}, false
		}
		var n int64
		for _, c := range b {
			n = n*10 + int64(c-'0')
		}
		return time.Unix(0, n*scale).UTC(), true
	}
	return parseMsec(b)
}

// parsePort parses a TCP port.
func parsePort(b []byte) (int, bool) {
	if len(b) > 5 {
		return 0, false
	}
	n, ok := num(b)
	return n, ok && n <= 65535
}
