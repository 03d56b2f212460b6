package logsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nxadm/tail"

	"github.com/rebindwatch/rebindwatch/detect"
)

// Options configures a log source.
type Options struct {
	Format      string               // "auto" | "nginx-combined" | "apache-combined" | "common" | "nginx:<log_format string>"
	Follow      bool                 // keep following after EOF (nxadm/tail), else read to the end and stop
	Keys        *detect.KeyExtractor // owned by this source's goroutine; nil: no keys
	Pacer       *detect.Pacer        // nil = unpaced
	Location    *time.Location       // for formats without a zone (none yet); nil = time.Local
	BatchSize   int                  // 0 = 256
	MaxProblems int                  // sample of bad lines kept and reported (0 = 5, < 0 = none)
}

const (
	defaultBatchSize   = 256
	defaultMaxProblems = 5
	// readBufSize is the file reader's buffer and so the longest line read
	// whole; a longer line is counted as a parse error and skipped.
	readBufSize = 1 << 20
	// chunkSize is one read from stdin.
	chunkSize = 64 << 10
	// flushEvery is how often a following source hands over what it has, so
	// a slow trickle of lines is not held back until a batch fills.
	flushEvery = 100 * time.Millisecond
	// autoLines is how many non-empty lines auto-detection may fail on
	// before Run gives up.
	autoLines = 3
	// problemBytes bounds a Problem's text.
	problemBytes = 200
)

var errTooLong = &parseError{reason: "line is longer than " + strconv.Itoa(readBufSize>>20) + " MiB"}

// Run reads path ("-" = stdin) and sends batches to out until EOF (no Follow)
// or ctx is done. Without Follow the last batch has State StateDone. A line
// that does not parse is counted and sampled in Problems, never fatal; Run
// fails when the file cannot be read, when auto-detection finds no format in
// the first lines, or when following breaks down. It returns nil when it
// stopped because ctx ended. Run writes nothing to stdout or stderr.
//
// With Follow, a file that does not exist yet is waited for (the batch Note
// says so). Stdin and named pipes are read until EOF either way, handing
// over what arrived at least every 100 ms. Reading stdin leaves one
// goroutine blocked in Read after Run returns until stdin yields or closes.
func Run(ctx context.Context, path string, opts Options, out chan<- detect.Batch) error {
	p, err := Compile(opts.Format)
	if err != nil {
		return fmt.Errorf("log %s: %w", path, err)
	}
	s := newSource(path, opts, p, out)
	switch {
	case path == "-":
		err = s.runStream(ctx, os.Stdin)
	case isStream(path):
		// A pipe or device (rebindwatch <(tail -f x.log)): read it as it
		// comes; tail cannot seek in it and a file read would hold lines
		// back until a batch fills.
		var f *os.File
		if f, err = os.Open(path); err != nil {
			return fmt.Errorf("log %s: %w", path, err)
		}
		err = s.runStream(ctx, f)
		f.Close()
	case opts.Follow:
		err = s.runFollow(ctx)
	default:
		err = s.runFile(ctx)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// isStream reports whether path names something other than a regular file
// or a directory: a named pipe, /dev/stdin, a character device.
func isStream(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// source is the state of one Run.
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
	problems     []detect.Problem
	problemsLeft int

	done, total int64
	state       detect.SourceState
	formatNote  string
	waitNote    string
	sentState   detect.SourceState
	sentNote    string

	pending   [][]byte // auto: lines no candidate read yet, replayed once one does
	pendingNo []int64
	lineBuf   []byte
}

func newSource(path string, opts Options, p *Parser, out chan<- detect.Batch) *source {
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
	return &source{
		path: path, name: name, opts: opts, p: p, out: out, now: time.Now,
		batch:        opts.BatchSize,
		reqs:         make([]detect.Request, 0, opts.BatchSize),
		problemsLeft: opts.MaxProblems,
		state:        detect.StateStarting,
		sentState:    detect.StateStarting,
	}
}

// runFile reads a file to its end through one large buffer: lines are parsed
// where they lie in the buffer, without a copy.
func (s *source) runFile(ctx context.Context) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("log %s: %w", s.path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		s.total = fi.Size()
	}
	s.state = detect.StateReplaying
	br := bufio.NewReaderSize(f, readBufSize)
	var lineno int64
	for {
		line, err := br.ReadSlice('\n')
		s.done += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) {
			lineno++
			s.bad(lineno, errTooLong, line)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				s.done += int64(len(line))
			}
			line = nil
		}
		if len(line) > 0 {
			lineno++
			if herr := s.handleLine(ctx, line, lineno); herr != nil {
				return herr
			}
			if lineno&255 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("log %s: reading: %w", s.path, err)
		}
	}
	return s.finish(ctx)
}

// finish sends the last batch of a finite input.
func (s *source) finish(ctx context.Context) error {
	if err := s.undetected(); err != nil {
		return s.fail(ctx, err)
	}
	s.state = detect.StateDone
	return s.flush(ctx)
}

// fail sends a last batch that says the source failed, and returns err.
func (s *source) fail(ctx context.Context, err error) error {
	s.state = detect.StateFailed
	s.flush(ctx)
	return err
}

// runStream reads r (stdin) until EOF. A goroutine does the reads so that
// what arrived is handed over within flushEvery even while the pipe is
// quiet; chunks go back and forth between it and this loop, so reading
// allocates nothing per line.
func (s *source) runStream(ctx context.Context, r io.Reader) error {
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk)
	free := make(chan []byte, 3)
	for range cap(free) {
		free <- make([]byte, chunkSize)
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
	var carry []byte
	skipping := false
	var lineno int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if s.dirty() {
				if err := s.flush(ctx); err != nil {
					return err
				}
			}
		case c := <-chunks:
			data := c.b
			s.done += int64(len(data))
			for len(data) > 0 {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					if !skipping {
						if len(carry)+len(data) > readBufSize {
							lineno++
							s.bad(lineno, errTooLong, append(carry, data...))
							carry, skipping = carry[:0], true
						} else {
							carry = append(carry, data...)
						}
					}
					break
				}
				seg := data[:i+1]
				data = data[i+1:]
				if skipping {
					skipping = false
					continue
				}
				line := seg
				if len(carry) > 0 {
					carry = append(carry, seg...)
					line = carry
				}
				lineno++
				if err := s.handleLine(ctx, line, lineno); err != nil {
					return err
				}
				carry = carry[:0]
			}
			free <- c.b[:cap(c.b)]
			if c.err == nil {
				continue
			}
			if len(carry) > 0 && !skipping {
				lineno++
				if err := s.handleLine(ctx, carry, lineno); err != nil {
					return err
				}
			}
			if c.err != io.EOF {
				return s.fail(ctx, fmt.Errorf("log %s: reading: %w", s.name, c.err))
			}
			return s.finish(ctx)
		}
	}
}

// runFollow follows a file with nxadm/tail (tail -F): from its start, then
// what is appended, across rotation and truncation. The file may not exist
// yet. The state is replaying until the reader has caught up with the size
// the file had at the start, or the input goes quiet.
func (s *source) runFollow(ctx context.Context) error {
	var initial int64
	fi, err := os.Stat(s.path)
	switch {
	case err == nil:
		if fi.IsDir() {
			return fmt.Errorf("log %s: is a directory", s.path)
		}
		f, err := os.Open(s.path) // fail now, not inside tail's goroutine
		if err != nil {
			return fmt.Errorf("log %s: %w", s.path, err)
		}
		f.Close()
		initial, s.total = fi.Size(), fi.Size()
		s.state = detect.StateReplaying
	case errors.Is(err, fs.ErrNotExist):
		s.waitNote = "waiting for " + detect.Sanitize(s.path) + " to appear"
		if err := s.flush(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("log %s: %w", s.path, err)
	}

	// ReOpen only ever with Follow: nxadm/tail exits the process otherwise.
	cfg := tail.Config{
		Follow: true, ReOpen: true, MustExist: false, CompleteLines: true,
		Logger: tail.DiscardingLogger,
	}
	if err := inotifyUsable(); err != nil {
		// nxadm/tail exits the process when it cannot create its inotify
		// watcher; poll instead.
		cfg.Poll = true
		s.problem(s.name, "inotify unavailable ("+err.Error()+"); polling the file every 250 ms")
	}
	t, err := tail.TailFile(s.path, cfg)
	if err != nil {
		return fmt.Errorf("log %s: following: %w", s.path, err)
	}
	defer t.Stop()

	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	quiet := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-t.Lines:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				err := t.Err()
				if err == nil {
					err = errors.New("the tail reader stopped")
				}
				s.problem(s.name, "following stopped: "+err.Error())
				return s.fail(ctx, fmt.Errorf("log %s: following: %w", s.path, err))
			}
			quiet = false
			if l.Err != nil {
				s.problem(s.name+":"+strconv.Itoa(l.Num), l.Err.Error())
				continue
			}
			if s.waitNote != "" {
				s.waitNote = ""
				s.state = detect.StateFollowing
			}
			s.done = l.SeekInfo.Offset
			if s.done > s.total {
				s.total = s.done
			}
			if s.state == detect.StateReplaying && s.done >= initial {
				s.state = detect.StateFollowing
			}
			s.lineBuf = append(s.lineBuf[:0], l.Text...)
			if err := s.handleLine(ctx, s.lineBuf, int64(l.Num)); err != nil {
				return err
			}
		case <-tick.C:
			if quiet {
				if fi, err := os.Stat(s.path); err == nil {
					s.total = fi.Size()
					if s.waitNote != "" {
						s.waitNote = ""
						s.state = detect.StateFollowing
					}
				}
				if s.state == detect.StateReplaying {
					s.state = detect.StateFollowing
				}
			}
			quiet = true
			if s.dirty() {
				if err := s.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
}

// handleLine parses one line (newline included or not) into the batch,
// pacing it when a Pacer is set.
func (s *source) handleLine(ctx context.Context, line []byte, lineno int64) error {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if isBlank(line) {
		return nil
	}
	undecided := s.p.auto && s.p.chosen == nil
	s.cur.Source = s.path
	err := s.p.Parse(line, s.opts.Keys, &s.cur)
	if undecided {
		if s.p.chosen == nil {
			s.pending = append(s.pending, bytes.Clone(line))
			s.pendingNo = append(s.pendingNo, lineno)
			if len(s.pending) >= autoLines {
				return s.fail(ctx, s.undetected())
			}
			return nil
		}
		// Decided: replay the earlier lines, then this one, in order.
		s.formatNote = "format: " + s.p.Format() + " (auto)"
		lines := append(s.pending, bytes.Clone(line))
		nos := append(s.pendingNo, lineno)
		s.pending, s.pendingNo = nil, nil
		for i, l := range lines {
			if err := s.handleLine(ctx, l, nos[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
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

// undetected is the error for input whose first lines no format reads, or
// nil when auto-detection is not stuck.
func (s *source) undetected() error {
	if len(s.pending) == 0 {
		return nil
	}
	reason := "no format matched"
	var r detect.Request
	if err := s.p.candidates[0].Parse(s.pending[0], nil, &r); err != nil {
		reason = "as " + s.p.candidates[0].name + ": " + err.Error()
	}
	return fmt.Errorf("log %s: %w: no known format reads line %d %q (%s); set --log-format to one of %s",
		s.path, ErrUnknownFormat, s.pendingNo[0], clip(s.pending[0], 120), reason, formatHint)
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
	return len(s.reqs) > 0 || s.parseErrors > 0 || len(s.problems) > 0 ||
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
	s.parseErrors, s.problems = 0, nil
	s.sentState, s.sentNote = b.State, b.Note
	return nil
}
