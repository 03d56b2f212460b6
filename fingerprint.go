package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

const fingerprintUsage = "Usage: rebindwatch fingerprint [-c FILE] < keyfile\nReads one API key on stdin and prints its 12-hex-digit fingerprint."

// runFingerprint reads one key on stdin and prints its fingerprint, with the
// salt of the config when one is found, so a team can look a key up in
// exports without sharing the key.
func runFingerprint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fingerprint", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // its messages quote the arguments: printed sanitised below
	var cfgPath string
	fs.StringVar(&cfgPath, "c", "", "TOML config whose [keys] salt to use")
	fs.StringVar(&cfgPath, "config", "", "TOML config whose [keys] salt to use")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(fmt.Sprintf(format, a...)))
		return code
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, fingerprintUsage)
			return exitOK
		}
		fail(exitUsage, "fingerprint: %v", err)
		fmt.Fprintln(stderr, fingerprintUsage)
		return exitUsage
	}
	if fs.NArg() > 0 {
		fail(exitUsage, "fingerprint reads the key on stdin, not as an argument (arguments on a command line end up in shell histories)")
		fmt.Fprintln(stderr, fingerprintUsage)
		return exitUsage
	}
	cfg, err := config.Load(config.Find(cfgPath))
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	r := bufio.NewReader(io.LimitReader(stdin, 64<<10))
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return fail(exitFailure, "reading the key on stdin: %v", err)
	}
	key := strings.TrimRight(line, "\r\n")
	if key == "" {
		return fail(exitUsage, "no key on stdin (try: echo -n \"$KEY\" | rebindwatch fingerprint)")
	}
	if rest, _ := io.ReadAll(r); strings.TrimSpace(string(rest)) != "" {
		return fail(exitUsage, "more than one line on stdin: give one key per run")
	}
	fmt.Fprintln(stdout, keys.Fingerprint(cfg.Keys.Salt, key))
	return exitOK
}
