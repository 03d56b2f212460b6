package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// rule is what one package may import of ours.
type rule struct {
	may      []string // module-relative paths; "." is the module root
	anything bool     // any package of ours (but the test kit)
}

func only(pkgs ...string) rule { return rule{may: pkgs} }

// anyOfOurs is the rule of the composition root and of tests.
func anyOfOurs() rule { return rule{anything: true} }

// rules is the allowed import graph: sources and sinks depend on the model
// (detect) and the key package, not on each other; detect on nothing of
// ours but keys; app composes everything. A package missing here fails the
// test, so a new package gets a rule on purpose. The README's "Allowed
// imports" table says the same (TestReadmeAgrees).
func rules() map[string]rule {
	sink := only("detect", "keys", "sanitize")
	return map[string]rule{
		"keys":     only("internal/cachegate"),
		"sanitize": only(),
		// Checkpoints: a keyed store that sources write through and the
		// app writes to disk; it knows nothing of what they keep.
		"state":  only(),
		"detect": only("keys"),
		"source": only("detect", "keys"),
		// Sources: not each other, not any sink.
		"capture": only("detect", "keys", "source", "state", "internal/cachegate"),
		"logsrc":  only("detect", "keys", "source", "state"),
		// Line sources: their lines go through logsrc's per-source format
		// auto-detection (logsrc.Streams, logsrc.Feeder), as a file's do.
		"syslogsrc": only("detect", "keys", "source", "logsrc", "state"),
		"cmdsrc":    only("detect", "keys", "source", "logsrc", "state"),
		// Kafka in (a source, whose raw lines go through logsrc.Feeder)
		// and out (sinks): the wire form of a normalised request and the
		// alert shapes are schema's.
		"kafka": only("detect", "keys", "logsrc", "schema", "source"),
		// Sinks: not each other, not the sources; the JSON line shapes they
		// share are a leaf of their own.
		"schema":  only("detect", "sanitize"),
		"jsonl":   only("detect", "keys", "sanitize", "schema"),
		"webhook": only("detect", "keys", "sanitize", "schema"),
		// RFC 5424 alerts: the alert identity is schema's.
		"syslogout": only("detect", "sanitize", "schema"),
		"metrics":   sink,
		"suggest":   sink,
		// The incident report reads the engine once, when asked; it is
		// no sink and needs no key rules (keys are fingerprints by then).
		"report": only("detect", "sanitize"),
		// The dashboard reads snapshots; the pacer is source's.
		"ui":          only("detect", "keys", "sanitize", "source"),
		"config":      only("detect", "keys"),
		"allowimport": only("detect", "sanitize"),
		// The composition root builds everything; main keeps the flags,
		// exit codes and the commands that print and exit.
		"app": anyOfOurs(),
		".":   only("app", "config", "keys", "logsrc", "allowimport", "sanitize"),
		// Tests and their helpers.
		"internal/testkit":         anyOfOurs(),
		"internal/testkit/dashkit": anyOfOurs(),
		"internal/archtest":        only(),
		// A leaf: the caches of keys and capture turn off during floods.
		"internal/cachegate": only(),
		"e2e":                anyOfOurs(),
		"bench":              anyOfOurs(),
		// The benchmark programs make floods and drive the binary in a
		// pty; they read recordings and run the binary, not our code.
		"bench/flood":   only(),
		"bench/latency": only(),
	}
}

// edge is one import: from imports to.
type edge struct{ from, to string }

// exceptions are imports that break the rules today. Each is debt to pay
// off; the test fails once one is gone, so the entry is deleted with it.
func exceptions() map[edge]bool {
	return map[edge]bool{}
}

// testOnly are packages for tests only: they import package testing, which
// must not be linked into the binary, so no non-test code may import them,
// whatever its rule.
func testOnly() []string { return []string{"internal/testkit", "internal/testkit/dashkit"} }

// graph lists the module's packages and the packages of ours each imports
// (outside its tests), module-relative, over every build configuration.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	module := strings.TrimSpace(goCmd(t, nil, "list", "-m"))
	// The default build, the libpcap variant (cgo) and a system other
	// than Linux: a file only one of them compiles is checked too.
	builds := []struct {
		name string
		env  []string
		args []string
	}{
		{"default", []string{"CGO_ENABLED=0"}, nil},
		{"-tags pcap", []string{"CGO_ENABLED=1"}, []string{"-tags", "pcap"}},
		{"GOOS=darwin", []string{"GOOS=darwin", "CGO_ENABLED=0"}, nil},
	}
	out := map[string][]string{}
	for _, b := range builds {
		args := append([]string{"list", "-e", "-json"}, b.args...)
		dec := json.NewDecoder(strings.NewReader(goCmd(t, b.env, append(args, module+"/...")...)))
		for {
			var p struct {
				ImportPath string
				Imports    []string
				Error      *struct{ Err string }
			}
			if err := dec.Decode(&p); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("go list (%s): %v", b.name, err)
			}
			if p.Error != nil && !strings.Contains(p.Error.Err, "build constraints exclude all Go files") {
				t.Fatalf("go list (%s): %s: %s", b.name, p.ImportPath, p.Error.Err)
			}
			from := rel(module, p.ImportPath)
			if _, ok := out[from]; !ok {
				out[from] = nil
			}
			for _, imp := range p.Imports {
				if to := rel(module, imp); to != "" && !slices.Contains(out[from], to) {
					out[from] = append(out[from], to)
				}
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("go list found %d packages: the check would check nothing", len(out))
	}
	return out
}

// rel is path relative to module ("." for the module itself), or "" for a
// package that is not ours.
func rel(module, path string) string {
	if path == module {
		return "."
	}
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r
	}
	return ""
}

func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestImportGraph fails on every import that the rules do not allow,
// naming the edge and the rule, on every package without a rule, and on
// rules and exceptions that no longer match anything.
func TestImportGraph(t *testing.T) {
	for _, v := range violations(graph(t), rules(), exceptions()) {
		t.Error(v)
	}
}

// violations checks graph g against rules rs and exceptions exc.
func violations(g map[string][]string, rs map[string]rule, exc map[edge]bool) []string {
	var out []string
	for _, from := range slices.Sorted(maps.Keys(g)) {
		r, ok := rs[from]
		if !ok {
			out = append(out, fmt.Sprintf("package %s has no import rule: add it to rules() in internal/archtest/imports_test.go and to the README's \"Allowed imports\", with the packages of ours it may import", from))
			continue
		}
		for _, to := range g[from] {
			switch {
			case slices.Contains(testOnly(), to):
				out = append(out, fmt.Sprintf("forbidden import %s -> %s: %s is for tests only (it links package testing into whatever imports it)", from, to, to))
			case r.anything || slices.Contains(r.may, to) || exc[edge{from, to}]:
			default:
				out = append(out, fmt.Sprintf("forbidden import %s -> %s: %s may import %s (README, \"Allowed imports\")", from, to, from, describe(r)))
			}
		}
	}
	for _, from := range slices.Sorted(maps.Keys(rs)) {
		if _, ok := g[from]; !ok {
			out = append(out, fmt.Sprintf("rules() has a rule for %s, which is no package: delete it (and its README row)", from))
		}
	}
	for e := range exc {
		if !slices.Contains(g[e.from], e.to) {
			out = append(out, fmt.Sprintf("known exception %s -> %s is gone: delete it from exceptions() in internal/archtest/imports_test.go", e.from, e.to))
		}
	}
	return out
}

// The check itself: a forbidden edge, a package without a rule, a test
// kit imported by code, a stale rule and a stale exception each fail, and
// the message names what is wrong.
func TestViolationsNameTheProblem(t *testing.T) {
	rs := rules()
	g := map[string][]string{}
	for pkg := range rs {
		g[pkg] = nil
	}
	g["detect"] = []string{"keys", "capture"}
	g["app"] = []string{"ui", "internal/testkit"}
	g["newpkg"] = nil
	delete(g, "bench")
	got := violations(g, rs, map[edge]bool{{"metrics", "webhook"}: true})
	want := []string{
		"forbidden import app -> internal/testkit: internal/testkit is for tests only",
		"forbidden import detect -> capture: detect may import only keys",
		"package newpkg has no import rule",
		"rules() has a rule for bench, which is no package",
		"known exception metrics -> webhook is gone",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
	if v := violations(map[string][]string{"app": {"ui"}}, map[string]rule{"app": anyOfOurs()}, nil); len(v) != 0 {
		t.Errorf("an allowed graph: %q", v)
	}
}

func describe(r rule) string {
	switch {
	case r.anything:
		return "anything of ours"
	case len(r.may) == 0:
		return "nothing of ours"
	}
	return "only " + strings.Join(r.may, ", ")
}

// TestReadmeAgrees: the README's "Allowed imports" table states the same
// rules as rules(), so the documentation cannot drift from what is tested.
func TestReadmeAgrees(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Allowed imports\n")
	if !ok {
		t.Fatal(`README.md has no "### Allowed imports" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	name := regexp.MustCompile("`([^`]+)`")
	readme := map[string]rule{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) != 2 {
			continue
		}
		var r rule
		switch cells[1] {
		case "anything":
			r.anything = true
		case "nothing":
		default:
			for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
				r.may = append(r.may, m[1])
			}
		}
		for _, m := range name.FindAllStringSubmatch(cells[0], -1) {
			pkg := strings.TrimSuffix(m[1], "/")
			if pkg == "main" {
				pkg = "."
			}
			readme[pkg] = r
		}
	}
	rs := rules()
	for _, pkg := range slices.Sorted(maps.Keys(rs)) {
		want := rs[pkg]
		got, ok := readme[pkg]
		switch {
		case !ok:
			t.Errorf("README's allowed imports have no row for %s (the test: %s)", pkg, describe(want))
		case got.anything != want.anything || !sameSet(got.may, want.may):
			t.Errorf("README says %s may import %s; the test says %s", pkg, describe(got), describe(want))
		}
	}
	for pkg := range readme {
		if _, ok := rs[pkg]; !ok {
			t.Errorf("README's allowed imports have a row for %s, which the test does not know", pkg)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
