package runs

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/miekg/dns"
)

func TestAllowedRemoteFailures(t *testing.T) {
	for remotes, want := range map[int]int{0: 0, 1: 0, 2: 1, 3: 1, 5: 1, 6: 2, 7: 2, 20: 2} {
		if got := AllowedRemoteFailures(remotes); got != want {
			t.Errorf("%d remotes: %d may fail, want %d", remotes, got, want)
		}
	}
}

func rec(label, verdict, outcome string, failing ...model.ServerRef) *Record {
	d := &model.Domain{Domain: "example.test", Verdict: model.Verdict(verdict), Outcome: model.Outcome(outcome),
		Names: []*model.Name{{Name: model.MustName("example.test."), Zone: model.MustName("example.test."), Outcome: model.Outcome(outcome), Failing: failing}}}
	return &Record{Domain: d, Vantage: model.Vantage{Label: label}}
}

// TestJudge pins the CA/B Forum rule: the primary must succeed, and no
// more remotes may fail than the quorum allows.
func TestJudge(t *testing.T) {
	ok := func(l string) *Record { return rec(l, "pass", "ok") }
	fail := func(l string) *Record {
		return rec(l, "fail", "servfail", model.ServerRef{NS: "ns1.example.test", Addr: netip.MustParseAddr("192.0.2.1")})
	}
	flaky := func(l string) *Record {
		return rec(l, "fail", "intermittent", model.ServerRef{NS: "ns2.example.test", Addr: netip.MustParseAddr("192.0.2.2")})
	}
	tests := []struct {
		name string
		recs []*Record
		want mpic.Outcome
	}{
		{"all succeed", []*Record{ok("p"), ok("a"), ok("b"), ok("c")}, MPICPass},
		{"primary fails", []*Record{fail("p"), ok("a"), ok("b"), ok("c")}, MPICFail},
		{"one of three remotes fails", []*Record{ok("p"), fail("a"), ok("b"), ok("c")}, MPICPass},
		{"two of three remotes fail", []*Record{ok("p"), fail("a"), fail("b"), ok("c")}, MPICFail},
		{"two of six remotes fail", []*Record{ok("p"), fail("a"), fail("b"), ok("c"), ok("d"), ok("e"), ok("f")}, MPICPass},
		{"three of six remotes fail", []*Record{ok("p"), fail("a"), fail("b"), fail("c"), ok("d"), ok("e"), ok("f")}, MPICFail},
		{"one fails, one intermittent", []*Record{ok("p"), fail("a"), flaky("b"), ok("c")}, MPICAtRisk},
		{"primary intermittent", []*Record{flaky("p"), ok("a"), ok("b")}, MPICAtRisk},
		{"one remote only, failing", []*Record{ok("p"), fail("a")}, MPICFail},
		{"remote missing counts as may fail", []*Record{ok("p"), fail("a"), ok("b")}, MPICAtRisk}, // c has no line
		{"primary missing", []*Record{ok("a"), ok("b"), ok("c")}, MPICUnknown},
	}
	for _, tt := range tests {
		vantages := []string{"p"}
		for _, r := range tt.recs {
			if r.Vantage.Label != "p" {
				vantages = append(vantages, r.Vantage.Label)
			}
		}
		if tt.name == "remote missing counts as may fail" {
			vantages = append(vantages, "c")
		}
		m := Judge("example.test", tt.recs, "p", vantages)
		if m.Outcome != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, m.Outcome, m.Reason, tt.want)
		}
	}
	m := Judge("example.test", []*Record{ok("p"), fail("a"), flaky("b"), fail("c")}, "p", []string{"p", "a", "b", "c"})
	if len(m.Servers) != 2 || m.Servers[0].Server.String() != "ns1.example.test (192.0.2.1)" || strings.Join(m.Servers[0].Vantages, ",") != "a,c" ||
		strings.Join(m.Servers[1].Vantages, ",") != "b" {
		t.Errorf("failing servers: %+v", m.Servers)
	}
	if m.Perspectives[0].Vantage.Label != "p" || !m.Perspectives[0].Primary {
		t.Errorf("the primary is not listed first: %+v", m.Perspectives[0])
	}
}

// TestRemaining reads RRSIG expiration in serial number arithmetic: a
// 32-bit time just past the wrap is in the future, not 136 years ago.
func TestRemaining(t *testing.T) {
	at := time.Unix(1<<32-100, 0) // 2106, 100 s before the 32-bit wrap
	for exp, want := range map[uint32]time.Duration{1<<32 - 40: 60 * time.Second, 50: 150 * time.Second, 1<<32 - 200: -100 * time.Second} {
		if got := Remaining(&dns.RRSIG{Expiration: exp}, at); got != want {
			t.Errorf("expiration %d: %v, want %v", exp, got, want)
		}
	}
}

func signedRecord(t *testing.T, at time.Time, expires time.Duration) *Record {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeCAA)
	m.Response = true
	m.Answer = append(m.Answer, &dns.CAA{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeCAA, Class: dns.ClassINET, Ttl: 300}, Tag: "issue", Value: "ca.example"},
		&dns.RRSIG{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 300}, TypeCovered: dns.TypeCAA,
			Algorithm: dns.ECDSAP256SHA256, Labels: 2, OrigTtl: 300, Expiration: uint32(at.Add(expires).Unix()), Inception: uint32(at.Add(-time.Hour).Unix()),
			KeyTag: 4711, SignerName: "example.test.", Signature: "AAAA"})
	d := &model.Domain{Domain: "example.test", Verdict: "pass", Outcome: "ok", Servers: []*model.Server{{Zone: model.MustName("example.test."), NS: "ns1.example.test.",
		Addr: netip.MustParseAddr("192.0.2.1"), Results: []*model.Result{{Probe: catalog.ProbeCAA, Name: model.MustName("example.test."), Msg: m}}}}}
	return &Record{Domain: d, Time: at}
}

func TestCompareRRSIGExpiry(t *testing.T) {
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	old := signedRecord(t, at.Add(-24*time.Hour), 30*24*time.Hour)
	soon := signedRecord(t, at, 5*time.Hour)
	cs := Compare(old, soon, DiffOptions{ExpiryWarning: 24 * time.Hour})
	if len(cs) != 1 || cs[0].Kind != ChangeRRSIGExpiring || !cs[0].Worse || !strings.Contains(cs[0].Detail, "key 4711") ||
		!strings.Contains(cs[0].Detail, "expires in 5h0m0s") || cs[0].Server != "ns1.example.test (192.0.2.1)" {
		t.Errorf("changes: %+v", cs)
	}
	if cs := Compare(old, soon, DiffOptions{ExpiryWarning: time.Hour}); len(cs) != 0 {
		t.Errorf("outside the window: %+v", cs)
	}
	expired := signedRecord(t, at, -2*time.Hour)
	if cs := Compare(old, expired, DiffOptions{ExpiryWarning: time.Hour}); len(cs) != 1 || !strings.Contains(cs[0].Detail, "expired 2h0m0s before") {
		t.Errorf("expired: %+v", cs)
	}
}

func TestCompareNSAndFindings(t *testing.T) {
	srv := func(ns, addr string) *model.Server {
		return &model.Server{Zone: model.MustName("example.test."), NS: ns, Addr: netip.MustParseAddr(addr)}
	}
	old := &Record{Domain: &model.Domain{Domain: "example.test", Verdict: "pass", Outcome: "ok",
		Servers: []*model.Server{srv("ns1.example.test.", "192.0.2.1"), srv("ns2.example.test.", "192.0.2.2")},
		Policy:  &model.Policy{CA: "ca.example", Issue: "permitted", Wildcard: "permitted"}}}
	cur := &Record{Domain: &model.Domain{Domain: "example.test", Verdict: "fail", Outcome: "intermittent",
		Servers: []*model.Server{srv("ns1.example.test.", "192.0.2.9"), srv("ns3.example.test.", "192.0.2.3")},
		Policy:  &model.Policy{CA: "ca.example", Issue: "permitted", Wildcard: "permitted"},
		Findings: []model.Finding{{Code: catalog.CodeRcodeRefused, Severity: model.SeverityFail, Server: model.ServerRef{NS: "ns3.example.test", Addr: netip.MustParseAddr("192.0.2.3")},
			Zone: "example.test", Detail: "REFUSED to CAA"}}}}
	got := map[string]Change{}
	for _, c := range Compare(old, cur, DiffOptions{}) {
		got[c.Kind] = c
	}
	if c := got[ChangeNSSet]; c.Old != "ns1.example.test ns2.example.test" || c.New != "ns1.example.test ns3.example.test" || c.Worse {
		t.Errorf("ns-set: %+v", c)
	}
	if c := got[ChangeAddresses]; c.Server != "ns1.example.test" || c.Old != "192.0.2.1" || c.New != "192.0.2.9" {
		t.Errorf("addresses: %+v", c)
	}
	if c := got[ChangeFindingNew]; c.Server != "ns3.example.test (192.0.2.3)" || c.Code != "rcode-refused" || !c.Worse {
		t.Errorf("finding-new: %+v", c)
	}
	if c := got[ChangeNewlyFailing]; !c.Worse || c.Old != "pass" {
		t.Errorf("newly-failing: %+v", c)
	}
	if c := got[ChangeOutcome]; !c.Worse || c.New != "intermittent" {
		t.Errorf("outcome: %+v", c)
	}
	if _, ok := got[ChangePolicy]; ok {
		t.Error("policy change reported for the same policy")
	}
	back := map[string]Change{}
	for _, c := range Compare(cur, old, DiffOptions{}) {
		back[c.Kind] = c
		if c.Worse {
			t.Errorf("reverse is worse: %+v", c)
		}
	}
	if _, ok := back[ChangeFixed]; !ok {
		t.Errorf("reverse lacks fixed: %+v", back)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, line := range []string{"", "hello", "[1]", `{"verdict":"pass"}`, `{"domain":"","verdict":"pass"}`, `{"domain":"a.test","verdict":"great"}`,
		`{"domain":"a.test","verdict":"pass","servers":[{"ns":"x","addr":"not-an-ip"}]}`, `{"domain":"a.test","verdict":"pass"`, `{"domain":5,"verdict":"pass"}`} {
		if _, err := Decode([]byte(line)); !errors.Is(err, ErrNotResult) {
			t.Errorf("%q: %v, want ErrNotResult", line, err)
		}
	}
	r, err := Decode([]byte(`{"domain":"a.test","verdict":"pass","outcome":"ok","future_key":{"x":1},"vantage":{"label":"fra"}}`))
	if err != nil || r.Domain.Domain != "a.test" || r.Vantage.Label != "fra" {
		t.Errorf("unknown keys: %v %+v", err, r)
	}
}

// TestOpenOrder: lines from several files come back sorted by domain and
// vantage whatever the files' order; bad lines are reported with their
// place; long lines (beyond the reader's buffer) are read whole.
func TestOpenOrder(t *testing.T) {
	dir := t.TempDir()
	long := `{"domain":"b.test","verdict":"pass","explanation":"` + strings.Repeat("x", 200_000) + `"}`
	files := map[string]string{
		"1.jsonl": `{"domain":"c.test","verdict":"pass","vantage":{"label":"nyc"}}` + "\n" + long + "\n",
		"2.jsonl": "garbage\n" + `{"domain":"a.test","verdict":"fail","vantage":{"label":"fra"}}` + "\n" + `{"domain":"c.test","verdict":"fail","vantage":{"label":"fra"}}`,
	}
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var bad []string
	s, err := Open(paths, nil, func(file string, line int, err error) {
		bad = append(bad, filepath.Base(file)+":"+string(rune('0'+line)))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for _, e := range s.Entries {
		got = append(got, e.Domain+"@"+s.Vantage(e))
	}
	if want := "a.test@fra b.test@1.jsonl c.test@fra c.test@nyc"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	if strings.Join(bad, ",") != "2.jsonl:1" {
		t.Errorf("bad lines %v", bad)
	}
	for _, e := range s.Entries {
		r, err := s.Read(e)
		if err != nil || r.Domain.Domain != e.Domain {
			t.Fatalf("read %s: %v", e.Domain, err)
		}
		if e.Domain == "b.test" && len(r.Domain.Explanation) != 200_000 {
			t.Errorf("long line cut to %d", len(r.Domain.Explanation))
		}
	}
	if v := strings.Join(s.Vantages(), ","); v != "1.jsonl,fra,nyc" {
		t.Errorf("vantages %s", v)
	}
	stdin, err := Open([]string{"-"}, bytes.NewReader([]byte(files["2.jsonl"])), nil)
	if err != nil || len(stdin.Entries) != 2 {
		t.Fatalf("stdin: %v", err)
	}
	stdin.Close()
}

// FuzzDecode: no line makes Decode panic, and what it accepts has a domain.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"domain":"a.test","verdict":"fail","servers":[{"ns":"ns1","addr":"192.0.2.1","results":[{"probe":"caa","qname":"A.test","qtype":"CAA","rcode":"NOERROR","response":"AAA=","findings":["rcode-notimp"]}]}],"findings":[{"code":"rcode-notimp","ns":"ns1","addr":"192.0.2.1","probe":"caa","name":"a.test"}]}`))
	f.Add([]byte(`{"domain":"a.test","verdict":"pass","names":[{"name":"a.test"}],"resolver":[{"server":"127.0.0.1:53","ede_code":15}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := Decode(line)
		if err == nil && (r.Domain == nil || r.Domain.Domain == "") {
			t.Fatalf("accepted %q without a domain", line)
		}
	})
}
