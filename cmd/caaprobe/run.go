package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses, for scripts.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
	exitFindings = 3
)

// exitError carries an exit status through run's error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

func usageErr(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Sprintf(format, args...)}
}

const usage = `caaprobe asks every authoritative DNS server of a domain for CAA, the way a
certificate authority's validating resolver does, and shows which server fails.

Usage:
  caaprobe check [flags] NAME... | -f FILE | -     check domains
  caaprobe demo [flags]                            start the built-in lab and check every lab domain
  caaprobe lab [--port N]                          serve the lab until interrupted, for dig and check
  caaprobe probes                                  list the probes and finding codes
  caaprobe bench-lab [-n N] [flags]                measure throughput on a lab of N zones at one provider
  caaprobe report [flags] FILE...                  render saved JSON Lines again (table, markdown, html, json;
                                                   --summary, --only-failing, --perspectives for several vantages)
  caaprobe diff [flags] OLD NEW                    what changed between two saved runs; exit 3 when worse

Exit status: 0 all pass, 1 caaprobe failed, 2 usage or input error, 3 findings
(or a CA decision that varies with the server asked).
Run 'caaprobe check -h' for the flags of check.
`

// run is the whole program, driven by arguments and streams so tests can
// run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{exitUsage, ""}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "check":
		return runCheck(ctx, rest, stdin, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "lab":
		return runLab(ctx, rest, stdout, stderr)
	case "probes":
		return runProbes(rest, stdout, stderr)
	case "bench-lab":
		return runBenchLab(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdin, stdout, stderr)
	case "diff":
		return runDiff(ctx, rest, stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageErr("unknown command %q", cmd)
}

// parseFlags parses with ContinueOnError and turns -h and bad flags into a
// usage exit.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitError{exitOK, ""}
		}
		return &exitError{exitUsage, ""}
	}
	return nil
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
