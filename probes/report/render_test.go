package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleDomain is a fixed two-server domain: one server answers CAA, the
// other answers NOTIMP. Bytes, IDs and times are fixed so output is stable.
func sampleDomain(t *testing.T) *model.Domain {
	t.Helper()
	d := &model.Domain{Domain: "split.test", Source: "names.txt:3"}
	servers := []struct {
		ns, addr string
		rcode    int
	}{{"ns1.split.test.", "127.0.0.28", dns.RcodeSuccess}, {"ns2.split.test.", "127.0.0.29", dns.RcodeNotImplemented}}
	for _, sv := range servers {
		s := &model.Server{Zone: model.MustName("split.test."), NS: sv.ns, Addr: netip.MustParseAddr(sv.addr)}
		for _, id := range []model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAAUpper} {
			p, _ := catalog.ProbeByID(id)
			name := wire.Spell("split.test.", p.Spelling)
			q, err := wire.BuildQuery(name, p.Type, p.EDNS, p.DO)
			if err != nil {
				t.Fatal(err)
			}
			q[0], q[1] = 0xab, 0xcd
			qm := new(dns.Msg)
			qm.Unpack(q)
			m := new(dns.Msg)
			m.SetReply(qm)
			m.Authoritative = true
			m.Rcode = sv.rcode
			if sv.rcode == dns.RcodeSuccess {
				rr, _ := dns.NewRR(name + ` 3600 IN CAA 0 issue "letsencrypt.org"`)
				m.Answer = []dns.RR{rr}
			}
			reply, _ := m.Pack()
			ex := &model.Exchange{Server: netip.AddrPortFrom(s.Addr, 53), Transport: p.Transport, Query: q, Reply: reply,
				Attempts: 1, RTT: 1500 * time.Microsecond}
			r := judge.Exchange(p, judge.Context{Zone: model.MustName("split.test."), Name: model.MustName("split.test."), Exists: true}, ex, nil)
			s.Results = append(s.Results, &r)
		}
		d.Servers = append(d.Servers, s)
	}
	d.Names = []*model.Name{{Name: model.MustName("split.test."), Zone: model.MustName("split.test."), Exists: true}}
	judge.Summarise(d)
	// What probes/predict says of it (tested there): ns1 answers, so the
	// resolver routes around ns2.
	d.Outcome = model.OutcomeOK
	d.Names[0].Outcome, d.Names[0].Failing, d.Names[0].Working = model.OutcomeOK, []model.ServerRef{{NS: "ns2.split.test", Addr: netip.MustParseAddr("127.0.0.29")}}, []model.ServerRef{{NS: "ns1.split.test", Addr: netip.MustParseAddr("127.0.0.28")}}
	d.Policy = &model.Policy{CA: "letsencrypt.org", Name: "split.test", Issue: "permitted", Wildcard: "permitted",
		Relevant: "split.test", Reason: `CAA at split.test: issue "letsencrypt.org" permits letsencrypt.org`}
	d.Explanation = "ns2.split.test (127.0.0.29) answers NOTIMP to CAA."
	return d
}

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
	if err := WriteTable(&b, sampleDomain(t), TableOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "split.table.golden", b.Bytes())
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleDomain(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "split.json.golden", b.Bytes())
}

func TestSummariseVerdict(t *testing.T) {
	d := sampleDomain(t)
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

// TestDecodeJSONRoundTrip: the decoder beside the encoder reads a line
// back into a domain that encodes to the same line, and refuses a line
// that is not a result with ErrNotResult.
func TestDecodeJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	run := &model.Run{Version: "v1.2.3", Vantage: &model.Vantage{Label: "eu-1"}, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := WriteJSONRun(&b, sampleDomain(t), run); err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if dec.Version != "v1.2.3" || dec.Vantage.Label != "eu-1" || !dec.CheckedAt.Equal(run.Started) {
		t.Errorf("decoded run: version %q vantage %q checked %v", dec.Version, dec.Vantage.Label, dec.CheckedAt)
	}
	var again bytes.Buffer
	if err := WriteJSONRun(&again, dec.Domain, &model.Run{Version: dec.Version, Vantage: &dec.Vantage, Started: dec.CheckedAt}); err != nil {
		t.Fatal(err)
	}
	if again.String() != b.String() {
		t.Errorf("re-encoded:\n%s\nwant:\n%s", again.String(), b.String())
	}
	for _, line := range []string{`[1]`, `{"verdict":"pass"}`, `{"domain":"x.test","verdict":"maybe"}`, `not json`} {
		if _, err := DecodeJSON([]byte(line)); !errors.Is(err, ErrNotResult) {
			t.Errorf("%s: error %v, want ErrNotResult", line, err)
		}
	}
}

// TestDecodeServerRefs: the decoder builds the failing servers and a
// finding's server from the objects; a run from before the objects
// existed is read from the text; an address that is not one is an error
// naming it.
func TestDecodeServerRefs(t *testing.T) {
	ns2 := model.ServerRef{NS: "ns2.split.test", Addr: netip.MustParseAddr("127.0.0.29")}
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleDomain(t)); err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f := dec.Domain.Names[0].Failing; len(f) != 1 || f[0] != ns2 {
		t.Errorf("failing %v, want [%v]", f, ns2)
	}
	at := false
	for _, f := range dec.Domain.Findings {
		at = at || f.Server == ns2
	}
	if !at {
		t.Errorf("no finding decoded at %v: %+v", ns2, dec.Domain.Findings)
	}
	old := `{"domain":"split.test","verdict":"fail","names":[{"name":"split.test","failing_servers":["ns2.split.test (127.0.0.29)"]}]}`
	if dec, err := DecodeJSON([]byte(old)); err != nil {
		t.Error(err)
	} else if f := dec.Domain.Names[0].Failing; len(f) != 1 || f[0] != ns2 {
		t.Errorf("old run: failing %v, want [%v]", f, ns2)
	}
	bad := `{"domain":"split.test","verdict":"fail","names":[{"name":"split.test","failing":[{"ns":"ns2","addr":"not-an-ip"}]}]}`
	if _, err := DecodeJSON([]byte(bad)); !errors.Is(err, ErrNotResult) || !strings.Contains(err.Error(), "not-an-ip") {
		t.Errorf("bad address: error %v, want ErrNotResult naming it", err)
	}
}

// TestDecodeJSONNames: the names of a line read back as DomainNames, in
// either spelling of the trailing dot, octets a name may hold kept and
// shown escaped, and a line whose name field no name can be is no result,
// with the field and the text said.
func TestDecodeJSONNames(t *testing.T) {
	t.Parallel()
	line := `{"domain":"www.x.test","verdict":"pass","names":[{"name":"WWW.x.test","zone":"x.test.","cname":"y.test"},` +
		`{"name":"y.test","zone":"test","alias_of":"www.x.test"}],"servers":[{"ns":"ns.x.test","addr":"192.0.2.1","zone":"x.test","results":[]}]}`
	dec, err := DecodeJSON([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	ns := dec.Domain.Names
	if len(ns) != 2 || ns[0].Name != model.MustName("www.x.test") || ns[0].Zone != model.MustName("x.test") ||
		ns[0].CNAME != ns[1].Name || ns[1].AliasOf != ns[0].Name || !ns[0].AliasOf.IsZero() {
		t.Errorf("names read back as %+v %+v", ns[0], ns[1])
	}
	if s := dec.Domain.Servers; len(s) != 1 || s[0].Zone != ns[0].Zone {
		t.Errorf("servers read back as %+v", s)
	}
	// Octets presentation form escapes are kept, escaped.
	for in, want := range map[string]string{"x\u001b[2J.test": `x\027[2j.test`, "b\u00fc.test": `b\195\188.test`, "a b.test": `a\032b.test`} {
		n, _ := json.Marshal(map[string]string{"name": in})
		dec, err := DecodeJSON([]byte(`{"domain":"x.test","verdict":"pass","names":[` + string(n) + `]}`))
		if err != nil || len(dec.Domain.Names) != 1 || dec.Domain.Names[0].Name.Display() != want {
			t.Errorf("name %q read back as %+v, %v; want %s", in, dec, err, want)
		}
	}
	for field, bad := range map[string]string{"name": "a..b", "zone": strings.Repeat("a", 64) + ".test", "cname": ".x.test", "alias_of": strings.Repeat("abcdefghi.", 26)} {
		n, _ := json.Marshal(map[string]string{field: bad})
		_, err := DecodeJSON([]byte(`{"domain":"x.test","verdict":"pass","names":[` + string(n) + `]}`))
		if !errors.Is(err, ErrNotResult) || !strings.Contains(err.Error(), field+": domain name") {
			t.Errorf("%s %q: error %v, want ErrNotResult naming the field and the name", field, bad, err)
		}
	}
}
