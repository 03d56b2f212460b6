package logsrc

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// ErrNoMatch is wrapped by the error for a glob that matches no file.
var ErrNoMatch = source.InputError("no file matches")

// globEvery is how often a followed glob looks for new files.
const globEvery = time.Second

// Expand replaces each glob pattern (one with *, ? or [) by the files it
// matches, sorted; other paths and "-" are kept as they are, as is a glob
// that names an existing file literally. A glob that matches nothing stays
// in the list as the pattern and makes the error wrap ErrNoMatch (naming
// every such pattern): not following, that is a usage error; following, pass
// the list to Run anyway, which watches for the pattern's files to appear.
// A malformed pattern is an error of its own.
func Expand(patterns []string) ([]string, error) {
	var out, none []string
	for _, p := range patterns {
		if p == "-" || !hasGlobMeta(p) || exists(p) {
			out = append(out, p)
			continue
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("log pattern %s: %w", p, err)
		}
		if len(m) == 0 {
			none = append(none, p)
			out = append(out, p)
			continue
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	if len(none) > 0 {
		for i, p := range none {
			none[i] = p
		}
		return out, fmt.Errorf("%w %s", ErrNoMatch, strings.Join(none, ", "))
	}
	return out, nil
}

// runGlob reads every file a pattern matches, each as a source of its own;
// following, it keeps looking for new matches.
func runGlob(ctx context.Context, pattern string, opts Options, out chan<- detect.Batch) error {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return fmt.Errorf("log pattern %s: %w", pattern, err)
	}
	matches, _ := filepath.Glob(pattern)
	sort.Strings(matches)
	if !opts.Follow {
		if len(matches) == 0 {
			return fmt.Errorf("log pattern %s: %w it", pattern, ErrNoMatch)
		}
		var errs []error
		for _, m := range matches {
			if err := runOne(ctx, m, opts, out, false); err != nil {
				if ctx.Err() != nil {
					return err
				}
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	followed := map[string]bool{}
	var bases []string // base names followed, to tell their rotated copies
	start := func(path string, tailOnly bool) {
		followed[path] = true
		bases = append(bases, filepath.Base(path))
		wg.Add(1)
		go func() {
			defer wg.Done()
			runOne(ctx, path, opts, out, tailOnly) // its failure is in its last batch
		}()
	}
	for _, m := range matches {
		start(m, opts.TailOnly)
	}
	if len(matches) == 0 {
		e := source.New(ctx, out, source.Options{Name: pattern})
		e.SetState(detect.StateFollowing)
		e.SetNote("waiting for files matching " + pattern)
		e.Flush()
	}
	t := time.NewTicker(globEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		matches, _ := filepath.Glob(pattern)
		sort.Strings(matches)
		for _, m := range matches {
			if followed[m] {
				continue
			}
			if rotatedCopy(filepath.Base(m), bases) {
				followed[m] = true // access.log.1 of a followed access.log: its lines were read there
				continue
			}
			start(m, false) // a new file: from its start
		}
	}
}

// rotatedCopy reports whether name is a rotation of one of the followed
// base names: the name plus ".1", "-20261126", ".2.gz" and the like.
func rotatedCopy(name string, bases []string) bool {
	for _, b := range bases {
		if len(name) > len(b)+1 && strings.HasPrefix(name, b) && strings.IndexByte(".-_", name[len(b)]) >= 0 {
			return true
		}
	}
	return false
}
