// Package table is the terminal sink: each domain's matrix, findings and
// explanation (report.WriteTable), a domain judged across perspectives,
// and the changes between two runs, all on one writer.
package table

import (
	"fmt"
	"io"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Options shape the table.
type Options struct {
	Color       bool
	Width       int // 0: no wrapping
	OnlyFailing bool
}

// Sink writes tables to w.
type Sink struct {
	w   io.Writer
	opt Options
}

// New returns the table sink.
func New(w io.Writer, opt Options) *Sink { return &Sink{w: w, opt: opt} }

// Domain writes one domain's table; a vantage label is added to its
// source, so tables from several vantage points can be told apart.
func (s *Sink) Domain(d *model.Domain, vantage string) error {
	if vantage != "" {
		c := *d
		c.Source = report.JoinSource(c.Source, "from "+vantage)
		d = &c
	}
	return report.WriteTable(s.w, d, report.TableOptions{Color: s.opt.Color, Width: s.opt.Width, OnlyFailing: s.opt.OnlyFailing})
}

// MPIC writes the multi-perspective view of one domain.
func (s *Sink) MPIC(m *runs.MPIC) error { return runs.WriteMPICText(s.w, m) }

// Changes writes one domain's changes between two runs: a heading (with
// WORSE when one is for the worse) and a line per change.
func (s *Sink) Changes(domain string, cs []runs.Change) error {
	worse := false
	for _, c := range cs {
		worse = worse || c.Worse
	}
	head := report.Clean(domain)
	if worse {
		head += "  WORSE"
	}
	fmt.Fprintln(s.w, head)
	for _, c := range cs {
		mark := " "
		if c.Worse {
			mark = "✗"
		}
		var parts []string
		if c.Server != "" {
			parts = append(parts, report.Clean(c.Server))
		} else if c.Zone != "" && c.Kind != runs.ChangeFindingNew && c.Kind != runs.ChangeFindingGone {
			parts = append(parts, "zone "+report.Clean(c.Zone))
		}
		if c.Old != "" || c.New != "" {
			switch c.Kind {
			case runs.ChangeFindingNew, runs.ChangeFindingGone, runs.ChangeRRSIGExpiring:
			default:
				parts = append(parts, fmt.Sprintf("%s → %s", orNone(report.Clean(c.Old)), orNone(report.Clean(c.New))))
			}
		}
		if d := c.CodeDetail(); d != "" {
			parts = append(parts, report.Clean(d))
		}
		if _, err := fmt.Fprintf(s.w, "  %s %-15s %s\n", mark, c.Kind, strings.Join(parts, "  ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(s.w)
	return err
}

// DiffDone writes the diff's counts.
func (s *Sink) DiffDone(st runs.DiffStats) error {
	_, err := fmt.Fprintln(s.w, st)
	return err
}

// Close writes nothing: every table is written as it comes.
func (s *Sink) Close() error { return nil }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
