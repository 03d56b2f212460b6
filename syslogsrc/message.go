package syslogsrc

import (
	"bytes"
	"errors"
	"time"
)

// Limits on a header's names (RFC 5424 §6: HOSTNAME 1*255, APP-NAME
// 1*48); RFC 3164's TAG is 32 at most, but senders write longer ones
// (systemd units, gunicorn's "gunicorn.access"), so 3164 gets 5424's.
const (
	maxHost = 255
	maxTag  = 48
)

// message is one syslog message's header and payload; the byte slices
// point into the message as received.
type message struct {
	Time time.Time // the header's timestamp; zero when it has none (RFC 5424's "-")
	Host []byte    // HOSTNAME, or nil when the header has none
	Tag  []byte    // RFC 3164's TAG or RFC 5424's APP-NAME; nil when none
	Msg  []byte    // the payload: the log line
}

// Why a message is not read. The texts quote nothing of the message.
var (
	errNoPRI     = errors.New("no <PRI> at the start (RFC 3164 §4.1.1, RFC 5424 §6.2.1)")
	errBadPRI    = errors.New("<PRI> is not a number from 0 to 191")
	errBadHeader = errors.New("RFC 5424 header is malformed (want: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG)")
	errBadTime   = errors.New("RFC 5424 TIMESTAMP is not an RFC 3339 time or -")
	errBadSD     = errors.New("RFC 5424 STRUCTURED-DATA is malformed")
	errBadName   = errors.New("HOSTNAME or APP-NAME is longer than RFC 5424 allows or not printable ASCII")
)

// parseMessage reads one message (its framing already removed): RFC 5424
// when the PRI is followed by the version "1 ", else RFC 3164 as senders
// write it (nginx, HAProxy, logger, rsyslog's traditional forwarding):
// "<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG", HOST left out by some local
// senders, an RFC 3339 time in place of the old one (rsyslog's high
// precision format), or no time and no host at all ("<PRI>TAG: MSG", what
// Python's SysLogHandler sends for gunicorn). 3164 times have neither a
// year nor a zone: the zone is loc and the year the one that puts the time
// nearest to now.
func parseMessage(b []byte, loc *time.Location, now time.Time) (message, error) {
	rest, err := parsePRI(b)
	if err != nil {
		return message{}, err
	}
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		return parse5424(rest[2:])
	}
	return parse3164(rest, loc, now)
}

// parsePRI reads "<N>" (RFC 5424 §6.2.1: 1 to 3 digits, at most 191, no
// leading zero but "<0>").
func parsePRI(b []byte) ([]byte, error) {
	if len(b) < 3 || b[0] != '<' {
		return nil, errNoPRI
	}
	n, i := 0, 1
	for ; i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	digits := i - 1
	if digits == 0 || digits > 3 || i >= len(b) || b[i] != '>' || n > 191 || digits > 1 && b[1] == '0' {
		return nil, errBadPRI
	}
	return b[i+1:], nil
}

// parse5424 reads what follows "<PRI>1 " (RFC 5424 §6).
func parse5424(b []byte) (message, error) {
	var m message
	var f [5][]byte // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
	for i := range f {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return message{}, errBadHeader
		}
		f[i], b = b[:sp], b[sp+1:]
	}
	if !isNil(f[0]) {
		t, err := time.Parse(time.RFC3339Nano, string(f[0]))
		if err != nil {
			return message{}, errBadTime
		}
		m.Time = t
	}
	for i, max := range [...]int{1: maxHost, 2: maxTag, 3: 128, 4: 32} {
		if i > 0 && !printable(f[i], max) {
			return message{}, errBadName
		}
	}
	if !isNil(f[1]) {
		m.Host = f[1]
	}
	if !isNil(f[2]) {
		m.Tag = f[2]
	}
	rest, err := skipSD(b)
	if err != nil {
		return message{}, err
	}
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return message{}, errBadSD
		}
		rest = rest[1:]
	}
	m.Msg = stripPID(bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf"))) // MSG-UTF8 starts with a BOM (§6.4)
	return m, nil
}

// skipSD skips STRUCTURED-DATA: "-" or one or more [SD-ID *(SP
// PARAM-NAME="VALUE")] where VALUE escapes '"', '\' and ']' with '\'
// (§6.3).
func skipSD(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errBadSD
	}
	if b[0] == '-' {
		return b[1:], nil
	}
	if b[0] != '[' {
		return nil, errBadSD
	}
	for len(b) > 0 && b[0] == '[' {
		i := 1
		inValue := false
		for ; i < len(b); i++ {
			c := b[i]
			if inValue {
				switch c {
				case '\\':
					i++ // the escaped character
				case '"':
					inValue = false
				}
				continue
			}
			if c == '"' {
				inValue = true
			} else if c == ']' {
				break
			}
		}
		if i >= len(b) {
			return nil, errBadSD
		}
		b = b[i+1:]
	}
	return b, nil
}

// parse3164 reads what follows "<PRI>" in a BSD syslog message
// (RFC 3164 §4.1.2, as senders write it).
func parse3164(b []byte, loc *time.Location, now time.Time) (message, error) {
	var m message
	timed := true
	if t, ok := bsdTime(b, loc); ok {
		// "Mmm dd hh:mm:ss " (dd space-padded; some senders zero-pad).
		m.Time = nearestYear(t, now)
		b = b[16:]
	} else if sp := bytes.IndexByte(b, ' '); sp >= 20 && b[4] == '-' && b[10] == 'T' {
		if t, err := time.Parse(time.RFC3339Nano, string(b[:sp])); err == nil {
			m.Time = t
			b = b[sp+1:]
		} else {
			timed = false
		}
	} else {
		timed = false // no header but the TAG (§4.3.3: what follows the PRI is the content)
	}
	// HOSTNAME, unless the first word is already the TAG ("tag:",
	// "tag[123]:"): a local sender leaves the host out, and a message
	// without a time has none.
	word, rest, _ := bytes.Cut(b, []byte(" "))
	if timed && !isTag(word) {
		if !printable(word, maxHost) {
			return message{}, errBadName
		}
		m.Host = word
		b = rest
		word, rest, _ = bytes.Cut(b, []byte(" "))
	}
	if isTag(word) {
		tag := word[:len(word)-1] // the colon
		if i := bytes.IndexByte(tag, '['); i >= 0 {
			tag = tag[:i]
		}
		if !printable(tag, maxTag) {
			return message{}, errBadName
		}
		m.Tag = tag
		b = rest
	}
	m.Msg = stripPID(b)
	return m, nil
}

// stripPID drops the "[PID] " that Python's logging puts before the
// message when the PID is not in the TAG (gunicorn's syslog format is
// "[%(process)d] %(message)s"): no access log line starts with it.
func stripPID(b []byte) []byte {
	if len(b) < 4 || b[0] != '[' {
		return b
	}
	i := 1
	for i < len(b) && i <= 10 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > 1 && i+1 < len(b) && b[i] == ']' && b[i+1] == ' ' {
		return b[i+2:]
	}
	return b
}

// bsdTime reads RFC 3164's "Mmm dd hh:mm:ss " at the start of b.
func bsdTime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 16 || b[3] != ' ' || b[6] != ' ' || b[15] != ' ' {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("Jan _2 15:04:05", string(b[:15]), loc)
	if err != nil {
		if t, err = time.ParseInLocation("Jan 02 15:04:05", string(b[:15]), loc); err != nil {
			return time.Time{}, false
		}
	}
	return t, true
}

// isTag reports whether a header word is a TAG with its colon: "nginx:",
// "gunicorn[42]:".
func isTag(w []byte) bool {
	if len(w) < 2 || w[len(w)-1] != ':' {
		return false
	}
	w = w[:len(w)-1]
	if i := bytes.IndexByte(w, '['); i > 0 {
		if w[len(w)-1] != ']' {
			return false
		}
		w = w[:i]
	}
	return len(w) > 0 && bytes.IndexByte(w, ':') < 0
}

// nearestYear puts t (read without a year, so in year 0) in the year that
// makes it nearest to now: a December message read in January is last
// year's.
func nearestYear(t, now time.Time) time.Time {
	now = now.In(t.Location())
	best := t
	for _, y := range [...]int{now.Year() - 1, now.Year(), now.Year() + 1} {
		c := time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, t.Location())
		if best.Year() == 0 || absDur(c.Sub(now)) < absDur(best.Sub(now)) {
			best = c
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func isNil(b []byte) bool { return len(b) == 1 && b[0] == '-' }

// printable reports whether b is 1 to max bytes of PRINTUSASCII (%d33-126).
func printable(b []byte, max int) bool {
	if len(b) == 0 || len(b) > max {
		return false
	}
	for _, c := range b {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}
