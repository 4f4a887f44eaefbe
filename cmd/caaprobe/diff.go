package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/caaprobe/caaprobe/probes/runs"
)

// runDiff compares two runs of check --format json, domain by domain, and
// exits 3 when something got worse: the job a cron entry runs after each
// check (docs/history.md).
func runDiff(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output format: table, json (JSON Lines, one change per line) or markdown")
	expiry := fs.Duration("expiry-warning", 24*time.Hour, "report RRSIGs in the newer run that expire within this time of its check (0: off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: caaprobe diff [flags] OLD NEW   (JSON Lines of check --format json; - for stdin)")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	readerGC()
	switch *format {
	case "table", "json", "markdown":
	default:
		return usageErr("--format %q: want table, json or markdown", *format)
	}
	if fs.NArg() != 2 {
		return usageErr("diff: want two files, OLD and NEW (cat the shards of a run into one)")
	}
	if *expiry < 0 {
		return usageErr("--expiry-warning must not be negative")
	}
	bad := 0
	onBad := func(file string, line int, err error) {
		bad++
		fmt.Fprintf(stderr, "caaprobe: %s:%d: skipped: %v\n", file, line, err)
	}
	old, err := runs.Open(fs.Args()[:1], stdin, onBad)
	if err != nil {
		return usageErr("diff: %v", err)
	}
	defer old.Close()
	cur, err := runs.Open(fs.Args()[1:], stdin, onBad)
	if err != nil {
		return usageErr("diff: %v", err)
	}
	defer cur.Close()
	w := &runs.DiffWriter{W: stdout, Format: *format}
	st, err := runs.Diff(old, cur, runs.DiffOptions{ExpiryWarning: *expiry}, func(domain string, cs []runs.Change) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return w.Write(domain, cs)
	})
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	if err := w.Finish(st); err != nil {
		return err
	}
	if *format == "json" {
		fmt.Fprintln(stderr, "caaprobe diff:", st)
	}
	switch {
	case st.Worse > 0:
		return &exitError{exitFindings, ""}
	case bad > 0:
		return &exitError{exitUsage, fmt.Sprintf("%d line(s) skipped", bad)}
	}
	return nil
}

// readerGC lowers the soft memory limit for report and diff unless the
// user set GOMEMLIMIT: their live heap is the index (about 25 MB for two
// runs of 100,000 domains) and the rest is the garbage of decoding one
// line at a time, which need not pile up to check's 80 MiB. Measured in
// docs/history.md: the same speed, 30 MB less peak RSS.
func readerGC() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}
