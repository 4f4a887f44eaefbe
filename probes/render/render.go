// Package render turns results into one output format. New is the one
// place that switches on the format's name: check, demo, report, diff and
// bench-lab build their output through it, so --format, --summary and -o
// mean the same in each. Every format is a Sink in a folder of its own
// (table, jsonl, markdown, html) with its own golden tests; the provider
// view (--summary) is the summary sink, which New puts beside the format's
// and which writes where that format wants it.
package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/html"
	"github.com/caaprobe/caaprobe/probes/render/internal/markdown"
	sumsink "github.com/caaprobe/caaprobe/probes/render/internal/summary"
	"github.com/caaprobe/caaprobe/probes/render/internal/table"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Formats are the names New knows, in the order help and errors list them.
var Formats = []string{"table", "json", "markdown", "html"}

// Record is one domain to render and where it came from.
type Record struct {
	Domain *model.Domain
	// Run is the run the domain belongs to (version, command, vantage),
	// recorded in JSON lines and Markdown reports; nil for none.
	Run *model.Run
	// Vantage labels the domain when the output holds several vantage
	// points ("" otherwise).
	Vantage string
	// Raw is the JSON line as it was read back (report): the json sink
	// writes it as it is; nil means encode Domain.
	Raw []byte
}

// Sink is one output format. Domain is called once per domain in output
// order, MPIC once per domain judged across perspectives (report
// --perspectives), then Close once, which writes what the format keeps
// to the end (the HTML page, the provider view). A Sink is not safe for
// concurrent use.
type Sink interface {
	Domain(r Record) error
	MPIC(m *runs.MPIC) error
	Close() error
}

// DiffSink is a Sink that can show the changes between two runs (diff).
// The table, json and markdown formats can; html cannot.
type DiffSink interface {
	Sink
	Changes(domain string, cs []runs.Change) error
	// DiffDone ends the output with the diff's counts.
	DiffDone(st runs.DiffStats) error
}

// SummaryMode says when the provider view is written.
type SummaryMode int

const (
	// SummaryAuto writes it at the end of a table of more than
	// SummaryAutoAbove domains, where one domain's table no longer shows
	// the pattern; the other formats keep their output for themselves.
	SummaryAuto SummaryMode = iota
	// SummaryOn writes it whatever the format and the count (--summary).
	SummaryOn
	// SummaryOff never writes it (diff, bench-lab).
	SummaryOff
)

// SummaryAutoAbove is the number of domains above which a table ends with
// the provider view without --summary.
const SummaryAutoAbove = 20

// Options are what a format may use; each ignores the rest.
type Options struct {
	Color       bool // table: ANSI colour
	Width       int  // table: the terminal's width (0: no wrapping)
	OnlyFailing bool // table: only the rows with findings
	// Side gets what would break the format of w: the provider view of
	// json (one line of JSON) and markdown (text), a diff's counts beside
	// json. Nil discards it.
	Side      io.Writer
	SideWidth int // the width of text written to Side
	Summary   SummaryMode
	// Show picks the domains to render; the provider view counts every
	// domain. Nil shows all.
	Show func(d *model.Domain) bool
	// The HTML page's header.
	Title     string
	Generated time.Time
	Inputs    []string
}

// New returns the sink of format writing to w. An unknown format is an
// error naming it and the known ones.
func New(format string, w io.Writer, opt Options) (Sink, error) {
	side := opt.Side
	if side == nil {
		side = io.Discard
	}
	var s Sink
	var sum *sumsink.Sink
	switch format {
	case "table":
		s = &tableSink{table.New(w, table.Options{Color: opt.Color, Width: opt.Width, OnlyFailing: opt.OnlyFailing})}
		sum = sumsink.New(w, sumsink.Text, opt.Width, opt.Summary == SummaryAuto, SummaryAutoAbove)
	case "json":
		s = &jsonSink{jsonl.New(w, side), w}
		sum = sumsink.New(side, sumsink.JSON, 0, false, 0)
	case "markdown":
		s = &markdownSink{markdown.New(w)}
		sum = sumsink.New(side, sumsink.Text, opt.SideWidth, false, 0)
	case "html":
		h, err := html.New(w, html.Options{Title: opt.Title, Generated: opt.Generated, Inputs: opt.Inputs})
		if err != nil {
			return nil, err
		}
		s = &htmlSink{h}
		// The page shows the provider view itself, so the summary sink
		// only counts; the page takes its counts at Close.
		sum = sumsink.New(io.Discard, sumsink.None, 0, false, 0)
	default:
		return nil, Check(format)
	}
	if opt.Summary == SummaryOff || opt.Summary == SummaryAuto && format != "table" {
		sum = nil
	}
	if sum == nil && opt.Show == nil {
		return s, nil
	}
	return &tee{Sink: s, sum: sum, show: opt.Show}, nil
}

// Known lists names for an error or help text: "a, b or c".
func Known(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// tee counts every domain in the provider view, renders the ones Show
// picks, and writes the provider view after the format's output.
type tee struct {
	Sink
	sum  *sumsink.Sink
	show func(*model.Domain) bool
	err  error // the first write error: no provider view after it
}

func (t *tee) Domain(r Record) error {
	if t.sum != nil {
		t.sum.Add(r.Domain)
	}
	if t.show != nil && !t.show(r.Domain) {
		return nil
	}
	err := t.Sink.Domain(r)
	if err != nil && t.err == nil {
		t.err = err
	}
	return err
}

func (t *tee) Close() error {
	h, isHTML := t.Sink.(*htmlSink)
	if isHTML && t.sum != nil {
		h.w.SetSummary(t.sum.Summary())
	}
	if t.sum == nil || isHTML || t.err != nil {
		return t.Sink.Close()
	}
	// The provider view comes after everything the format wrote.
	if err := t.Sink.Close(); err != nil {
		return err
	}
	return t.sum.Close()
}

// Changes and DiffDone pass through when the format has them, so a
// wrapped sink is still a DiffSink; AsDiff says whether it is one.
func (t *tee) Changes(domain string, cs []runs.Change) error {
	return t.Sink.(DiffSink).Changes(domain, cs)
}

func (t *tee) DiffDone(st runs.DiffStats) error { return t.Sink.(DiffSink).DiffDone(st) }

// AsDiff returns s as a DiffSink when its format can show changes.
func AsDiff(s Sink) (DiffSink, bool) {
	inner := s
	if t, ok := s.(*tee); ok {
		inner = t.Sink
	}
	if _, ok := inner.(DiffSink); !ok {
		return nil, false
	}
	if t, ok := s.(*tee); ok {
		return t, true
	}
	return s.(DiffSink), true
}

// NewDiff is New for diff: the sink of a format that can show changes,
// with no provider view. A format that cannot (html), or one that does not
// exist, is an error naming those that can, and nothing is written to w.
func NewDiff(format string, w io.Writer, opt Options) (DiffSink, error) {
	opt.Summary = SummaryOff
	if ok, err := canDiff(format); err != nil || !ok {
		// An unknown format and one diff cannot write get the same
		// answer: the formats diff writes, not every format there is.
		var can []string
		for _, f := range Formats {
			if ok, _ := canDiff(f); ok {
				can = append(can, f)
			}
		}
		return nil, fmt.Errorf("--format %q: diff writes %s", format, Known(can))
	}
	s, err := New(format, w, opt)
	if err != nil {
		return nil, err
	}
	d, _ := AsDiff(s)
	return d, nil
}

// canDiff asks a sink of format, built on io.Discard, whether it can show
// changes: the sinks themselves say so, not a second list of names.
func canDiff(format string) (bool, error) {
	s, err := New(format, io.Discard, Options{Summary: SummaryOff})
	if err != nil {
		return false, err
	}
	_, ok := AsDiff(s)
	return ok, s.Close()
}

type tableSink struct{ *table.Sink }

func (s *tableSink) Domain(r Record) error { return s.Sink.Domain(r.Domain, r.Vantage) }

// jsonSink adapts the JSON Lines sink, which knows nothing of saved runs
// (probes/runs reads them with its decoder): one line per domain judged
// across perspectives, one per change.
type jsonSink struct {
	*jsonl.Sink
	w io.Writer
}

func (s *jsonSink) Domain(r Record) error { return s.Sink.Domain(r.Domain, r.Run, r.Raw) }

func (s *jsonSink) MPIC(m *runs.MPIC) error { return runs.WriteMPICJSON(s.w, m) }

func (s *jsonSink) Changes(_ string, cs []runs.Change) error {
	for _, c := range cs {
		if err := s.Line(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *jsonSink) DiffDone(st runs.DiffStats) error { return s.Sink.DiffDone(st) }

type markdownSink struct{ *markdown.Sink }

func (s *markdownSink) Domain(r Record) error { return s.Sink.Domain(r.Domain, r.Run, r.Vantage) }

// htmlSink adapts the page writer.
type htmlSink struct{ w *html.Writer }

func (s *htmlSink) Domain(r Record) error { return s.w.Add(r.Domain, r.Vantage) }

// MPIC adds the perspectives' sections and then the verdict across them,
// which links to those sections.
func (s *htmlSink) MPIC(m *runs.MPIC) error {
	for _, p := range m.Perspectives {
		if err := s.w.Add(p.Domain, p.Vantage.Label); err != nil {
			return err
		}
	}
	s.w.AddMPIC(m)
	return nil
}

func (s *htmlSink) Close() error { return s.w.Close() }

// Count adds d to s's provider view without rendering it: report
// --perspectives shows a verdict across runs, but the provider view
// still counts each run's domain.
func Count(s Sink, d *model.Domain) {
	if t, ok := s.(*tee); ok && t.sum != nil {
		t.sum.Add(d)
	}
}

// Check says whether New knows format, with New's error when it does not.
func Check(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("--format %q: want %s", format, Known(Formats))
}
