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
// fast, so collecting at 200% growth halves the GC's work.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// limitMemory sets the collector's soft memory limit from what a run
// holds, unless the user set GOMEMLIMIT: three times the engine's
// estimate of its live heap (check.Checker.LiveEstimate, which follows
// --concurrency and the probe plan, not the input), and at least
// minMemoryLimit. GOGC=200 alone lets the heap reach three times the live
// heap, so the limit mostly caps that headroom; since it stays well above
// the live heap, the collector never runs back to back (it did with the
// fixed 80 MiB limit of earlier versions, when the live heap grew with
// the input).
func limitMemory(liveEstimate int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(max(minMemoryLimit, 3*liveEstimate))
}

// minMemoryLimit is the floor of limitMemory. The full plan at 32
// domains at once holds about 24 MB live and 10 MB of stacks, and its
// derived limit is 66 MiB; under the earlier floor of 80 MiB the runtime
// also kept 30-40 MB of free pages and the 100,000-domain run peaked at
// 100-102 MB RSS, under 66 MiB at 87 MB, at the same speed
// (docs/bulk.md).
const minMemoryLimit = 64 << 20

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
