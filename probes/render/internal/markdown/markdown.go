// Package markdown is the support-ticket sink: one evidence report per
// domain (evidence.WriteMarkdownRun, the report.md of a bundle), the
// multi-perspective view as a section, and the changes between two runs as
// one table.
package markdown

import (
	"fmt"
	"io"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Sink writes Markdown to w.
type Sink struct {
	w    io.Writer
	rows int // change rows written
}

// New returns the Markdown sink.
func New(w io.Writer) *Sink { return &Sink{w: w} }

// Domain writes one domain's report with the run it came from; a vantage
// label is added to its source.
func (s *Sink) Domain(d *model.Domain, run *model.Run, vantage string) error {
	if vantage != "" {
		c := *d
		c.Source = report.JoinSource(c.Source, "from "+vantage)
		d = &c
	}
	return evidence.WriteMarkdownRun(s.w, d, run)
}

// MPIC writes the multi-perspective section of one domain.
func (s *Sink) MPIC(m *runs.MPIC) error { return runs.WriteMPICMarkdown(s.w, m) }

// Changes adds one domain's changes to the table, which starts with the
// first change.
func (s *Sink) Changes(_ string, cs []runs.Change) error {
	if s.rows == 0 {
		fmt.Fprintf(s.w, "| | domain | change | where | was | now | detail |\n|---|---|---|---|---|---|---|\n")
	}
	for _, c := range cs {
		s.rows++
		mark := ""
		if c.Worse {
			mark = "**worse**"
		}
		where := c.Server
		if where == "" {
			where = c.Zone
		}
		if _, err := fmt.Fprintf(s.w, "| %s | %s | %s | %s | %s | %s | %s |\n", mark, report.MarkdownCell(c.Domain), c.Kind, report.MarkdownCell(where),
			report.MarkdownCell(c.Old), report.MarkdownCell(c.New), report.MarkdownCell(c.CodeDetail())); err != nil {
			return err
		}
	}
	return nil
}

// DiffDone ends the table with the counts, or says there was no change.
func (s *Sink) DiffDone(st runs.DiffStats) error {
	if s.rows == 0 {
		_, err := fmt.Fprintln(s.w, "No changes.")
		return err
	}
	_, err := fmt.Fprintf(s.w, "\n%s\n", st)
	return err
}

// Close writes nothing more.
func (s *Sink) Close() error { return nil }
