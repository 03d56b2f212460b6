package cmdsrc

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/state"
)

// The source arguments this package reads, by prefix.
const (
	prefixJournal     = "journal:"      // journal:UNIT, journal: for every unit
	prefixJournalFile = "journal-file:" // journal-file:PATH, a journal file (a recording, another machine's)
	prefixDocker      = "docker:"       // docker:NAME
	prefixPodman      = "podman:"       // podman:NAME
	prefixSSH         = "ssh://"        // ssh://[user@]host[:port]/path (globs allowed), ssh://host/journal:UNIT, ssh://host/journal-file:PATH
)

// Is reports whether arg names a source of this package rather than a
// file: it starts with journal:, journal-file:, docker:, podman: or
// ssh://.
func Is(arg string) bool {
	for _, p := range []string{prefixJournal, prefixJournalFile, prefixDocker, prefixPodman, prefixSSH} {
		if strings.HasPrefix(arg, p) {
			return true
		}
	}
	return false
}

// Check reports what is wrong with arg before anything runs (an error
// wrapping ErrSpec that names it), so the command line is refused at once.
func Check(arg string) error {
	_, err := build(context.Background(), arg, Options{}, nil)
	return err
}

// Run reads the source arg names and sends batches to out until its
// command ends without Options.Follow, or ctx ends (the stop rule: what
// the command already wrote is read and handed over). Every request's
// Source is its stream's name: arg itself for one container, unit or
// file; "journal:UNIT" for each unit of "journal:"; ssh://host/FILE for
// each file of a remote glob. Run fails (wrapping ErrSpec) when arg names
// nothing it reads or its program (journalctl, docker, podman, ssh) is not
// installed; a command that fails later is retried while following, and
// what it said is in the streams' notes.
func Run(ctx context.Context, arg string, o Options, out chan<- detect.Batch) error {
	k, err := build(ctx, arg, o, out)
	if err != nil {
		return err
	}
	return run(ctx, arg, k.kind, k.streams, o)
}

// built is a source ready to run.
type built struct {
	kind    kind
	streams *logsrc.Streams
}

// build parses arg into its kind, with streams sending to out (nil when
// only checking).
func build(ctx context.Context, arg string, o Options, out chan<- detect.Batch) (built, error) {
	fail := func(why string, a ...any) (built, error) {
		return built{}, fmt.Errorf("%s: %w: %s", arg, ErrSpec, fmt.Sprintf(why, a...))
	}
	streams, err := logsrc.NewStreams(ctx, out, logsrc.StreamsOptions{
		Feeder:   logsrc.FeederOptions{Format: o.Format, Keys: o.Keys, Location: o.Location},
		Overflow: arg + " (other streams)",
		State:    followState(o),
	})
	if err != nil {
		return built{}, fmt.Errorf("%s: %w", arg, err)
	}
	b := built{streams: streams}
	switch {
	case strings.HasPrefix(arg, prefixJournalFile):
		path := strings.TrimPrefix(arg, prefixJournalFile)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() {
			return fail("not a journal file")
		}
		b.kind = &journal{name: arg, prefix: arg + ":", file: path, opts: o, streams: streams, cursor: o.Cursor}
	case strings.HasPrefix(arg, prefixJournal):
		unit := strings.TrimPrefix(arg, prefixJournal)
		if unit != "" && !unitName(unit) {
			return fail("%q is not a unit name", unit)
		}
		b.kind = &journal{name: arg, prefix: prefixJournal, unit: unit, opts: o, streams: streams, cursor: o.Cursor}
	case strings.HasPrefix(arg, prefixDocker), strings.HasPrefix(arg, prefixPodman):
		engine, name, _ := strings.Cut(arg, ":")
		if !containerName(name) {
			return fail("%q is not a container name or ID", name)
		}
		b.kind = &container{name: arg, engine: engine, target: name, opts: o, streams: streams}
	case strings.HasPrefix(arg, prefixSSH):
		t, err := parseSSH(strings.TrimPrefix(arg, prefixSSH))
		if err != nil {
			return fail("%v", err)
		}
		if file, ok := strings.CutPrefix(t.path, "/"+prefixJournalFile); ok {
			b.kind = &journal{name: arg, prefix: arg + ":", file: file, remote: sshArgv(o, t), opts: o, streams: streams, cursor: o.Cursor}
			break
		}
		if unit, ok := strings.CutPrefix(t.path, "/"+prefixJournal); ok {
			if unit != "" && !unitName(unit) {
				return fail("%q is not a unit name", unit)
			}
			b.kind = &journal{name: arg, prefix: t.base() + "/" + prefixJournal, unit: unit, remote: sshArgv(o, t),
				opts: o, streams: streams, cursor: o.Cursor}
			break
		}
		b.kind = &remoteTail{name: arg, target: t, glob: strings.ContainsAny(t.path, "*?["), opts: o, streams: streams}
	default:
		return fail("want journal:UNIT, journal-file:PATH, docker:NAME, podman:NAME or ssh://[user@]host[:port]/path")
	}
	if r, ok := b.kind.(interface{ resume(*state.Store) error }); ok {
		if err := r.resume(o.State); err != nil {
			return built{}, fmt.Errorf("%s: --state: %w", arg, err)
		}
	}
	if out != nil {
		streams.Stream(arg) // the source's state shows before its first line
	}
	return b, nil
}

// unitName reports whether s can be a systemd unit (or a glob of them):
// printable ASCII, not an option.
func unitName(s string) bool {
	if s == "" || s[0] == '-' || len(s) > maxUnit {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// containerName reports whether s is a container's name or ID as docker
// and podman allow them: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
func containerName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i, c := range []byte(s) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}
