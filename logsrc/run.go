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

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/source"
	"github.com/rebindwatch/rebindwatch/state"
)

// Options configures a log source.
type Options struct {
	Format      string          // a Compile spec; "" = auto
	Follow      bool            // keep following after EOF (across rotation), else read to the end and stop
	TailOnly    bool            // with Follow: start at the end of the files that exist at the start
	Keys        *keys.Extractor // owned by this source's goroutine; nil: no keys
	Pacer       *source.Pacer   // nil = unpaced
	Location    *time.Location  // for times without a zone (werkzeug, some %{...}t and JSON); nil = time.Local
	BatchSize   int             // 0 = 256
	Workers     int             // parsers for a file read to its end; 0 = one per core
	MaxProblems int             // sample of bad lines kept and reported per file (0 = 5, < 0 = none)

	// State, when set, keeps each file's position (--state): a file read
	// before resumes where its lines stop having been written by the sinks,
	// across rotation and truncation (see checkpoint.go). Stdin, pipes and
	// .gz files have no position to keep.
	State *state.Store
}

const (
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
// or ctx is done. When ctx ends, a followed file is read to its current end
// and a stream's lines already read are handed over (the source rule); a
// line still waiting for its newline is counted ("partial_lines_at_stop").
// The last batch has State StateDone (StateFailed with the reason). A line
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
		return fmt.Errorf("log %s: %w", path, err)
	}
	var err error
	switch {
	case path == "-":
		s := newInput(ctx, path, opts, out)
		f, oerr := source.Open(ctx, "-")
		if oerr != nil {
			return oerr
		}
		defer f.Close()
		err = s.runStream(ctx, f, "stdin")
	case strings.HasPrefix(path, ZeekPrefix):
		err = runZeekDir(ctx, strings.TrimPrefix(path, ZeekPrefix), opts, out)
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
	s := newInput(ctx, path, opts, out)
	if isStream(path) {
		// A pipe or device (rebindwatch <(tail -f x.log)): read it as it
		// comes; it cannot be seeked, and a file read would hold lines back
		// until a batch fills.
		f, err := source.Open(ctx, path) // a FIFO waits for a writer; a stop ends the wait
		if errors.Is(err, source.ErrStopped) {
			return s.finish()
		}
		if err != nil {
			return logErr(path, err)
		}
		defer f.Close()
		return s.runStream(ctx, f, path)
	}
	if isGzipName(path) || !opts.Follow && opts.State == nil {
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

// input is the state of one file's (or stream's) Run.
type input struct {
	path string
	name string // for Problem.Where
	opts Options
	p    *Parser
	e    *source.Emitter
	now  func() time.Time

	cur         detect.Request // the line being parsed
	done, total int64
	formatNote  string
	waitNote    string
	stateNote   string // where --state resumed
	proposed    string // the format auto-detection proposes for extra columns (a --log-format value)

	feeding *tfile // the followed file whose splitter is handing lines over; nil: positions are not kept

	pending []pendingLine // auto: the first lines, read again once the format is decided
	ck      *checkpoints  // --state; nil without
	out     sink          // where events go: e, or a Zeek directory's merge
	merged  bool          // the Emitter's note is not this input's: one log of a Zeek directory, a shared Feeder
	// hand records that a line was dealt with (linePos.handed); a Zeek
	// directory's merge defers it until the line's event leaves the merge.
	hand func(linePos)

	// A Feeder's input (lines from envelopes: syslog, the journal, ...).
	env    time.Time // the line's envelope time, for a format without a clock
	keep   bool      // FeederOptions.KeepGoing
	unread bool      // keep, and no format reads the first lines: they are counted, not read
}

// pendingLine is a line kept while auto-detection decides.
type pendingLine struct {
	line []byte
	no   int64
	at   linePos
	env  time.Time
}

// linePos is where a line ends in a followed file: once the line is dealt
// with, the file's lines up to end have been handed over.
type linePos struct {
	tf  *tfile
	end int64
}

func newInput(ctx context.Context, path string, opts Options, out chan<- detect.Batch) *input {
	if opts.MaxProblems == 0 {
		opts.MaxProblems = defaultMaxProblems
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
	s := &input{path: path, name: name, opts: opts, p: p, now: time.Now, hand: linePos.handed}
	eo := source.Options{Name: path, Pacer: opts.Pacer, BatchSize: opts.BatchSize, MaxProblems: opts.MaxProblems, Keys: opts.Keys}
	if opts.State != nil && path != "-" {
		s.ck = newCheckpoints(opts.State, path)
		eo.Checkpoint = s.ck.snapshot
	}
	s.e = source.New(ctx, out, eo)
	s.out = s.e
	return s
}

// splitter cuts a byte stream into lines. Lines are handed over where they
// lie in the chunk read, without a copy; only a line cut by the end of a
// chunk is copied (into partial) until its newline arrives.
type splitter struct {
	partial  []byte
	skipping bool // the current line is too long: drop it up to its newline
	lineno   int64
	off      int64 // offset in the file of the next byte fed
	lineEnd  int64 // offset just after the line being handed over
}

// feed splits data, calling emit for every complete line (newline included).
func (sp *splitter) feed(data []byte, emit func(line []byte, lineno int64) error, tooLong func(lineno int64, head []byte)) error {
	base := sp.off
	sp.off += int64(len(data))
	consumed := 0
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
		consumed += i + 1
		sp.lineEnd = base + int64(consumed)
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
	sp.lineEnd = sp.off
	err := emit(sp.partial, sp.lineno)
	sp.partial = sp.partial[:0]
	return err
}

func (s *input) tooLong(lineno int64, head []byte) { s.bad(lineno, errTooLong, head) }

// runFile reads a file to its end. A ".gz" file is decompressed.
func (s *input) runFile(ctx context.Context) error {
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
		return fmt.Errorf("log %s: %w", s.path, errDirectory)
	}
	s.total = fi.Size()
	s.e.SetState(detect.StateReplaying)
	r, counted, err := openLog(s.path, f)
	if err != nil {
		return s.fail(err)
	}
	defer r.Close()
	var sp splitter
	buf := make([]byte, readSize)
	var n int64
	progress := func(n int64) {
		s.done = n
		if counted != nil {
			s.done = counted.n // compressed bytes, to compare with the file's size
		}
		s.sync()
	}
	for ctx.Err() == nil {
		if s.canParallel() {
			// The format is known: the rest goes to every core.
			if err := s.readParallel(ctx, r, &sp, func(k int64) { progress(n + k) }); err != nil {
				return s.fail(logErr(s.path, err))
			}
			break
		}
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			if err := sp.feed(buf[:k], s.handleLine, s.tooLong); err != nil {
				return s.fail(err)
			}
			n += int64(k)
			progress(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			if err := sp.end(s.handleLine); err != nil {
				return s.fail(err)
			}
			break
		}
		if rerr != nil {
			return s.fail(logErr(s.path, rerr))
		}
	}
	s.stopWith(&sp)
	return s.finish()
}

// stopWith accounts for a line the splitter still holds when reading ends
// early: it is incomplete, so it is counted rather than parsed.
func (s *input) stopWith(sp *splitter) {
	if len(sp.partial) > 0 {
		s.count("partial_lines_at_stop")
		sp.partial = sp.partial[:0]
	}
}

// finish sends the last batch of an input that ended well.
func (s *input) finish() error {
	if err := s.decidePending(); err != nil {
		return s.fail(err)
	}
	s.sync()
	return s.e.Close(nil)
}

// fail sends a last batch that says the input failed, and returns err.
func (s *input) fail(err error) error {
	s.sync()
	return s.e.Close(err)
}

// runStream reads r (stdin, a pipe) until EOF. A goroutine does the reads so
// that what arrived is handed over within flushEvery even while the pipe is
// quiet; chunks go back and forth between it and this loop, so reading
// allocates nothing per line. When ctx ends, the chunks already read are
// handed over and the goroutine is left blocked in Read until r yields.
func (s *input) runStream(ctx context.Context, r io.Reader, name string) error {
	type chunk struct {
		b   []byte
		err error
	}
	chunks := make(chan chunk, 3)
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

	s.e.SetState(detect.StateReplaying)
	if s.opts.Follow {
		s.e.SetState(detect.StateFollowing)
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	var sp splitter
	first := true
	take := func(c chunk) (end bool, err error) {
		if first && len(c.b) > 0 {
			first = false
			if err := sniffLog(name, c.b); err != nil {
				return true, err
			}
		}
		s.done += int64(len(c.b))
		s.sync()
		if err := sp.feed(c.b, s.handleLine, s.tooLong); err != nil {
			return true, err
		}
		free <- c.b[:cap(c.b)]
		if c.err == nil {
			return false, nil
		}
		if err := sp.end(s.handleLine); err != nil {
			return true, err
		}
		if c.err != io.EOF && !errors.Is(c.err, source.ErrStopped) {
			return true, logErr(s.name, c.err)
		}
		return true, nil
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case c := <-chunks:
					if end, err := take(c); end || err != nil {
						if err != nil {
							return s.fail(err)
						}
						return s.finish()
					}
					continue
				default:
				}
				break
			}
			s.stopWith(&sp)
			return s.finish()
		case <-tick.C:
			if err := s.decidePending(); err != nil {
				return s.fail(err)
			}
			s.flushDue(0)
		case c := <-chunks:
			end, err := take(c)
			if err != nil {
				return s.fail(err)
			}
			if end {
				return s.finish()
			}
		}
	}
}

// handleLine parses one line (newline included or not) into the batch.
// While auto-detection has not decided, lines are kept and read again once
// it has.
func (s *input) handleLine(line []byte, lineno int64) error {
	var at linePos
	if s.feeding != nil {
		at = linePos{s.feeding, s.feeding.sp.lineEnd}
	}
	return s.handleAt(line, lineno, at)
}

// handleAt is handleLine for a line that ends at at. The file's position
// moves past the line before its request is queued: a batch the Emitter
// sends while queueing it carries the request (pacing excepted: see
// source.Options.Checkpoint).
func (s *input) handleAt(line []byte, lineno int64, at linePos) error {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if s.unread {
		if !isBlank(line) {
			s.count("lines_unread")
		}
		return nil
	}
	if s.p.auto && s.p.chosen == nil && !isBlank(line) {
		if werkzeugBanner(line) {
			s.count("skipped_lines")
			s.hand(at)
			return nil
		}
		s.pending = append(s.pending, pendingLine{bytes.Clone(line), lineno, at, s.env})
		if len(s.pending) >= autoLines {
			return s.decidePending()
		}
		return nil
	}
	s.hand(at)
	if isBlank(line) {
		return nil
	}
	s.cur.Source = s.path
	kind, err := s.p.parseEvent(line, s.opts.Keys, &s.cur)
	if err != nil {
		if errors.Is(err, ErrNotRequest) {
			if !quietSkip(err) {
				s.count("skipped_lines")
			}
			return nil
		}
		s.bad(lineno, err, line)
		return nil
	}
	switch kind {
	case kindDNS:
		a := s.p.evParser().ev.dns
		a.Source = s.path
		s.out.DNS(a)
		return nil
	case kindTLS:
		h := s.p.evParser().ev.tls
		h.Source = s.path
		s.out.TLS(h)
		return nil
	}
	r := &s.cur
	if r.Time.IsZero() {
		r.Time = s.env // a format without a clock: its envelope's time,
		if r.Time.IsZero() {
			r.Time = s.now() // else the time it was read
		}
	}
	s.out.Request(r)
	return nil
}

// decidePending makes auto-detection decide on the lines it has, and reads
// them. It fails the input when no format reads any of them.
func (s *input) decidePending() error {
	if len(s.pending) == 0 {
		return nil
	}
	lines := make([][]byte, len(s.pending))
	for i, l := range s.pending {
		lines[i] = l.line
	}
	if !s.p.decide(lines) {
		err := s.undetected()
		if !s.keep {
			return err
		}
		s.unread = true
		s.formatNote = "not read: " + err.Error()
		s.e.Counter("lines_unread").Add(uint64(len(s.pending)))
		s.pending = nil
		s.sync()
		return nil
	}
	s.formatNote = "format: " + s.p.Format() + " (auto)"
	warn, proposed := extraColumns(s.p.chosen, lines)
	if warn += extraJSONFields(s.p.chosen, lines); warn != "" {
		s.formatNote += "; " + warn
	}
	s.proposed = proposed
	s.sync()
	pending := s.pending
	s.pending = nil
	for _, l := range pending {
		s.env = l.env
		if err := s.handleAt(l.line, l.no, l.at); err != nil {
			return err
		}
	}
	return nil
}

// undetected is the error for input whose first lines no format reads.
func (s *input) undetected() error {
	line := s.pending[0].line
	hint := formatHint
	if looksJSON(line) {
		hint = "caddy, traefik, json (common key names) or json:host=PATH,time=PATH,method=PATH,target=PATH,... " +
			"(dotted paths into the object)"
	}
	return fmt.Errorf("log %s: %w: no known format reads its first %d line(s); line %d is \"%s\" (%s); set --log-format to one of %s",
		s.name, ErrUnknownFormat, len(s.pending), s.pending[0].no, s.quote(line, 120), s.p.whyNot(line), hint)
}

// bad counts a line that did not parse and keeps the first few as Problems.
func (s *input) bad(lineno int64, err error, line []byte) {
	s.e.ParseError()
	if s.e.WantsProblems() {
		s.e.Problem(s.name+":"+strconv.FormatInt(lineno, 10), err.Error()+": "+s.quote(line, problemBytes))
	}
}

// quote makes a line fit to be quoted in a message: its shape (shapeOf),
// never its unidentified columns, which may hold keys.
func (s *input) quote(line []byte, n int) string { return shapeOf(line, n) }

func (s *input) note() string {
	n := ""
	for _, part := range [...]string{s.waitNote, s.stateNote, s.formatNote} {
		if part != "" && n != "" {
			n += "; "
		}
		n += part
	}
	return n
}

// sync hands the input's note and progress to the emitter (not for one
// log of a Zeek directory, nor for a shared Feeder: the Emitter's owner
// has its own).
func (s *input) sync() {
	if s.merged {
		return
	}
	s.e.SetNote(s.note())
	s.e.SetProposed(s.proposed)
	s.e.SetProgress(s.done, s.total)
}

// flushDue hands over what is pending once flushEvery has passed (every
// call with 0).
func (s *input) flushDue(every time.Duration) {
	s.sync()
	s.e.FlushDue(every)
}

// count adds one to a counter handed over with the next batch.
func (s *input) count(name string) { s.e.Counter(name).Inc() }

// hasGlobMeta reports whether path has glob metacharacters.
func hasGlobMeta(path string) bool { return strings.ContainsAny(path, "*?[") }

// cleanErr is an error that names a log and still wraps the cause.
type cleanErr struct {
	msg string
	err error
}

func (e *cleanErr) Error() string { return e.msg }
func (e *cleanErr) Unwrap() error { return e.err }

// logErr is the error for a file operation on a log.
func logErr(path string, err error) error {
	return &cleanErr{msg: "log " + path + ": " + unwrapPath(err), err: err}
}
