package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
)

// TestUnknownFormat: the error names the format and every known one.
func TestUnknownFormat(t *testing.T) {
	_, err := New("yaml", &bytes.Buffer{}, Options{})
	if err == nil {
		t.Fatal("no error for format yaml")
	}
	for _, want := range append([]string{`"yaml"`}, Formats...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if Check("yaml") == nil || Check("json") != nil {
		t.Errorf("Check disagrees with New")
	}
}

// TestEveryFormat: each name in Formats builds a sink that writes the
// domain; table, json and markdown can show a diff and html cannot.
func TestEveryFormat(t *testing.T) {
	d := rendertest.Split(t)
	for _, f := range Formats {
		var b bytes.Buffer
		s, err := New(f, &b, Options{})
		if err != nil || s == nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Domain(Record{Domain: d}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(b.String(), "split.test") {
			t.Errorf("%s: the domain is not in the output:\n%s", f, b.String())
		}
		if _, ok := AsDiff(s); ok != (f != "html") {
			t.Errorf("%s: AsDiff %v", f, ok)
		}
	}
}

// TestSummaryWhere: --summary puts the provider view where the format
// wants it: after the table on w, as one JSON line on the side writer
// beside JSON Lines, as text on the side beside Markdown, in the page.
func TestSummaryWhere(t *testing.T) {
	const head = "Provider view"
	for _, c := range []struct {
		format         string
		inOut, inSide  string // what must be in each writer
		notOut, notSid string
	}{
		{"table", head, "", "", head},
		{"json", "", `"kind":"provider-view"`, "provider-view", ""},
		{"markdown", "", head, head, ""},
		{"html", "ns2.split.test", "", "", "ns2"},
	} {
		var out, side bytes.Buffer
		s, err := New(c.format, &out, Options{Side: &side, Summary: SummaryOn})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Domain(Record{Domain: rendertest.Split(t)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		check := func(w string, b *bytes.Buffer, in, notIn string) {
			if in != "" && !strings.Contains(b.String(), in) {
				t.Errorf("%s: %s lacks %q:\n%s", c.format, w, in, b.String())
			}
			if notIn != "" && strings.Contains(b.String(), notIn) {
				t.Errorf("%s: %s has %q:\n%s", c.format, w, notIn, b.String())
			}
		}
		check("output", &out, c.inOut, c.notOut)
		check("side", &side, c.inSide, c.notSid)
	}
}

// TestSummaryAuto: without --summary only a table of more than
// SummaryAutoAbove domains ends with the provider view; SummaryOff never.
func TestSummaryAuto(t *testing.T) {
	d := rendertest.Split(t)
	run := func(format string, mode SummaryMode, n int) (string, string) {
		var out, side bytes.Buffer
		s, err := New(format, &out, Options{Side: &side, Summary: mode})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			s.Domain(Record{Domain: d})
		}
		s.Close()
		return out.String(), side.String()
	}
	for _, c := range []struct {
		format string
		mode   SummaryMode
		n      int
		want   bool
	}{
		{"table", SummaryAuto, SummaryAutoAbove, false},
		{"table", SummaryAuto, SummaryAutoAbove + 1, true},
		{"table", SummaryOff, SummaryAutoAbove + 1, false},
		{"json", SummaryAuto, SummaryAutoAbove + 1, false},
		{"markdown", SummaryAuto, SummaryAutoAbove + 1, false},
	} {
		out, side := run(c.format, c.mode, c.n)
		got := strings.Contains(out+side, "Provider view") || strings.Contains(side, "provider-view")
		if got != c.want {
			t.Errorf("%s mode %d, %d domains: provider view %v, want %v", c.format, c.mode, c.n, got, c.want)
		}
	}
}

// TestShowCountsAll: a domain Show leaves out is not rendered but is
// counted in the provider view (report --only-failing --summary), and so
// is one given to Count.
func TestShowCountsAll(t *testing.T) {
	pass := &model.Domain{Domain: "quiet.test", Verdict: model.VerdictPass}
	var out bytes.Buffer
	s, err := New("json", &out, Options{Side: &out, Summary: SummaryOn,
		Show: func(d *model.Domain) bool { return d.Verdict != model.VerdictPass }})
	if err != nil {
		t.Fatal(err)
	}
	s.Domain(Record{Domain: pass})
	s.Domain(Record{Domain: rendertest.Split(t)})
	Count(s, pass)
	s.Close()
	if strings.Contains(out.String(), `"domain":"quiet.test"`) {
		t.Errorf("a domain Show left out was rendered:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"domains":3`) {
		t.Errorf("the provider view does not count all 3 domains:\n%s", out.String())
	}
}

// TestNewDiff: html cannot show changes, and yaml does not exist: each
// error names the formats that can, and nothing reaches the writer; json's counts go to Side.
func TestNewDiff(t *testing.T) {
	var b bytes.Buffer
	_, err := NewDiff("html", &b, Options{})
	if err == nil || !strings.Contains(err.Error(), "diff writes table, json or markdown") || b.Len() != 0 {
		t.Errorf("html: error %v, %d bytes written", err, b.Len())
	}
	// An unknown format gets the formats diff writes, not html too.
	if _, err := NewDiff("yaml", &b, Options{}); err == nil || !strings.Contains(err.Error(), `"yaml": diff writes table, json or markdown`) {
		t.Errorf("yaml: error %v", err)
	}
	var side bytes.Buffer
	d, err := NewDiff("json", &b, Options{Side: &side, Summary: SummaryOn})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Changes("split.test", rendertest.Changes()); err != nil {
		t.Fatal(err)
	}
	d.DiffDone(rendertest.Stats())
	d.Close()
	if strings.Count(b.String(), "\n") != len(rendertest.Changes()) || !strings.HasPrefix(side.String(), "caaprobe diff: ") {
		t.Errorf("json diff: stdout %q, side %q", b.String(), side.String())
	}
}
