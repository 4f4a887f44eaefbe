//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// fdLimit is this process's limit on open file descriptors (the soft
// RLIMIT_NOFILE, which Go raises to the hard limit at start) and the
// number open now; ok is false when either is unknown.
func fdLimit() (limit, open int, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0, 0, false
	}
	fds, err := os.ReadDir("/dev/fd")
	if err != nil {
		return int(rl.Cur), 16, true
	}
	return int(rl.Cur), len(fds), true
}

// Sockets one domain in flight may hold at once: its probe exchanges
// (check.Config.Parallel) and a few more for discovery, DNSSEC keys and
// the --resolver; and descriptors kept free for everything else (input
// files, the output, evidence, the runtime).
const (
	fdsPerDomainExtra = 8
	fdsReserve        = 16
)

// capConcurrency lowers --concurrency so that the domains in flight cannot
// use up the file descriptors (docs/limits.md), and says so on stderr.
// A socket that cannot be opened is this host's failure: it never becomes
// a finding (model.ErrLocal), but the domain it hit goes unjudged.
func capConcurrency(concurrency, parallel int, stderr io.Writer) int {
	limit, open, ok := fdLimit()
	if !ok {
		return concurrency
	}
	per := parallel + fdsPerDomainExtra
	room := limit - open - fdsReserve
	most := max(1, room/per)
	if most >= concurrency {
		return concurrency
	}
	fmt.Fprintf(stderr, "caaprobe: note: --concurrency %d lowered to %d: the limit on open files (ulimit -n) is %d, %d are open, and each domain in flight may hold up to %d sockets; raise ulimit -n to check more domains at once\n",
		concurrency, most, limit, open, per)
	if limit-open < per {
		fmt.Fprintf(stderr, "caaprobe: warning: even one domain may run out of file descriptors; a domain whose sockets cannot be opened is reported as error (local error on this host), not judged\n")
	}
	return most
}
