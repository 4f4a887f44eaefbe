package report

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/internal/sample"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample.Split(t), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "split.table.golden", b.Bytes())
}

func TestSummariseVerdict(t *testing.T) {
	d := sample.Split(t)
	if d.Verdict != model.VerdictFail {
		t.Errorf("verdict %s, want fail (ns2 answers NOTIMP)", d.Verdict)
	}
	d.Servers = d.Servers[:1]
	judge.Summarise(d)
	if d.Verdict != model.VerdictPass {
		t.Errorf("verdict %s with only the conformant server, want pass: %v", d.Verdict, d.Findings)
	}
}

func TestClean(t *testing.T) {
	tests := map[string]string{
		"plain.example":     "plain.example",
		"evil\x1b[31m.test": `evil\u001b[31m.test`,
		"bell\a":            `bell\u0007`,
		"bad\xffbyte":       `bad\xffbyte`,
		"ünïcode.example":   "ünïcode.example",
	}
	for in, want := range tests {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnreachableFamilySaidOnce: a server this host cannot reach (no IPv6
// route) is said once for the domain, as information, and its verdict rests
// on the servers that were tested (probes/predict counts it as neither
// failing nor working).
func TestUnreachableFamilySaidOnce(t *testing.T) {
	d := &model.Domain{Domain: "v6.test", Names: []*model.Name{{Name: model.MustName("v6.test."), Zone: model.MustName("v6.test."), Exists: true}}}
	for _, sv := range []struct {
		addr string
		err  error
	}{{"127.0.0.40", nil}, {"::1", model.ErrNoFamily}} {
		s := &model.Server{Zone: model.MustName("v6.test."), NS: "ns.v6.test.", Addr: netip.MustParseAddr(sv.addr)}
		for _, id := range []model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAAUpper, catalog.ProbeCAA0x20} {
			p, _ := catalog.ProbeByID(id)
			q, _ := wire.BuildQuery(wire.Spell("v6.test.", p.Spelling), p.Type, p.EDNS, p.DO)
			ex := &model.Exchange{Server: netip.AddrPortFrom(s.Addr, 53), Query: q, Err: sv.err}
			if sv.err == nil {
				qm := new(dns.Msg)
				qm.Unpack(q)
				m := new(dns.Msg)
				m.SetReply(qm)
				m.Authoritative = true
				soa, _ := dns.NewRR("v6.test. 300 IN SOA ns.v6.test. h.v6.test. 1 7200 3600 1209600 300")
				m.Ns = []dns.RR{soa}
				ex.Reply, _ = m.Pack()
			}
			r := judge.Exchange(p, judge.Context{Zone: model.MustName("v6.test."), Name: model.MustName("v6.test."), Exists: true}, ex, nil)
			s.Results = append(s.Results, &r)
		}
		d.Servers = append(d.Servers, s)
	}
	judge.Summarise(d)
	if d.Verdict != model.VerdictPass {
		t.Errorf("verdict %s, want pass", d.Verdict)
	}
	var family []model.Finding
	for _, f := range d.Findings {
		if f.Code == catalog.CodeFamilyUnreachable {
			family = append(family, f)
		}
	}
	if len(family) != 1 || family[0].Severity != model.SeverityInfo || !bytes.Contains([]byte(family[0].Detail), []byte("::1")) {
		t.Errorf("want one info finding naming ::1, got %+v", family)
	}
}
