package app

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// stopper turns the ways a run is asked to end into two signals: stop
// (sources drain what they have and finish; the engine reads on until they
// have) and hard (give up waiting: a second SIGINT or SIGTERM, or
// drainDeadline after the stop).
type stopper struct {
	stop   context.Context
	cancel context.CancelCauseFunc
	hard   chan struct{}
	sigs   chan os.Signal
	once   sync.Once
	quit   chan struct{}
}

// newStopper starts listening: parent ending, SIGINT or SIGTERM stop the run.
func newStopper(parent context.Context) *stopper {
	stop, cancel := context.WithCancelCause(parent)
	s := &stopper{stop: stop, cancel: cancel, hard: make(chan struct{}), sigs: make(chan os.Signal, 2), quit: make(chan struct{})}
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	// A reader that goes away (rebindwatch ... | head) must end the run
	// with an error we can handle, not kill it without its summary.
	signal.Ignore(syscall.SIGPIPE)
	go s.watch()
	return s
}

func (s *stopper) watch() {
	select {
	case <-s.sigs:
		s.cancel(nil)
	case <-s.stop.Done():
	case <-s.quit:
		return
	}
	t := time.NewTimer(drainDeadline)
	defer t.Stop()
	select {
	case <-s.sigs:
	case <-t.C:
	case <-s.quit:
		return
	}
	s.once.Do(func() { close(s.hard) })
}

// stopNow asks for a stop (the dashboard quit, the engine failed); cause,
// when not nil, is why the run failed.
func (s *stopper) stopNow(cause error) { s.cancel(cause) }

// failure is the error that stopped the run, if one did.
func (s *stopper) failure() error {
	if c := context.Cause(s.stop); c != nil && c != context.Canceled && c != s.stop.Err() {
		return c
	}
	return nil
}

// close stops listening for signals.
func (s *stopper) close() {
	signal.Stop(s.sigs)
	signal.Reset(syscall.SIGPIPE)
	close(s.quit)
	s.cancel(nil)
}
