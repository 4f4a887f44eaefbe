package runs

import (
	"fmt"
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

func (st DiffStats) String() string {
	s := fmt.Sprintf("%d domains before, %d after: %d changed, %d worse (%d changes, %d for the worse)",
		st.Old, st.New, st.Changed, st.Worse, st.Changes, st.WorseChanges)
	if st.Duplicates > 0 {
		s += fmt.Sprintf("; %d repeated lines (the last of each domain compared)", st.Duplicates)
	}
	return s
}

// CodeDetail is the change's finding code with the severity it had (or
// has), and its detail; the detail alone for a change of no finding.
func (c Change) CodeDetail() string {
	switch {
	case c.Code != "" && c.Kind == ChangeFindingNew:
		return fmt.Sprintf("%s (%s): %s", c.Code, c.New, c.Detail)
	case c.Code != "":
		return fmt.Sprintf("%s (%s): %s", c.Code, c.Old, c.Detail)
	}
	return c.Detail
}
