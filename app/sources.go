package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// input is one source to run: a capture file, a live interface, a log.
type input struct {
	name string
	run  func(ctx context.Context, out chan<- detect.Batch) error
}

// sourceGroup runs the sources, each in its own goroutine, and closes their
// channel once every one has returned, so the engine reads until then.
type sourceGroup struct {
	g     errgroup.Group
	mu    sync.Mutex
	errs  []error
	short atomic.Bool // the drain was cut short
}

// startSources starts every source with ctx as its stop signal. A panic in
// a source stops the run with an error naming the source.
func startSources(st *stopper, srcs []input, out chan<- detect.Batch) *sourceGroup {
	sg := &sourceGroup{}
	for _, src := range srcs {
		sg.g.Go(func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("internal error in source %s: %v\n%s", src.name, p, debug.Stack())
					st.stopNow(err)
				}
			}()
			if err := src.run(st.stop, out); err != nil && !errors.Is(err, context.Canceled) {
				sg.mu.Lock()
				sg.errs = append(sg.errs, classify(err))
				sg.mu.Unlock()
			}
			return nil
		})
	}
	go func() {
		sg.g.Wait()
		close(out)
	}()
	return sg
}

// errors waits for the sources (unless the drain was cut short) and returns
// what they reported.
func (sg *sourceGroup) errors() []error {
	if !sg.short.Load() {
		sg.g.Wait()
	}
	sg.mu.Lock()
	defer sg.mu.Unlock()
	return sg.errs
}

func (sg *sourceGroup) markCutShort()  { sg.short.Store(true) }
func (sg *sourceGroup) cutShort() bool { return sg.short.Load() }

// classify makes inputs that cannot be used, and missing files, usage
// errors (exit 2).
func classify(err error) error {
	if errors.Is(err, source.ErrInput) || errors.Is(err, fs.ErrNotExist) {
		return UsageError{err}
	}
	return err
}
