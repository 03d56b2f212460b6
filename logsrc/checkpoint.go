package logsrc

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/state"
)

// Checkpoints (--state). A followed log's record says which files were
// being read, the rotated ones still being drained first and the file at
// the path last, each by its identity (device, inode, a hash of its first
// line) and the offset up to which its lines had been handed over. The
// Emitter asks for the record as each batch leaves (snapshot) and the
// engine puts it in the store only once the sinks have written that
// batch, so the store never runs ahead of the output.
//
// On start, each recorded file is looked for at the path and among its
// rotated names (access.log.1, access.log-20261126, ...): one found at the
// path resumes at its offset (at 0 when it is now shorter: truncated);
// one found rotated has its tail read first; one no longer there (deleted,
// compressed) is counted as lost. A file at the path that the record does
// not name was created since: it is read from its start.

// logRecord is what the store keeps for one log path.
type logRecord struct {
	Files []filePos `json:"files"`
}

// filePos is one file of a log and how far its lines were handed over.
type filePos struct {
	state.FileID
	Offset int64 `json:"offset"`
}

// checkpoints keeps one log's position in a store.
type checkpoints struct {
	store *state.Store
	key   string
	fl    *follower // set once following starts
}

func newCheckpoints(store *state.Store, path string) *checkpoints {
	return &checkpoints{store: store, key: checkpointKey(path)}
}

// checkpointKey is the store's key for the log at path.
func checkpointKey(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return "log:" + abs
}

// Pin records where a log that the store knows nothing of starts: the file
// at path from its start (from its last complete line with tailOnly), or,
// when there is none yet, that any file appearing there is new. Run before
// anything is written, and written to disk, it makes the very first run
// restartable: without it, a crash before the first checkpoint leaves no
// record, and a file rotated away meanwhile would not be found again. A
// glob pins every file it matches now; stdin, pipes and .gz files have no
// position.
func Pin(store *state.Store, path string, tailOnly bool) error {
	paths := []string{path}
	if dir, ok := strings.CutPrefix(path, ZeekPrefix); ok {
		// A Zeek directory: each of its logs keeps its own position.
		paths = paths[:0]
		for _, base := range zeekLogs {
			paths = append(paths, filepath.Join(dir, base))
		}
	} else if hasGlobMeta(path) && !exists(path) {
		paths, _ = filepath.Glob(path)
	}
	for _, p := range paths {
		if p == "-" || isGzipName(p) || isStream(p) {
			continue
		}
		key := checkpointKey(p)
		if found, err := store.Get(key, &logRecord{}); found || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		rec := logRecord{Files: []filePos{}}
		if f, fi, err := openRegular(p); err == nil {
			fp := filePos{FileID: state.Identify(f, fi)}
			if tailOnly {
				fp.Offset = lastLineEnd(f, fi.Size())
			}
			f.Close()
			rec.Files = append(rec.Files, fp)
		}
		store.Put(key, rec)
	}
	return nil
}

// lastLineEnd is the offset just after the last newline in f's first size
// bytes (0 when the last 64 KiB hold none).
func lastLineEnd(f *os.File, size int64) int64 {
	n := min(size, 64<<10)
	b := make([]byte, n)
	k, _ := f.ReadAt(b, size-n)
	if i := bytes.LastIndexByte(b[:k], '\n'); i >= 0 {
		return size - n + int64(i) + 1
	}
	return 0
}

// snapshot is the record as it is now, to be put once the batch that is
// leaving has been written (source.Options.Checkpoint).
func (c *checkpoints) snapshot() func() {
	fl := c.fl
	if fl == nil || fl.cur == nil && len(fl.old) == 0 {
		return nil
	}
	rec := logRecord{Files: make([]filePos, 0, len(fl.old)+1)}
	for _, tf := range fl.old {
		rec.Files = append(rec.Files, tf.position())
	}
	if fl.cur != nil {
		rec.Files = append(rec.Files, fl.cur.position())
	}
	return func() { c.store.Put(c.key, rec) }
}

// position is tf's identity and handed-over offset. The identity's hash of
// the first line is taken once the line is complete.
func (tf *tfile) position() filePos {
	if !tf.id.Complete() {
		tf.id = state.Identify(tf.f, tf.fi)
	}
	return filePos{tf.id, tf.handed}
}

// handed records that the line ending at p was dealt with.
func (p linePos) handed() {
	if p.tf != nil {
		p.tf.handed = p.end
	}
}

// resume opens the files the store's record names at their offsets. It
// reports whether there was a record: then a file at the path that it does
// not name is new since, and is read from its start whatever TailOnly says.
func (fl *follower) resume() (bool, error) {
	s := fl.s
	var rec logRecord
	found, err := s.ck.store.Get(s.ck.key, &rec)
	if err != nil || !found {
		return false, err
	}
	lost, rotated := 0, 0
	var lastRotated *tfile
	for i, fp := range rec.Files {
		lastRotated = nil
		if f, fi, err := openRegular(s.path); err == nil {
			if fl.cur == nil && i == len(rec.Files)-1 && fp.SameInode(fi) {
				if !fp.Matches(f, fi) {
					fp.Offset = -1 // the same file with another first line: truncated and written again
				}
				fl.cur = fl.resumeAt(f, fi, fp)
				continue
			}
			f.Close()
		}
		if f, fi := fl.findRotated(fp.FileID); f != nil {
			tf := fl.resumeAt(f, fi, fp)
			tf.grew = s.now()
			fl.old = append(fl.old, tf)
			lastRotated = tf
			rotated++
			continue
		}
		lost++
	}
	if lastRotated != nil {
		// The file last read was rotated away: any rotated since were
		// written after it, while we were away, and are read whole.
		rotated += fl.newerRotations(lastRotated)
	}
	switch {
	case fl.cur != nil && len(fl.old) == 0:
		s.stateNote = "resumed at byte " + strconv.FormatInt(fl.cur.off, 10)
	case rotated > 0:
		s.stateNote = "resumed: reading the rest of " + strconv.Itoa(rotated) + " rotated file(s) first"
	}
	if lost > 0 {
		s.e.Counter("checkpoint_files_lost").Add(uint64(lost))
		s.stateNote = join(s.stateNote, strconv.Itoa(lost)+" file(s) read before are gone (deleted or compressed): their unread lines are lost")
	}
	first := fl.cur
	if len(fl.old) > 0 {
		first = fl.old[0]
	}
	if first != nil && first.off > 0 {
		s.primeHeader(first.f, first.off)
	}
	return true, nil
}

// primeHeader reads the header lines at the start of f (Zeek's #fields,
// W3C's #Fields: the lines that name the columns) into the parser, when
// reading resumes at off, past them: without them the lines after off
// could not be read. Nothing is counted or handed over.
func (s *input) primeHeader(f *os.File, off int64) {
	if s.p.auto {
		return // auto-detection decides on the lines it reads (see README)
	}
	head := make([]byte, min(off, 64<<10))
	n, _ := f.ReadAt(head, 0)
	var scratch detect.Request
	for _, line := range bytes.SplitAfter(head[:n], []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("#")) || !bytes.HasSuffix(line, []byte("\n")) {
			return
		}
		s.p.parseEvent(bytes.TrimRight(line, "\r\n"), s.opts.Keys, &scratch)
	}
}

// resumeAt makes a tfile of f at fp's offset, or at 0 when f is now
// shorter than that (truncated while we were away).
func (fl *follower) resumeAt(f *os.File, fi os.FileInfo, fp filePos) *tfile {
	tf := &tfile{f: f, fi: fi, id: fp.FileID, sniffed: true}
	off := fp.Offset
	if fi.Size() < off || off < 0 {
		fl.s.count("truncations")
		off = 0
		tf.id = state.FileID{}
	}
	tf.off, tf.sp.off, tf.handed = off, off, off
	fl.setSigFromFile(tf)
	return tf
}

// findRotated looks among the path's rotated names for the file id names.
func (fl *follower) findRotated(id state.FileID) (*os.File, os.FileInfo) {
	for _, sib := range siblings(fl.s.path) {
		if !id.SameInode(sib.info) {
			continue
		}
		f, err := os.Open(sib.path)
		if err != nil {
			continue
		}
		if fi, err := f.Stat(); err == nil && id.Matches(f, fi) {
			return f, fi
		}
		f.Close()
	}
	return nil, nil
}

// newerRotations queues, oldest first, the path's rotated files written
// after last (by modification time) that are not being read already.
func (fl *follower) newerRotations(last *tfile) int {
	var newer []sibling
	for _, sib := range siblings(fl.s.path) {
		if sib.info.ModTime().Before(last.fi.ModTime()) || fl.reading(sib.info) {
			continue
		}
		newer = append(newer, sib)
	}
	sort.Slice(newer, func(i, j int) bool { return newer[i].info.ModTime().Before(newer[j].info.ModTime()) })
	n := 0
	for _, sib := range newer {
		f, fi, err := openRegular(sib.path)
		if err != nil {
			continue
		}
		fl.old = append(fl.old, &tfile{f: f, fi: fi, grew: fl.s.now()})
		n++
	}
	return n
}

// reading reports whether fi is one of the files the follower has open.
func (fl *follower) reading(fi os.FileInfo) bool {
	for _, o := range fl.old {
		if os.SameFile(o.fi, fi) {
			return true
		}
	}
	return fl.cur != nil && os.SameFile(fl.cur.fi, fi)
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
