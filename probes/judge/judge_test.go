package judge

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// exchangeFor builds an exchange for probe p at name whose reply is made by
// edit from a conformant reply; edit may return raw bytes to replace it.
func exchangeFor(t *testing.T, p catalog.Probe, name string, edit func(q, m *dns.Msg) []byte) *model.Exchange {
	t.Helper()
	qb, err := wire.BuildQuery(wire.Spell(name, p.Spelling), p.Type, p.EDNS, p.DO)
	if err != nil {
		t.Fatal(err)
	}
	qb[0], qb[1] = 0x12, 0x34
	q, m := conformantReply(t, qb)
	raw := edit(q, m)
	if raw == nil {
		if raw, err = m.Pack(); err != nil {
			t.Fatal(err)
		}
	}
	return &model.Exchange{Server: netip.MustParseAddrPort("127.0.0.1:53"), Transport: p.Transport, Query: qb, Reply: raw, Attempts: 1}
}

// conformantReply parses the query qb and builds what a conformant server
// answers: AA set and, for CAA, one issue record at the name as asked.
func conformantReply(t *testing.T, qb []byte) (q, m *dns.Msg) {
	t.Helper()
	q = new(dns.Msg)
	if err := q.Unpack(qb); err != nil {
		t.Fatal(err)
	}
	m = new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if q.Question[0].Qtype == dns.TypeCAA {
		rr, _ := dns.NewRR(q.Question[0].Name + ` 3600 IN CAA 0 issue "letsencrypt.org"`)
		m.Answer = append(m.Answer, rr)
	}
	return q, m
}

func keep(q, m *dns.Msg) []byte { return nil }

// withSOA adds zone's SOA to the authority section after edit.
func withSOA(edit func(q, m *dns.Msg) []byte, zone string) func(q, m *dns.Msg) []byte {
	return func(q, m *dns.Msg) []byte {
		edit(q, m)
		soa, _ := dns.NewRR(zone + " 300 IN SOA ns1." + zone + " hostmaster." + zone + " 1 7200 3600 1209600 300")
		m.Ns = append(m.Ns, soa)
		return nil
	}
}

func issueCodes(r model.Result) []model.Code {
	var out []model.Code
	for _, i := range r.Issues {
		out = append(out, i.Code)
	}
	return out
}

func TestJudge(t *testing.T) {
	caaProbe, _ := catalog.ProbeByID(catalog.ProbeCAA)
	upper, _ := catalog.ProbeByID(catalog.ProbeCAAUpper)
	unknown, _ := catalog.ProbeByID(catalog.ProbeUnknownType)
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	rcode := func(rc int) func(q, m *dns.Msg) []byte {
		return func(q, m *dns.Msg) []byte { m.Rcode = rc; m.Answer = nil; return nil }
	}
	tests := []struct {
		name   string
		probe  catalog.Probe
		edit   func(q, m *dns.Msg) []byte
		status string
		want   []model.Code
	}{
		{"conformant", caaProbe, keep, "NOERROR", nil},
		{"notimp", caaProbe, rcode(dns.RcodeNotImplemented), "NOTIMP", []model.Code{catalog.CodeRcodeNotimp}},
		{"notimp unknown type", unknown, rcode(dns.RcodeNotImplemented), "NOTIMP", []model.Code{catalog.CodeRcodeNotimp}},
		{"refused", caaProbe, rcode(dns.RcodeRefused), "REFUSED", []model.Code{catalog.CodeRcodeRefused}},
		{"servfail", caaProbe, rcode(dns.RcodeServerFailure), "SERVFAIL", []model.Code{catalog.CodeRcodeServfail}},
		{"formerr", caaProbe, rcode(dns.RcodeFormatError), "FORMERR", []model.Code{catalog.CodeRcodeFormerr}},
		{"yxdomain", caaProbe, rcode(dns.RcodeYXDomain), "YXDOMAIN", []model.Code{catalog.CodeRcodeOther}},
		{"nxdomain at existing name", caaProbe, withSOA(rcode(dns.RcodeNameError), "example.test."), "NXDOMAIN", []model.Code{catalog.CodeNXDomainExisting}},
		{"nodata with the zone's SOA", caaProbe, withSOA(rcode(dns.RcodeSuccess), "example.test."), "NOERROR", nil},
		{"nodata without SOA", caaProbe, rcode(dns.RcodeSuccess), "NOERROR", []model.Code{catalog.CodeNegativeWithoutSOA}},
		{"nxdomain without SOA", caaProbe, rcode(dns.RcodeNameError), "NXDOMAIN", []model.Code{catalog.CodeNXDomainExisting, catalog.CodeNegativeWithoutSOA}},
		{"nodata with another zone's SOA", caaProbe, withSOA(rcode(dns.RcodeSuccess), "other.test."), "NOERROR", []model.Code{catalog.CodeNegativeWrongSOA}},
		{"unknown type nodata without SOA is not judged", unknown, rcode(dns.RcodeSuccess), "NOERROR", nil},
		{"no AA", caaProbe, func(q, m *dns.Msg) []byte { m.Authoritative = false; return nil }, "NOERROR", []model.Code{catalog.CodeNotAuthoritative}},
		{"question lowercased", upper, func(q, m *dns.Msg) []byte { m.Question[0].Name = "example.test."; return nil }, "NOERROR", []model.Code{catalog.CodeCaseNotPreserved}},
		{"cut inside RDATA", caaProbe, func(q, m *dns.Msg) []byte {
			b, _ := m.Pack()
			return b[:len(b)-4]
		}, "malformed", []model.Code{catalog.CodeMalformed}},
		{"QR bit clear", caaProbe, func(q, m *dns.Msg) []byte { m.Response = false; return nil }, "malformed", []model.Code{catalog.CodeMalformed}},
		{"opcode changed", caaProbe, func(q, m *dns.Msg) []byte { m.Opcode = dns.OpcodeStatus; return nil }, "malformed", []model.Code{catalog.CodeMalformed}},
		{"trailing garbage", caaProbe, func(q, m *dns.Msg) []byte {
			b, _ := m.Pack()
			return append(b, 0xde, 0xad)
		}, "NOERROR", []model.Code{catalog.CodeTrailingGarbage}},
		{"invalid CAA value", caaProbe, func(q, m *dns.Msg) []byte {
			m.Answer[0].(*dns.CAA).Value = "letsencrypt.org;;bad value"
			return nil
		}, "NOERROR", []model.Code{catalog.CodeInvalidCAA}},
		{"critical unknown tag", caaProbe, func(q, m *dns.Msg) []byte {
			c := m.Answer[0].(*dns.CAA)
			c.Flag, c.Tag, c.Value = 128, "tbs", "x"
			return nil
		}, "NOERROR", []model.Code{catalog.CodeCAACriticalUnknown}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := exchangeFor(t, tc.probe, "example.test.", tc.edit)
			r := Exchange(tc.probe, jc, ex, nil)
			if string(r.Status) != tc.status {
				t.Errorf("status %q, want %q", r.Status, tc.status)
			}
			if got := issueCodes(r); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v (%v)", got, tc.want, r.Issues)
			}
		})
	}
}

func TestJudgeNoReply(t *testing.T) {
	p, _ := catalog.ProbeByID(catalog.ProbeCAA)
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	good := exchangeFor(t, p, "example.test.", keep)
	wrongID := append([]byte(nil), good.Reply...)
	wrongID[0] ^= 0xff
	other := exchangeFor(t, p, "example.test.", func(q, m *dns.Msg) []byte { m.Question[0].Name = "other.test."; return nil })
	tests := []struct {
		name string
		ex   *model.Exchange
		want model.Code
	}{
		{"timeout", &model.Exchange{Query: good.Query, Err: model.ErrTimeout, Attempts: 3}, catalog.CodeTimeout},
		{"refused connection", &model.Exchange{Query: good.Query, Err: errors.Join(model.ErrUnreachable, errors.New("connection refused"))}, catalog.CodeUnreachable},
		{"no family", &model.Exchange{Query: good.Query, Err: model.ErrNoFamily}, catalog.CodeFamilyUnreachable},
		{"wrong id", &model.Exchange{Query: good.Query, Err: model.ErrTimeout, Rejected: [][]byte{wrongID}, RejectedCount: 1}, catalog.CodeIDMismatch},
		{"other question", &model.Exchange{Query: good.Query, Err: model.ErrTimeout, Rejected: [][]byte{other.Reply}, RejectedCount: 1}, catalog.CodeQuestionMismatch},
		{"short datagram", &model.Exchange{Query: good.Query, Err: model.ErrTimeout, Rejected: [][]byte{{1, 2, 3}}, RejectedCount: 1}, catalog.CodeMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Exchange(p, jc, tc.ex, nil)
			if got := issueCodes(r); !slices.Equal(got, []model.Code{tc.want}) {
				t.Errorf("findings %v, want [%s]", got, tc.want)
			}
			if !Fails(&r) && catalog.Info(tc.want).Severity == model.SeverityFail {
				t.Errorf("Fails() false for %s", tc.want)
			}
		})
	}
}

func TestJudgeTruncatedFallback(t *testing.T) {
	p, _ := catalog.ProbeByID(catalog.ProbeCAA)
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	tc := exchangeFor(t, p, "example.test.", func(q, m *dns.Msg) []byte { m.Truncated = true; m.Answer = nil; return nil })
	failed := &model.Exchange{Query: tc.Query, Err: model.ErrUnreachable, Transport: model.TCP}
	if got := issueCodes(Exchange(p, jc, tc, failed)); !slices.Equal(got, []model.Code{catalog.CodeTruncatedTCPFailed}) {
		t.Errorf("TCP fallback failed: findings %v", got)
	}
	good := exchangeFor(t, p, "example.test.", keep)
	r := Exchange(p, jc, tc, good)
	if len(r.Issues) != 0 || len(r.Records) != 1 {
		t.Errorf("TCP fallback answered: findings %v, records %d", r.Issues, len(r.Records))
	}
	// TC=1 over TCP too: the answer can never be completed.
	tcAgain := exchangeFor(t, p, "example.test.", func(q, m *dns.Msg) []byte { m.Truncated = true; m.Answer = nil; return nil })
	tcAgain.Transport = model.TCP
	if got := issueCodes(Exchange(p, jc, tc, tcAgain)); !slices.Equal(got, []model.Code{catalog.CodeTruncatedTCPFailed}) {
		t.Errorf("TCP fallback truncated too: findings %v", got)
	}
	tcp, _ := catalog.ProbeByID(catalog.ProbeCAATCP)
	direct := exchangeFor(t, tcp, "example.test.", func(q, m *dns.Msg) []byte { m.Truncated = true; m.Answer = nil; return nil })
	if got := issueCodes(Exchange(tcp, jc, direct, nil)); !slices.Equal(got, []model.Code{catalog.CodeTruncatedTCPFailed}) {
		t.Errorf("TCP probe answered with TC=1: findings %v", got)
	}
}

func TestCrossChecks(t *testing.T) {
	caaProbe, _ := catalog.ProbeByID(catalog.ProbeCAA)
	upper, _ := catalog.ProbeByID(catalog.ProbeCAAUpper)
	noedns, _ := catalog.ProbeByID(catalog.ProbeCAANoEDNS)
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	judge := func(p catalog.Probe, edit func(q, m *dns.Msg) []byte) *model.Result {
		r := Exchange(p, jc, exchangeFor(t, p, "example.test.", edit), nil)
		return &r
	}
	formerr := func(q, m *dns.Msg) []byte { m.Rcode = dns.RcodeFormatError; m.Answer = nil; return nil }
	nx := func(q, m *dns.Msg) []byte { m.Rcode = dns.RcodeNameError; m.Answer = nil; return nil }

	rs := []*model.Result{judge(caaProbe, keep), judge(upper, nx)}
	// The cross-check writes nothing: it returns the change, Apply makes it.
	amended := CheckServer(rs)
	if rs[1].Has(catalog.CodeCaseSensitiveAnswer) {
		t.Error("CheckServer wrote a finding into the result it was given")
	}
	if len(amended) != 1 || amended[0].Result != rs[1] {
		t.Errorf("amended %+v, want the uppercase result only", amended)
	}
	Apply(amended)
	if !rs[1].Has(catalog.CodeCaseSensitiveAnswer) || rs[0].Has(catalog.CodeCaseSensitiveAnswer) {
		t.Errorf("case-sensitive answer not flagged on the uppercase probe: %v / %v", rs[0].Issues, rs[1].Issues)
	}
	rs = []*model.Result{judge(caaProbe, formerr), judge(noedns, keep)}
	Apply(CheckServer(rs))
	if !rs[0].Has(catalog.CodeEDNSIntolerant) {
		t.Errorf("edns-intolerant not flagged: %v", rs[0].Issues)
	}
	a, b := judge(caaProbe, keep), judge(caaProbe, func(q, m *dns.Msg) []byte {
		m.Answer[0].(*dns.CAA).Value = "other-ca.example"
		return nil
	})
	b.Exchange.Server = netip.MustParseAddrPort("127.0.0.2:53")
	Apply(CheckZone([]*model.Result{a, b}))
	if !a.Has(catalog.CodeInconsistentAnswers) || !b.Has(catalog.CodeInconsistentAnswers) {
		t.Errorf("inconsistent answers not flagged: %v / %v", a.Issues, b.Issues)
	}
}

func TestSpell0x20(t *testing.T) {
	for range 100 {
		s := wire.Spell("caa.example.test.", catalog.SpellRandom)
		if s == "caa.example.test." || s == "CAA.EXAMPLE.TEST." {
			t.Fatalf("0x20 spelling %q is all one case", s)
		}
		if !strings.EqualFold(s, "caa.example.test.") {
			t.Fatalf("0x20 spelling %q is another name", s)
		}
	}
}

// TestRDataText: the presentation text without the header, as miekg/dns
// writes it, also for an owner name with a tab in it.
func TestRDataText(t *testing.T) {
	for _, s := range []string{
		`example.test. 300 IN CAA 0 issue "letsencrypt.org"`,
		`a\009b.test. 300 IN CAA 128 tbs "x\009y"`,
		`example.test. 300 IN A 192.0.2.1`,
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := model.RdataText(rr), strings.TrimPrefix(rr.String(), rr.Header().String()); got != want {
			t.Errorf("model.RdataText(%s) = %q, want %q", s, got, want)
		}
	}
}
