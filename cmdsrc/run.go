// Package cmdsrc reads logs through the programs that already deliver
// them: the journal through journalctl (journal:UNIT, journal-file:PATH),
// containers through their engine's CLI (docker:NAME, podman:NAME), and
// remote hosts through the system's ssh (ssh://[user@]host[:port]/path,
// ssh://host/journal:UNIT), with nothing to install on the other side and
// no cgo.
//
// Every one is the same loop (run): start the command, read its output
// lines, hand each log line to its stream (logsrc.Streams: a source of its
// own with its own format auto-detection, as a file has), and when the
// command ends while following — the container restarted, sshd went away,
// the network dropped — start it again after a backoff (1 s doubling to
// 30 s, back to 1 s once lines flow), resuming after the last position it
// delivered (the journal's cursor, the container log's timestamp, the
// remote file's byte offset). What each stream is doing shows in its state
// and note ("running ssh", "ended (exit status 255): <the command's last
// words>; again in 4s"). A stop ends the command (SIGTERM), reads what its
// pipes still hold, hands it over and sends every stream's last batch.
package cmdsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/source"
	"github.com/rebindwatch/rebindwatch/state"
)

// Options configures a command source.
type Options struct {
	Format   string          // a logsrc.Compile spec; "" = auto, per stream
	Keys     *keys.Extractor // owned by the source's goroutine; nil: no keys
	Location *time.Location  // for log times without a zone; nil = time.Local
	Follow   bool            // follow (and reconnect), else read what there is and stop
	TailOnly bool            // with Follow: start at the end, not at the beginning
	// SSH is the ssh command and its first arguments (default "ssh"); a
	// test passes its own -F config.
	SSH []string
	// RetryMin and RetryMax bound the backoff between attempts (0: 1 s
	// and 30 s).
	RetryMin, RetryMax time.Duration
	// Cursor: journal sources start after this journal cursor, instead
	// of at the start or the end (or where State says).
	Cursor string
	// State keeps where a journal or a container was read to (--state):
	// a restart resumes there, neither repeating nor losing an entry.
	State *state.Store
}

// Bounds: the lines read and not yet parsed take at most queueLen ×
// maxLine bytes (16 MiB) whatever the command writes.
const (
	maxLine      = 256 << 10 // longer output lines are skipped and counted (a journal entry's JSON is up to 4× its MESSAGE)
	queueLen     = 64
	stderrKeep   = 512 // bytes of a command's last diagnostic line shown in its note
	tickEvery    = 100 * time.Millisecond
	stopWait     = 2 * time.Second // after SIGTERM, before SIGKILL
	defaultRetry = time.Second
	maxRetry     = 30 * time.Second
)

// ErrSpec is wrapped by the errors for a source argument that names none.
var ErrSpec = source.InputError("not a journal, container or ssh source")

// kind is what differs between the sources: the command of each attempt
// and what its output lines mean. Its methods run on the source's
// goroutine.
type kind interface {
	// argv is the command for the next attempt; again says it is not the
	// first (resume after the last position delivered).
	argv(again bool) []string
	// line handles one line of the command's output (stderr: fromErr),
	// without its newline, and says what it was.
	line(b []byte, fromErr bool) lineKind
	// attempt is called when an attempt starts.
	attempt()
}

// lineKind is what a line of a command's output was.
type lineKind int

const (
	diagnostic lineKind = iota // the command's own words, kept for the note
	seen                       // a header, a marker, a line read already: no news
	fresh                      // a log line (or entry) not read before
)

// checkpointer is a kind whose position a --state store keeps.
type checkpointer interface {
	// checkpoint is the position's key and record now, and whether it
	// moved since the last call.
	checkpoint() (key string, rec any, moved bool)
}

// stateKey is the store's key for the source arg.
func stateKey(arg string) string { return "cmd:" + arg }

// outLine is one line of a command's output, copied.
type outLine struct {
	b       []byte
	fromErr bool
	tooLong bool
}

// runner runs a kind's command over and over.
type runner struct {
	name    string // the source as given, for errors
	opts    Options
	k       kind
	streams *logsrc.Streams
	diag    []byte // the last diagnostic line of the current attempt, raw
	exit    error  // how the last attempt's command exited (nil: status 0)
	keys    *keys.Extractor
}

// run runs k until its command ends without Follow, or the stop.
func run(ctx context.Context, name string, k kind, streams *logsrc.Streams, o Options) error {
	r := &runner{name: name, opts: o, k: k, streams: streams, keys: o.Keys}
	if r.keys == nil {
		r.keys = keys.NewExtractor(keys.DefaultConfig())
	}
	lo, hi := o.RetryMin, o.RetryMax
	if lo <= 0 {
		lo = defaultRetry
	}
	if hi <= 0 {
		hi = maxRetry
	}
	wait := lo
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for again := false; ; again = true {
		delivered, err := r.attempt(ctx, again, tick.C)
		if err != nil {
			return r.streams.Close(err)
		}
		r.commit()
		if ctx.Err() != nil {
			r.streams.SetStatus(followState(o), "stopped")
			return r.streams.Close(nil)
		}
		if !o.Follow {
			r.streams.SetStatus(followState(o), r.exitNote())
			if r.exit != nil {
				// Read once and it failed: that is the run's failure.
				return r.streams.Close(fmt.Errorf("%s: %s", r.name, r.exitNote()))
			}
			return r.streams.Close(nil)
		}
		if delivered {
			wait = lo
		}
		r.streams.SetStatus(detect.StateFollowing, fmt.Sprintf("%s; again in %v", r.exitNote(), wait))
		r.streams.Tick(0)
		if !sleep(ctx, wait, tick.C, r.streams) {
			return r.streams.Close(nil)
		}
		wait = min(2*wait, hi)
	}
}

func followState(o Options) detect.SourceState {
	if o.Follow {
		return detect.StateFollowing
	}
	return detect.StateReplaying
}

// sleep waits d, ticking the streams; false when the stop came first.
func sleep(ctx context.Context, d time.Duration, tick <-chan time.Time, s *logsrc.Streams) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-tick:
			s.Tick(tickEvery)
		}
	}
}

// exitNote is what the last attempt's end says: its exit status and its
// command's last diagnostic line. The command's words may quote what it
// read, so key material is hidden first and the line cut after: a cut
// first could leave the end of a key too short to be recognised.
func (r *runner) exitNote() string {
	n := "ended"
	if r.exit != nil {
		n += " (" + r.exit.Error() + ")"
	}
	if len(r.diag) > 0 {
		n += ": " + cutText(r.keys.RedactText(string(r.diag)), stderrKeep)
	}
	return n
}

// cutText cuts s to at most n bytes on a rune boundary, marking the cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// attempt runs the command once, feeding its lines until it ends (or, on
// a stop, until its pipes are drained). delivered says whether a line was
// fresh (the backoff starts over). err is for a command that cannot run
// at all.
func (r *runner) attempt(ctx context.Context, again bool, tick <-chan time.Time) (delivered bool, err error) {
	argv := r.k.argv(again)
	r.k.attempt()
	r.diag = r.diag[:0]
	cmd := exec.Command(argv[0], argv[1:]...)
	// Our own pipes, not StdoutPipe: Wait would close those when the
	// command exits, losing what they still hold; and a grandchild that
	// keeps them open must not hold the source for ever.
	outR, outW, err := os.Pipe()
	if err != nil {
		return false, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return false, err
	}
	defer outR.Close()
	defer errR.Close()
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return false, fmt.Errorf("%s: %w: %s is not installed or not on PATH", r.name, ErrSpec, argv[0])
		}
		return false, fmt.Errorf("%s: %w", r.name, err)
	}
	procDone := make(chan struct{})
	r.exit = nil
	go func() {
		err := cmd.Wait()
		r.exit = err // read after procDone closes
		close(procDone)
	}()
	exited := procDone
	lines := make(chan outLine, queueLen)
	var readers sync.WaitGroup
	readers.Go(func() { readLines(outR, false, lines) })
	readers.Go(func() { readLines(errR, true, lines) })
	go func() {
		readers.Wait()
		close(lines)
	}()
	r.streams.SetStatus(followState(r.opts), "running "+argv[0])

	stop := ctx.Done()
	var killed, abandon <-chan time.Time
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				reap(cmd, procDone)
				return delivered, nil
			}
			if l.tooLong {
				r.streams.Stream(r.name).Emitter().Counter("lines_too_long").Inc()
				continue
			}
			switch r.k.line(l.b, l.fromErr) {
			case fresh:
				delivered = true
			case diagnostic:
				r.keepDiag(l.b)
			}
		case <-tick:
			r.commit()
			r.streams.Tick(tickEvery)
		case <-exited:
			// What the pipes still hold is read; something the command
			// left behind may keep them open, so not for ever.
			exited = nil
			abandon = time.After(stopWait)
		case <-abandon:
			abandon = nil
			signalGroup(cmd, syscall.SIGKILL) // what the command left behind holding its output
			outR.Close()
			errR.Close()
		case <-stop:
			// The stop rule: end the command, read what its pipes hold.
			stop = nil
			signalGroup(cmd, syscall.SIGTERM)
			killed = time.After(stopWait)
		case <-killed:
			killed = nil
			signalGroup(cmd, syscall.SIGKILL)
		}
	}
}

// reap makes sure the command has ended once its output has: SIGTERM,
// then SIGKILL after stopWait.
func reap(cmd *exec.Cmd, done <-chan struct{}) {
	select {
	case <-done:
		return
	default:
	}
	signalGroup(cmd, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopWait):
		signalGroup(cmd, syscall.SIGKILL)
		<-done
	}
}

// commit records the kind's position in the store once what was read up
// to it is written (logsrc.Streams.Commit), when it moved.
func (r *runner) commit() {
	c, ok := r.k.(checkpointer)
	if !ok || r.opts.State == nil {
		return
	}
	key, rec, moved := c.checkpoint()
	if !moved {
		return
	}
	store := r.opts.State
	r.streams.Commit(func() { store.Put(key, rec) })
}

// keepDiag keeps the command's last diagnostic line that says something,
// whole (readLines bounds it to maxLine): exitNote scrubs it, then cuts it.
func (r *runner) keepDiag(b []byte) {
	if b = bytes.TrimSpace(b); len(b) > 0 {
		r.diag = append(r.diag[:0], b...)
	}
}

// readLines sends r's lines (copied, newline dropped) until EOF; lines
// over maxLine are sent as tooLong, without their bytes.
func readLines(r io.Reader, fromErr bool, out chan<- outLine) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than the reader's buffer, so far
	skipping := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !skipping && len(long)+len(chunk) > maxLine+1 { // +1: the newline
			skipping, long = true, nil
			out <- outLine{fromErr: fromErr, tooLong: true}
		}
		switch {
		case skipping:
			if !errors.Is(err, bufio.ErrBufferFull) {
				skipping = false // the newline (or the end) of the line skipped
			}
		case errors.Is(err, bufio.ErrBufferFull):
			long = append(long, chunk...)
		case len(chunk) > 0 || len(long) > 0:
			b := append(long, bytes.TrimSuffix(chunk, []byte("\n"))...) // a copy: chunk is the reader's
			long = nil
			out <- outLine{b: b, fromErr: fromErr}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}
