//go:build !unix

package main

import "io"

// capConcurrency leaves --concurrency as given: without RLIMIT_NOFILE
// there is no limit to read (see fdlimit.go).
func capConcurrency(concurrency, parallel int, stderr io.Writer) int { return concurrency }
