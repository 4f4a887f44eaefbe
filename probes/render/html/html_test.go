package html

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/caaprobe/caaprobe/probes/summary"
)

// hostile is text a server controls (names, CAA values, details): it must
// reach the page as text, never as markup.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

func hostileDomain() *report.Domain {
	r := &probes.Result{Probe: probes.ProbeCAA, Name: model.MustName("x.test."), Status: "NOTIMP", Rcode: 4,
		Issues: []probes.Issue{{Code: probes.CodeRcodeNotimp, Detail: hostile}}}
	return &report.Domain{Domain: "x.test", Verdict: report.VerdictFail, Outcome: report.OutcomeServfail, Source: hostile,
		Explanation: hostile, Policy: &report.Policy{CA: "ca.example", Issue: "unknown", Wildcard: "unknown", Reason: hostile},
		Names:   []*report.Name{{Name: model.MustName("x.test."), Zone: model.MustName("x.test."), Outcome: report.OutcomeServfail, Failing: []string{hostile}}},
		Servers: []*report.Server{{Zone: model.MustName("x.test."), NS: "ns1.x.test.", Addr: netip.MustParseAddr("192.0.2.1"), Results: []*probes.Result{r}}},
		Findings: []report.Finding{{Code: probes.CodeRcodeNotimp, Severity: probes.SeverityFail, Name: "x.test", Zone: "x.test", NS: hostile,
			Addr: "192.0.2.1", Probe: probes.ProbeCAA, Detail: hostile, Result: r}}}
}

func TestEscapesEverything(t *testing.T) {
	var b bytes.Buffer
	h, err := New(&b, Options{Title: hostile})
	if err != nil {
		t.Fatal(err)
	}
	d := hostileDomain()
	if err := h.Add(d, ""); err != nil {
		t.Fatal(err)
	}
	if err := h.Add(d, hostile); err != nil { // a vantage label from the user
		t.Fatal(err)
	}
	h.AddMPIC(runs.Judge("x.test", []*runs.Record{{Domain: d, Vantage: report.Vantage{Label: hostile}}}, hostile, []string{hostile}))
	s := summary.New()
	s.Add(d)
	h.SetSummary(s)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(strings.ToLower(page), "<script") || strings.Contains(strings.ToLower(page), "<img") {
		t.Errorf("markup from the network reached the page")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile text is not shown escaped")
	}
	// Two sections for the same domain get distinct ids, and each
	// summary link points at one that exists.
	if strings.Count(page, `<section class="domain" id="d1-x.test"`) != 1 || !strings.Contains(page, `href="#d1-x.test"`) ||
		strings.Count(page, `id="d2-x.test-`) != 1 {
		t.Errorf("section ids or links wrong")
	}
	if !strings.Contains(page, `class="cell fail"`) || !strings.Contains(page, "✗ NOTIMP") {
		t.Errorf("the failing cell is not marked")
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{"Example.COM": "example.com", "*.x.test": "_.x.test", "a b\"<c": "a_b__c", "xn--bcher-kva.test": "xn--bcher-kva.test"} {
		if got := anchor(in); got != want {
			t.Errorf("anchor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRelevantNamesLine: with more than one relevant name the page lists
// them as users read them (no trailing dot), with the alias target after
// an alias and nothing after a name that is none.
func TestRelevantNamesLine(t *testing.T) {
	t.Parallel()
	d := &report.Domain{Domain: "www.x.test", Verdict: report.VerdictPass, Outcome: report.OutcomeOK, Names: []*report.Name{
		{Name: model.MustName("www.x.test."), Zone: model.MustName("x.test."), CNAME: model.MustName("cdn.y.test."), Outcome: report.OutcomeOK},
		{Name: model.MustName("x.test."), Zone: model.MustName("x.test."), Outcome: report.OutcomeOK},
		{Name: model.MustName("cdn.y.test."), Zone: model.MustName("y.test."), AliasOf: model.MustName("www.x.test."), Outcome: report.OutcomeOK},
	}}
	var b bytes.Buffer
	h, err := New(&b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Add(d, ""); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	i := strings.Index(page, "<dt>relevant names</dt>")
	if i < 0 {
		t.Fatal("no relevant names on the page")
	}
	line := page[i : i+strings.Index(page[i:], "</dd>")]
	for _, want := range []string{"www.x.test <span", "→ cdn.y.test,", ", x.test <span", ", cdn.y.test <span"} {
		if !strings.Contains(line, want) {
			t.Errorf("relevant names %q: no %q", line, want)
		}
	}
	if strings.Contains(line, "test.") || strings.Count(line, "→") != 1 {
		t.Errorf("relevant names %q: a trailing dot, or an arrow after a name that is no alias", line)
	}
}
