package main

import (
	"fmt"
)

// Exit statuses, for scripts: one meaning each (README, docs/bulk.md).
const (
	// exitOK: every domain checked passes.
	exitOK = 0
	// exitInternal: caaprobe itself failed: the network blocks or
	// intercepts DNS (preflight), a report or evidence could not be
	// written, an interrupt.
	exitInternal = 1
	// exitUsage: bad usage, or input of which nothing could be checked.
	exitUsage = 2
	// exitFindings: a server fault, or a CAA policy that forbids the --ca
	// or varies with the server asked.
	exitFindings = 3
	// exitIncomplete: some domain could not be checked (deadline,
	// discovery error) and none failed.
	exitIncomplete = 4
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
