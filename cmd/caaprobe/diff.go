package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// newDiffCmd compares two runs of check --format json, domain by domain,
// and exits 3 when something got worse: the job a cron entry runs after
// each check (docs/history.md).
func newDiffCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "diff [flags] OLD NEW", Short: "what changed between two saved runs of check --format json; exit 3 when worse"}
	fs := cmd.Flags()
	var out outputFlags
	out.register(fs, outputFlagsUse{
		formatHelp: "output format: table, json (JSON Lines, one change per line) or markdown",
		outputHelp: "write the changes to `FILE` instead of standard output (replaced whole, or left as it was)",
	})
	expiry := new(time.Duration)
	durationVar(fs, expiry, "expiry-warning", 24*time.Hour, "report RRSIGs in the newer run that expire within this time of its check (0: off) (seconds or a duration: 24h)")
	cmd.RunE = func(cmd *cobra.Command, args []string) (err error) {
		ctx, stdin, stdout, stderr := env.ctx, env.stdin, env.stdout, env.stderr
		readerGC()
		if err := out.validate(); err != nil {
			return err
		}
		if len(args) != 2 {
			return usageErr("diff: want two files, OLD and NEW (cat the shards of a run into one)")
		}
		if *expiry < 0 {
			return usageErr("--expiry-warning must not be negative")
		}
		// -o FILE is replaced only when the diff is written whole.
		stdout, closeOut, err := openOutputFile(out.output, stdout, stderr)
		if err != nil {
			return err
		}
		defer closeOut(&err)
		w, err := out.diffSink(stdout, stderr)
		if err != nil {
			return err
		}
		bad := 0
		badIn := map[string]int{}
		onBad := func(file string, line int, err error) {
			bad++
			badIn[file]++
			fmt.Fprintf(stderr, "caaprobe: %s:%d: skipped: %v\n", file, line, err)
		}
		// A file with no caaprobe result (empty, another format, another
		// schema) is refused: compared, it would list every domain of the
		// other run as gone or new.
		refuse := func(set *runs.Set, path string) error {
			if len(set.Entries) > 0 {
				return nil
			}
			name := path
			if len(set.Files) > 0 {
				name = set.Files[0].Name
			}
			why := "it is empty"
			if n := badIn[name]; n > 0 {
				why = fmt.Sprintf("none of its %d line(s) is one, see above", n)
			}
			return usageErr("diff: %s holds no caaprobe result (%s): want the JSON Lines of check --format json", report.Clean(name), why)
		}
		old, err := runs.Open(args[:1], stdin, onBad)
		if err != nil {
			return usageErr("diff: %v", err)
		}
		defer old.Close()
		if err := refuse(old, args[0]); err != nil {
			return err
		}
		cur, err := runs.Open(args[1:], stdin, onBad)
		if err != nil {
			return usageErr("diff: %v", err)
		}
		defer cur.Close()
		if err := refuse(cur, args[1]); err != nil {
			return err
		}
		st, err := runs.Diff(old, cur, runs.DiffOptions{ExpiryWarning: *expiry}, func(domain string, cs []runs.Change) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return w.Changes(domain, cs)
		})
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
		if err := w.DiffDone(st); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		markComplete(stdout)
		switch {
		case st.Worse > 0:
			return &exitError{exitFindings, ""}
		case bad > 0:
			return &exitError{exitUsage, fmt.Sprintf("%d line(s) skipped", bad)}
		}
		return nil
	}
	return cmd
}

// readerGC lowers the soft memory limit for report and diff unless the
// user set GOMEMLIMIT: their live heap is the index (about 25 MB for two
// runs of 100,000 domains) and the rest is the garbage of decoding one
// line at a time, which need not pile up to check's limit. Measured in
// docs/history.md: the same speed, 30 MB less peak RSS.
func readerGC() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
}
