package logsrc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/state"
)

// ckLines returns combined lines for requests /from../to.
func ckLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "127.0.0.1 - - [03/Dec/2026:10:00:%02d +0000] \"GET /%d HTTP/1.1\" 200 2 \"-\" \"t\"\n", i%60, i)
	}
	return b.String()
}

// readWithState reads path to its end with the store, committing every
// batch as the engine does once the sinks wrote it, and returns the
// targets read and the counters.
func readWithState(t *testing.T, store *state.Store, path string) ([]string, map[string]uint64) {
	t.Helper()
	var targets []string
	counters := map[string]uint64{}
	for _, b := range collect(t, path, Options{Format: "combined", State: store}) {
		for _, r := range b.Requests {
			targets = append(targets, r.Target)
		}
		for k, v := range b.Counters {
			counters[k] += v
		}
		if b.Commit != nil {
			b.Commit()
		}
	}
	return targets, counters
}

func want(from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf("/%d", i))
	}
	return s
}

// TestStateResume: what a second run reads after the file changed while
// rebindwatch was away.
func TestStateResume(t *testing.T) {
	for _, tc := range []struct {
		name    string
		away    func(t *testing.T, path string) // what happens between the runs
		want    []string
		counter string
	}{
		{"appended", func(t *testing.T, p string) { appendText(t, p, ckLines(4, 6)) }, want(4, 6), ""},
		{"nothing_new", func(t *testing.T, p string) {}, nil, ""},
		{"rotated_by_rename", func(t *testing.T, p string) {
			appendText(t, p, ckLines(4, 5))
			os.Rename(p, p+".1")
			appendText(t, p, ckLines(6, 7))
		}, want(4, 7), ""},
		{"rotated_twice", func(t *testing.T, p string) {
			appendText(t, p, ckLines(4, 4))
			os.Rename(p, p+".1")
			appendText(t, p, ckLines(5, 6))
			os.Rename(p+".1", p+".2")
			os.Rename(p, p+".1")
			appendText(t, p, ckLines(7, 8))
		}, want(4, 8), ""},
		{"truncated_copytruncate", func(t *testing.T, p string) {
			os.Truncate(p, 0)
			appendText(t, p, ckLines(10, 11))
		}, want(10, 11), "truncations"},
		{"deleted_and_recreated", func(t *testing.T, p string) {
			// The new file may well get the old one's inode: then it counts
			// as truncated, else the old one as lost; either way it is new.
			os.Remove(p)
			appendText(t, p, ckLines(20, 21))
		}, want(20, 21), ""},
		{"rotated_and_deleted", func(t *testing.T, p string) {
			appendText(t, p, ckLines(4, 4))
			os.Rename(p, p+".1")
			appendText(t, p, ckLines(5, 6)) // while p.1 exists: another inode
			os.Remove(p + ".1")
		}, want(5, 6), "checkpoint_files_lost"},
		{"rewritten_in_place", func(t *testing.T, p string) {
			// Same inode, another first line, longer than before: a
			// different file, read from its start.
			os.WriteFile(p, []byte(ckLines(30, 36)), 0o644)
		}, want(30, 36), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "api.log")
			os.WriteFile(path, []byte(ckLines(1, 3)), 0o644)
			store, err := state.Open(filepath.Join(dir, "rw.state"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if err := Pin(store, path, false); err != nil {
				t.Fatal(err)
			}
			if got, _ := readWithState(t, store, path); !slices.Equal(got, want(1, 3)) {
				t.Fatalf("first run read %q", got)
			}
			tc.away(t, path)
			got, counters := readWithState(t, store, path)
			if !slices.Equal(got, tc.want) {
				t.Errorf("second run read %q, want %q", got, tc.want)
			}
			if tc.counter != "" && counters[tc.counter] == 0 {
				t.Errorf("counter %s not counted: %v", tc.counter, counters)
			}
		})
	}
}

// TestStatePinTailOnly: a first run with --tail-only starts after the last
// complete line, and the line being written then is read once complete.
func TestStatePinTailOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.log")
	partial := ckLines(3, 3)
	os.WriteFile(path, []byte(ckLines(1, 2)+partial[:20]), 0o644)
	store, _ := state.Open(filepath.Join(dir, "rw.state"))
	defer store.Close()
	Pin(store, path, true)
	appendText(t, path, partial[20:])
	if got, _ := readWithState(t, store, path); !slices.Equal(got, want(3, 3)) {
		t.Errorf("read %q, want only /3", got)
	}
}

func appendText(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(s)
	f.Close()
}

// zeekLogsGrown writes, for each of a Zeek directory's logs, its header
// and n records made from the real log's own records (testdata/sensors/zeek),
// their ts spread over time at a pace of their own; the
// first half of the records now, the rest returned for later.
func zeekLogsGrown(t *testing.T, dir string, n int) (later map[string]string) {
	t.Helper()
	later = map[string]string{}
	for li, base := range zeekLogs {
		raw, err := os.ReadFile("../testdata/sensors/zeek/" + base)
		if err != nil {
			t.Fatal(err)
		}
		var head, recs []string
		for _, l := range strings.SplitAfter(string(raw), "\n") {
			switch {
			case strings.HasPrefix(l, "#") && len(recs) == 0:
				head = append(head, l)
			case l != "" && !strings.HasPrefix(l, "#"):
				recs = append(recs, l)
			}
		}
		var now, rest strings.Builder
		for i := range n {
			_, cols, _ := strings.Cut(recs[i%len(recs)], "\t")
			// The logs run at different paces (one record a second,
			// two, three): the merge holds what the faster ones read
			// ahead until the slower one catches up.
			ts := fmt.Sprintf("%d.%06d", 1354320000+i*(li+1), 250000*li)
			w := &now
			if i >= n/2 {
				w = &rest
			}
			w.WriteString(ts + "\t" + cols)
		}
		os.WriteFile(filepath.Join(dir, base), []byte(strings.Join(head, "")+now.String()), 0o644)
		later[base] = rest.String()
	}
	return later
}

// zeekText is a batch's events as text.
func zeekText(b detect.Batch) []string {
	var evs []string
	for _, r := range b.Requests {
		evs = append(evs, "req "+r.Time.String()+" "+r.Host+r.Target)
	}
	for _, a := range b.DNS {
		evs = append(evs, "dns "+a.Time.String()+" "+a.Name)
	}
	for _, h := range b.TLS {
		evs = append(evs, "tls "+h.Time.String()+" "+h.SNI)
	}
	return evs
}

// TestZeekDirState: a Zeek directory keeps each log's position (--state)
// through the time-order merge of its three logs. A run stopped after some
// batch (the batches up to it written to the output, their positions
// checkpointed; the process gone before the others were), then the logs
// grown, then a second run: every event is read exactly once across the
// two, wherever the first run stopped. The logs are the real Zeek logs'
// records, repeated at other times: 1,500 records each, read a chunk at a
// time, so the merge holds events read from one log while another's are
// written.
func TestZeekDirState(t *testing.T) {
	const n = 1500
	ref := t.TempDir()
	later := zeekLogsGrown(t, ref, n)
	for base, rest := range later {
		appendText(t, filepath.Join(ref, base), rest)
	}
	var all []string
	for _, b := range collect(t, ZeekPrefix+ref, Options{Keys: testKeys()}) {
		all = append(all, zeekText(b)...)
	}
	if len(all) < n {
		t.Fatalf("the Zeek logs give %d events: the test would prove little", len(all))
	}
	slices.Sort(all)
	opts := func(store *state.Store) Options { return Options{State: store, Keys: testKeys(), BatchSize: 64} }
	batches := -1
	for _, stopAfter := range []int{0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89} {
		if batches >= 0 && stopAfter > batches {
			break
		}
		dir := t.TempDir()
		later := zeekLogsGrown(t, dir, n)
		store, err := state.Open(filepath.Join(dir, "rw.state"))
		if err != nil {
			t.Fatal(err)
		}
		if err := Pin(store, ZeekPrefix+dir, false); err != nil {
			t.Fatal(err)
		}
		first := collect(t, ZeekPrefix+dir, opts(store))
		batches = len(first)
		var got []string
		for _, b := range first[:min(stopAfter, len(first))] {
			got = append(got, zeekText(b)...)
			if b.Commit != nil {
				b.Commit()
			}
		}
		for base, rest := range later {
			appendText(t, filepath.Join(dir, base), rest)
		}
		for _, b := range collect(t, ZeekPrefix+dir, opts(store)) {
			got = append(got, zeekText(b)...)
			if b.Commit != nil {
				b.Commit()
			}
		}
		store.Close()
		slices.Sort(got)
		if !slices.Equal(got, all) {
			missing, extra := diffSorted(all, got)
			t.Fatalf("stopped after %d of %d batches: %d events, want %d; missing %d (e.g. %q), twice %d (e.g. %q)",
				stopAfter, len(first), len(got), len(all), len(missing), first1(missing), len(extra), first1(extra))
		}
	}
}

// diffSorted returns what a has that b has not, and the other way round.
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

func first1(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestStateResumesPastAHeader: a Zeek log followed on its own (or a W3C
// log: CloudFront's, IIS's) resumed past its start reads its #fields
// header again first; without it every line after the position would be
// a parse error.
func TestStateResumesPastAHeader(t *testing.T) {
	dir := t.TempDir()
	later := zeekLogsGrown(t, dir, 200)
	path := filepath.Join(dir, "http.log")
	store, err := state.Open(filepath.Join(dir, "rw.state"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := Pin(store, path, false); err != nil {
		t.Fatal(err)
	}
	run := func() (reqs int, parseErrors uint64) {
		for _, b := range collect(t, path, Options{Format: "zeek", State: store, Keys: testKeys()}) {
			reqs += len(b.Requests)
			parseErrors += b.ParseErrors
			if b.Commit != nil {
				b.Commit()
			}
		}
		return reqs, parseErrors
	}
	first, errs := run()
	if first == 0 || errs != 0 {
		t.Fatalf("first run: %d requests, %d parse errors", first, errs)
	}
	appendText(t, path, later["http.log"])
	second, errs := run()
	if second == 0 || errs != 0 {
		t.Errorf("resumed run: %d requests, %d parse errors (want the appended records, none)", second, errs)
	}
}
