// Command caaprobe asks every authoritative server of a domain directly for
// CAA, in every spelling and over every transport, and shows which server
// makes a CA's CAA check fail. See README.md and docs/.

// Validators (Unbound) still verify RSA zone keys under 1024 bits, which
// Go refuses by default: see docs/dnssec.md.
//
//go:debug rsa1024min=0
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// tuneGC trades a little memory for speed unless the user chose GOGC: a
// bulk run's live heap is small (a few tens of MB: the window of domains
// in flight and the bounded caches, see docs/bulk.md) but it allocates
// fast, so collecting at 200% growth halves the GC's work. No memory limit
// is set: the live heap no longer grows with the input, and a fixed limit
// near it made the collector run without pause. A user's GOMEMLIMIT is
// the runtime's own business.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// exitCode turns run's error into the documented exit status: 0 clean,
// 1 the tool itself failed, 2 bad usage or input, 3 findings.
func exitCode(err error, stderr *os.File) int {
	if err == nil {
		return 0
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "caaprobe:", msg)
		}
		return coded.ExitCode()
	}
	fmt.Fprintln(stderr, "caaprobe:", err)
	return 1
}
