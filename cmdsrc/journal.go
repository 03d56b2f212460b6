package cmdsrc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/state"
)

// journal reads `journalctl --output=json`: every entry's MESSAGE is a log
// line of the stream named after its unit, dated by the entry
// (__REALTIME_TIMESTAMP), and its __CURSOR is where the next attempt
// resumes (--after-cursor).
type journal struct {
	name    string   // the source as given: its problems and counts
	prefix  string   // a stream's name is prefix + unit
	unit    string   // --unit; "" = every unit
	file    string   // --file; "" = the system journal
	remote  []string // ssh and its arguments up to the host: run journalctl there
	opts    Options
	streams *logsrc.Streams
	cursor  string // the last entry's, or where a checkpoint or Options.Cursor says
	kept    string // the cursor last handed to the store
}

// journalRecord is what --state keeps for a journal source.
type journalRecord struct {
	Cursor string `json:"cursor"`
}

func (j *journal) checkpoint() (string, any, bool) {
	moved := j.cursor != j.kept
	j.kept = j.cursor
	return stateKey(j.name), journalRecord{j.cursor}, moved
}

// resume starts after the cursor the store keeps, unless one was given.
func (j *journal) resume(store *state.Store) error {
	if store == nil || j.cursor != "" {
		return nil
	}
	var rec journalRecord
	if _, err := store.Get(stateKey(j.name), &rec); err != nil {
		return err
	}
	j.cursor, j.kept = rec.Cursor, rec.Cursor
	return nil
}

// maxUnit bounds a unit name used as a stream's name.
const maxUnit = 256

func (j *journal) argv(again bool) []string {
	a := []string{"journalctl", "--output=json", "--all", "--no-pager"}
	if j.opts.Follow {
		a = append(a, "--follow")
	}
	switch {
	case j.cursor != "":
		a = append(a, "--after-cursor="+j.cursor)
	case j.opts.Follow && j.opts.TailOnly && !again:
		a = append(a, "--lines=0")
	case j.opts.Follow:
		a = append(a, "--lines=all") // --follow alone shows only the last ten
	}
	if j.file != "" {
		a = append(a, "--file="+j.file)
	}
	if j.unit != "" {
		a = append(a, "--unit="+j.unit)
	}
	if j.remote == nil {
		return a
	}
	return append(append([]string(nil), j.remote...), shellCommand(a))
}

func (j *journal) attempt() {}

// line reads one entry; stderr is journalctl's (or ssh's) diagnostics.
func (j *journal) line(b []byte, fromErr bool) lineKind {
	if fromErr {
		return diagnostic
	}
	e, err := parseEntry(b)
	if err != nil {
		f := j.streams.Stream(j.name)
		f.Emitter().ParseError()
		if f.Emitter().WantsProblems() {
			f.Emitter().Problem(j.name, "journal entry: "+err.Error())
		}
		return seen
	}
	if e.cursor != "" {
		j.cursor = e.cursor
	}
	unit := j.unit
	if unit == "" {
		unit = e.unit
	}
	f := j.streams.Stream(j.prefix + unit)
	for _, l := range e.message {
		f.Line(l, e.time)
	}
	return fresh
}

// entry is what a journal entry gives a log source.
type entry struct {
	message [][]byte // MESSAGE, a line each
	cursor  string
	time    time.Time
	unit    string // _SYSTEMD_UNIT, else SYSLOG_IDENTIFIER, else "-"
}

// Why a journal entry is not read. They quote nothing of it.
var (
	errEntryJSON    = errors.New("not a JSON object")
	errEntryMessage = errors.New("MESSAGE is missing or not text, bytes or a list of them")
	errEntryTime    = errors.New("__REALTIME_TIMESTAMP is not microseconds since 1970")
)

// parseEntry reads one line of journalctl --output=json. A field is a
// string, an array of byte values (not UTF-8 or with control characters),
// or an array of either (the field repeated); MESSAGE may hold several
// lines.
func parseEntry(b []byte) (entry, error) {
	var raw struct {
		Message  json.RawMessage `json:"MESSAGE"`
		Cursor   json.RawMessage `json:"__CURSOR"`
		Realtime json.RawMessage `json:"__REALTIME_TIMESTAMP"`
		Unit     json.RawMessage `json:"_SYSTEMD_UNIT"`
		Ident    json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return entry{}, errEntryJSON
	}
	var e entry
	msgs, ok := fieldValues(raw.Message)
	if !ok || len(msgs) == 0 {
		return entry{}, errEntryMessage
	}
	for _, m := range msgs {
		for line := range bytes.SplitSeq(m, []byte("\n")) {
			e.message = append(e.message, line)
		}
	}
	if c, ok := fieldValues(raw.Cursor); ok && len(c) > 0 {
		e.cursor = string(c[0])
	}
	if rt, ok := fieldValues(raw.Realtime); ok && len(rt) > 0 {
		us, err := strconv.ParseInt(string(rt[0]), 10, 64)
		if err != nil || us < 0 {
			return entry{}, errEntryTime
		}
		e.time = time.UnixMicro(us)
	}
	e.unit = "-"
	for _, f := range []json.RawMessage{raw.Unit, raw.Ident} {
		if v, ok := fieldValues(f); ok && len(v) > 0 && len(v[0]) > 0 && len(v[0]) <= maxUnit {
			e.unit = string(v[0])
			break
		}
	}
	return e, nil
}

// fieldValues decodes a journal field's JSON: "text", [byte, ...], or an
// array of those (a field given several times). ok is false for anything
// else (null: a field journalctl left out for its size without --all).
func fieldValues(raw json.RawMessage) (vals [][]byte, ok bool) {
	if len(raw) == 0 {
		return nil, true
	}
	if string(raw) == "null" {
		return nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return [][]byte{[]byte(s)}, true
	}
	if b, ok := byteArray(raw); ok {
		return [][]byte{b}, true
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return nil, false
	}
	for _, item := range list {
		if json.Unmarshal(item, &s) == nil {
			vals = append(vals, []byte(s))
		} else if b, ok := byteArray(item); ok {
			vals = append(vals, b)
		} else {
			return nil, false
		}
	}
	return vals, true
}

// byteArray decodes [104, 105] as the bytes "hi".
func byteArray(raw json.RawMessage) ([]byte, bool) {
	var nums []int
	if json.Unmarshal(raw, &nums) != nil || len(nums) == 0 {
		return nil, false
	}
	b := make([]byte, len(nums))
	for i, n := range nums {
		if n < 0 || n > 255 {
			return nil, false
		}
		b[i] = byte(n)
	}
	return b, true
}
