package logsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/state"
)

// Following a file is done here rather than with a tail library because
// rotation must not lose or repeat lines:
//
//   - rename-and-create (logrotate's default "create"): the writer keeps
//     writing to the renamed file until it reopens the path (nginx on
//     USR1, after the rotation), so the renamed file is drained until it
//     has been quiet for oldGrace while the new one is read from its start;
//   - copytruncate: logrotate copies the file, then truncates it. What the
//     writer appended after our last read but before the copy is only in
//     the copy: it is read from there (found by the bytes just before our
//     offset). What it appended between the copy and the truncation is lost
//     to everyone; that window is logrotate's (see its man page);
//   - a truncation followed by more writes than we had read before we look
//     again is noticed because the bytes before our offset changed.
//
// Files are polled every pollEvery when idle (a stat and a read), which
// costs nothing measurable and works on every file system.

const (
	pollEvery = 100 * time.Millisecond
	// oldGrace is how long a rotated file must stay quiet before it is
	// closed: its writer may take a moment to reopen the new file.
	oldGrace = 2 * time.Second
	maxOld   = 4
	sigLen   = 64
)

// tfile is one open followed file.
type tfile struct {
	f        *os.File
	fi       os.FileInfo
	off      int64 // bytes read
	sp       splitter
	sig      [sigLen]byte // the bytes just before off
	sigN     int
	grew     time.Time
	sniffed  bool
	skipToNL bool // TailOnly started inside a line: drop up to its end

	id     state.FileID // --state: the file's identity, its first line's hash once complete
	handed int64        // --state: offset up to which its lines were handed over
}

type follower struct {
	s       *input
	cur     *tfile
	old     []*tfile
	buf     []byte
	initial int64 // size of the file at the start: replaying until it is read
	poll    time.Duration
	// chunks bounds the reads of a file per step (0: to its end), so that
	// several files merged in time order advance together.
	chunks int
}

// runFollow follows s.path until ctx ends, then reads it to its current end.
// Without Follow (a file with --state and --no-follow) it reads what is
// there from where the state says, and stops.
func (s *input) runFollow(ctx context.Context, tailOnly bool) error {
	fl, err := s.openFollow(tailOnly)
	if fl != nil {
		defer fl.closeAll()
	}
	if err != nil {
		return s.fail(err)
	}
	for {
		progressed, err := fl.step()
		if err != nil {
			return s.fail(err)
		}
		if ctx.Err() != nil {
			return fl.stop()
		}
		if progressed {
			s.flushDue(flushEvery)
			continue
		}
		if err := s.decidePending(); err != nil {
			return s.fail(err)
		}
		if !s.opts.Follow {
			return fl.stop()
		}
		s.flushDue(0)
		t := time.NewTimer(fl.poll)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// openFollow makes the follower of s.path: where --state says, else at its
// start (its end with tailOnly), or waiting for it to appear. The follower
// is returned with any error, to be closed.
func (s *input) openFollow(tailOnly bool) (*follower, error) {
	fl := &follower{s: s, buf: make([]byte, readSize), poll: pollEvery}
	resumed := false
	if s.ck != nil {
		s.ck.fl = fl
		var err error
		if resumed, err = fl.resume(); err != nil {
			return fl, err
		}
	}
	s.e.SetState(detect.StateReplaying)
	var err error
	if fl.cur == nil {
		var f *os.File
		var fi os.FileInfo
		if f, fi, err = openRegular(s.path); err == nil {
			fl.cur = &tfile{f: f, fi: fi}
			if err := fl.sniffStart(fl.cur); err != nil {
				return fl, err
			}
			if tailOnly && !resumed {
				fl.seekEnd(fl.cur)
			}
		}
	}
	switch {
	case fl.cur != nil:
		fl.initial, s.total, s.done = fl.cur.fi.Size(), fl.cur.fi.Size(), fl.cur.off
		if fl.cur.off >= fl.initial && len(fl.old) == 0 {
			s.e.SetState(detect.StateFollowing)
		}
	case errors.Is(err, fs.ErrNotExist):
		s.e.SetState(detect.StateFollowing)
		s.waitNote = "waiting for " + s.path + " to appear"
		s.flushDue(0)
	default:
		return fl, err
	}
	return fl, nil
}

// stop ends following by the source rule: one more round reads every file
// to its current end, then everything is handed over. A line still waiting
// for its newline is counted, not parsed: its writer has not finished it.
func (fl *follower) stop() error {
	s := fl.s
	if _, err := fl.step(); err != nil {
		return s.fail(err)
	}
	for _, o := range fl.old {
		s.stopWith(&o.sp)
	}
	if fl.cur != nil {
		s.stopWith(&fl.cur.sp)
	}
	return s.finish()
}

// openRegular opens path for following; a directory is an error.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, logErr(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, logErr(path, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, fmt.Errorf("log %s: %w", path, errDirectory)
	}
	return f, fi, nil
}

// sniffStart refuses a binary file by its first bytes (if it has any yet).
func (fl *follower) sniffStart(tf *tfile) error {
	head := make([]byte, sniffBytes)
	n, err := tf.f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return logErr(fl.s.path, err)
	}
	if n == 0 {
		return nil
	}
	tf.sniffed = true
	return sniffLog(fl.s.path, head[:n])
}

// seekEnd starts tf at its end (TailOnly), after the last complete line.
func (fl *follower) seekEnd(tf *tfile) {
	size := tf.fi.Size()
	tf.off, tf.sp.off, tf.handed = size, size, size
	if size == 0 {
		return
	}
	var last [1]byte
	if n, _ := tf.f.ReadAt(last[:], size-1); n == 1 && last[0] != '\n' {
		tf.skipToNL = true
	}
	fl.setSigFromFile(tf)
}

// step does one round: drains rotated files, notices rotation and
// truncation of the path, reads what was appended. progressed is true when
// anything was read or changed.
func (fl *follower) step() (progressed bool, err error) {
	s := fl.s
	now := s.now()
	for i := 0; i < len(fl.old); {
		o := fl.old[i]
		n, rerr, fatal := fl.read(o)
		if fatal != nil {
			return progressed, fatal
		}
		if n > 0 {
			progressed, o.grew = true, now
		}
		if rerr != nil || now.Sub(o.grew) > oldGrace || len(fl.old) > maxOld {
			s.feeding = o
			if err := o.sp.end(s.handleLine); err != nil {
				return progressed, err
			}
			o.f.Close()
			fl.old = append(fl.old[:i], fl.old[i+1:]...)
			continue
		}
		i++
	}

	if fl.cur == nil {
		f, fi, err := openRegular(s.path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && s.waitNote == "" {
				s.waitNote = "cannot open " + s.path + ": " + unwrapPath(err)
			}
			return progressed, nil
		}
		fl.cur = &tfile{f: f, fi: fi}
		s.waitNote = ""
		if s.e.State() != detect.StateReplaying {
			s.e.SetState(detect.StateFollowing)
		}
		progressed = true
	}

	cur := fl.cur
	fi, serr := os.Stat(s.path)
	same := serr == nil && os.SameFile(fi, cur.fi)
	if same {
		size := fi.Size()
		s.total = size
		if size < cur.off || (size > cur.off && cur.off > 0 && !fl.sigMatches(cur)) {
			if err := fl.truncated(cur); err != nil {
				return true, err
			}
			progressed = true
		}
	}
	n, rerr, fatal := fl.read(cur)
	if fatal != nil {
		return progressed, fatal
	}
	if rerr != nil && s.waitNote == "" {
		s.waitNote = "cannot read " + s.path + ": " + unwrapPath(rerr)
	}
	if n > 0 {
		progressed = true
		s.done = cur.off
		if s.done > s.total {
			s.total = s.done
		}
	}
	if s.e.State() == detect.StateReplaying && cur.off >= fl.initial {
		s.e.SetState(detect.StateFollowing)
	}
	if !same && (serr == nil || errors.Is(serr, fs.ErrNotExist)) {
		// Renamed or deleted: drain it while its writer may still write,
		// and read the new file at the path from its start.
		cur.grew = now
		fl.old = append(fl.old, cur)
		fl.cur = nil
		s.count("rotations")
		if serr != nil {
			s.waitNote = "waiting for " + s.path + " to appear"
		}
		progressed = true
	}
	return progressed, nil
}

// read reads tf from its offset to its end and hands the lines over. ioErr
// is a read error of the file; fatal ends the follower (a binary file
// appeared, auto-detection failed, the context ended).
func (fl *follower) read(tf *tfile) (n int64, ioErr, fatal error) {
	fl.s.feeding = tf
	for chunk := 1; ; chunk++ {
		k, err := tf.f.ReadAt(fl.buf, tf.off)
		if k > 0 {
			data := fl.buf[:k]
			if !tf.sniffed && tf.off == 0 {
				tf.sniffed = true
				if serr := sniffLog(fl.s.path, data); serr != nil {
					return n, nil, serr
				}
			}
			tf.off += int64(k)
			n += int64(k)
			fl.setSig(tf, data)
			if tf.skipToNL {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					tf.sp.off += int64(len(data))
					continue
				}
				tf.sp.off += int64(i + 1)
				data, tf.skipToNL = data[i+1:], false
			}
			if ferr := tf.sp.feed(data, fl.s.handleLine, fl.s.tooLong); ferr != nil {
				return n, nil, ferr
			}
		}
		if err == io.EOF || (err == nil && k < len(fl.buf)) || fl.chunks > 0 && chunk >= fl.chunks {
			return n, nil, nil
		}
		if err != nil {
			return n, err, nil
		}
	}
}

// setSig keeps the last sigLen bytes read.
func (fl *follower) setSig(tf *tfile, data []byte) {
	if len(data) >= sigLen {
		copy(tf.sig[:], data[len(data)-sigLen:])
		tf.sigN = sigLen
		return
	}
	keep := min(tf.sigN, sigLen-len(data))
	copy(tf.sig[:], tf.sig[tf.sigN-keep:tf.sigN])
	copy(tf.sig[keep:], data)
	tf.sigN = keep + len(data)
}

// setSigFromFile reads the bytes before tf.off into its signature.
func (fl *follower) setSigFromFile(tf *tfile) {
	n := min(int64(sigLen), tf.off)
	k, _ := tf.f.ReadAt(tf.sig[:n], tf.off-n)
	tf.sigN = k
}

// sigMatches reports whether the bytes before tf.off in f are still the
// ones read there.
func (fl *follower) sigMatches(tf *tfile) bool {
	return sigAt(tf.f, tf.off, tf.sig[:tf.sigN])
}

func sigAt(f *os.File, off int64, sig []byte) bool {
	if int64(len(sig)) > off {
		return false
	}
	var b [sigLen]byte
	n, _ := f.ReadAt(b[:len(sig)], off-int64(len(sig)))
	return n == len(sig) && bytes.Equal(b[:n], sig)
}

// truncated handles a file cut back under us: the rest of what we had not
// read is taken from logrotate's copy when one is found, the cut line ends,
// and the file is read again from its start.
func (fl *follower) truncated(tf *tfile) error {
	s := fl.s
	s.count("truncations")
	if tf.off > 0 && tf.sigN > 0 {
		if c := fl.findCopy(tf); c != nil {
			orig := tf.f
			tf.f = c
			_, _, fatal := fl.read(tf)
			tf.f = orig
			c.Close()
			if fatal != nil {
				return fatal
			}
			s.count("copytruncate_copies_read")
		}
	}
	s.feeding = tf
	if err := tf.sp.end(s.handleLine); err != nil {
		return err
	}
	tf.off, tf.sigN, tf.sp.lineno, tf.skipToNL = 0, 0, 0, false
	tf.sp.off, tf.handed, tf.id = 0, 0, state.FileID{}
	return nil
}

// findCopy looks next to the followed file for the copy logrotate's
// copytruncate made (access.log.1, access.log-20261126, ...): a file with
// the bytes we read last at our offset.
func (fl *follower) findCopy(tf *tfile) *os.File {
	var cands []sibling
	for _, sib := range siblings(fl.s.path) {
		if sib.info.Size() >= tf.off {
			cands = append(cands, sib)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].info.ModTime().After(cands[j].info.ModTime()) })
	for i, c := range cands {
		if i >= 4 {
			break
		}
		f, err := os.Open(c.path)
		if err != nil {
			continue
		}
		if fi, err := f.Stat(); err == nil && !os.SameFile(fi, tf.fi) && sigAt(f, tf.off, tf.sig[:tf.sigN]) {
			return f
		}
		f.Close()
	}
	return nil
}

// sibling is a file beside a followed one that may be its rotated copy.
type sibling struct {
	path string
	info os.FileInfo
}

// siblings lists the regular, uncompressed files named like rotations of
// path: access.log.1, access.log-20261126, access.log_old.
func siblings(path string) []sibling {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []sibling
	for _, e := range entries {
		name := e.Name()
		if name == base || !strings.HasPrefix(name, base) || len(name) == len(base) ||
			strings.IndexByte(".-_", name[len(base)]) < 0 || compressedName(name) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil {
			out = append(out, sibling{filepath.Join(dir, name), info})
		}
	}
	return out
}

func compressedName(name string) bool {
	for _, ext := range [...]string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".Z", ".zip"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func (fl *follower) closeAll() {
	if fl.cur != nil {
		fl.cur.f.Close()
	}
	for _, o := range fl.old {
		o.f.Close()
	}
}

// unwrapPath drops the *PathError wrapping for a note.
func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
