package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/internal/sample"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// TestMarksReadable: every mark in the catalog is printable ASCII, and no
// two marks differ only by case (the old cs/CS).
func TestMarksReadable(t *testing.T) {
	seen := map[string]model.Code{}
	for _, f := range catalog.Findings {
		if f.Mark == "" {
			continue
		}
		for _, c := range f.Mark {
			if c < 0x21 || c > 0x7e {
				t.Errorf("%s: mark %q is not printable ASCII", f.Code, f.Mark)
			}
		}
		if other, ok := seen[strings.ToLower(f.Mark)]; ok {
			t.Errorf("%s and %s have marks that differ only by case: %q", other, f.Code, f.Mark)
		}
		seen[strings.ToLower(f.Mark)] = f.Code
	}
	for code, want := range map[model.Code]string{catalog.CodeNotAuthoritative: "noAA", catalog.CodeTruncatedTCPFailed: "TCPX"} {
		if got := catalog.Info(code).Mark; got != want {
			t.Errorf("%s: mark %q, want %q (as dig users read it)", code, got, want)
		}
	}
}

// parentDomain is sampleDomain with a parent name served by a healthy TLD
// server, and one row with a warning (no AA bit).
func parentDomain(t *testing.T) *model.Domain {
	d := sample.Split(t)
	tld := &model.Server{Zone: model.MustName("test."), NS: "ns.nic.test.", Addr: netip.MustParseAddr("127.0.0.3")}
	for _, id := range []model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAAUpper} {
		tld.Results = append(tld.Results, judged(t, id, "test.", "test.", true))
	}
	d.Servers = append(d.Servers, tld)
	d.Names = append(d.Names, &model.Name{Name: model.MustName("test."), Zone: model.MustName("test."), Exists: true, Outcome: model.OutcomeOK})
	d.Servers[0].Results[1] = judged(t, catalog.ProbeCAAUpper, "split.test.", "split.test.", false)
	judge.Summarise(d)
	return d
}

// judged is the result of probe id for name at a server that answers
// NOERROR with one CAA record, with or without the AA bit.
func judged(t *testing.T, id model.ProbeID, zone, name string, aa bool) *model.Result {
	t.Helper()
	p, _ := catalog.ProbeByID(id)
	qname := wire.Spell(name, p.Spelling)
	q, err := wire.BuildQuery(qname, p.Type, p.EDNS, p.DO)
	if err != nil {
		t.Fatal(err)
	}
	qm := new(dns.Msg)
	qm.Unpack(q)
	m := new(dns.Msg)
	m.SetReply(qm)
	m.Authoritative = aa
	rr, _ := dns.NewRR(qname + ` 3600 IN CAA 0 issue "letsencrypt.org"`)
	m.Answer = []dns.RR{rr}
	reply, _ := m.Pack()
	ex := &model.Exchange{Server: netip.MustParseAddrPort("127.0.0.1:53"), Transport: p.Transport, Query: q, Reply: reply, Attempts: 1, RTT: time.Millisecond}
	r := judge.Exchange(p, judge.Context{Zone: model.MustName(zone), Name: model.MustName(name), Exists: true}, ex, nil)
	return &r
}

func render(t *testing.T, d *model.Domain, opt TableOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTable(&b, d, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTableFolding: the healthy parent name is one summary line, not rows
// of the grid; the marks shown are explained in a legend.
func TestTableFolding(t *testing.T) {
	out := render(t, parentDomain(t), TableOptions{})
	if strings.Contains(out, "ns.nic.test │") || !strings.Contains(out, "  test: 1 server answers every probe as required: ns.nic.test (127.0.0.3)") {
		t.Errorf("the TLD's healthy rows are not folded:\n%s", out)
	}
	if !strings.Contains(out, "NOERROR noAA") || !strings.Contains(out, "marks: noAA = not-authoritative") {
		t.Errorf("no noAA mark or no legend:\n%s", out)
	}
	if n := strings.Count(out, "│ split.test │"); n != 2 {
		t.Errorf("%d rows of split.test, want 2 (the checked name is never folded):\n%s", n, out)
	}
}

// TestTableOnlyFailing: only rows with findings, no folded lines, and a
// passing domain prints nothing.
func TestTableOnlyFailing(t *testing.T) {
	out := render(t, parentDomain(t), TableOptions{OnlyFailing: true})
	if strings.Contains(out, "ns.nic.test") || !strings.Contains(out, "ns2.split.test") {
		t.Errorf("--only-failing rows:\n%s", out)
	}
	if !strings.Contains(out, "ns1.split.test") {
		t.Errorf("ns1's noAA warning row is missing:\n%s", out)
	}
	d := parentDomain(t)
	d.Servers = d.Servers[2:] // the TLD only: nothing to report
	d.Names = d.Names[1:]
	judge.Summarise(d)
	if d.Verdict != model.VerdictPass {
		t.Fatalf("verdict %s", d.Verdict)
	}
	if out := render(t, d, TableOptions{OnlyFailing: true}); out != "" {
		t.Errorf("a passing domain printed:\n%s", out)
	}
}

// TestTableWidth: at any width from 40 columns up no line is longer than
// the width (a grid too wide becomes a list), and without a width the
// grid is kept whole.
func TestTableWidth(t *testing.T) {
	d := parentDomain(t)
	d.Explanation = strings.Repeat("a long explanation that goes on ", 10)
	d.Findings[0].Detail = "x" + strings.Repeat("y", 150) // one word longer than any line
	for _, width := range []int{40, 60, 80, 100} {
		out := render(t, d, TableOptions{Width: width, Color: true})
		plainOut := render(t, d, TableOptions{Width: width})
		for _, l := range strings.Split(plainOut, "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d columns: %q", width, n, l)
			}
		}
		if !strings.Contains(out, "\x1b[") {
			t.Errorf("width %d: colour lost", width)
		}
		if !strings.Contains(plainOut, "ns2.split.test") || !strings.Contains(plainOut, "NOTIMP") {
			t.Errorf("width %d: the failing server is not shown:\n%s", width, plainOut)
		}
	}
	narrow := render(t, d, TableOptions{Width: 60})
	if strings.Contains(narrow, "┌") || !strings.Contains(narrow, "ns2.split.test 127.0.0.29: NOTIMP: every probe") {
		t.Errorf("at 60 columns the grid should be a list:\n%s", narrow)
	}
	if wide := render(t, d, TableOptions{}); !strings.Contains(wide, "┌") {
		t.Errorf("without a width the grid is kept:\n%s", wide)
	}
}

func TestDescribeSource(t *testing.T) {
	for in, want := range map[string]string{
		"arg 2":                    "command line argument 2",
		"names.txt:3":              "names.txt line 3",
		"C:/lists/a.txt:12":        "C:/lists/a.txt line 12",
		"stdin:4":                  "standard input line 4",
		"/etc/le/cert.pem (SAN 2)": "certificate /etc/le/cert.pem (DNS name 2)",
		"/etc/le/cert.pem":         "/etc/le/cert.pem",
		"arg x":                    "arg x",
	} {
		if got := DescribeSource(in); got != want {
			t.Errorf("DescribeSource(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTableNarrowGolden is the list form with a folded parent and a legend,
// as a 72-column terminal shows it.
func TestTableNarrowGolden(t *testing.T) {
	golden(t, "split.narrow.golden", []byte(render(t, parentDomain(t), TableOptions{Width: 72})))
}
