package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rebindwatch/rebindwatch/config"
	"github.com/rebindwatch/rebindwatch/keys"
)

// runFingerprint reads one key on stdin and prints its fingerprint, with the
// salt of the config when one is found, so a team can look a key up in
// exports without sharing the key.
func runFingerprint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fingerprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfgPath string
	fs.StringVar(&cfgPath, "c", "", "TOML config whose [keys] salt to use")
	fs.StringVar(&cfgPath, "config", "", "TOML config whose [keys] salt to use")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: rebindwatch fingerprint [-c FILE] < keyfile\nReads one API key on stdin and prints its 12-hex-digit fingerprint.")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := config.Load(config.Find(cfgPath))
	if err != nil {
		fmt.Fprintf(stderr, "rebindwatch: %v\n", err)
		return exitUsage
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "rebindwatch: reading the key on stdin: %v\n", err)
		return exitFailure
	}
	key := strings.TrimRight(line, "\r\n")
	if key == "" {
		fmt.Fprintln(stderr, "rebindwatch: no key on stdin (try: echo -n \"$KEY\" | rebindwatch fingerprint)")
		return exitUsage
	}
	fmt.Fprintln(stdout, keys.Fingerprint(cfg.Keys.Salt, key))
	return exitOK
}
