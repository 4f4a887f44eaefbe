package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/fatih/color"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// TableOptions controls the terminal renderer.
type TableOptions struct {
	Color bool
}

// WriteTable prints the domain's matrix (one row per relevant name and
// server address, one column per probe), its findings in plain words, the
// verdict, the predicted resolver outcome and the policy line.
func WriteTable(w io.Writer, d *Domain, opt TableOptions) error {
	p := painter{on: opt.Color}
	fmt.Fprintf(w, "%s  %s  resolver outcome: %s", p.bold(Clean(d.Domain)), p.verdict(d.Verdict), p.outcome(d.Outcome))
	if d.Source != "" {
		fmt.Fprintf(w, "  (%s)", Clean(d.Source))
	}
	fmt.Fprintln(w)
	if d.Err != "" {
		fmt.Fprintf(w, "  error: %s\n\n", Clean(d.Err))
		return nil
	}
	cols := d.CoreColumns()
	header := []string{"name", "server", "address"}
	for _, c := range cols {
		header = append(header, string(c))
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(toAny(header)...)
	for _, n := range d.Names {
		for _, s := range d.Servers {
			if s.Zone != n.Zone || !s.HasName(n.Name) {
				continue
			}
			row := []string{Clean(TrimDot(n.Name)), Clean(TrimDot(s.NS)), s.Addr.String()}
			for _, c := range cols {
				row = append(row, p.cell(s.result(n.Name, c)))
			}
			if err := t.Append(toAny(row)...); err != nil {
				return err
			}
		}
		if n.Err != "" {
			row := []string{Clean(TrimDot(n.Name)), "discovery failed", "-"}
			for range cols {
				row = append(row, "-")
			}
			if err := t.Append(toAny(row)...); err != nil {
				return err
			}
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	writeInstances(w, d)
	if err := writeConformance(w, d, p); err != nil {
		return err
	}
	writeFindings(w, d, p)
	writeNames(w, d, p)
	writeResolver(w, d, p)
	fmt.Fprintf(w, "  %s\n", Clean(d.Explanation))
	if pol := d.Policy; pol != nil {
		fmt.Fprintf(w, "  policy for %s: issue %s, wildcard %s: %s\n", Clean(pol.CA), p.policy(pol.Issue), p.policy(pol.Wildcard), Clean(pol.Reason))
	}
	fmt.Fprintln(w)
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// result finds the server's result of probe id for name; apex probes are
// shown on the row of the zone's apex only.
func (s *Server) result(name string, id probes.ProbeID) *probes.Result {
	for _, r := range s.Results {
		if r.Probe == id && r.Name == name {
			return r
		}
	}
	return nil
}

// findingGroup is one code at one server for one name, with every probe
// that showed it: five probes answering NOTIMP are one line, not five.
type findingGroup struct {
	f      Finding
	probes []string
}

func groupFindings(fs []Finding) []*findingGroup {
	var groups []*findingGroup
	index := map[string]*findingGroup{}
	for _, f := range fs {
		key := strings.Join([]string{string(f.Code), f.Name, f.NS, f.Addr}, "|")
		g, ok := index[key]
		if !ok {
			g = &findingGroup{f: f}
			index[key] = g
			groups = append(groups, g)
		}
		if f.Probe != "" {
			g.probes = append(g.probes, string(f.Probe))
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		return groups[i].f.Severity == probes.SeverityFail && groups[j].f.Severity != probes.SeverityFail
	})
	return groups
}

func writeFindings(w io.Writer, d *Domain, p painter) {
	groups := groupFindings(d.Findings)
	if len(groups) == 0 {
		fmt.Fprintln(w, "  no findings")
		return
	}
	for _, g := range groups {
		f := g.f
		where := Clean(f.NS)
		if f.Addr != "" {
			where = fmt.Sprintf("%s (%s)", where, f.Addr)
		}
		on := ""
		if len(g.probes) > 0 {
			on = " [" + strings.Join(g.probes, ", ") + "]"
		}
		fmt.Fprintf(w, "  %s %-26s %s for %s%s: %s\n", p.severity(f.Severity), f.Code, where, Clean(f.Name), on, Clean(f.Detail))
	}
}

func writeNames(w io.Writer, d *Domain, p painter) {
	if len(d.Names) < 2 {
		return
	}
	var parts []string
	for _, n := range d.Names {
		s := fmt.Sprintf("%s %s", Clean(TrimDot(n.Name)), p.outcome(n.Outcome))
		if n.CNAME != "" {
			s += " → " + Clean(TrimDot(n.CNAME))
		}
		parts = append(parts, s)
	}
	fmt.Fprintf(w, "  relevant names: %s\n", strings.Join(parts, ", "))
}

// painter colours by severity; with colour off it prints plain words.
type painter struct{ on bool }

func (p painter) paint(attr color.Attribute, s string) string {
	if !p.on {
		return s
	}
	c := color.New(attr)
	c.EnableColor()
	return c.Sprint(s)
}

func (p painter) bold(s string) string { return p.paint(color.Bold, s) }

func (p painter) verdict(v Verdict) string {
	switch v {
	case VerdictFail, VerdictError:
		return p.paint(color.FgRed, strings.ToUpper(string(v)))
	case VerdictWarn:
		return p.paint(color.FgYellow, strings.ToUpper(string(v)))
	}
	return p.paint(color.FgGreen, strings.ToUpper(string(v)))
}

func (p painter) outcome(o Outcome) string {
	switch o {
	case OutcomeServfail:
		return p.paint(color.FgRed, string(o))
	case OutcomeIntermittent:
		return p.paint(color.FgYellow, string(o))
	case OutcomeOK:
		return p.paint(color.FgGreen, string(o))
	}
	return "unknown"
}

func (p painter) policy(s string) string {
	switch s {
	case "forbidden", "unknown":
		return p.paint(color.FgRed, s)
	case "varies":
		return p.paint(color.FgYellow, s)
	}
	return p.paint(color.FgGreen, s)
}

func (p painter) severity(s probes.Severity) string {
	switch s {
	case probes.SeverityFail:
		return p.paint(color.FgRed, "FAIL")
	case probes.SeverityInfo:
		return "info"
	}
	return p.paint(color.FgYellow, "warn")
}

// cell is a matrix cell: the status and the marks of its findings.
func (p painter) cell(r *probes.Result) string {
	if r == nil {
		return "-"
	}
	text := Cell(r)
	sev := probes.Severity("")
	for _, is := range r.Issues {
		if info := probes.Info(is.Code); info.Severity == probes.SeverityFail || sev == "" {
			sev = info.Severity
		}
	}
	switch sev {
	case probes.SeverityFail:
		return p.paint(color.FgRed, text)
	case probes.SeverityWarn:
		return p.paint(color.FgYellow, text)
	}
	return text
}

// Cell is the text of one matrix cell, in the terminal and in Markdown
// evidence alike: the RCODE, or the status when no reply was accepted
// (timeout, malformed, ...), then the marks of the result's findings, each
// once, comma-separated ("NOERROR BG,CS").
func Cell(r *probes.Result) string {
	text := string(r.Status)
	if r.Rcode < 0 {
		text = strings.ToLower(text)
	}
	var marks []string
	for _, is := range r.Issues {
		if m := probes.Info(is.Code).Mark; m != "" && !slices.Contains(marks, m) {
			marks = append(marks, m)
		}
	}
	if len(marks) > 0 {
		text += " " + strings.Join(marks, ",")
	}
	return text
}

// Clean makes text from the network safe to print: control characters and
// escape sequences become visible escapes, so a hostile server cannot
// drive the user's terminal.
func Clean(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == unicode.ReplacementChar && len(s) > i && s[i] >= 0x80:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
