// Package state keeps what rebindwatch needs to resume where it stopped:
// a small keyed store that sources write through (a followed file's
// identity and offset, a journal cursor, when a listener last heard
// anything) and that the app writes to disk atomically (a temporary file
// renamed over the old one) at most once a second and at exit.
//
// Each source owns its keys ("file:/var/log/nginx/api.log") and the shape
// of its values (JSON). A value is put only once what it says is true: a
// log's offset once the requests of the lines before it have been written
// by the sinks (the engine calls a batch's Commit after the sinks'
// BatchEnd), so a restart neither repeats nor loses a line. A companion
// value can be attached (Attach) so that it is recorded with every Put:
// the output's length, which the app cuts back to on a restart after a
// crash so that the lines written after the last checkpoint are not there
// twice.
//
// A source keeps its own record under its own key, in its own shape: a
// log follower its files and offsets (logsrc), a journal reader the cursor
// of the last entry handed over, a listener (syslog) the time it last
// heard anything, so that on start it can say what it missed while down.
// It hands the record to the engine with each batch (source.Options
// Checkpoint, detect.Batch.Commit) and the engine puts it once the batch
// is written; a source with nothing to resume may Put directly.
//
// A store is locked while open (an advisory lock on FILE.lock, on Unix), so
// two runs cannot share one state file by mistake.
package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// version is the file format's version; a file of another is refused.
const version = 1

// maxSize bounds a state file read at start: it holds a few records per
// source, never anything near this.
const maxSize = 16 << 20

// FlushEvery is how often Run writes a changed store.
const FlushEvery = time.Second

// Store is a keyed set of JSON values, written to one file. Its methods
// may be called from any goroutine.
type Store struct {
	path   string
	unlock func()

	mu       sync.Mutex
	vals     map[string]json.RawMessage
	attached []companion
	dirty    bool
	flushes  int
}

type companion struct {
	key  string
	snap func() any
}

// file is the state file's content.
type file struct {
	Version int                        `json:"version"`
	Entries map[string]json.RawMessage `json:"entries"`
}

// Open reads the store at path (a missing file is an empty store) and
// locks it. A file that is not a state file, or one another run holds, is
// an error naming path.
func Open(path string) (*Store, error) {
	unlock, err := lock(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	s := &Store{path: path, unlock: unlock, vals: map[string]json.RawMessage{}}
	b, err := readSmall(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		unlock()
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil || f.Version != version {
		unlock()
		if err == nil {
			err = fmt.Errorf("version %d, want %d", f.Version, version)
		}
		return nil, fmt.Errorf("state %s: not a rebindwatch state file (%v); remove it to start afresh", path, err)
	}
	if f.Entries != nil {
		s.vals = f.Entries
	}
	return s, nil
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxSize {
		return nil, fmt.Errorf("not a regular file under %d MiB", maxSize>>20)
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// Path is the file the store is written to.
func (s *Store) Path() string { return s.path }

// Get decodes the value under key into v and reports whether there was one.
func (s *Store) Get(key string, v any) (bool, error) {
	s.mu.Lock()
	raw, ok := s.vals[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("state %s: %s: %w", s.path, key, err)
	}
	return true, nil
}

// Put records v (any JSON-encodable value) under key, with every attached
// companion as it is now; the file is written by the next Flush.
func (s *Store) Put(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("state: value for " + key + " does not encode: " + err.Error()) // a programming error
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals[key] = b
	for _, c := range s.attached {
		if cb, err := json.Marshal(c.snap()); err == nil {
			s.vals[c.key] = cb
		}
	}
	s.dirty = true
}

// Delete removes key.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vals[key]; ok {
		delete(s.vals, key)
		s.dirty = true
	}
}

// Attach makes every Put also record snap() under key, so that a companion
// value (the output's length) always goes with the values it matches.
func (s *Store) Attach(key string, snap func() any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attached = append(s.attached, companion{key, snap})
}

// Flush writes the store when it changed since the last write: to a
// temporary file beside it, synced, then renamed over it, so the file is
// always one whole version.
func (s *Store) Flush() error {
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return nil
	}
	keys := make([]string, 0, len(s.vals))
	for k := range s.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteString("{\"version\":1,\"entries\":{")
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n")
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(s.vals[k])
	}
	buf.WriteString("\n}}\n")
	s.dirty = false
	s.flushes++
	s.mu.Unlock()
	if err := writeAtomic(s.path, buf.Bytes()); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	return nil
}

// writeAtomic writes b to a temporary file in path's directory and renames
// it over path.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(name, path)
	}
	if werr != nil {
		os.Remove(name)
		return werr
	}
	if d, err := os.Open(dir); err == nil { // the rename itself, on disk
		d.Sync()
		d.Close()
	}
	return nil
}

// Run flushes the store every FlushEvery while it changes, until ctx ends.
// Errors are handed to report (once per distinct message) and the store
// keeps trying.
func (s *Store) Run(ctx context.Context, report func(error)) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Flush(); err != nil && err.Error() != last {
				last = err.Error()
				report(err)
			}
		}
	}
}

// Close writes what changed and releases the lock.
func (s *Store) Close() error {
	err := s.Flush()
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	return err
}
