package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/model"
	renderhtml "github.com/caaprobe/caaprobe/probes/render/html"
	"github.com/caaprobe/caaprobe/probes/report"
)

// explain's own layout for the ticket formats (--format markdown, html,
// --evidence): the message quoted first, what it says, the answer of the
// check, then each name as check's renderers show it (probes/evidence's
// Markdown report, probes/render/html's section). The message and
// everything read from it are the user's or the CA's text: in Markdown it
// is fenced or backslash-escaped, in HTML html/template escapes it, and
// control characters are escaped in both (report.CleanText).

// messageFile is the original message, byte for byte, in the run folder
// of explain --evidence.
const messageFile = "message.txt"

// explainMarkdown is the explanation in Markdown: what heads the
// --format markdown output and the evidence bundle's index and reports.
func explainMarkdown(out *explainOutput, noCheck bool) string {
	var b strings.Builder
	b.WriteString("# caaprobe explain\n\n## The message\n\n")
	msg := report.CleanText(strings.TrimRight(out.Message, "\n"))
	f := report.MarkdownFence(msg)
	fmt.Fprintf(&b, "%stext\n%s\n%s\n", f, msg, f)
	fmt.Fprintf(&b, "\n## What it says\n\nRead as %s.", report.MarkdownInline(out.Parse.Format))
	if out.Parse.Truncated {
		b.WriteString(" The message was longer than caaprobe reads; the rest was not read.")
	}
	b.WriteString("\n")
	if len(out.Parse.Problems) == 0 {
		b.WriteString("\nNone of the CAA failure texts caaprobe knows (docs/explain.md)")
		if len(out.Parse.Names) > 0 {
			fmt.Fprintf(&b, "; it names %s, checked below", report.MarkdownInline(strings.Join(out.Parse.Names, ", ")))
		}
		b.WriteString(".\n")
	}
	for i, p := range out.Parse.Problems {
		fmt.Fprintf(&b, "\n### %d. %s\n\n| | |\n|---|---|\n", i+1, report.MarkdownInline(p.Meaning))
		names := strings.Join(p.Names, ", ")
		if names == "" {
			names = "not given"
		}
		fmt.Fprintf(&b, "| Certificate names | %s |\n", report.MarkdownInline(names))
		if p.Lookup != "" {
			fmt.Fprintf(&b, "| Failing lookup | CAA %s |\n", report.MarkdownInline(p.Lookup))
		}
		if p.Climb != "" {
			fmt.Fprintf(&b, "| Why there | %s |\n", report.MarkdownInline(p.Climb))
		}
		fmt.Fprintf(&b, "| Kind | %s |\n", report.MarkdownInline(kindWords(p.Kind)))
		fmt.Fprintf(&b, "| Perspective | %s |\n", report.MarkdownInline(string(p.Perspective)))
		fmt.Fprintf(&b, "| Permanence | %s: %s |\n", report.MarkdownInline(string(p.Permanence)), report.MarkdownInline(p.Reason))
	}
	for _, a := range out.Advice {
		fmt.Fprintf(&b, "\n%s\n", report.MarkdownInline(a))
	}
	if noCheck && len(out.Parse.Names) > 0 {
		fmt.Fprintf(&b, "\nNot checked (--no-check): caaprobe check %s\n", report.MarkdownInline(strings.Join(out.Parse.Names, " ")))
	}
	if len(out.Checks) > 0 || len(out.Domains) > 0 {
		fmt.Fprintf(&b, "\n## Checked from here\n\n%s: %s.\n", triesWords(out.Repeat), report.MarkdownInline(strings.Join(out.Parse.Names, ", ")))
		if len(out.Checks) == 0 {
			b.WriteString("\nThe message reports no failure; the check of its names is below.\n")
		}
	}
	for _, c := range out.Checks {
		fmt.Fprintf(&b, "\n### %d. %s\n\n%s\n", c.Problem+1, report.MarkdownInline(c.Status), report.MarkdownInline(c.Answer))
		if len(c.Servers) == 0 {
			continue
		}
		b.WriteString("\nPer server, the tries in which each fault appeared:\n\n| Server | Finding | Tries | First in try | Probe | Detail |\n|---|---|---|---|---|---|\n")
		for _, s := range c.Servers {
			fmt.Fprintf(&b, "| %s | %s | %d/%d | %d | %s | %s |\n", report.MarkdownInline(s.Server), report.MarkdownInline(s.Code), s.Tries, c.Tries, s.First,
				report.MarkdownInline(s.Probe), report.MarkdownInline(s.Detail))
		}
	}
	return b.String()
}

func triesWords(n int) string {
	if n > 1 {
		return fmt.Sprintf("%d tries, each with cold caches", n)
	}
	return "1 try"
}

// writeExplainMarkdown is --format markdown: the explanation, then each
// name's evidence report (the one check --format markdown writes).
func writeExplainMarkdown(w io.Writer, out *explainOutput, shown []*model.Domain, run *model.Run, noCheck bool) error {
	if _, err := io.WriteString(w, explainMarkdown(out, noCheck)); err != nil {
		return err
	}
	for _, d := range shown {
		if _, err := io.WriteString(w, "\n---\n\n"); err != nil {
			return err
		}
		if err := evidence.WriteMarkdownRun(w, d, run); err != nil {
			return err
		}
	}
	return nil
}

// writeExplainEvidence writes explain's evidence: message.txt and, at the
// top of the run's index and of each name's report.md, the explanation;
// then the names' bundles, as check --evidence writes them.
func writeExplainEvidence(ev *evidenceSink, out *explainOutput, shown []*model.Domain, noCheck bool) error {
	ev.w.SetPreface(explainMarkdown(out, noCheck) + "\nThe message as it was given is in " + messageFile +
		" in the run folder; each name's evidence report follows.\n\n---\n")
	var errs []error
	if err := ev.w.AddFile(messageFile, []byte(out.Message)); err != nil {
		fmt.Fprintf(ev.stderr, "caaprobe: %v\n", err)
		errs = append(errs, err)
	}
	for _, d := range shown {
		ev.add(d)
	}
	return errors.Join(append(errs, ev.err(), ev.close())...)
}

// explainView is the explanation as the HTML preface shows it, every text
// cleaned of control characters (html/template escapes markup only).
type explainView struct {
	Message, Format string
	Truncated       bool
	Names           []string
	Problems        []problemView
	Advice          []string
	NoCheck         bool
	Checked         bool
	Tries           string
	Checks          []checkView
}

type problemView struct {
	N                                          int
	Meaning, Names, Lookup, Climb, Kind, Persp string
	Permanence, Reason                         string
}

type checkView struct {
	N                     int
	Status, Class, Answer string
	Tries                 int
	Servers               []serverCount
}

var explainPreface = template.Must(template.New("explain").Parse(`<section class="explain-message" id="message">
<h2>The message</h2>
<pre class="message">{{.Message}}</pre>
<h2 id="meaning">What it says</h2>
<p>Read as {{.Format}}.{{if .Truncated}} The message was longer than caaprobe reads; the rest was not read.{{end}}</p>
{{if not .Problems}}<p>None of the CAA failure texts caaprobe knows (docs/explain.md){{with .Names}}; it names {{range $i, $n := .}}{{if $i}}, {{end}}<span class="mono">{{$n}}</span>{{end}}, checked below{{end}}.</p>
{{end}}{{range .Problems}}<h3>{{.N}}. {{.Meaning}}</h3>
<dl class="facts">
<dt>certificate names</dt><dd class="mono">{{.Names}}</dd>
{{with .Lookup}}<dt>failing lookup</dt><dd class="mono">CAA {{.}}</dd>{{end}}
{{with .Climb}}<dt>why there</dt><dd>{{.}}</dd>{{end}}
<dt>kind</dt><dd>{{.Kind}}</dd>
<dt>perspective</dt><dd>{{.Persp}}</dd>
<dt>permanence</dt><dd>{{.Permanence}}: {{.Reason}}</dd>
</dl>
{{end}}{{range .Advice}}<p class="explain">{{.}}</p>
{{end}}{{if .NoCheck}}{{with .Names}}<p>Not checked (--no-check): <code>caaprobe check{{range .}} {{.}}{{end}}</code></p>{{end}}
{{end}}{{if .Checked}}<h2 id="answer">Checked from here</h2>
<p>{{.Tries}}: {{range $i, $n := .Names}}{{if $i}}, {{end}}<span class="mono">{{$n}}</span>{{end}}.</p>
{{range .Checks}}{{$c := .}}<p class="explain verdict"><span class="badge {{.Class}}">{{.N}}. {{.Status}}</span> {{.Answer}}</p>
{{with .Servers}}<table class="tally"><thead><tr><th>server</th><th>finding</th><th>tries</th><th>first in try</th><th>probe</th><th>detail</th></tr></thead><tbody>
{{range .}}<tr><td class="mono">{{.Server}}</td><td class="mono">{{.Code}}</td><td>{{.Tries}}/{{$c.Tries}}</td><td>{{.First}}</td><td class="mono">{{.Probe}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>{{end}}
{{else}}<p>The message reports no failure; the check of its names is below.</p>
{{end}}{{end}}</section>
`))

func statusClass(status string) string {
	switch status {
	case "reproduced":
		return "fail"
	case "intermittent":
		return "warn"
	case "not-reproduced":
		return "ok"
	}
	return "none"
}

// explainHTML is the HTML preface: the explanation, escaped by
// html/template.
func explainHTML(out *explainOutput, noCheck bool) (template.HTML, error) {
	c := report.CleanText
	v := explainView{Message: c(strings.TrimRight(out.Message, "\n")), Format: c(out.Parse.Format), Truncated: out.Parse.Truncated,
		NoCheck: noCheck, Checked: len(out.Checks) > 0 || len(out.Domains) > 0, Tries: triesWords(out.Repeat)}
	for _, n := range out.Parse.Names {
		v.Names = append(v.Names, c(n))
	}
	for i, p := range out.Parse.Problems {
		names := strings.Join(p.Names, ", ")
		if names == "" {
			names = "not given"
		}
		v.Problems = append(v.Problems, problemView{N: i + 1, Meaning: c(p.Meaning), Names: c(names), Lookup: c(p.Lookup), Climb: c(p.Climb),
			Kind: kindWords(p.Kind), Persp: c(string(p.Perspective)), Permanence: c(string(p.Permanence)), Reason: c(p.Reason)})
	}
	for _, a := range out.Advice {
		v.Advice = append(v.Advice, c(a))
	}
	for _, ch := range out.Checks {
		cv := checkView{N: ch.Problem + 1, Status: c(ch.Status), Class: statusClass(ch.Status), Answer: c(ch.Answer), Tries: ch.Tries}
		for _, s := range ch.Servers {
			s.Server, s.Code, s.Probe, s.Detail = c(s.Server), c(s.Code), c(s.Probe), c(s.Detail)
			cv.Servers = append(cv.Servers, s)
		}
		v.Checks = append(v.Checks, cv)
	}
	var b bytes.Buffer
	if err := explainPreface.Execute(&b, v); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // escaped by html/template above
}

// writeExplainHTML is --format html: one page, the explanation first,
// then check's section of each name.
func writeExplainHTML(w io.Writer, out *explainOutput, shown []*model.Domain, noCheck bool) error {
	pre, err := explainHTML(out, noCheck)
	if err != nil {
		return err
	}
	h, err := renderhtml.New(w, renderhtml.Options{Title: "caaprobe explain", Generated: time.Now(), Preface: pre})
	if err != nil {
		return err
	}
	for _, d := range shown {
		if err := h.Add(d, ""); err != nil {
			h.Close()
			return err
		}
	}
	return h.Close()
}
