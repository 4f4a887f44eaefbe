package runs

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/report"
)

type jsonMPIC struct {
	Domain         string            `json:"domain"`
	Outcome        mpic.Outcome      `json:"ca_outcome"`
	Reason         string            `json:"reason"`
	Primary        string            `json:"primary"`
	Remotes        int               `json:"remotes"`
	Allowed        int               `json:"allowed_remote_failures"`
	FailingRemotes []string          `json:"failing_remotes"`
	MayFailRemotes []string          `json:"may_fail_remotes"`
	Perspectives   []jsonPerspective `json:"perspectives"`
	Servers        []jsonServerSeen  `json:"failing_servers"`
	Missing        []string          `json:"missing,omitempty"`
	Decision       mpic.Decision     `json:"ca_decision"`
	MinRemotes     int               `json:"min_remotes,omitempty"`
	Date           string            `json:"mpic_date,omitempty"`
	Regions        []string          `json:"regions"`
	Reproducible   bool              `json:"reproducible"`
	Note           string            `json:"note,omitempty"`
	Differences    []jsonDifference  `json:"differences,omitempty"`
}

type jsonDifference struct {
	Server  string            `json:"server"`
	Name    string            `json:"name"`
	Probe   string            `json:"probe"`
	Status  map[string]string `json:"status"`
	Sources map[string]string `json:"sources,omitempty"`
}

type jsonPerspective struct {
	Vantage model.Vantage `json:"vantage"`
	Primary bool          `json:"primary"`
	Verdict model.Verdict `json:"verdict"`
	Outcome model.Outcome `json:"outcome"`
	State   mpic.State    `json:"state"`
	Failing []string      `json:"failing_servers"`
	Fault   mpic.Fault    `json:"fault,omitempty"`
	Detail  string        `json:"fault_detail,omitempty"`
	// Error is why the perspective's check gave verdict error (a
	// deadline, a discovery failure, a local error of that host).
	Error string `json:"error,omitempty"`
}

type jsonServerSeen struct {
	Server   string            `json:"server"`
	FailFrom []string          `json:"fail_from"`
	OKFrom   []string          `json:"ok_from"`
	NSID     map[string]string `json:"nsid,omitempty"`
}

// WriteMPICJSON writes the multi-perspective view of a domain as one line.
func WriteMPICJSON(w io.Writer, m *MPIC) error {
	j := jsonMPIC{Domain: m.Domain, Outcome: m.Outcome, Reason: m.Reason, Primary: m.Primary, Remotes: m.Remotes, Allowed: m.Allowed,
		FailingRemotes: nonNil(m.FailingRemotes), MayFailRemotes: nonNil(m.MayFailRemotes), Missing: m.Missing,
		Perspectives: []jsonPerspective{}, Servers: []jsonServerSeen{},
		Decision: m.Decision, MinRemotes: m.MinRemotes, Regions: nonNil(m.Regions), Reproducible: m.Reproducible, Note: m.Note}
	if !m.Date.IsZero() {
		j.Date = m.Date.UTC().Format(time.DateOnly)
	}
	for _, p := range m.Perspectives {
		j.Perspectives = append(j.Perspectives, jsonPerspective{Vantage: p.Vantage, Primary: p.Primary, Verdict: p.Verdict,
			Outcome: p.Outcome, State: p.State, Failing: model.Labels(p.Failing), Fault: p.Fault, Detail: p.Detail, Error: errorOf(p)})
	}
	for _, d := range m.Differences {
		j.Differences = append(j.Differences, jsonDifference{Server: d.Server.String(), Name: d.Name, Probe: string(d.Probe), Status: d.Status, Sources: d.Sources})
	}
	for _, s := range m.Servers {
		js := jsonServerSeen{Server: s.Server.String(), FailFrom: nonNil(s.Vantages), OKFrom: nonNil(s.Working)}
		if len(s.NSID) > 0 {
			js.NSID = s.NSID
		}
		j.Servers = append(j.Servers, js)
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// errorOf is the perspective's verdict-error text, cleaned as every
// string read from a saved run or an agent.
func errorOf(p *Perspective) string {
	if p.Domain == nil {
		return ""
	}
	return report.CleanText(p.Domain.Err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteMPICText writes the view for a terminal: the CA's outcome and why,
// one line per perspective, and which vantage points see each failing
// server fail.
func WriteMPICText(w io.Writer, m *MPIC) error {
	fmt.Fprintf(w, "%s  CA outcome: %s (%s)\n  %s\n", report.Clean(m.Domain), strings.ToUpper(string(m.Outcome)), decisionOf(m), report.Clean(m.Reason))
	if m.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", report.Clean(m.Note))
	}
	for _, p := range m.Perspectives {
		role := "remote "
		if p.Primary {
			role = "primary"
		}
		line := fmt.Sprintf("  %s %-12s %-10s outcome %-12s", role, report.Clean(vantageName(p.Vantage)), stateMark(p.State), orUnknown(string(p.Outcome)))
		if len(p.Failing) > 0 {
			line += " failing: " + report.Clean(strings.Join(model.Labels(p.Failing), ", "))
		}
		if p.Fault != "" {
			line += " " + report.Clean(faultLine(p))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, v := range m.Missing {
		fmt.Fprintf(w, "  %s %-12s not checked from here\n", roleOf(v, m.Primary), report.Clean(v))
	}
	for _, s := range m.Servers {
		fmt.Fprintf(w, "  server %s fails from %s", report.Clean(s.Server.String()), report.Clean(strings.Join(s.Vantages, ", ")))
		if len(s.Working) > 0 {
			fmt.Fprintf(w, "; works from %s", report.Clean(strings.Join(s.Working, ", ")))
		}
		if ids := nsidList(s.NSID); ids != "" {
			fmt.Fprintf(w, "; NSID %s", report.Clean(ids))
		}
		fmt.Fprintln(w)
	}
	if len(m.Differences) > 0 {
		fmt.Fprintln(w, "  where the perspectives differ (server, name, probe: status from each):")
		for _, d := range m.Differences {
			fmt.Fprintf(w, "    %s %s %s:", report.Clean(d.Server.String()), report.Clean(d.Name), d.Probe)
			for _, p := range m.Perspectives {
				if p.Domain != nil {
					fmt.Fprintf(w, " %s=%s", report.Clean(p.Vantage.Label), report.Clean(orDash(d.Status[p.Vantage.Label])))
				}
			}
			fmt.Fprintln(w)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// decisionOf is the CA's decision in its words.
func decisionOf(m *MPIC) string {
	if m.Decision == "" {
		return "unknown"
	}
	return "CA would " + string(m.Decision)
}

// vantageName is the label with the region, when known.
func vantageName(v model.Vantage) string {
	if v.RIR == "" {
		return v.Label
	}
	return v.Label + " [" + v.RIR + "]"
}

func faultLine(p *Perspective) string {
	if p.Detail == "" {
		return "no result: " + string(p.Fault)
	}
	return "no result: " + string(p.Fault) + ": " + p.Detail
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteMPICMarkdown writes the view as a Markdown section.
func WriteMPICMarkdown(w io.Writer, m *MPIC) error {
	fmt.Fprintf(w, "## %s: CA outcome **%s** (%s)\n\n%s\n\n", report.MarkdownCell(m.Domain), m.Outcome, decisionOf(m), report.MarkdownCell(m.Reason))
	if m.Note != "" {
		fmt.Fprintf(w, "Note: %s\n\n", report.MarkdownCell(m.Note))
	}
	fmt.Fprintf(w, "| perspective | role | RIR | sources | state | outcome | failing servers | fault |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range m.Perspectives {
		fault := ""
		if p.Fault != "" {
			fault = faultLine(p)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", report.MarkdownCell(p.Vantage.Label), roleOf(p.Vantage.Label, m.Primary),
			report.MarkdownCell(p.Vantage.RIR), report.MarkdownCell(strings.Join(p.Vantage.Sources, ", ")), stateMark(p.State),
			orUnknown(string(p.Outcome)), report.MarkdownCell(strings.Join(model.Labels(p.Failing), ", ")), report.MarkdownCell(fault))
	}
	for _, v := range m.Missing {
		fmt.Fprintf(w, "| %s | %s | | | not checked | | | |\n", report.MarkdownCell(v), roleOf(v, m.Primary))
	}
	if len(m.Servers) > 0 {
		fmt.Fprintf(w, "\n| failing server | fails from | works from | NSID |\n|---|---|---|---|\n")
		for _, s := range m.Servers {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", report.MarkdownCell(s.Server.String()), report.MarkdownCell(strings.Join(s.Vantages, ", ")),
				report.MarkdownCell(strings.Join(s.Working, ", ")), report.MarkdownCell(nsidList(s.NSID)))
		}
	}
	if len(m.Differences) > 0 {
		var cols []*Perspective
		for _, p := range m.Perspectives {
			if p.Domain != nil {
				cols = append(cols, p)
			}
		}
		fmt.Fprintf(w, "\nWhere the perspectives differ:\n\n| server | name | probe |")
		for _, p := range cols {
			fmt.Fprintf(w, " %s |", report.MarkdownCell(p.Vantage.Label))
		}
		fmt.Fprintf(w, "\n|---|---|---|%s\n", strings.Repeat("---|", len(cols)))
		for _, d := range m.Differences {
			fmt.Fprintf(w, "| %s | %s | %s |", report.MarkdownCell(d.Server.String()), report.MarkdownCell(d.Name), d.Probe)
			for _, p := range cols {
				cell := orDash(d.Status[p.Vantage.Label])
				if src := d.Sources[p.Vantage.Label]; src != "" {
					cell += " from " + src
				}
				fmt.Fprintf(w, " %s |", report.MarkdownCell(cell))
			}
			fmt.Fprintln(w)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func roleOf(label, primary string) string {
	if label == primary {
		return "primary"
	}
	return "remote"
}

func stateMark(s mpic.State) string {
	switch s {
	case StateFail:
		return "✗ fail"
	case StateMayFail:
		return "? may fail"
	}
	return "✓ ok"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func nsidList(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %q", k, m[k])
	}
	return strings.Join(parts, ", ")
}
