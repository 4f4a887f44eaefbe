package html

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/internal/summary"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// hostile is text a server controls (names, CAA values, details): it must
// reach the page as text, never as markup.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

func hostileDomain() *model.Domain {
	r := &model.Result{Probe: catalog.ProbeCAA, Name: model.MustName("x.test."), Status: "NOTIMP", Rcode: 4,
		Issues: []model.Issue{{Code: catalog.CodeRcodeNotimp, Detail: hostile}}}
	return &model.Domain{Domain: "x.test", Verdict: model.VerdictFail, Outcome: model.OutcomeServfail, Source: hostile,
		Explanation: hostile, Policy: &model.Policy{CA: "ca.example", Issue: "unknown", Wildcard: "unknown", Reason: hostile},
		Names:   []*model.Name{{Name: model.MustName("x.test."), Zone: model.MustName("x.test."), Outcome: model.OutcomeServfail, Failing: []model.ServerRef{{NS: hostile, Addr: netip.MustParseAddr("192.0.2.1")}}}},
		Servers: []*model.Server{{Zone: model.MustName("x.test."), NS: "ns1.x.test.", Addr: netip.MustParseAddr("192.0.2.1"), Results: []*model.Result{r}}},
		Findings: []model.Finding{{Code: catalog.CodeRcodeNotimp, Severity: model.SeverityFail, Name: "x.test", Zone: "x.test", Server: model.ServerRef{NS: hostile,
			Addr: netip.MustParseAddr("192.0.2.1")}, Probe: catalog.ProbeCAA, Detail: hostile, Result: r}}}
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
	h.AddMPIC(runs.Judge("x.test", []*runs.Record{{Domain: d, Vantage: model.Vantage{Label: hostile, RIR: "RIPE"}}}, hostile, []string{hostile}))
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
	// The perspectives table names each perspective's RIR region, which
	// the quorum's diversity rule reads.
	if !strings.Contains(page, "<td>RIPE</td>") {
		t.Errorf("the perspective's RIR is not shown")
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
	d := &model.Domain{Domain: "www.x.test", Verdict: model.VerdictPass, Outcome: model.OutcomeOK, Names: []*model.Name{
		{Name: model.MustName("www.x.test."), Zone: model.MustName("x.test."), CNAME: model.MustName("cdn.y.test."), Outcome: model.OutcomeOK},
		{Name: model.MustName("x.test."), Zone: model.MustName("x.test."), Outcome: model.OutcomeOK},
		{Name: model.MustName("cdn.y.test."), Zone: model.MustName("y.test."), AliasOf: model.MustName("www.x.test."), Outcome: model.OutcomeOK},
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
