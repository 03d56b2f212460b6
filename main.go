// Command rebindwatch watches HTTP traffic to an API protected by API keys
// and flags the signs of DNS rebinding and key abuse: a Host that is not one
// of the server's names, a foreign Origin, a burst of requests on one key,
// one key under many hostnames or from many clients. It reads pcap/pcapng
// captures, a live interface, or access logs, and shows a dashboard or
// writes JSON lines.
//
// This package holds the flags and the exit codes; package app runs the rest.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/rebindwatch/rebindwatch/allowimport"
	"github.com/rebindwatch/rebindwatch/app"
	"github.com/rebindwatch/rebindwatch/logsrc"
	"github.com/rebindwatch/rebindwatch/sanitize"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// gcPercent is the collector's setting unless GOGC says otherwise. Almost
// all of what rebindwatch keeps is its bounded tables, and it makes little
// garbage besides (request arrays are reused), so collecting when the heap
// has grown by half, not doubled, costs little time: the 1M-key floods
// peak at 114-116 MiB instead of 133-158 MiB.
const gcPercent = 50

// exit codes
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

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
		fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(err.Error()))
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
			fmt.Fprintf(stderr, "rebindwatch: --print-log-config: %s\n", sanitize.String(err.Error()))
			return exitUsage
		}
		fmt.Fprint(stdout, text)
		return exitOK
	}
	if opts.importAllow != "" {
		r, err := allowimport.Import(opts.importAllow)
		if err != nil {
			fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(err.Error()))
			return exitUsage
		}
		fmt.Fprint(stdout, r.TOML(opts.importAllow))
		return exitOK
	}
	opts.Version = version
	err = app.Run(context.Background(), opts.Options, stdout, stderr)
	if err == nil {
		return exitOK
	}
	// app hides key material in its errors; what is left may still quote
	// input, so no control character may reach the terminal through it.
	fmt.Fprintf(stderr, "rebindwatch: %s\n", sanitize.String(err.Error()))
	var ue app.UsageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}
