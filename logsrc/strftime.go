package logsrc

import (
	"fmt"
	"time"
)

// strftime is a compiled Apache %{format}t: a strftime(3) layout, or one of
// mod_log_config's own tokens (sec, msec, usec, msec_frac, usec_frac), which
// stand alone in their %{...}t. A line may have several %{...}t; their
// pieces are put together (the documented idiom is
// "%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t").
type strftime struct {
	items   []tfItem
	special string // "sec", "msec", ... or ""
}

type tfItem struct {
	lit  string // a literal, or
	conv byte   // a conversion ('Y', 'm', ...)
}

// Piece flags of tparts.
const (
	tpYear = 1 << iota
	tpMonth
	tpDay
	tpYday
	tpHour
	tpMin
	tpSec
	tpFrac
	tpZone
	tpUnix
	tpPM
	tp12
)

// tparts collects the pieces of a time from one or more %{...}t values.
type tparts struct {
	set                       int
	year, month, day, yday    int
	hour, min, sec, nsec, off int
	unix                      int64
	pm                        bool
}

// compileStrftime compiles a strftime layout; the expansions (%T, %D, %F,
// %R, %r, %c, %x, %X) are flattened into their parts.
func compileStrftime(layout string) (*strftime, error) {
	switch layout {
	case "sec", "msec", "usec", "msec_frac", "usec_frac":
		return &strftime{special: layout}, nil
	}
	t := &strftime{}
	if err := t.add(layout, 0); err != nil {
		return nil, err
	}
	return t, nil
}

var strftimeExpand = map[byte]string{
	'T': "%H:%M:%S", 'D': "%m/%d/%y", 'F': "%Y-%m-%d", 'R': "%H:%M", 'r': "%I:%M:%S %p",
	'c': "%a %b %e %H:%M:%S %Y", 'x': "%m/%d/%y", 'X': "%H:%M:%S", 'h': "%b",
}

func (t *strftime) add(layout string, depth int) error {
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			t.lit(string(c))
			continue
		}
		i++
		if i >= len(layout) {
			return fmt.Errorf("time format %q ends with a lone %%", short(layout))
		}
		c = layout[i]
		if (c == 'E' || c == 'O') && i+1 < len(layout) { // locale modifiers: same digits in the C locale
			i++
			c = layout[i]
		}
		if e, ok := strftimeExpand[c]; ok && depth == 0 {
			if err := t.add(e, 1); err != nil {
				return err
			}
			continue
		}
		switch c {
		case '%':
			t.lit("%")
		case 'n', 't':
			t.items = append(t.items, tfItem{conv: 'n'})
		case 'Y', 'y', 'C', 'm', 'd', 'e', 'j', 'H', 'k', 'I', 'l', 'M', 'S', 'p', 'P', 'b', 'B', 'a', 'A',
			'u', 'w', 'z', 'Z', 's', 'U', 'W', 'V', 'G', 'g':
			t.items = append(t.items, tfItem{conv: c})
		default:
			return fmt.Errorf("time format \"%s\" has %%%s, which rebindwatch does not read", short(layout), short(string(c)))
		}
	}
	return nil
}

func (t *strftime) lit(s string) {
	if n := len(t.items); n > 0 && t.items[n-1].conv == 0 {
		t.items[n-1].lit += s
		return
	}
	t.items = append(t.items, tfItem{lit: s})
}

// width returns how many bytes at the start of v the layout matches, or 0.
func (t *strftime) width(v []byte) int {
	var tp tparts
	if t.special != "" {
		n := 0
		for n < len(v) && v[n] >= '0' && v[n] <= '9' {
			n++
		}
		return n
	}
	n, ok := t.match(v, &tp)
	if !ok {
		return 0
	}
	return n
}

// parse reads v into tp; false when v does not match.
func (t *strftime) parse(v []byte, tp *tparts) bool {
	switch t.special {
	case "sec", "msec", "usec":
		n, ok := digits(v, 1, 19)
		if !ok || n != len(v) {
			return false
		}
		var x int64
		for _, c := range v {
			x = x*10 + int64(c-'0')
		}
		switch t.special {
		case "sec":
			tp.unix, tp.nsec = x, 0
		case "msec":
			tp.unix, tp.nsec = x/1e3, int(x%1e3)*1e6
			tp.set |= tpFrac
		case "usec":
			tp.unix, tp.nsec = x/1e6, int(x%1e6)*1e3
			tp.set |= tpFrac
		}
		tp.set |= tpUnix
		return true
	case "msec_frac", "usec_frac":
		want := 3
		if t.special == "usec_frac" {
			want = 6
		}
		if len(v) != want {
			return false
		}
		nsec, n, ok := fraction(v)
		if !ok || n != len(v) {
			return false
		}
		tp.nsec = nsec
		tp.set |= tpFrac
		return true
	}
	n, ok := t.match(v, tp)
	return ok && n == len(v)
}

// match reads the layout at the start of v and returns its length.
func (t *strftime) match(v []byte, tp *tparts) (int, bool) {
	pos := 0
	for _, it := range t.items {
		if it.conv == 0 {
			if len(v)-pos < len(it.lit) || string(v[pos:pos+len(it.lit)]) != it.lit {
				return 0, false
			}
			pos += len(it.lit)
			continue
		}
		n, ok := t.conv(it.conv, v[pos:], tp)
		if !ok {
			return 0, false
		}
		pos += n
	}
	return pos, true
}

// conv reads one conversion at the start of v and returns its length.
func (t *strftime) conv(c byte, v []byte, tp *tparts) (int, bool) {
	fixed := func(width, lo, hi int, flag int, dst *int, space bool) (int, bool) {
		if len(v) < width {
			return 0, false
		}
		b := v[:width]
		if space && b[0] == ' ' {
			b = b[1:]
		}
		n, ok := num(b)
		if !ok || n < lo || n > hi {
			return 0, false
		}
		if dst != nil {
			*dst = n
			tp.set |= flag
		}
		return width, true
	}
	switch c {
	case 'Y':
		return fixed(4, 0, 9999, tpYear, &tp.year, false)
	case 'y':
		n, ok := fixed(2, 0, 99, tpYear, &tp.year, false)
		if ok {
			if tp.year < 69 {
				tp.year += 2000
			} else {
				tp.year += 1900
			}
		}
		return n, ok
	case 'C':
		return fixed(2, 0, 99, 0, nil, false)
	case 'm':
		return fixed(2, 1, 12, tpMonth, &tp.month, false)
	case 'd':
		return fixed(2, 1, 31, tpDay, &tp.day, false)
	case 'e':
		return fixed(2, 1, 31, tpDay, &tp.day, true)
	case 'j':
		return fixed(3, 1, 366, tpYday, &tp.yday, false)
	case 'H':
		return fixed(2, 0, 23, tpHour, &tp.hour, false)
	case 'k':
		return fixed(2, 0, 23, tpHour, &tp.hour, true)
	case 'I':
		n, ok := fixed(2, 1, 12, tpHour, &tp.hour, false)
		tp.set |= tp12
		return n, ok
	case 'l':
		n, ok := fixed(2, 1, 12, tpHour, &tp.hour, true)
		tp.set |= tp12
		return n, ok
	case 'M':
		return fixed(2, 0, 59, tpMin, &tp.min, false)
	case 'S':
		return fixed(2, 0, 60, tpSec, &tp.sec, false)
	case 'u', 'w':
		return fixed(1, 0, 7, 0, nil, false)
	case 'U', 'W', 'V', 'g':
		return fixed(2, 0, 99, 0, nil, false)
	case 'G':
		return fixed(4, 0, 9999, 0, nil, false)
	case 'p', 'P':
		if len(v) < 2 {
			return 0, false
		}
		l := toLower2(v[0], v[1])
		switch string(l[:]) {
		case "am":
			tp.pm = false
		case "pm":
			tp.pm = true
		default:
			return 0, false
		}
		tp.set |= tpPM
		return 2, true
	case 'b':
		if len(v) < 3 {
			return 0, false
		}
		m := monthNum(v[:3])
		if m == 0 {
			return 0, false
		}
		tp.month = m
		tp.set |= tpMonth
		return 3, true
	case 'B':
		for i, name := range monthNames {
			if len(v) >= len(name) && string(v[:len(name)]) == name {
				tp.month = i + 1
				tp.set |= tpMonth
				return len(name), true
			}
		}
		return 0, false
	case 'a', 'A', 'Z':
		n := 0
		for n < len(v) && (v[n] >= 'A' && v[n] <= 'Z' || v[n] >= 'a' && v[n] <= 'z') {
			n++
		}
		if n == 0 {
			return 0, false
		}
		if c == 'Z' {
			switch string(v[:n]) {
			case "UTC", "GMT", "Z":
				tp.off = 0
				tp.set |= tpZone
			}
		}
		return n, true
	case 'z':
		for _, w := range [...]int{6, 5} { // +hh:mm, +hhmm
			if len(v) >= w {
				if off, ok := parseOffset(v[:w], true); ok {
					tp.off = off
					tp.set |= tpZone
					return w, true
				}
			}
		}
		return 0, false
	case 's':
		n, ok := digits(v, 1, 12)
		if !ok {
			return 0, false
		}
		var x int64
		for _, d := range v[:n] {
			x = x*10 + int64(d-'0')
		}
		tp.unix = x
		tp.set |= tpUnix
		return n, true
	case 'n':
		n := 0
		for n < len(v) && (v[n] == ' ' || v[n] == '\t' || v[n] == '\n') {
			n++
		}
		return n, true
	}
	return 0, false
}

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}

func toLower2(a, b byte) [2]byte {
	out := [2]byte{a, b}
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

// digits counts the leading ASCII digits of v, wanting min..max of them.
func digits(v []byte, min, max int) (int, bool) {
	n := 0
	for n < len(v) && n < max && v[n] >= '0' && v[n] <= '9' {
		n++
	}
	return n, n >= min
}

// mergeTimeFmt puts together the %{...}t values of a line (the begin: ones
// when there are any, else the end: ones). complete is false when they give
// only part of a time (a fraction to add to %t); frac is then the
// nanoseconds of the fraction, or -1.
func (p *Parser) mergeTimeFmt(x *lineVals) (t time.Time, frac int, complete, ok bool) {
	var tp tparts
	hasBegin := false
	for _, tv := range x.tfs[:x.ntf] {
		if !tv.f.end {
			hasBegin = true
		}
	}
	for _, tv := range x.tfs[:x.ntf] {
		if tv.f.end && hasBegin {
			continue
		}
		if absent(tv.v) {
			continue
		}
		if !tv.f.tf.parse(tv.v, &tp) {
			return time.Time{}, -1, false, false
		}
	}
	frac = -1
	if tp.set&tpFrac != 0 {
		frac = tp.nsec
	}
	if tp.set&tpUnix != 0 {
		return time.Unix(tp.unix, int64(tp.nsec)).UTC(), frac, true, true
	}
	hour := tp.hour
	if tp.set&tp12 != 0 {
		hour %= 12
		if tp.pm {
			hour += 12
		}
	}
	if tp.set&tpYear == 0 || tp.set&tpHour == 0 || tp.set&(tpMonth|tpDay) != tpMonth|tpDay && tp.set&tpYday == 0 {
		return time.Time{}, frac, false, true
	}
	month, day := tp.month, tp.day
	if tp.set&(tpMonth|tpDay) != tpMonth|tpDay {
		d := time.Date(tp.year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, tp.yday-1)
		month, day = int(d.Month()), d.Day()
	}
	nsec := 0
	if frac >= 0 {
		nsec = frac
	}
	if tp.set&tpZone != 0 {
		t, ok = civil(tp.year, month, day, hour, tp.min, tp.sec, nsec, tp.off)
	} else {
		t, ok = inLocation(tp.year, month, day, hour, tp.min, tp.sec, nsec, p.location())
	}
	return t, frac, ok, ok
}
