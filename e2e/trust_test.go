package e2e

// The recordings of testdata/trust ("Alerts an operator can trust"): a
// normal day of a website that must raise nothing with no config, the
// service's own names resolving privately over real DNS, rebinding tools'
// host names, private network preflights and key stuffing. Each run of
// testdata/trust/runs.tsv must raise exactly the alerts of its expected
// file, grouped into incidents as the file groups them (testdata/trust/
// README.md, "Expected files").

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const trust = "../testdata/trust/"

// trustPending are runs whose expected alerts wait for a change in the
// code, with what they wait for. Such a run is skipped while it differs
// and fails once it passes, so that it is taken off this list.
// None waits today.
var trustPending = map[string]string{}

func TestTrustRecordingsRaiseExactlyTheExpectedAlerts(t *testing.T) {
	trustKeys := strings.Fields(readFile(t, trust+"keys.txt"))
	if len(trustKeys) < 40 {
		t.Fatalf("%d keys in %skeys.txt: the secrecy check would check little", len(trustKeys), trust)
	}
	// The runs without a config must find none: not in the working
	// directory, not in the user's.
	if _, err := os.Stat("rebindwatch.toml"); err == nil {
		t.Fatal("e2e/rebindwatch.toml exists: the runs without a config would read it")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	rows := strings.Split(readFile(t, trust+"runs.tsv"), "\n")
	if len(rows) < 20 || rows[0] != "input\tread\tconfig\texpected" {
		t.Fatalf("%sruns.tsv: %d rows, header %q", trust, len(rows), rows[0])
	}
	for _, row := range rows[1:] {
		f := strings.Split(row, "\t")
		if len(f) != 4 {
			t.Fatalf("runs.tsv: %q", row)
		}
		input, read, config, want := f[0], f[1], f[2], f[3]
		t.Run(input+"/config="+strings.TrimSuffix(config, ".toml"), func(t *testing.T) {
			args := []string{"--no-tui", "--emit", "alert,incident,summary"}
			if config != "-" {
				args = append(args, "-c", trust+config)
			}
			switch read {
			case "pcap":
				args = append(args, "-r", trust+input)
			case "ext":
				args = append(args, "--no-follow", "--log-format", "nginx:"+extFormat(t), trust+input)
			case "log":
				args = append(args, "--no-follow", trust+input)
			default:
				t.Fatalf("runs.tsv: read %q", read)
			}
			r := runBin(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			for _, l := range leaks(trustKeys, r.stdout+r.stderr) {
				t.Errorf("leak: %s", l)
			}
			if s := r.summary(t); config == "-" && s["config"] != "" {
				t.Errorf("run without a config loaded %v", s["config"])
			}
			diffs := trustDiffs(readExpected(t, trust+want), r)
			if why, ok := trustPending[input]; ok {
				if len(diffs) == 0 {
					t.Errorf("pending run now raises what %s says: take %s off trustPending", want, input)
				} else {
					t.Skipf("pending (%s):\n%s", why, strings.Join(diffs, "\n"))
				}
				return
			}
			for _, d := range diffs {
				t.Error(d)
			}
		})
	}
}

func readExpected(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(readFile(t, path), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out = append(out, m)
	}
	return out
}

// trustMatches reports whether got has every field of want (but its type
// and incident label) with the same value. In a summary, host_check and
// origin_check are prefixes ("off"), or null for absent. Detector lists
// are compared as sets.
func trustMatches(want, got map[string]any) bool {
	for k, v := range want {
		switch k {
		case "type", "incident":
			continue
		case "host_check", "origin_check":
			g, _ := got[k].(string)
			if s, ok := v.(string); v == nil && g != "" || ok && !strings.HasPrefix(g, s) {
				return false
			}
			continue
		case "detectors":
			if !reflect.DeepEqual(sortedStrings(v), sortedStrings(got[k])) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(v, got[k]) {
			return false
		}
	}
	return true
}

func sortedStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, s := range l {
			out = append(out, fmt.Sprint(s))
		}
	}
	slices.Sort(out)
	return out
}

// trustDiffs compares a run with an expected file and returns the
// differences: alerts one to one on the fields the file names; alerts
// with one label in one incident and different labels in different ones;
// an incident's last incident line names it whole (detectors are those of
// its alerts); the summary's counts.
func trustDiffs(want []map[string]any, r result) []string {
	var diffs []string
	show := func(m map[string]any) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	unmatched := r.ofType("alert")
	ids := map[string]map[string]bool{} // label -> incident ids
	for _, w := range want {
		if w["type"] != "alert" {
			continue
		}
		i := slices.IndexFunc(unmatched, func(g map[string]any) bool { return trustMatches(w, g) })
		if i < 0 {
			diffs = append(diffs, "missing alert "+show(w))
			continue
		}
		label := fmt.Sprint(w["incident"])
		if ids[label] == nil {
			ids[label] = map[string]bool{}
		}
		ids[label][fmt.Sprint(unmatched[i]["incident"])] = true
		unmatched = slices.Delete(unmatched, i, i+1)
	}
	for _, g := range unmatched {
		diffs = append(diffs, fmt.Sprintf("unexpected alert %v %v %v: %v", g["detector"], g["subject"], g["severity"], g["message"]))
	}
	owner := map[string]string{}
	for label, set := range ids {
		if len(set) > 1 {
			diffs = append(diffs, fmt.Sprintf("incident %s: its alerts are in %d incidents", label, len(set)))
		}
		for id := range set {
			if o, ok := owner[id]; ok && o != label {
				diffs = append(diffs, fmt.Sprintf("incidents %s and %s are one (%s)", o, label, id))
			}
			owner[id] = label
		}
	}
	last := map[string]map[string]any{}
	dets := map[string][]any{}
	for _, l := range r.lines {
		id := fmt.Sprint(l["incident"])
		switch l["type"] {
		case "incident":
			last[id] = l
		case "alert":
			if !slices.Contains(dets[id], l["detector"]) {
				dets[id] = append(dets[id], l["detector"])
			}
		}
	}
	for _, w := range want {
		if w["type"] != "incident" {
			continue
		}
		for id := range ids[fmt.Sprint(w["incident"])] {
			g := map[string]any{}
			for k, v := range last[id] {
				g[k] = v
			}
			if last[id] == nil || !trustMatches(w, g) || !sameSet(dets[id], g["detectors"]) {
				diffs = append(diffs, fmt.Sprintf("incident %v: want %s, got %s", w["incident"], show(w), show(g)))
			}
		}
	}
	for _, w := range want {
		if w["type"] != "summary" {
			continue
		}
		if s := r.ofType("summary"); len(s) != 1 || !trustMatches(w, s[0]) {
			diffs = append(diffs, fmt.Sprintf("summary: want %s, got %v", show(w), s))
		}
	}
	return diffs
}

// sameSet reports whether the JSON list b holds exactly the values of a.
func sameSet(a []any, b any) bool {
	l, _ := b.([]any)
	if len(l) != len(a) {
		return false
	}
	for _, v := range a {
		if !slices.Contains(l, v) {
			return false
		}
	}
	return true
}
