package main

// Flag parsing without a process; what the binary does with the flags is
// tested end to end in e2e/.

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rebindwatch/rebindwatch/app"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{
		"a.log", "--no-tui", "-c", "rw.toml", "b.log", "--allow-host", "x.test", "--allow-host=*.y.test",
		"--speed", "2", "--", "--not-a-flag.log", "-r",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Flags may follow positional arguments; "--" makes the rest positional.
	if want := []string{"a.log", "b.log", "--not-a-flag.log", "-r"}; !slices.Equal(o.Logs, want) {
		t.Errorf("logs %q, want %q", o.Logs, want)
	}
	if !o.NoTUI || o.Config != "rw.toml" || o.Speed != 2 || !o.SpeedSet || o.Emit != "alert,summary" {
		t.Errorf("options %+v", o.Options)
	}
	if want := []string{"x.test", "*.y.test"}; !slices.Equal(o.AllowHosts, want) {
		t.Errorf("allowed hosts %q, want %q (repeatable)", o.AllowHosts, want)
	}
	// Short and long spellings set the same option.
	for _, pair := range [][2]string{{"-r", "--read"}, {"-o", "--output"}, {"-i", "--interface"}, {"-f", "--filter"}, {"-c", "--config"}} {
		s, errS := parseFlags([]string{pair[0], "v"}, io.Discard)
		l, errL := parseFlags([]string{pair[1], "v"}, io.Discard)
		if errS != nil || errL != nil || !slices.Equal([]string{s.Read, s.Output, s.Interface, s.Filter, s.Config}, []string{l.Read, l.Output, l.Interface, l.Filter, l.Config}) {
			t.Errorf("%s and %s differ: %+v %+v (%v %v)", pair[0], pair[1], s.Options, l.Options, errS, errL)
		}
	}
	if o, _ := parseFlags([]string{"-r", "c.pcap"}, io.Discard); o.SpeedSet {
		t.Error("--speed counted as given when it was not: its default depends on the source")
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{{"--speed", "-1"}, {"--speed", "fast"}, {"--no-such-flag"}, {"-r"}} {
		_, err := parseFlags(args, io.Discard)
		var ue app.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, err)
		}
	}
	var help strings.Builder
	if _, err := parseFlags([]string{"x.log", "-h"}, &help); !errors.Is(err, errHelp) || !strings.Contains(help.String(), "Exit status:") {
		t.Errorf("-h: %v, %d bytes of help", err, help.Len())
	}
}
