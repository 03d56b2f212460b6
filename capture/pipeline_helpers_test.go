package capture

import (
	"context"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/source"
)

// testTally is what a pipeline counted and reported, for tests.
type testTally struct {
	c           [nCounters]uint64
	parseErrors uint64
	problems    []detect.Problem
	batches     []detect.Batch
}

// testPipeline is a pipeline whose emitter's batches are collected.
type testPipeline struct {
	*pipeline
	out  chan detect.Batch
	done chan struct{}
	got  []detect.Batch
}

// newTestPipeline returns a pipeline for opts (with defaults applied) whose
// batches a goroutine collects until tally is called.
func newTestPipeline(opts *Options, name string) *testPipeline {
	tp := &testPipeline{out: make(chan detect.Batch), done: make(chan struct{})}
	go func() {
		for b := range tp.out {
			tp.got = append(tp.got, b)
		}
		close(tp.done)
	}()
	e := source.New(context.Background(), tp.out, source.Options{Name: name, Keys: opts.Keys, BatchSize: opts.BatchSize})
	tp.pipeline = newPipeline(opts, name, e, 0)
	return tp
}

// tally flushes the emitter, stops collecting and sums what was reported.
// Call it once, at the end.
func (tp *testPipeline) tally() *testTally {
	tp.e.Flush()
	close(tp.out)
	<-tp.done
	t := &testTally{batches: tp.got}
	for i := range t.c {
		t.c[i] = tp.rep.value(counter(i))
	}
	for _, b := range tp.got {
		t.parseErrors += b.ParseErrors
		t.problems = append(t.problems, b.Problems...)
	}
	return t
}
