package logsrc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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
