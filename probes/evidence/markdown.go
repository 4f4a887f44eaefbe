package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
)

// WriteMarkdownRun writes the report of one domain for a support ticket:
// the summary, what to tell the provider (from the finding catalog's
// wording), the matrix, and a transcript of every exchange behind a
// finding; with what a provider needs to match the report to its logs:
// the caaprobe version, the command line and the vantage point of the run
// (nil leaves them out).
func WriteMarkdownRun(w io.Writer, d *model.Domain, run *model.Run) error {
	d, run = report.CleanDomain(d), report.CleanRun(run) // not trusted (report/clean.go)
	var b bytes.Buffer
	writeSummary(&b, d, run)
	if d.Err == "" {
		writeProvider(&b, d)
		writeMatrix(&b, d)
		writeInstanceNotes(&b, d)
		writeExchanges(&b, d)
	}
	_, err := io.WriteString(w, sanitize(b.String()))
	return err
}

func writeSummary(b *bytes.Buffer, d *model.Domain, run *model.Run) {
	fmt.Fprintf(b, "# CAA evidence for %s\n\n", report.MarkdownInline(d.Domain))
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	fmt.Fprintf(b, "| Verdict | **%s** |\n", cell(string(d.Verdict)))
	if d.Outcome != "" {
		fmt.Fprintf(b, "| Predicted outcome of a CA's validating resolver | **%s** |\n", cell(string(d.Outcome)))
	}
	if first, last := TimeSpan(d); !first.IsZero() {
		fmt.Fprintf(b, "| Checked | %s to %s |\n", first.UTC().Format(TimeFormat), last.UTC().Format(TimeFormat))
	}
	if failing := d.FailingServers(); len(failing) > 0 {
		fmt.Fprintf(b, "| Failing servers | %s |\n", cell(strings.Join(model.Labels(failing), ", ")))
	}
	if p := d.Policy; p != nil {
		fmt.Fprintf(b, "| Policy for %s | issue %s, wildcard %s: %s |\n", cell(p.CA), cell(p.Issue.String()), cell(p.Wildcard.String()), cell(p.Reason))
	}
	if d.Source != "" {
		fmt.Fprintf(b, "| Input | %s |\n", cell(report.DescribeSource(d.Source)))
	}
	writeRun(b, run)
	if d.Err != "" {
		fmt.Fprintf(b, "| Error | %s |\n", cell(d.Err))
	}
	if d.Explanation != "" {
		fmt.Fprintf(b, "\n%s\n", report.MarkdownInline(d.Explanation))
	}
	writeRepeat(b, d.Repeat)
}

// writeRepeat is the tally of a repeated check (check --repeat N): each
// fault with the tries that showed it, and the exchange of its first
// appearance when the matrix below is another try's.
func writeRepeat(b *bytes.Buffer, rep *model.Repeat) {
	if rep == nil {
		return
	}
	fmt.Fprintf(b, "\n## Repeated: %s\n\n%d tries, each with cold caches; %d failed. The matrix and exchanges below are try %d, the first of the worst.\n",
		report.RepeatWords(rep), rep.Tries, rep.Failed, rep.Shown)
	if len(rep.Faults) == 0 {
		return
	}
	fmt.Fprintf(b, "\n| Server | Name | Finding | Tries | First in try | Probe | Detail |\n|---|---|---|---|---|---|---|\n")
	for _, f := range rep.Faults {
		where := f.Server.String()
		if f.Server.IsZero() {
			where = model.TrimDot(f.Zone)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d/%d | %d | %s | %s |\n", cell(where), cell(f.Name), cell(string(f.Code)), f.Seen, rep.Tries,
			f.First, cell(string(f.Probe)), cell(f.Detail))
	}
	for _, f := range rep.Faults {
		if f.Result == nil || f.Result.Exchange == nil {
			continue
		}
		fmt.Fprintf(b, "\n### %s %s in try %d\n", report.MarkdownInline(f.Server.String()), report.MarkdownInline(string(f.Code)), f.First)
		writeBlock(b, f.Result.Exchange, Meta{Probe: f.Result.Probe, NS: f.Server.NS})
	}
}

// writeRun adds the rows that say which caaprobe ran, how and from where.
func writeRun(b *bytes.Buffer, run *model.Run) {
	if run == nil {
		return
	}
	if run.Version != "" {
		fmt.Fprintf(b, "| caaprobe version | %s |\n", cell(run.Version))
	}
	if len(run.Command) > 0 {
		cmd := "caaprobe " + shellJoin(run.Command)
		f := strings.Repeat("`", max(1, longestRun(cmd, '`')+1))
		fmt.Fprintf(b, "| Command | %s%s%s |\n", f, cell(cmd), f)
	}
	if !run.Started.IsZero() {
		fmt.Fprintf(b, "| Run started | %s |\n", run.Started.UTC().Format(TimeFormat))
	}
	if v := run.Vantage; v != nil {
		text := v.Label
		var more []string
		if v.Host != "" && v.Host != v.Label {
			more = append(more, "host "+v.Host)
		}
		if len(v.Sources) > 0 {
			more = append(more, "source addresses "+strings.Join(v.Sources, ", "))
		}
		if len(more) > 0 {
			text += " (" + strings.Join(more, "; ") + ")"
		}
		fmt.Fprintf(b, "| Vantage point | %s |\n", cell(text))
	}
}

// shellJoin quotes the arguments that a POSIX shell would split or
// expand, so the command can be pasted back.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		safe := a != ""
		for _, c := range a {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./=:,@+%", c)) {
				safe = false
				break
			}
		}
		if safe {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// TimeSpan is when d's first query went out and its last reply came back
// (TCP retries included); zero times when no query was sent.
func TimeSpan(d *model.Domain) (first, last time.Time) {
	for _, ex := range Exchanges(d) {
		if ex.Start.IsZero() {
			continue
		}
		if first.IsZero() || ex.Start.Before(first) {
			first = ex.Start
		}
		if end := ex.Start.Add(ex.RTT); end.After(last) {
			last = end
		}
	}
	return first, last
}

func writeProvider(b *bytes.Buffer, d *model.Domain) {
	gs := report.GroupFindings(d.Findings, false)
	if len(gs) == 0 {
		fmt.Fprintf(b, "\nNo findings: every server answered every probe as the standards require.\n")
		return
	}
	num := exchangeNumbers(d)
	fmt.Fprintf(b, "\n## What to tell the provider\n")
	for _, g := range gs {
		code, where := g.Finding.Code, g.Finding.Server.String()
		info := catalog.Info(code)
		fmt.Fprintf(b, "\n### %s: %s at %s\n\n", strings.ToUpper(string(info.Severity)), report.MarkdownInline(string(code)), report.MarkdownInline(where))
		fmt.Fprintf(b, "**What the server did.** %s", report.MarkdownInline(info.Summary))
		if len(g.Details) > 0 {
			fmt.Fprintf(b, " Seen: %s", report.MarkdownInline(strings.Join(g.Details, "; ")))
			if len(g.Names) > 0 {
				fmt.Fprintf(b, " (for %s", report.MarkdownInline(strings.Join(g.Names, ", ")))
				if len(g.Probes) > 0 {
					fmt.Fprintf(b, "; probes %s", report.MarkdownInline(strings.Join(g.Probes, ", ")))
				}
				b.WriteString(")")
			}
			b.WriteString(".")
		}
		b.WriteString("\n\n")
		if note := instancesOf(g.Results); note != "" {
			fmt.Fprintf(b, "**Which instance answered.** %s\n\n", report.MarkdownInline(note))
		}
		if info.Requires != "" {
			fmt.Fprintf(b, "**What the standard requires (%s).** %s\n\n", report.MarkdownInline(info.RFC), report.MarkdownInline(info.Requires))
		}
		if info.Impact != "" {
			fmt.Fprintf(b, "**What it does to a CA's CAA check.** %s\n\n", report.MarkdownInline(info.Impact))
		}
		if info.Fix != "" {
			fmt.Fprintf(b, "**What to change.** %s\n\n", report.MarkdownInline(info.Fix))
		}
		if len(g.Results) > 0 {
			r := g.Results[0]
			ex := r.Exchange
			if r.Fallback != nil && code == catalog.CodeTruncatedTCPFailed {
				ex = r.Fallback
			}
			if ex != nil {
				cmd := DigCommand(ex)
				f := strings.Repeat("`", max(1, longestRun(cmd, '`')+1))
				fmt.Fprintf(b, "**See it yourself.** %s %s %s", f, cmd, f)
				var refs []string
				for _, r := range g.Results {
					if n, ok := num[r]; ok {
						refs = append(refs, fmt.Sprintf("%d", n))
					}
				}
				if len(refs) > 0 {
					word := "exchange"
					if len(refs) > 1 {
						word = "exchanges"
					}
					fmt.Fprintf(b, " (transcripts: %s %s below)", word, strings.Join(refs, ", "))
				}
				b.WriteString("\n")
			}
		}
	}
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

func writeMatrix(b *bytes.Buffer, d *model.Domain) {
	cols := report.Columns(d)
	if len(cols) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Matrix\n\nOne row per relevant name and server address, one column per probe (see `caaprobe probes`). A cell is the reply's RCODE or what happened instead, and the marks of its findings.\n\n")
	b.WriteString("| name | server | address |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", cell(string(c)))
	}
	b.WriteString("\n|---|---|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, n := range d.Names {
		for _, mr := range d.MatrixRows(n, cols) {
			s := mr.Server
			fmt.Fprintf(b, "| %s | %s | %s |", cell(n.Name.Display()), cell(model.TrimDot(s.NS)), s.Addr)
			for _, res := range mr.Cells {
				fmt.Fprintf(b, " %s |", cell(matrixCell(res)))
			}
			b.WriteString("\n")
		}
		if n.Err != "" {
			fmt.Fprintf(b, "| %s | lookup fails: %s | - |", cell(n.Name.Display()), cell(n.Err))
			for range cols {
				b.WriteString(" - |")
			}
			b.WriteString("\n")
		}
	}
	writeLegend(b, d)
}

// writeLegend explains the marks the matrix shows, as the terminal does.
func writeLegend(b *bytes.Buffer, d *model.Domain) {
	var parts []string
	seen := map[model.Code]bool{}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for _, is := range r.Issues {
				if m := report.CellMark(r, is.Code); m != "" && !seen[is.Code] {
					seen[is.Code] = true
					parts = append(parts, fmt.Sprintf("`%s` %s", m, is.Code))
				}
			}
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(b, "\nMarks: %s.\n", strings.Join(parts, ", "))
	}
}

// instancesOf says which server instances (NSID, RFC 5001) sent the
// replies of a finding: what a provider of an anycast service needs to
// find the broken site. "" when no reply named its instance.
func instancesOf(rs []*model.Result) string {
	var ids []string
	for _, r := range rs {
		if id := r.Instance(); id != "" {
			addUnique(&ids, id)
		}
	}
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return "Answered by instance " + ids[0] + " (its NSID, RFC 5001)."
	}
	return "Answered by instances " + strings.Join(ids, ", ") + " (their NSIDs, RFC 5001): one address, several sites."
}

// writeInstanceNotes lists, under the matrix, the instances each server
// address named (NSID, CH TXT hostname.bind and id.server).
func writeInstanceNotes(b *bytes.Buffer, d *model.Domain) {
	var lines []string
	for _, s := range d.Servers {
		if note := report.InstanceNote(s); note != "" {
			lines = append(lines, fmt.Sprintf("- %s: %s\n", report.MarkdownInline(s.Ref().String()), report.MarkdownInline(note)))
		}
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\nServer instances (NSID, RFC 5001; CH TXT hostname.bind and id.server):\n\n")
	for _, l := range lines {
		b.WriteString(l)
	}
}

// matrixCell is report.Cell, empty where the probe was not sent.
func matrixCell(r *model.Result) string {
	if r == nil {
		return ""
	}
	return report.Cell(r)
}

// evidenceResults are the results with findings, in matrix order: the
// exchanges a report must show.
func evidenceResults(d *model.Domain) []*model.Result {
	var out []*model.Result
	for _, s := range d.Servers {
		for _, r := range s.Results {
			if len(r.Issues) > 0 && r.Exchange != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

func exchangeNumbers(d *model.Domain) map[*model.Result]int {
	m := map[*model.Result]int{}
	for i, r := range evidenceResults(d) {
		m[r] = i + 1
	}
	return m
}

func serverOf(d *model.Domain, r *model.Result) *model.Server {
	for _, s := range d.Servers {
		if slices.Contains(s.Results, r) {
			return s
		}
	}
	return nil
}

func writeExchanges(b *bytes.Buffer, d *model.Domain) {
	rs := evidenceResults(d)
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Exchanges\n\n")
	b.WriteString("Each transcript is decoded from the bytes caaprobe sent and received. The hex dump under each message is those exact bytes; the lines above it are a reading of them. Times are UTC. ")
	b.WriteString("Every `dig` command is exact: it sends the same query (name with the same casing, flags, EDNS, transport, address and port); only the random message ID differs.\n")
	for i, r := range rs {
		s := serverOf(d, r)
		ns := ""
		if s != nil {
			ns = s.NS
		}
		var codes []string
		for _, is := range r.Issues {
			addUnique(&codes, string(is.Code))
		}
		fmt.Fprintf(b, "\n### Exchange %d: %s at %s (%s) for %s: %s\n\n", i+1, report.MarkdownInline(string(r.Probe)), report.MarkdownInline(model.TrimDot(ns)),
			r.Exchange.Server.Addr(), report.MarkdownInline(r.Name.Display()), report.MarkdownInline(strings.Join(codes, ", ")))
		for _, is := range r.Issues {
			fmt.Fprintf(b, "- %s: %s\n", report.MarkdownInline(string(is.Code)), report.MarkdownInline(is.Detail))
		}
		if errors.Is(r.Exchange.Err, model.ErrTimeout) {
			if r.Exchange.RejectedCount > 0 {
				b.WriteString("\nDatagrams came back but none answers the query, so a resolver (and dig, which warns about them) keeps waiting and times out. ")
			} else {
				b.WriteString("\nNo reply came. ")
			}
			b.WriteString("dig waits 5 seconds and tries 3 times by default; add `+tries=1 +time=1` for a quicker check (caaprobe's own tests run the printed command with only those two options added).\n")
		}
		writeBlock(b, r.Exchange, Meta{Probe: r.Probe, NS: ns})
		if r.Fallback != nil {
			fmt.Fprintf(b, "\nThe UDP reply was truncated (TC=1), so the query was repeated over TCP:\n")
			writeBlock(b, r.Fallback, Meta{Probe: r.Probe, NS: ns, Role: "TCP retry after TC=1"})
		}
	}
}

func writeBlock(b *bytes.Buffer, ex *model.Exchange, m Meta) {
	var t bytes.Buffer
	transcript(&t, ex, m)
	body := sanitize(t.String())
	f := report.MarkdownFence(body)
	fmt.Fprintf(b, "\n%s\n%s%s\n", f, body, f)
}

func addUnique(list *[]string, s string) {
	if s != "" && !slices.Contains(*list, s) {
		*list = append(*list, s)
	}
}
