package html

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
	"golang.org/x/net/html"
)

// repeatDomain is a domain checked 20 times: a SERVFAIL at one server in
// one try (7, not the try shown, so its exchange comes with the tally) and
// a zone-level fault in every try. The detail is text a server controls.
func repeatDomain(t *testing.T) *model.Domain {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion("x.test.", dns.TypeCAA)
	query, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeServerFailure)
	reply, err := r.Pack()
	if err != nil {
		t.Fatal(err)
	}
	ex := &model.Exchange{Server: netip.MustParseAddrPort("192.0.2.1:53"), Query: query, Reply: reply,
		Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RTT: time.Millisecond, Attempts: 1}
	res := &model.Result{Probe: catalog.ProbeCAA, Name: model.MustName("x.test."), Status: "SERVFAIL", Rcode: dns.RcodeServerFailure, Exchange: ex,
		Issues: []model.Issue{{Code: catalog.CodeRcodeServfail, Detail: hostile}}}
	d := hostileDomain()
	d.Repeat = &model.Repeat{Tries: 20, Shown: 3, Failed: 20, Faults: []model.RepeatFault{
		{Server: model.ServerRef{NS: "ns1.x.test", Addr: netip.MustParseAddr("192.0.2.1")}, Zone: "x.test.", Name: "x.test", Code: catalog.CodeRcodeServfail, Seen: 1, First: 7,
			Probe: catalog.ProbeCAA, Detail: hostile, Result: res},
		{Zone: "x.test.", Name: "x.test", Code: catalog.CodeRcodeNotimp, Seen: 20, First: 1, Probe: catalog.ProbeCAA, Detail: "every time"},
	}}
	return d
}

func render(t *testing.T, ds ...*model.Domain) string {
	t.Helper()
	var b bytes.Buffer
	h, err := New(&b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := h.Add(d, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// find returns the elements of tag whose class attribute holds class.
func find(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type != html.ElementNode || c.Data != tag {
			continue
		}
		for _, a := range c.Attr {
			if a.Key == "class" && strings.Contains(" "+a.Val+" ", " "+class+" ") {
				out = append(out, c)
			}
		}
	}
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// TestRepeatTally: the page shows a repeated check's tally as the Markdown
// report does: the reading, the counts, one row per fault with its tries
// seen and first try, and the exchange of a fault's first appearance;
// text from the server stays text. A domain checked once has no tally.
func TestRepeatTally(t *testing.T) {
	page := render(t, repeatDomain(t))
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	heads := find(doc, "h3", "repeat")
	if len(heads) != 1 || text(heads[0]) != "Repeated: intermittent" {
		t.Fatalf("repeat heading %d, %q", len(heads), page)
	}
	if !strings.Contains(page, "20 tries, each with cold caches; 20 failed. The matrix and exchanges below are try 3") {
		t.Errorf("counts missing")
	}
	tables := find(doc, "table", "repeat")
	if len(tables) != 1 {
		t.Fatalf("%d repeat tables", len(tables))
	}
	var rows [][]string
	for tr := range tables[0].Descendants() {
		if tr.Type != html.ElementNode || tr.Data != "tr" || tr.Parent.Data != "tbody" {
			continue
		}
		var cells []string
		for td := range tr.ChildNodes() {
			if td.Type == html.ElementNode && td.Data == "td" {
				cells = append(cells, text(td))
			}
		}
		rows = append(rows, cells)
	}
	want := [][]string{
		{"ns1.x.test (192.0.2.1)", "x.test", "✗ rcode-servfail", "1/20", "7", string(catalog.ProbeCAA), hostile},
		{"x.test", "x.test", "✗ rcode-notimp", "20/20", "1", string(catalog.ProbeCAA), "every time"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}
	exs := find(doc, "details", "repeat")
	if len(exs) != 1 {
		t.Fatalf("%d repeat exchanges, want 1 (the fault with a result)", len(exs))
	}
	if s := text(exs[0]); !strings.Contains(s, "ns1.x.test (192.0.2.1) rcode-servfail in try 7") || !strings.Contains(s, "status: SERVFAIL") {
		t.Errorf("exchange %q", s)
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Errorf("markup from the network reached the page")
	}
	once := render(t, hostileDomain())
	if strings.Contains(once, `class="repeat"`) || strings.Contains(once, "Repeated:") {
		t.Errorf("a domain checked once shows a tally")
	}
}

// TestPreface: the caller's section comes under the header, before the
// summary.
func TestPreface(t *testing.T) {
	var b bytes.Buffer
	h, err := New(&b, Options{Preface: `<section id="pre">first</section>`})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Add(hostileDomain(), ""); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	pre, sum := strings.Index(page, `<section id="pre">first</section>`), strings.Index(page, `id="summary"`)
	if pre < 0 || sum < 0 || pre > sum || pre < strings.Index(page, "</header>") {
		t.Errorf("preface at %d, summary at %d", pre, sum)
	}
}
