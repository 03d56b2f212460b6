// Command rebindwatch watches HTTP traffic to an API protected by API keys
// and flags the signs of DNS rebinding and key abuse: a Host that is not one
// of the server's names, a foreign Origin, a burst of requests on one key,
// one key under many hostnames or from many clients. It reads pcap/pcapng
// captures, a live interface, or access logs, and shows a dashboard or
// writes JSON lines.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rebindwatch/rebindwatch/allowimport"
	"github.com/rebindwatch/rebindwatch/detect"
	"github.com/rebindwatch/rebindwatch/keys"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in flags, config or input files: exit 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// run is main without the process: testable, and every exit path returns.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "fingerprint" {
		return runFingerprint(args[1:], stdin, stdout, stderr)
	}
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "rebindwatch: %v\n", err)
		fmt.Fprintln(stderr, "Run 'rebindwatch --help' for usage.")
		return exitUsage
	}
	if opts.version {
		fmt.Fprintln(stdout, "rebindwatch", version)
		return exitOK
	}
	if opts.printLogCfg != "" {
		text, err := logsrc.PrintLogConfig(opts.printLogCfg)
		if err != nil {
			fmt.Fprintf(stderr, "rebindwatch: --print-log-config: %v\n", err)
			return exitUsage
		}
		fmt.Fprint(stdout, text)
		return exitOK
	}
	if opts.importAllow != "" {
		r, err := allowimport.Import(opts.importAllow)
		if err != nil {
			fmt.Fprintf(stderr, "rebindwatch: %v\n", err)
			return exitUsage
		}
		fmt.Fprint(stdout, r.TOML(opts.importAllow))
		return exitOK
	}
	err = runWatch(opts, stdin, stdout, stderr)
	if err == nil {
		return exitOK
	}
	// An error may quote input (the first line of a log no format reads):
	// no key and no control character may reach the terminal through it.
	fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(detect.RedactSecrets(err.Error(), keys.DefaultConfig().Query)))
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}
