package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkersChangeNothing runs the binary on every recorded capture, and
// on the demo, with one core (one goroutine parses everything) and with
// three (the capture is parsed on three shards, merged before the engine):
// every JSON line (alerts, incidents, requests, DNS answers, the summary)
// is the same, byte for byte and in the same order.
func TestWorkersChangeNothing(t *testing.T) {
	type run struct{ name, config string }
	var runs []run
	for dir, config := range map[string]string{
		"rec": "rec/rebindwatch.toml", "capture": "rec/rebindwatch.toml", "trust": "trust/trust.toml",
		"wire": "wire/wire_any.toml", "hostile": "hostile/rebindwatch.toml", "rebind": "rebind/rebindwatch.toml",
	} {
		for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
			m, _ := filepath.Glob(filepath.Join("../testdata", dir, pat))
			for _, f := range m {
				runs = append(runs, run{f, "../testdata/" + config})
			}
		}
	}
	if len(runs) < 40 {
		t.Fatalf("only %d captures found", len(runs))
	}
	runs = append(runs, run{"demo", ""})
	var lines int
	for _, r := range runs {
		t.Run(strings.TrimPrefix(r.name, "../testdata/"), func(t *testing.T) {
			args := []string{"--no-tui", "--speed", "0", "--emit", "alert,incident,request,dns,summary"}
			if r.config != "" {
				args = append(args, "-c", r.config, "-r", r.name)
			} else {
				args = append(args, "--demo")
			}
			one := runWith(t, "GOMAXPROCS=1", args...)
			three := runWith(t, "GOMAXPROCS=3", args...)
			if !bytes.Equal(one, three) {
				a, b := strings.Split(string(one), "\n"), strings.Split(string(three), "\n")
				for i := range max(len(a), len(b)) {
					if i >= len(a) || i >= len(b) || a[i] != b[i] {
						t.Fatalf("line %d differs:\n 1 core:  %.400s\n 3 cores: %.400s", i+1, at(a, i), at(b, i))
					}
				}
			}
			lines += bytes.Count(one, []byte("\n"))
		})
	}
	t.Logf("%d runs, %d lines compared", len(runs), lines)
}

// runWith runs the binary to its end with env added to its environment
// and returns its stdout, which must hold no key.
func runWith(t *testing.T, env string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", env, args, err, errb.String())
	}
	noKeys(t, "stdout", out.String())
	return out.Bytes()
}
