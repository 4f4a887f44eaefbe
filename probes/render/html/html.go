// Package html writes a run as one self-contained HTML page: a
// summary table linking to each domain, the matrix with the terminal's
// marks and colours, the findings in words, what to tell the provider,
// the exchanges folded away, and the multi-perspective view when the run
// came from several vantage points. It needs no script, font or style
// from anywhere: the page is a file to attach to a ticket.
//
// Everything from the network goes through html/template, which escapes
// it for the context it lands in.
package html

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/evidence"
	"github.com/caaprobe/caaprobe/probes/internal/summary"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Options describe the page.
type Options struct {
	Title     string
	Generated time.Time // shown in the header; zero leaves it out (golden tests)
	Inputs    []string  // files or the command the run came from
	// Preface is the caller's own section, placed under the page header
	// before the summary (explain puts the CA's message and its answer
	// there). It is inserted as it is: the caller builds it with
	// html/template so that everything in it is escaped.
	Preface template.HTML
}

// Writer collects domains and writes the page on Close. Domain sections
// are rendered as they come into a temporary file, so a long run costs
// disk, not memory; only one summary row per domain is kept.
type Writer struct {
	w       io.Writer
	opt     Options
	body    *os.File
	rows    []row
	mpics   []mpicView
	marks   map[model.Code]bool
	vantage map[string]bool
	sum     *summary.Summary
	err     error
}

type row struct {
	ID, Domain, Vantage string
	Verdict             model.Verdict
	Outcome             model.Outcome
	Policy              *model.Policy
	Failing             []string
	Codes               []codeCount // distinct finding codes, fail first
}

type codeCount struct {
	Code, Sev string
	N         int // findings with the code (one per probe and server)
}

// New starts a page written to w on Close.
func New(w io.Writer, opt Options) (*Writer, error) {
	f, err := os.CreateTemp("", "caaprobe-html-*")
	if err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	os.Remove(f.Name()) // kept open until Close
	if opt.Title == "" {
		opt.Title = "caaprobe report"
	}
	return &Writer{w: w, opt: opt, body: f, marks: map[model.Code]bool{}, vantage: map[string]bool{}}, nil
}

// SetSummary adds the provider view (probes/internal/summary) to the page.
func (h *Writer) SetSummary(s *summary.Summary) { h.sum = s }

// Add renders one domain's section; vantage labels it when the page holds
// several vantage points ("" otherwise).
func (h *Writer) Add(d *model.Domain, vantage string) error {
	if h.err != nil {
		return h.err
	}
	// Saved JSON and servers are not trusted: html/template escapes
	// markup, not control characters (report/clean.go).
	d, vantage = report.CleanDomain(d), report.CleanText(vantage)
	id := fmt.Sprintf("d%d-%s", len(h.rows)+1, anchor(d.Domain))
	if vantage != "" {
		h.vantage[vantage] = true
		id += "-" + anchor(vantage)
	}
	v := h.section(d, id, vantage)
	r := row{ID: id, Domain: d.Domain, Vantage: vantage, Verdict: d.Verdict, Outcome: d.Outcome, Failing: v.Failing, Policy: d.Policy}
	for _, f := range d.Findings {
		i := slices.IndexFunc(r.Codes, func(c codeCount) bool { return c.Code == string(f.Code) })
		if i < 0 {
			i = len(r.Codes)
			r.Codes = append(r.Codes, codeCount{Code: string(f.Code), Sev: string(f.Severity)})
		}
		r.Codes[i].N++
	}
	sort.SliceStable(r.Codes, func(i, j int) bool {
		return report.SeverityRank(model.Severity(r.Codes[i].Sev)) < report.SeverityRank(model.Severity(r.Codes[j].Sev))
	})
	h.rows = append(h.rows, r)
	if err := page.ExecuteTemplate(h.body, "domain", v); err != nil {
		h.err = fmt.Errorf("html report: %w", err)
	}
	return h.err
}

// AddMPIC adds one domain's multi-perspective verdict; its perspectives'
// sections are linked when they were added with the same domain and
// vantage.
func (h *Writer) AddMPIC(m *runs.MPIC) {
	mv := mpicView{M: m, Links: map[string]string{}}
	for _, r := range h.rows {
		if r.Domain == m.Domain && r.Vantage != "" {
			mv.Links[r.Vantage] = r.ID
		}
	}
	h.mpics = append(h.mpics, mv)
}

type mpicView struct {
	M     *runs.MPIC
	Links map[string]string // vantage label -> section id
}

// Close writes the page and releases the temporary file.
func (h *Writer) Close() error {
	defer h.body.Close()
	if h.err != nil {
		return h.err
	}
	top := topView{Opt: h.opt, Rows: h.rows, MPICs: h.mpics, Legend: legend(h.marks), Several: len(h.vantage) > 0}
	if !h.opt.Generated.IsZero() {
		top.Generated = h.opt.Generated.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, r := range h.rows {
		top.Count[r.Verdict.Rank()]++
	}
	if h.sum != nil {
		var b bytes.Buffer
		if err := h.sum.Write(&b); err == nil {
			top.Providers = b.String()
		}
	}
	if err := page.ExecuteTemplate(h.w, "top", top); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if _, err := h.body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(h.w, h.body); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := page.ExecuteTemplate(h.w, "bottom", nil); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

type topView struct {
	Opt       Options
	Generated string
	Rows      []row
	MPICs     []mpicView
	Legend    []legendRow
	Providers string
	Count     [4]int // by model.Verdict.Rank: pass, warn, error, fail
	Several   bool   // rows carry vantage labels
}

type legendRow struct {
	Mark, Code, Severity, Summary string
}

func legend(seen map[model.Code]bool) []legendRow {
	var out []legendRow
	for _, f := range catalog.Findings {
		if seen[f.Code] && f.Mark != "" {
			out = append(out, legendRow{Mark: f.Mark, Code: string(f.Code), Severity: string(f.Severity), Summary: f.Summary})
		}
	}
	return out
}

// anchor makes a fragment identifier from a domain name: letters, digits,
// dots and hyphens stay, anything else becomes "_".
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// The view of one domain's section.
type domainView struct {
	ID, Vantage string
	D           *model.Domain
	Failing     []string
	Columns     []string
	Rows        [][]cellView
	Findings    []findingView
	Provider    []providerView
	Exchanges   []exchangeView
	Repeat      *repeatView
}

// repeatView is the tally of a repeated check (check --repeat N), as the
// Markdown report has it: each fault with the tries that showed it, and
// the exchange of its first appearance when the matrix is another try's.
type repeatView struct {
	Words                string
	Tries, Failed, Shown int
	Faults               []repeatFaultView
	Exchanges            []exchangeView
}

type repeatFaultView struct {
	Where, Name, Code, Sev, Probe, Detail string
	Seen, First                           int
}

type cellView struct {
	Text, Class, Sym, Title string
	Head                    bool
}

type findingView struct {
	Sev, Code, Where, Name, Probes, Detail string
}

type providerView struct {
	Sev, Code, Where                    string
	Summary, RFC, Requires, Impact, Fix string
	Seen, Dig                           string
}

type exchangeView struct {
	N                               int
	Title, Codes, Transcript, Class string
}

func (h *Writer) section(d *model.Domain, id, vantage string) domainView {
	v := domainView{ID: id, Vantage: vantage, D: d}
	if failing := d.FailingServers(); len(failing) > 0 {
		v.Failing = model.Labels(failing)
	}
	for _, f := range d.Findings {
		h.marks[f.Code] = true
	}
	cols := report.Columns(d)
	for _, c := range cols {
		v.Columns = append(v.Columns, string(c))
	}
	for _, n := range d.Names {
		for _, mr := range d.MatrixRows(n, cols) {
			s := mr.Server
			row := []cellView{{Text: n.Name.Display(), Head: true}, {Text: model.TrimDot(s.NS), Head: true}, {Text: s.Addr.String(), Head: true}}
			for _, res := range mr.Cells {
				row = append(row, cell(res))
			}
			v.Rows = append(v.Rows, row)
		}
		if n.Err != "" {
			row := []cellView{{Text: n.Name.Display(), Head: true}, {Text: "lookup fails: " + n.Err, Head: true, Class: "fail"}, {Text: "-", Head: true}}
			for range cols {
				row = append(row, cellView{Text: "-", Class: "none"})
			}
			v.Rows = append(v.Rows, row)
		}
	}
	v.Findings, v.Provider = findings(d)
	v.Exchanges = exchanges(d)
	v.Repeat = repeatOf(d.Repeat)
	return v
}

func repeatOf(rep *model.Repeat) *repeatView {
	if rep == nil {
		return nil
	}
	v := &repeatView{Words: report.RepeatWords(rep), Tries: rep.Tries, Failed: rep.Failed, Shown: rep.Shown}
	for _, f := range rep.Faults {
		where := f.Server.String()
		if f.Server.IsZero() {
			where = model.TrimDot(f.Zone)
		}
		v.Faults = append(v.Faults, repeatFaultView{Where: where, Name: f.Name, Code: string(f.Code), Sev: string(catalog.Info(f.Code).Severity),
			Probe: string(f.Probe), Detail: f.Detail, Seen: f.Seen, First: f.First})
		if f.Result == nil || f.Result.Exchange == nil || len(f.Result.Exchange.Query) == 0 {
			continue
		}
		var b bytes.Buffer
		evidence.WriteTranscript(&b, f.Result.Exchange, evidence.Meta{Probe: f.Result.Probe, NS: f.Server.NS})
		v.Exchanges = append(v.Exchanges, exchangeView{N: len(v.Exchanges) + 1, Class: "fail",
			Title: fmt.Sprintf("%s %s in try %d", where, f.Code, f.First), Codes: string(f.Result.Probe), Transcript: b.String()})
	}
	return v
}

// cell is a matrix cell: the terminal's text (report.Cell), coloured by
// its worst finding and led by a symbol, so it reads without colour too.
func cell(r *model.Result) cellView {
	if r == nil {
		return cellView{Text: "-", Class: "none", Title: "not sent"}
	}
	// A cell with no finding is plain, as in the terminal: colour and a
	// symbol mark only what needs reading.
	c := cellView{Text: report.Cell(r), Class: "plain"}
	var titles []string
	for _, is := range r.Issues {
		info := catalog.Info(is.Code)
		titles = append(titles, fmt.Sprintf("%s (%s): %s", is.Code, info.Severity, is.Detail))
		switch {
		case info.Severity == model.SeverityFail:
			c.Class, c.Sym = "fail", "✗"
		case info.Severity == model.SeverityWarn && c.Class != "fail":
			c.Class, c.Sym = "warn", "!"
		case info.Severity == model.SeverityInfo && c.Class == "plain":
			c.Class, c.Sym = "info", "i"
		}
	}
	c.Title = strings.Join(titles, "\n")
	return c
}

// findings groups a domain's findings by code and server, in words and
// as the text for the provider (the wording of catalog.Findings, as in the
// Markdown evidence report).
func findings(d *model.Domain) ([]findingView, []providerView) {
	gs := report.GroupFindings(d.Findings, false)
	var fv []findingView
	var pv []providerView
	for _, g := range gs {
		f := g.Finding
		where := f.Server.String()
		fv = append(fv, findingView{Sev: string(f.Severity), Code: string(f.Code), Where: where,
			Name: strings.Join(g.Names, ", "), Probes: strings.Join(g.Probes, ", "), Detail: strings.Join(g.Details, "; ")})
		if f.Severity == model.SeverityInfo {
			continue
		}
		info := catalog.Info(f.Code)
		p := providerView{Sev: string(f.Severity), Code: string(f.Code), Where: where, Summary: info.Summary, RFC: info.RFC,
			Requires: info.Requires, Impact: info.Impact, Fix: info.Fix, Seen: strings.Join(g.Details, "; ")}
		// The first finding whose result kept its exchange gives the
		// dig command.
		i := slices.IndexFunc(g.Results, func(r *model.Result) bool { return r.Exchange != nil })
		if i >= 0 {
			r := g.Results[i]
			ex := r.Exchange
			if r.Fallback != nil && f.Code == catalog.CodeTruncatedTCPFailed {
				ex = r.Fallback
			}
			if len(ex.Query) > 0 {
				p.Dig = evidence.DigCommand(ex)
			}
		}
		pv = append(pv, p)
	}
	return fv, pv
}

// exchanges are the transcripts of every result with a finding.
func exchanges(d *model.Domain) []exchangeView {
	var out []exchangeView
	for _, s := range d.Servers {
		for _, r := range s.Results {
			if len(r.Issues) == 0 || r.Exchange == nil || len(r.Exchange.Query) == 0 {
				continue
			}
			var b bytes.Buffer
			evidence.WriteTranscript(&b, r.Exchange, evidence.Meta{Probe: r.Probe, NS: s.NS})
			if r.Fallback != nil {
				b.WriteString("\n;; the UDP reply was truncated (TC=1); the query was repeated over TCP:\n")
				evidence.WriteTranscript(&b, r.Fallback, evidence.Meta{Probe: r.Probe, NS: s.NS, Role: "TCP retry after TC=1"})
			}
			var codes []string
			class := "warn"
			for _, is := range r.Issues {
				if !slices.Contains(codes, string(is.Code)) {
					codes = append(codes, string(is.Code))
				}
				if catalog.Info(is.Code).Severity == model.SeverityFail {
					class = "fail"
				}
			}
			out = append(out, exchangeView{N: len(out) + 1, Class: class,
				Title: fmt.Sprintf("%s at %s for %s", r.Probe, s.Ref(), r.Name.Display()),
				Codes: strings.Join(codes, ", "), Transcript: b.String()})
		}
	}
	return out
}

//go:embed page.html.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"upper":  func(x any) string { return strings.ToUpper(fmt.Sprint(x)) },
	"join":   strings.Join,
	"labels": model.Labels,
	"sym": func(x any) string {
		switch v := fmt.Sprint(x); v {
		case "fail", "error", string(model.OutcomeServfail):
			return "✗"
		case "warn", string(runs.MPICAtRisk), string(runs.StateMayFail), string(model.OutcomeIntermittent), string(model.PermissionVaries):
			return "!"
		case "pass", "ok":
			return "✓"
		}
		return "?"
	},
	"cls": func(x any) string {
		switch v := fmt.Sprint(x); v {
		case "fail", "error", string(model.OutcomeServfail), "forbidden", "unknown":
			return "fail"
		case "warn", string(runs.MPICAtRisk), string(runs.StateMayFail), string(model.OutcomeIntermittent), string(model.PermissionVaries):
			return "warn"
		case "pass", "ok", "permitted":
			return "ok"
		case "info":
			return "info"
		}
		return "none"
	},
	"orunknown": func(x any) string {
		s := fmt.Sprint(x)
		if s == "" {
			return "unknown"
		}
		return s
	},
}).Parse(pageText))
