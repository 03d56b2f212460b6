package logsrc

import (
	"bytes"
	"errors"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// Lines reads the lines of one stream that arrive from elsewhere, one
// record at a time (a producing host's access log, as a fleet's shippers
// write it to Kafka): the formats and the auto-detection of Run, without a
// file. One goroutine uses it.
type Lines struct {
	p    *Parser
	keys *keys.Extractor
	note string
	now  func() time.Time
}

// NewLines returns a reader of lines in format (a Compile spec; "" = auto),
// finding keys with k (nil: no keys) and reading times without a zone in
// loc (nil: time.Local).
func NewLines(format string, k *keys.Extractor, loc *time.Location) (*Lines, error) {
	p, err := Compile(format)
	if err != nil {
		return nil, err
	}
	p.SetLocation(loc)
	l := &Lines{p: p, keys: k, now: time.Now}
	if !p.auto {
		l.note = "format: " + p.Format()
	}
	return l, nil
}

// Decided reports whether the format is known: given, or chosen by Decide.
func (l *Lines) Decided() bool { return !l.p.auto || l.p.chosen != nil }

// Decide lets auto-detection choose a format from the stream's first lines
// (up to the same number Run reads before it decides; banners aside), as
// Run does. It reports false when no format reads any of them: they are
// parse errors, and the next lines are tried again.
func (l *Lines) Decide(first [][]byte) bool {
	if l.Decided() {
		return true
	}
	var lines [][]byte
	for _, line := range first {
		if line = trimLine(line); !isBlank(line) && !werkzeugBanner(line) && len(lines) < autoLines {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 || !l.p.decide(lines) {
		return false
	}
	l.note = "format: " + l.p.Format() + " (auto)"
	if warn := extraColumns(l.p.chosen, lines) + extraJSONFields(l.p.chosen, lines); warn != "" {
		l.note += "; " + warn
	}
	return true
}

// Note says which format reads the stream, and what it leaves out ("" while
// undecided).
func (l *Lines) Note() string { return l.note }

// Parse fills r from one line (a trailing newline is dropped). It reports
// false, with no error, for a line that is not a request (blank, a banner);
// its error says why a line does not parse, without quoting it (Quote).
// r.Source is kept; a line without a clock is dated now.
func (l *Lines) Parse(line []byte, r *detect.Request) (bool, error) {
	line = trimLine(line)
	if isBlank(line) {
		return false, nil
	}
	if err := l.p.Parse(line, l.keys, r); err != nil {
		if errors.Is(err, ErrNotRequest) {
			return false, nil
		}
		return false, err
	}
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	return true, nil
}

// Quote returns a line's shape, fit to be quoted in a message: never its
// unidentified columns, which may hold keys.
func Quote(line []byte) string { return shapeOf(trimLine(line), problemBytes) }

func trimLine(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
