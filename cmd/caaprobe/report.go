package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/spf13/cobra"
)

// newReportCmd renders JSON Lines written by check --format json again,
// with no network: one or many files (the shards of a run, in any order,
// or the runs of several vantage points), sorted by domain.
func newReportCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{Use: "report [flags] FILE... (- for stdin)", Short: "render saved JSON Lines again (table, markdown, html, json); --perspectives for several vantages"}
	fs := cmd.Flags()
	var out outputFlags
	out.register(fs, outputFlagsUse{
		formatHelp:  "output format: table, markdown, html or json (the lines as read, sorted by domain)",
		outputHelp:  "write the report to `FILE` instead of standard output (replaced whole, or left as it was)",
		summaryHelp: "add the provider view across all files (findings by nameserver and by provider; always at the end of a table of more than 20 domains)",
		color:       true,
	})
	onlyFailing := fs.Bool("only-failing", false, "show only domains that fail (with --perspectives: whose CA outcome is not pass)")
	persp := fs.Bool("perspectives", false, "judge the files as runs from several vantage points, as a CA's multi-perspective check does")
	primary := fs.String("primary", "", "with --perspectives: the `LABEL` of the primary perspective (default: the vantage of the first file)")
	cmd.RunE = func(cmd *cobra.Command, args []string) (err error) {
		ctx, stdin, stdout, stderr := env.ctx, env.stdin, env.stdout, env.stderr
		readerGC()
		if err := out.validate(); err != nil {
			return err
		}
		if len(args) == 0 {
			return usageErr("report: give the JSON Lines files of check --format json (- for stdin)")
		}
		bad := 0
		set, err := runs.Open(args, stdin, func(file string, line int, err error) {
			bad++
			fmt.Fprintf(stderr, "caaprobe: %s:%d: skipped: %v\n", file, line, err)
		})
		if err != nil {
			return usageErr("report: %v", err)
		}
		defer set.Close()
		stdout, closeOut, err := openOutputFile(out.output, stdout, stderr)
		if err != nil {
			return err
		}
		defer closeOut(&err)
		vantages := set.Vantages()
		if out.format == "html" && len(vantages) > 1 && !*persp {
			// The page shows the perspectives view whenever it holds several
			// vantage points: it is the view that relates their sections.
			*persp = true
			fmt.Fprintf(stderr, "caaprobe: %d vantage points: the page shows the multi-perspective view (--perspectives)\n", len(vantages))
		}
		if *primary != "" && !*persp {
			return usageErr("--primary only applies with --perspectives (or --format html of several vantage points)")
		}
		if *persp {
			if *primary == "" && len(set.Entries) > 0 {
				*primary = firstVantage(set)
			}
			if len(set.Entries) > 0 && !slices.Contains(vantages, *primary) {
				return usageErr("--primary %q: the files' vantages are %s", *primary, report.Clean(strings.Join(vantages, " ")))
			}
			if len(vantages) < 3 {
				fmt.Fprintf(stderr, "caaprobe: only %d vantage point(s) (%s): a CA checks from a primary and at least 2 remotes\n", len(vantages), report.Clean(strings.Join(vantages, " ")))
			}
		}
		isFailing := func(d *model.Domain) bool {
			return d.Verdict == model.VerdictFail || d.Verdict == model.VerdictError
		}
		opt := render.Options{OnlyFailing: *onlyFailing, Title: "caaprobe report", Generated: time.Now(), Inputs: args}
		if *onlyFailing {
			opt.Show = isFailing // the provider view still counts every domain
		}
		sink, err := out.sink(stdout, stderr, opt)
		if err != nil {
			return err
		}
		several := len(vantages) > 1
		failing := 0
		err = set.Groups(func(domain string, es []runs.Entry) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var recs []*runs.Record
			for _, e := range es {
				rec, err := set.Read(e)
				if err != nil {
					bad++
					fmt.Fprintf(stderr, "caaprobe: %v (skipped)\n", err)
					continue
				}
				recs = append(recs, rec)
			}
			if !*persp {
				for _, rec := range recs {
					if isFailing(rec.Domain) {
						failing++
					}
					r := render.Record{Domain: rec.Domain, Raw: rec.Raw,
						// The version and vantage the run recorded, so a report
						// rendered again still tells the provider where it came from.
						Run: &model.Run{Version: rec.Version, Vantage: &rec.Vantage}}
					if several {
						r.Vantage = rec.Vantage.Label
					}
					if err := sink.Domain(r); err != nil {
						return err
					}
				}
				return nil
			}
			for _, rec := range recs {
				render.Count(sink, rec.Domain)
			}
			m := runs.Judge(domain, lastPerVantage(recs), *primary, vantages)
			if m.Outcome == runs.MPICFail {
				failing++
			}
			if *onlyFailing && m.Outcome == runs.MPICPass {
				return nil
			}
			return sink.MPIC(m)
		})
		if err != nil {
			sink.Close()
			if errors.Is(err, context.Canceled) {
				return &exitError{exitInternal, "interrupted"}
			}
			return fmt.Errorf("writing the report: %w", err)
		}
		if err := sink.Close(); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		if len(set.Entries) > 0 {
			markComplete(stdout)
		}
		switch {
		case len(set.Entries) == 0:
			return usageErr("report: no caaprobe results in %v", args)
		case failing > 0:
			return &exitError{exitFindings, ""}
		case bad > 0:
			return &exitError{exitUsage, fmt.Sprintf("%d line(s) skipped", bad)}
		}
		return nil
	}
	return cmd
}

// firstVantage is the vantage of the first line of the first file.
func firstVantage(set *runs.Set) string {
	first := set.Entries[0]
	for _, e := range set.Entries[1:] {
		if e.File < first.File || (e.File == first.File && e.Line < first.Line) {
			first = e
		}
	}
	return set.Vantage(first)
}

// lastPerVantage keeps the last record of each vantage.
func lastPerVantage(recs []*runs.Record) []*runs.Record {
	var out []*runs.Record
	for _, r := range recs {
		if n := len(out); n > 0 && out[n-1].Vantage.Label == r.Vantage.Label {
			out[n-1] = r
			continue
		}
		out = append(out, r)
	}
	return out
}
