package runs

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/caaprobe/caaprobe/probes/report"
)

// DiffStats count what a diff found.
type DiffStats struct {
	Old, New     int // domains in each run
	Changed      int // domains with any change
	Worse        int // domains with a change for the worse
	Duplicates   int // domains that appear more than once in one run (the last line counts)
	Changes      int
	WorseChanges int
}

// Diff walks both sets in domain order (both are sorted by their index)
// and calls emit with each domain's changes, reading one line of each run
// at a time.
func Diff(old, new *Set, opt DiffOptions, emit func(domain string, cs []Change) error) (DiffStats, error) {
	var st DiffStats
	oe, ne := lastPerDomain(old, &st), lastPerDomain(new, &st)
	st.Old, st.New = len(oe), len(ne)
	i, j := 0, 0
	for i < len(oe) || j < len(ne) {
		var o, n *Entry
		switch {
		case j >= len(ne) || (i < len(oe) && oe[i].Domain < ne[j].Domain):
			o = &oe[i]
			i++
		case i >= len(oe) || ne[j].Domain < oe[i].Domain:
			n = &ne[j]
			j++
		default:
			o, n = &oe[i], &ne[j]
			i++
			j++
		}
		var or, nr *Record
		var err error
		if o != nil {
			if or, err = old.Read(*o); err != nil {
				return st, err
			}
		}
		if n != nil {
			if nr, err = new.Read(*n); err != nil {
				return st, err
			}
		}
		cs := Compare(or, nr, opt)
		if len(cs) == 0 {
			continue
		}
		st.Changed++
		st.Changes += len(cs)
		worse := false
		for _, c := range cs {
			if c.Worse {
				worse = true
				st.WorseChanges++
			}
		}
		if worse {
			st.Worse++
		}
		if err := emit(cs[0].Domain, cs); err != nil {
			return st, err
		}
	}
	return st, nil
}

// lastPerDomain keeps one entry per domain: the last line of the run
// that names it (several vantages in one file are a job for report
// --perspectives, not for diff).
func lastPerDomain(s *Set, st *DiffStats) []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if len(out) > 0 && out[len(out)-1].Domain == e.Domain {
			out[len(out)-1] = e
			st.Duplicates++
			continue
		}
		out = append(out, e)
	}
	return out
}

// DiffWriter renders changes as they come: "table" (a block per domain),
// "json" (one Change per line) or "markdown" (one table).
type DiffWriter struct {
	W      io.Writer
	Format string
	rows   int
}

// Write renders one domain's changes.
func (w *DiffWriter) Write(domain string, cs []Change) error {
	switch w.Format {
	case "json":
		enc := json.NewEncoder(w.W)
		for _, c := range cs {
			if err := enc.Encode(c); err != nil {
				return err
			}
		}
		return nil
	case "markdown":
		if w.rows == 0 {
			fmt.Fprintf(w.W, "| | domain | change | where | was | now | detail |\n|---|---|---|---|---|---|---|\n")
		}
		for _, c := range cs {
			w.rows++
			mark := ""
			if c.Worse {
				mark = "**worse**"
			}
			where := c.Server
			if where == "" {
				where = c.Zone
			}
			if _, err := fmt.Fprintf(w.W, "| %s | %s | %s | %s | %s | %s | %s |\n", mark, mdCell(c.Domain), c.Kind, mdCell(where),
				mdCell(c.Old), mdCell(c.New), mdCell(codeDetail(c))); err != nil {
				return err
			}
		}
		return nil
	}
	worse := false
	for _, c := range cs {
		worse = worse || c.Worse
	}
	head := report.Clean(domain)
	if worse {
		head += "  WORSE"
	}
	fmt.Fprintln(w.W, head)
	for _, c := range cs {
		mark := " "
		if c.Worse {
			mark = "✗"
		}
		var parts []string
		if c.Server != "" {
			parts = append(parts, report.Clean(c.Server))
		} else if c.Zone != "" && c.Kind != ChangeFindingNew && c.Kind != ChangeFindingGone {
			parts = append(parts, "zone "+report.Clean(c.Zone))
		}
		if c.Old != "" || c.New != "" {
			switch {
			case c.Kind == ChangeFindingNew:
			case c.Kind == ChangeFindingGone:
			case c.Kind == ChangeRRSIGExpiring:
			default:
				parts = append(parts, fmt.Sprintf("%s → %s", orNone(report.Clean(c.Old)), orNone(report.Clean(c.New))))
			}
		}
		if d := codeDetail(c); d != "" {
			parts = append(parts, report.Clean(d))
		}
		if _, err := fmt.Fprintf(w.W, "  %s %-15s %s\n", mark, c.Kind, strings.Join(parts, "  ")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w.W)
	return err
}

// Finish ends the output; for markdown with no changes it says so.
func (w *DiffWriter) Finish(st DiffStats) error {
	switch w.Format {
	case "json":
		return nil
	case "markdown":
		if w.rows == 0 {
			_, err := fmt.Fprintln(w.W, "No changes.")
			return err
		}
		_, err := fmt.Fprintf(w.W, "\n%s\n", st)
		return err
	}
	_, err := fmt.Fprintln(w.W, st)
	return err
}

func (st DiffStats) String() string {
	s := fmt.Sprintf("%d domains before, %d after: %d changed, %d worse (%d changes, %d for the worse)",
		st.Old, st.New, st.Changed, st.Worse, st.Changes, st.WorseChanges)
	if st.Duplicates > 0 {
		s += fmt.Sprintf("; %d repeated lines (the last of each domain compared)", st.Duplicates)
	}
	return s
}

func codeDetail(c Change) string {
	switch {
	case c.Code != "" && c.Kind == ChangeFindingNew:
		return fmt.Sprintf("%s (%s): %s", c.Code, c.New, c.Detail)
	case c.Code != "":
		return fmt.Sprintf("%s (%s): %s", c.Code, c.Old, c.Detail)
	}
	return c.Detail
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	s = report.Clean(s)
	r := strings.NewReplacer("|", "\\|", "\n", " ", "`", "\\`", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}
