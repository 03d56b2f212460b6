package cmdsrc

import (
	"bytes"
	"time"

	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/state"
)

// container reads `docker logs --timestamps` (or podman's): every line is
// "TIMESTAMP SP LINE", TIMESTAMP in RFC 3339 with nanoseconds; the
// container's stdout comes on the command's stdout and its stderr on its
// stderr (werkzeug logs there), so both are read. A new attempt (the
// container restarted) asks for what came since the last timestamp seen;
// lines at or before the last one of their stream were read already and
// are skipped.
type container struct {
	name    string // the source as given: "docker:NAME"
	engine  string // "docker" or "podman"
	target  string // the container's name or ID
	opts    Options
	streams *logsrc.Streams
	last    [2]time.Time // stdout, stderr: the newest line read
	kept    [2]time.Time // last, as last handed to the store
}

// containerRecord is what --state keeps for a container: the newest line
// read of each stream.
type containerRecord struct {
	Stdout time.Time `json:"stdout"`
	Stderr time.Time `json:"stderr"`
}

func (c *container) checkpoint() (string, any, bool) {
	moved := c.last != c.kept
	c.kept = c.last
	return stateKey(c.name), containerRecord{c.last[0], c.last[1]}, moved
}

// resume starts after the lines the store says were read.
func (c *container) resume(store *state.Store) error {
	if store == nil {
		return nil
	}
	var rec containerRecord
	if _, err := store.Get(stateKey(c.name), &rec); err != nil {
		return err
	}
	c.last = [2]time.Time{rec.Stdout, rec.Stderr}
	c.kept = c.last
	return nil
}

func (c *container) argv(again bool) []string {
	a := []string{c.engine, "logs", "--timestamps"}
	if c.opts.Follow {
		a = append(a, "--follow")
	}
	if since := c.resumeAt(); !since.IsZero() {
		a = append(a, "--since", since.UTC().Format(time.RFC3339Nano)) // a new attempt, or a checkpoint's
	} else if c.opts.Follow && c.opts.TailOnly && !again {
		a = append(a, "--tail", "0")
	}
	return append(a, "--", c.target)
}

// resumeAt is where the next attempt starts: the older of the two
// streams' last lines (the other skips what it already read).
func (c *container) resumeAt() time.Time {
	t := c.last[0]
	if t.IsZero() || !c.last[1].IsZero() && c.last[1].Before(t) {
		t = c.last[1]
	}
	return t
}

func (c *container) attempt() {}

func (c *container) line(b []byte, fromErr bool) lineKind {
	t, msg, ok := parseTimestamped(b)
	if !ok {
		return diagnostic // the engine's own words: "Error response from daemon: No such container: x"
	}
	i := 0
	if fromErr {
		i = 1
	}
	f := c.streams.Stream(c.name)
	if !t.After(c.last[i]) {
		f.Emitter().Counter("container_lines_seen_before").Inc() // a new attempt's --since overlaps
		return seen
	}
	c.last[i] = t
	f.Line(msg, t)
	return fresh
}

// parseTimestamped cuts "2026-11-26T22:58:29.123456789Z message" (docker
// logs --timestamps; podman's carries an offset instead of Z).
func parseTimestamped(b []byte) (time.Time, []byte, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < len("2006-01-02T15:04:05Z") || sp > len("2006-01-02T15:04:05.000000000+00:00") || b[4] != '-' || b[10] != 'T' {
		return time.Time{}, nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:sp]))
	if err != nil {
		return time.Time{}, nil, false
	}
	return t, b[sp+1:], true
}
