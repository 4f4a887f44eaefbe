package runs

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/caaprobe/caaprobe/probes/report"
)

type jsonMPIC struct {
	Domain         string            `json:"domain"`
	Outcome        string            `json:"ca_outcome"`
	Reason         string            `json:"reason"`
	Primary        string            `json:"primary"`
	Remotes        int               `json:"remotes"`
	Allowed        int               `json:"allowed_remote_failures"`
	FailingRemotes []string          `json:"failing_remotes"`
	MayFailRemotes []string          `json:"may_fail_remotes"`
	Perspectives   []jsonPerspective `json:"perspectives"`
	Servers        []jsonServerSeen  `json:"failing_servers"`
	Missing        []string          `json:"missing,omitempty"`
}

type jsonPerspective struct {
	Vantage report.Vantage `json:"vantage"`
	Primary bool           `json:"primary"`
	Verdict report.Verdict `json:"verdict"`
	Outcome report.Outcome `json:"outcome"`
	State   string         `json:"state"`
	Failing []string       `json:"failing_servers"`
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
		Perspectives: []jsonPerspective{}, Servers: []jsonServerSeen{}}
	for _, p := range m.Perspectives {
		j.Perspectives = append(j.Perspectives, jsonPerspective{Vantage: p.Vantage, Primary: p.Primary, Verdict: p.Verdict,
			Outcome: p.Outcome, State: p.State, Failing: nonNil(p.Failing)})
	}
	for _, s := range m.Servers {
		js := jsonServerSeen{Server: s.Server, FailFrom: nonNil(s.Vantages), OKFrom: nonNil(s.Working)}
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
	fmt.Fprintf(w, "%s  CA outcome: %s\n  %s\n", report.Clean(m.Domain), strings.ToUpper(m.Outcome), report.Clean(m.Reason))
	for _, p := range m.Perspectives {
		role := "remote "
		if p.Primary {
			role = "primary"
		}
		line := fmt.Sprintf("  %s %-12s %-10s outcome %-12s", role, report.Clean(p.Vantage.Label), stateMark(p.State), orUnknown(string(p.Outcome)))
		if len(p.Failing) > 0 {
			line += " failing: " + report.Clean(strings.Join(p.Failing, ", "))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, v := range m.Missing {
		fmt.Fprintf(w, "  %s %-12s not checked from here\n", roleOf(v, m.Primary), report.Clean(v))
	}
	for _, s := range m.Servers {
		fmt.Fprintf(w, "  server %s fails from %s", report.Clean(s.Server), report.Clean(strings.Join(s.Vantages, ", ")))
		if len(s.Working) > 0 {
			fmt.Fprintf(w, "; works from %s", report.Clean(strings.Join(s.Working, ", ")))
		}
		if ids := nsidList(s.NSID); ids != "" {
			fmt.Fprintf(w, "; NSID %s", report.Clean(ids))
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteMPICMarkdown writes the view as a Markdown section.
func WriteMPICMarkdown(w io.Writer, m *MPIC) error {
	fmt.Fprintf(w, "## %s: CA outcome **%s**\n\n%s\n\n", mdCell(m.Domain), m.Outcome, mdCell(m.Reason))
	fmt.Fprintf(w, "| perspective | role | state | outcome | failing servers |\n|---|---|---|---|---|\n")
	for _, p := range m.Perspectives {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCell(p.Vantage.Label), roleOf(p.Vantage.Label, m.Primary), stateMark(p.State),
			orUnknown(string(p.Outcome)), mdCell(strings.Join(p.Failing, ", ")))
	}
	for _, v := range m.Missing {
		fmt.Fprintf(w, "| %s | %s | not checked | | |\n", mdCell(v), roleOf(v, m.Primary))
	}
	if len(m.Servers) > 0 {
		fmt.Fprintf(w, "\n| failing server | fails from | works from | NSID |\n|---|---|---|---|\n")
		for _, s := range m.Servers {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", mdCell(s.Server), mdCell(strings.Join(s.Vantages, ", ")),
				mdCell(strings.Join(s.Working, ", ")), mdCell(nsidList(s.NSID)))
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

func stateMark(s string) string {
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
