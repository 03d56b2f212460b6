package e2e

// The key matrix of the red-team issue, end to end: keys of 6 to 40
// characters in five character classes, sent every way a key travels
// (recorded from curl and nginx: testdata/hostile/record.sh matrix), read
// as they were logged and captured, then as lines that do not parse (a bad
// status, a lost quote in each credential column, a line cut inside or
// right after a key) and as a log no format reads. No output may hold any
// 8-character piece of any key, nor a key shorter than that.

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
)

// matrixKey is one key of testdata/hostile/matrix_keys.txt.
type matrixKey struct{ class, len, key string }

func loadMatrixKeys(t *testing.T) []matrixKey {
	t.Helper()
	var out []matrixKey
	for _, l := range strings.Split(readFile(t, hostile+"matrix_keys.txt"), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Fatalf("matrix_keys.txt: bad line %q", l)
		}
		out = append(out, matrixKey{f[0], f[1], f[2]})
	}
	if len(out) != 55 {
		t.Fatalf("%d keys in matrix_keys.txt, want 5 classes × 11 lengths", len(out))
	}
	return out
}

// matrixWays are the recorded requests of each key, in order, by their
// path; query says the key was sent in the query (the server reads it
// percent- and '+'-decoded).
var matrixWays = []struct {
	path  string
	query bool
}{
	{"/v1/all?", false}, // X-API-Key first; Bearer<TAB>, cookie, Referer and every query spelling too
	{"/v1/tab", false},  // Authorization: Bearer<TAB>key
	{"/v1/token", false},
	{"/v1/basic", false},
	{"/v1/q1?key[]=", true},
	{"/v1/q2?api_key[0]=", true},
	{"/v1/q3?api_key%00=", true},
	{"/v1/q4?api_key%20=", true},
	{"/v1/q5?api_key+=", true},
}

// matrixLeaks returns what out shows of the keys: an 8-character piece,
// or a key shorter than 8 standing as a word of its own, or after an
// escape such as nginx's \x09 (a six-digit key could otherwise be any
// number in the output by chance).
func matrixLeaks(mk []matrixKey, out string) []string {
	var found []string
	for _, k := range mk {
		if len(k.key) < 8 {
			re := regexp.MustCompile(`(^|[^A-Za-z0-9+/=_-]|\\x[0-9a-fA-F]{2})` + regexp.QuoteMeta(k.key) + `($|[^A-Za-z0-9+/=_-]|\\x[0-9a-fA-F]{2})`)
			if loc := re.FindStringIndex(out); loc != nil {
				found = append(found, fmt.Sprintf("%s/%s key %q in %q", k.class, k.len, k.key, out[max(0, loc[0]-60):min(len(out), loc[1]+30)]))
			}
			continue
		}
		for i := 0; i+8 <= len(k.key); i++ {
			if j := strings.Index(out, k.key[i:i+8]); j >= 0 {
				found = append(found, fmt.Sprintf("%s/%s piece %q in %q", k.class, k.len, k.key[i:i+8], out[max(0, j-60):min(len(out), j+30)]))
				break
			}
		}
	}
	return found
}

func noMatrixKeys(t *testing.T, mk []matrixKey, what, out string) {
	t.Helper()
	for _, l := range matrixLeaks(mk, out) {
		t.Errorf("%s: leak: %s", what, l)
	}
}

func TestKeyMatrixNeverLeaks(t *testing.T) {
	mk := loadMatrixKeys(t)
	lines := strings.Split(readFile(t, hostile+"matrix_access_secrets.log"), "\n")
	if len(lines) != len(mk)*len(matrixWays) {
		t.Fatalf("%d lines in matrix_access_secrets.log, want %d keys × %d ways", len(lines), len(mk), len(matrixWays))
	}
	sfmt := "nginx:" + readFile(t, hostile+"secrets.fmt")
	cfg := []string{"--no-tui", "-c", hostile + "rebindwatch.toml"}
	dir := t.TempDir()

	// Read as recorded, the log and the capture: every key is found (its
	// fingerprint on its request, so nothing here passes by missing the
	// keys) and nothing of one is shown or written.
	t.Run("parsed", func(t *testing.T) {
		outFile := filepath.Join(dir, "out.jsonl")
		report := filepath.Join(dir, "report.html")
		for _, run := range []struct {
			name string
			args []string
		}{
			{"log", append(cfg, "--no-follow", "--log-format", sfmt, "--emit", "alert,request,incident,summary", "-o", outFile, "--report", report, hostile+"matrix_access_secrets.log")},
			{"pcap", append(cfg, "--emit", "alert,request,incident,summary,dns", "-r", hostile+"matrix.pcap.gz")},
		} {
			t.Run(run.name, func(t *testing.T) {
				r := runBin(t, run.args...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				noMatrixKeys(t, mk, "stdout", r.stdout)
				noMatrixKeys(t, mk, "stderr", r.stderr)
				if run.name == "log" {
					b, err := os.ReadFile(outFile)
					if err != nil {
						t.Fatal(err)
					}
					r = parseResult(t, 0, string(b), "")
					noMatrixKeys(t, mk, "-o", string(b))
					noMatrixKeys(t, mk, "report", readFile(t, report))
				}
				checkMatrixFingerprints(t, mk, r.ofType("request"))
				if len(r.ofType("alert")) == 0 {
					t.Error("no alert: the keys' requests are in no alert's evidence")
				}
			})
		}
	})

	// Lines that do not parse are quoted (the first five of a run on
	// stderr): a bad status on every way, and on the request with every
	// column the key's column losing its opening quote, the line cut
	// inside the key and right after it. Each run's file holds at most
	// five, so every one of them is quoted.
	t.Run("malformed", func(t *testing.T) {
		var files [][]string
		for i, k := range mk {
			ways := lines[i*len(matrixWays) : (i+1)*len(matrixWays)]
			all := ways[0]
			bad := make([]string, len(ways))
			for j, l := range ways {
				bad[j] = badStatus(t, l)
			}
			files = append(files,
				[]string{bad[0], lostQuote(t, all, "auth=", k.key), lostQuote(t, all, "xkey=", k.key), lostQuote(t, all, "cookie=", k.key),
					cutIn(t, all, `xkey="`, k.key, len(k.key)/2)},
				append(bad[1:5:5], cutIn(t, all, "sid=", k.key, len(k.key))),
				bad[5:])
		}
		var runs [][]string
		for n, f := range files {
			path := filepath.Join(dir, fmt.Sprintf("m%03d.log", n))
			// The last line as a writer that died mid-line leaves it:
			// without its newline.
			writeFile(t, path, strings.Join(f, "\n"), 0o644)
			runs = append(runs, append(cfg, "--no-follow", "--log-format", sfmt, "--emit", "alert,request,summary", path))
		}
		for n, r := range runBins(t, runs) {
			path := runs[n][len(runs[n])-1]
			if r.code != 0 {
				t.Errorf("%s: exit %d: %s", path, r.code, r.stderr)
				continue
			}
			noMatrixKeys(t, mk, filepath.Base(path)+" stdout", r.stdout)
			noMatrixKeys(t, mk, filepath.Base(path)+" stderr", r.stderr)
			// Every line is quoted: else this run showed nothing.
			for i := range files[n] {
				if !strings.Contains(r.stderr, fmt.Sprintf("%s:%d: ", path, i+1)) {
					t.Errorf("%s: line %d is not quoted on stderr (did it parse?): %s", path, i+1, r.stderr)
				}
			}
		}
	})

	// A log no format reads: the error quotes its first line, here each
	// of the requests whose key is in a column near the start (the user of
	// Basic, the Authorization column) or in every column.
	t.Run("undetected", func(t *testing.T) {
		var runs [][]string
		var what []string
		for i, k := range mk {
			for j, w := range matrixWays[:4] {
				path := filepath.Join(dir, fmt.Sprintf("u%02d-%d.log", i, j))
				writeFile(t, path, lines[i*len(matrixWays)+j]+"\n", 0o644)
				runs = append(runs, append(cfg, "--no-follow", path))
				what = append(what, k.class+"/"+k.len+" "+w.path)
			}
		}
		for n, r := range runBins(t, runs) {
			if r.code != 2 || !strings.Contains(r.stderr, "no known format") || !strings.Contains(r.stderr, "line 1 is") {
				t.Errorf("%s: exit %d, want 2 and the first line quoted: %s", what[n], r.code, r.stderr)
			}
			noMatrixKeys(t, mk, what[n]+" stderr", r.stderr)
		}
	})

	// The dashboard over all of it: the parsed log and capture, and the
	// malformed files' problems in the header and the snapshot.
	t.Run("dashboard", func(t *testing.T) {
		logs := []secretLog{{hostile + "matrix_access_secrets.log", sfmt}}
		for n := range 6 {
			logs = append(logs, secretLog{filepath.Join(dir, fmt.Sprintf("m%03d.log", n)), sfmt})
		}
		frames := recordingFrames(t, logs, hostile+"matrix.pcap.gz", func(s detect.Snapshot) bool {
			return len(s.Alerts) > 0 && len(s.Keys) >= len(mk) && len(s.Problems) >= 20
		})
		noMatrixKeys(t, mk, "dashboard", frames)
	})
}

// checkMatrixFingerprints: each key's recorded requests, in order, carry
// its fingerprint, whichever way it was sent.
func checkMatrixFingerprints(t *testing.T, mk []matrixKey, reqs []map[string]any) {
	t.Helper()
	if len(reqs) != len(mk)*len(matrixWays) {
		t.Fatalf("%d requests, want %d", len(reqs), len(mk)*len(matrixWays))
	}
	for i, k := range mk {
		for j, w := range matrixWays {
			r := reqs[i*len(matrixWays)+j]
			if target, _ := r["target"].(string); !strings.HasPrefix(target, w.path) {
				t.Fatalf("request %d is %q, want %s... (the recording's order)", i*len(matrixWays)+j, target, w.path)
			}
			sent := k.key
			if w.query {
				var err error
				if sent, err = url.QueryUnescape(k.key); err != nil {
					t.Fatal(err)
				}
			}
			if got := r["key"]; got != keys.Fingerprint("", sent) {
				t.Errorf("%s/%s sent as %s: key %v, want %s", k.class, k.len, w.path, got, keys.Fingerprint("", sent))
			}
		}
	}
}

// badStatus makes the line's status not a number ("2OO").
func badStatus(t *testing.T, l string) string {
	t.Helper()
	const ok = `" 200 `
	if !strings.Contains(l, ok) {
		t.Fatalf("no status 200 in %q", l)
	}
	return strings.Replace(l, ok, `" 2OO `, 1)
}

// lostQuote drops the opening quote of the column name= (which must hold
// key): its value's columns move.
func lostQuote(t *testing.T, l, name, key string) string {
	t.Helper()
	i := strings.Index(l, name+`"`)
	if i < 0 || !strings.Contains(l[i:], key) {
		t.Fatalf("no %s\"... with the key in %q", name, l)
	}
	return l[:i+len(name)] + l[i+len(name)+1:]
}

// cutIn cuts the line n bytes into the key that follows prefix (the end
// of a cut line, as a writer that died leaves it).
func cutIn(t *testing.T, l, prefix, key string, n int) string {
	t.Helper()
	i := strings.Index(l, prefix+key)
	if i < 0 {
		t.Fatalf("no %q in %q", prefix+key, l)
	}
	return l[:i+len(prefix)+n]
}

// runBins runs the binary once per argument list, two at a time (the
// machine has two cores), and returns the results in order, each checked
// like runBin's.
func runBins(t *testing.T, runs [][]string) []result {
	t.Helper()
	type raw struct {
		code           int
		stdout, stderr string
		err            error
	}
	out := make([]raw, len(runs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cmd := exec.Command(bin, runs[i]...)
				var o, e bytes.Buffer
				cmd.Stdout, cmd.Stderr = &o, &e
				err := cmd.Run()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					out[i].code, err = ee.ExitCode(), nil
				}
				out[i].stdout, out[i].stderr, out[i].err = o.String(), e.String(), err
			}
		}()
	}
	for i := range runs {
		next <- i
	}
	close(next)
	wg.Wait()
	res := make([]result, len(runs))
	for i, r := range out {
		if r.err != nil {
			t.Fatalf("running %v: %v", runs[i], r.err)
		}
		res[i] = parseResult(t, r.code, r.stdout, r.stderr)
	}
	return res
}
