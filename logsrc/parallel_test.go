package logsrc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
)

// A file parsed on several cores gives exactly what one core gives: the
// same requests in the same order, the same problems (the first few, with
// their line numbers), the same counts. The inputs are the recorded logs
// of every built-in format, repeated past several chunks, with what real
// files hold besides requests mixed in: lines no format reads, blank and
// CRLF lines, a line longer than maxLine, a last line without a newline.
func TestParallelIsSequential(t *testing.T) {
	logs, err := filepath.Glob("../testdata/logs/*.log")
	if err != nil || len(logs) < 10 {
		t.Fatalf("recorded logs: %v (%d)", err, len(logs))
	}
	for _, src := range logs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), filepath.Base(src))
			writeMixed(t, src, path)
			format := formatOf(t, src)
			one := collectRun(t, path, format, 1)
			if one.requests < 500 {
				t.Fatalf("one worker read %d requests", one.requests)
			}
			for _, n := range []int{2, 5} {
				if got := collectRun(t, path, format, n); !reflect.DeepEqual(got, one) {
					t.Errorf("%d workers differ from one:\n%s", n, got.diff(one))
				}
			}
		})
	}
}

// writeMixed writes src's lines repeated past 3 chunks, with noise.
func writeMixed(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(data), "\n")+"\n", "\n")
	var b bytes.Buffer
	long := 0
	for i := 0; b.Len()-long < 3*chunkSize+chunkSize/3; i++ {
		// The first lines stay clean so that auto-detection decides as it
		// does on the recorded file.
		if i > 40 {
			switch i % 97 {
			case 11:
				b.WriteString("this line is no request at all\n")
			case 23:
				b.WriteString("\n")
			case 37:
				b.WriteString("\x00\x01 binary-ish \xff\xfe\n")
			case 51:
				b.WriteString(strings.TrimSuffix(lines[i%len(lines)], "\n") + "\r\n")
				continue
			}
		}
		if i == 500 {
			long = maxLine + 11
			b.WriteString(strings.Repeat("x", maxLine+10) + "\n")
		}
		b.WriteString(lines[i%len(lines)])
	}
	b.WriteString(strings.TrimSuffix(lines[0], "\n")) // no newline at the end
	if err := os.WriteFile(dst, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runResult is what a run handed over, in order.
type runResult struct {
	requests    int
	reqs        []detect.Request
	problems    []detect.Problem
	parseErrors uint64
	counters    map[string]uint64
	note        string
}

// formatOf is the format a recorded log is read with: its .fmt file's
// (named for the server that wrote it), else auto-detection.
func formatOf(t *testing.T, log string) string {
	spec, err := os.ReadFile(strings.TrimSuffix(log, ".log") + ".fmt")
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	server, _, _ := strings.Cut(filepath.Base(log), "_")
	return server + ":" + strings.TrimSpace(string(spec))
}

func collectRun(t *testing.T, path, format string, workers int) runResult {
	t.Helper()
	var r runResult
	r.counters = map[string]uint64{}
	for _, b := range collect(t, path, Options{Format: format, Keys: testKeys(), Workers: workers, BatchSize: 100}) {
		for _, q := range b.Requests {
			r.reqs = append(r.reqs, q)
		}
		r.problems = append(r.problems, b.Problems...)
		r.parseErrors += b.ParseErrors
		for k, v := range b.Counters {
			r.counters[k] += v
		}
		if b.Note != "" {
			r.note = b.Note
		}
	}
	r.requests = len(r.reqs)
	return r
}

func (r runResult) diff(w runResult) string {
	var out []string
	if r.requests != w.requests {
		out = append(out, fmt.Sprintf("requests %d, want %d", r.requests, w.requests))
	}
	for i := range min(len(r.reqs), len(w.reqs)) {
		if !reflect.DeepEqual(r.reqs[i], w.reqs[i]) {
			out = append(out, fmt.Sprintf("request %d: %+v\nwant %+v", i, r.reqs[i], w.reqs[i]))
			break
		}
	}
	if !reflect.DeepEqual(r.problems, w.problems) {
		out = append(out, fmt.Sprintf("problems %v\nwant %v", r.problems, w.problems))
	}
	if r.parseErrors != w.parseErrors || !reflect.DeepEqual(r.counters, w.counters) || r.note != w.note {
		out = append(out, fmt.Sprintf("parse errors %d, counters %v, note %q\nwant %d, %v, %q", r.parseErrors, r.counters, r.note, w.parseErrors, w.counters, w.note))
	}
	return strings.Join(out, "\n")
}
