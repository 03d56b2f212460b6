package logsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Options configures a log source.
type Options struct {
	Format      string               // a Compile spec; "" = auto
	Follow      bool                 // keep following after EOF (across rotation), else read to the end and stop
	TailOnly    bool                 // with Follow: start at the end of the files that exist at the start
	Keys        *detect.KeyExtractor // owned by this source's goroutine; nil: no keys
	Pacer       *detect.Pacer        // nil = unpaced
	Location    *time.Location       // for times without a zone (werkzeug, some %{...}t and JSON); nil = time.Local
	BatchSize   int                  // 0 = 256
	MaxProblems int                  // sample of bad lines kept and reported per file (0 = 5, < 0 = none)
}

const (
	defaultBatchSize   = 256
	defaultMaxProblems = 5
	// maxLine is the longest line read whole; a longer line is counted as a
	// parse error and skipped.
	maxLine = 1 << 20
	// readSize is one read from a file or stdin.
	readSize = 256 << 10
	// flushEvery is how often a following source hands over what it has, so
	// a slow trickle of lines is not held back until a batch fills.
	flushEvery = 100 * time.Millisecond
	// problemBytes bounds a Problem's text.
	problemBytes = 200
)

var errTooLong = &parseError{reason: "line is longer than " + strconv.Itoa(maxLine>>20) + " MiB"}

// Run reads path ("-" = stdin) and sends batches to out until EOF (no Follow)
// or ctx is done. Without Follow the last batch has State StateDone. A line
// that does not parse is counted and sampled in Problems, never fatal; Run
// fails when the file cannot be read, is binary (ErrBinaryFile), when
// auto-detection finds no format in the first lines (ErrUnknownFormat), or
// when a glob matches nothing and Run is not following (ErrNoMatch). It
// returns nil when it stopped because ctx ended. Run writes nothing to
// stdout or stderr; every request's Source is the file it came from.
//
// path may be a glob ("/var/log/nginx/*.log"; see Expand): each match is a
// source of its own (batches carry its path), and with Follow new matches
// are picked up as they appear (not the rotated copies of a followed file).
// A ".gz" file is decompressed and read once, not followed.
//
// With Follow, a file that does not exist yet is waited for, and rotation
// is followed: rename-and-create (the renamed file is drained until its
// writer lets go of it), copytruncate (what the writer added after our last
// read is taken from the copy when it is still there), delete-and-recreate.
// A partial last line waits until its newline arrives. Stdin and named
// pipes are read until EOF either way, handing over what arrived at least
// every 100 ms; reading stdin leaves one goroutine blocked in Read after Run
// returns until stdin yields or closes.
func Run(ctx context.Context, path string, opts Options, out chan<- detect.Batch) error {
	if _, err := Compile(opts.Format); err != nil {
		return fmt.Errorf("log %s: %w", detect.Sanitize(path), err)
	}
	var err error
	switch {
	case path == "-":
		s := newSource(path, opts, out)
		err = s.runStream(ctx, os.Stdin, "stdin")
	case hasGlobMeta(path) && !exists(path):
		err = runGlob(ctx, path, opts, out)
	default:
		err = runOne(ctx, path, opts, out, opts.TailOnly)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// runOne reads or follows one file.
func runOne(ctx context.Context, path string, opts Options, out chan<- detect.Batch, tailOnly bool) error {
	s := newSource(path, opts, out)
	if isStream(path) {
		// A pipe or device (rebindwatch <(tail -f x.log)): read it as it
		// comes; it cannot be seeked, and a file read would hold lines back
		// until a batch fills.
		f, err := os.Open(path)
		if err != nil {
			return logErr(path, err)
		}
		defer f.Close()
		return s.runStream(ctx, f, path)
	}
	if isGzipName(path) || !opts.Follow {
		return s.runFile(ctx)
	}
	return s.runFollow(ctx, tailOnly)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// isStream reports whether path names something other than a regular file
// or a directory: a named pipe, /dev/stdin, a character device.
func isStream(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// source is the state of one file's Run.
type source struct {
	path  string
	name  string // for Problem.Where
	opts  Options
	p     *Parser
	out   chan<- detect.Batch
	now   func() time.Time
	batch int

	cur          detect.Request // the line being parsed
	reqs         []detect.Request
	parseErrors  uint64
	counters     map[string]uint64 // deltas: skipped_lines, rotations, truncations, ...
	problems     []detect.Problem
	problemsLeft int

	done, total int64
	state       detect.SourceState
	formatNote  string
	waitNote    string
	sentState   detect.SourceState
	sentNote    string
	lastFlush   time.Time

	pending   [][]byte // auto: the first lines, read again once the format is decided
	pendingNo []int64
}

func newSource(path string, opts Options, out chan<- detect.Batch) *source {
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	switch {
	case opts.MaxProblems == 0:
		opts.MaxProblems = defaultMaxProblems
	case opts.MaxProblems < 0:
		opts.MaxProblems = 0
	}
	name := path
	if path == "-" {
		name = "stdin"
	}
	p, err := Compile(opts.Format)
	if err != nil {
		panic("logsrc: format compiled once and not again: " + err.Error()) // Run checked it
	}
	p.SetLocation(opts.Location)
	return &source{
		path: path, name: name, opts: opts, p: p, out: out, now: time.Now,
		batch:        opts.BatchSize,
		reqs:         make([]detect.Request, 0, opts.BatchSize),
		problemsLeft: opts.MaxProblems,
		state:        detect.StateStarting,
		sentState:    detect.StateStarting,
	}
}

// splitter cuts a byte stream into lines. Lines are handed over where they
// lie in the chunk read, without a copy; only a line cut by the end of a
// chunk is copied (into partial) until its newline arrives.
type splitter struct {
	partial  []byte
	skipping bool // the current line is too long: drop it up to its newline
	lineno   int64
}

// feed splits data, calling emit for every complete line (newline included).
func (sp *splitter) feed(data []byte, emit func(line []byte, lineno int64) error, tooLong func(lineno int64, head []byte)) error {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if !sp.skipping {
				if len(sp.partial)+len(data) > maxLine {
					sp.lineno++
					tooLong(sp.lineno, append(sp.partial, data[:min(len(data), 512)]...))
					sp.partial, sp.skipping = sp.partial[:0], true
				} else {
					sp.partial = append(sp.partial, data...)
				}
			}
			return nil
		}
		seg := data[:i+1]
		data = data[i+1:]
		if sp.skipping {
			sp.skipping = false
			continue
		}
		line := seg
		if len(sp.partial) > 0 {
			if len(sp.partial)+len(seg) > maxLine {
				sp.lineno++
				tooLong(sp.lineno, sp.partial[:min(len(sp.partial), 512)])
				sp.partial = sp.partial[:0]
				continue
			}
			sp.partial = append(sp.partial, seg...)
			line = sp.partial
		}
		sp.lineno++
		if err := emit(line, sp.lineno); err != nil {
			return err
		}
		sp.partial = sp.partial[:0]
		if cap(sp.partial) > 64<<10 {
			sp.partial = nil
		}
	}
	return nil
}

// end hands over a last line without a newline (at the end of a finite
// input, or of a rotated file).
func (sp *splitter) end(emit func(line []byte, lineno int64) error) error {
	sp.skipping = false
	if len(sp.partial) == 0 {
		return nil
	}
	sp.lineno++
	err := emit(sp.partial, sp.lineno)
	sp.partial = sp.partial[:0]
	return err
}

func (s *source) tooLong(lineno int64, head []byte) { s.bad(lineno, errTooLong, head) }

// runFile reads a file to its end. A ".gz" file is decompressed.
func (s *source) runFile(ctx context.Context) error {
	f, err := os.Open(s.path)
	if err != nil {
		return logErr(s.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return logErr(s.path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("log %s: is a directory", detect.Sanitize(s.path))
	}
	s.total = fi.Size()
	s.state = detect.StateReplaying
	r, counted, err := openLog(s.path, f)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer r.Close()
	var sp splitter
	buf := make([]byte, readSize)
	var n int64
	for {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			if err := sp.feed(buf[:k], s.emit(ctx), s.tooLong); err != nil {
				return err
			}
			n += int64(k)
			s.done = n
			if counted != nil {
				s.done = counted.n // compressed bytes, to compare with the file's size
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return s.fail(ctx, logErr(s.path, rerr))
		}
	}
	if err := sp.end(s.emit(ctx)); err != nil {
		return err
	}
	return s.finish(ctx)
}

// emit returns the line handler for a splitter.
func (s *source) emit(ctx context.Context) func([]byte, int64) error {
	return func(line []byte, lineno int64) error { return s.handleLine(ctx, line, lineno) }
}

// finish sends the last batch of a finite input.
func (s *source) finish(ctx context.Context) error {
	if err := s.decidePending(ctx); err != nil {
		return err
	}
	s.state = detect.StateDone
	return s.flush(ctx)
}

// fail sends a last batch that says the source failed, and returns err.
func (s *source) fail(ctx context.Context, err error) error {
	s.state = detect.StateFailed
	s.problem(s.name, err.Error())
	s.flush(ctx)
	return err
}

// runStream reads r (stdin, a pipe) until EOF. A goroutine does the reads so
// that what arrived is handed over within flushEvery even while the pipe is
// quiet; chunks go back and forth between it and this loop, so reading
// allocates nothing per line.
func (s *source) runStream(ctx context.Context, r io.Reader, name string) error {
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk)
	free := make(chan []byte, 3)
	for range cap(free) {
		free <- make([]byte, readSize)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			n, err := r.Read(buf)
			select {
			case chunks <- chunk{buf[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	s.state = detect.StateReplaying
	if s.opts.Follow {
		s.state = detect.StateFollowing
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var sp splitter
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := s.decidePending(ctx); err != nil {
				return err
			}
			if s.dirty() {
				if err := s.flush(ctx); err != nil {
					return err
				}
			}
		case c := <-chunks:
			if first && len(c.b) > 0 {
				first = false
				if err := sniffLog(name, c.b); err != nil {
					return s.fail(ctx, err)
				}
			}
			s.done += int64(len(c.b))
			if err := sp.feed(c.b, s.emit(ctx), s.tooLong); err != nil {
				return err
			}
			free <- c.b[:cap(c.b)]
			if c.err == nil {
				continue
			}
			if err := sp.end(s.emit(ctx)); err != nil {
				return err
			}
			if c.err != io.EOF {
				return s.fail(ctx, logErr(s.name, c.err))
			}
			return s.finish(ctx)
		}
	}
}

// handleLine parses one line (newline included or not) into the batch,
// pacing it when a Pacer is set. While auto-detection has not decided, lines
// are kept and read again once it has.
func (s *source) handleLine(ctx context.Context, line []byte, lineno int64) error {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if isBlank(line) {
		return nil
	}
	if s.p.auto && s.p.chosen == nil {
		if werkzeugBanner(line) {
			s.count("skipped_lines")
			return nil
		}
		s.pending = append(s.pending, bytes.Clone(line))
		s.pendingNo = append(s.pendingNo, lineno)
		if len(s.pending) >= autoLines {
			return s.decidePending(ctx)
		}
		return nil
	}
	s.cur.Source = s.path
	err := s.p.Parse(line, s.opts.Keys, &s.cur)
	if err != nil {
		if errors.Is(err, ErrNotRequest) {
			s.count("skipped_lines")
			return nil
		}
		s.bad(lineno, err, line)
		return nil
	}
	r := &s.cur
	if r.Time.IsZero() {
		r.Time = s.now() // a format without a clock: the time it was read
	} else if pc := s.opts.Pacer; pc != nil {
		if !pc.Due(r.Time) && s.dirty() {
			if err := s.flush(ctx); err != nil {
				return err
			}
		}
		if err := pc.Wait(ctx, r.Time); err != nil {
			return err
		}
	}
	s.reqs = append(s.reqs, *r)
	if len(s.reqs) >= s.batch {
		return s.flush(ctx)
	}
	return nil
}

// decidePending makes auto-detection decide on the lines it has, and reads
// them. It fails the source when no format reads any of them.
func (s *source) decidePending(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	if !s.p.decide(s.pending) {
		return s.fail(ctx, s.undetected())
	}
	s.formatNote = "format: " + s.p.Format() + " (auto)"
	lines, nos := s.pending, s.pendingNo
	s.pending, s.pendingNo = nil, nil
	for i, l := range lines {
		if err := s.handleLine(ctx, l, nos[i]); err != nil {
			return err
		}
	}
	return nil
}

// undetected is the error for input whose first lines no format reads.
func (s *source) undetected() error {
	line := s.pending[0]
	hint := formatHint
	if looksJSON(line) {
		hint = "caddy, traefik, json (common key names) or json:host=PATH,time=PATH,method=PATH,target=PATH,... " +
			"(dotted paths into the object)"
	}
	return fmt.Errorf("log %s: %w: no known format reads its first %d line(s); line %d is \"%s\" (%s); set --log-format to one of %s",
		detect.Sanitize(s.name), ErrUnknownFormat, len(s.pending), s.pendingNo[0], clip(line, 120), s.p.whyNot(line), hint)
}

// bad counts a line that did not parse and keeps the first few as Problems.
func (s *source) bad(lineno int64, err error, line []byte) {
	s.parseErrors++
	if s.problemsLeft <= 0 {
		return
	}
	s.problem(s.name+":"+strconv.FormatInt(lineno, 10), err.Error()+": "+clip(line, problemBytes))
}

// problem records a Problem (counted against MaxProblems). text must be safe
// for a terminal already or come from our own messages; it is sanitised
// again anyway because error texts can quote file names.
func (s *source) problem(where, text string) {
	if s.problemsLeft <= 0 {
		return
	}
	s.problemsLeft--
	s.problems = append(s.problems, detect.Problem{Source: s.path, Where: detect.Sanitize(where), Text: detect.Sanitize(text)})
}

// clip makes a line fit for a message: sanitised and cut to about n bytes
// on a rune boundary.
func clip(line []byte, n int) string {
	raw := line
	if len(raw) > 2*n {
		raw = raw[:2*n]
	}
	s := detect.SanitizeBytes(raw)
	if len(s) <= n && len(raw) == len(line) {
		return s
	}
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s + "..."
}

func (s *source) note() string {
	switch {
	case s.waitNote == "":
		return s.formatNote
	case s.formatNote == "":
		return s.waitNote
	}
	return s.waitNote + "; " + s.formatNote
}

// dirty reports whether there is anything to hand over.
func (s *source) dirty() bool {
	return len(s.reqs) > 0 || s.parseErrors > 0 || len(s.counters) > 0 || len(s.problems) > 0 ||
		s.state != s.sentState || s.note() != s.sentNote
}

// flush hands the pending batch to the engine, which owns it from then on.
func (s *source) flush(ctx context.Context) error {
	b := detect.Batch{
		Source:      s.path,
		Requests:    s.reqs,
		ParseErrors: s.parseErrors,
		Problems:    s.problems,
		Done:        s.done,
		Total:       s.total,
		State:       s.state,
		Note:        s.note(),
		Counters:    s.counters,
	}
	if len(b.Requests) == 0 {
		b.Requests = nil
	}
	select {
	case s.out <- b:
	case <-ctx.Done():
		return ctx.Err()
	}
	if len(s.reqs) > 0 {
		s.reqs = make([]detect.Request, 0, s.batch)
	}
	s.parseErrors, s.counters, s.problems = 0, nil, nil
	s.sentState, s.sentNote = b.State, b.Note
	s.lastFlush = s.now()
	return nil
}

// hasGlobMeta reports whether path has glob metacharacters.
func hasGlobMeta(path string) bool { return strings.ContainsAny(path, "*?[") }

// cleanErr is an error whose message is safe for a terminal (file names
// from globs and configs can hold anything) and that still wraps the cause.
type cleanErr struct {
	msg string
	err error
}

func (e *cleanErr) Error() string { return e.msg }
func (e *cleanErr) Unwrap() error { return e.err }

// logErr is the error for a file operation on a log.
func logErr(path string, err error) error {
	return &cleanErr{msg: "log " + detect.Sanitize(path) + ": " + detect.Sanitize(unwrapPath(err)), err: err}
}
