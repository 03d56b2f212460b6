package cmdsrc

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for docker and podman: no
// container engine runs here, so a test puts a link named docker (or
// podman) to this binary first on PATH, and the binary, called by that
// name, replays a recorded `docker logs --timestamps` (fakeEngine).
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "docker", "podman":
		os.Exit(fakeEngine(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeEngine answers `logs --timestamps [--follow] [--since T] [--tail 0]
// -- NAME` from $FAKE_ENGINE_DIR/NAME.stdout and NAME.stderr as the engine
// would: lines at or after --since (docker's --since includes it), the
// container's stdout on stdout and its stderr on stderr. It models a
// container that restarts: the Nth call ($FAKE_ENGINE_DIR/calls counts
// them) shows only the lines up to the Nth time in $FAKE_ENGINE_CUTS
// (comma-separated RFC 3339) and exits, as `docker logs --follow` does
// when the container stops; once past the cuts it shows everything and,
// following, waits for SIGTERM. An unknown NAME gets the daemon's error.
func fakeEngine(args []string) int {
	dir := os.Getenv("FAKE_ENGINE_DIR")
	var since time.Time
	follow := false
	name := ""
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--follow":
			follow = true
		case "--since":
			i++
			since, _ = time.Parse(time.RFC3339Nano, args[i])
		case "--":
			name = args[i+1]
		}
	}
	calls := 0
	if b, err := os.ReadFile(filepath.Join(dir, "calls")); err == nil {
		calls, _ = strconv.Atoi(string(b))
	}
	os.WriteFile(filepath.Join(dir, "calls"), []byte(strconv.Itoa(calls+1)), 0o644)
	var until time.Time
	if cuts := strings.Split(os.Getenv("FAKE_ENGINE_CUTS"), ","); calls < len(cuts) && cuts[0] != "" {
		until, _ = time.Parse(time.RFC3339Nano, cuts[calls])
	}
	if _, err := os.Stat(filepath.Join(dir, name+".stdout")); err != nil {
		fmt.Fprintf(os.Stderr, "Error response from daemon: No such container: %s\n", name)
		return 1
	}
	for _, s := range []struct {
		file string
		to   *os.File
	}{{name + ".stdout", os.Stdout}, {name + ".stderr", os.Stderr}} {
		f, err := os.Open(filepath.Join(dir, s.file))
		if err != nil {
			return 1
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			ts, _, _ := strings.Cut(sc.Text(), " ")
			t, _ := time.Parse(time.RFC3339Nano, ts)
			if t.Before(since) || !until.IsZero() && t.After(until) {
				continue
			}
			fmt.Fprintln(s.to, sc.Text())
		}
		f.Close()
	}
	if follow && until.IsZero() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
	}
	return 0
}
