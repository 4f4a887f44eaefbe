package unbound_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/predict/predicttest"
	"github.com/caaprobe/caaprobe/probes/predict/unbound"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// unboundOnly runs the CA model with this resolver model alone.
var unboundOnly = []predict.Model{unbound.Model{}}

// TestResolve is the resolver model, rule by rule (docs/prediction.md).
func TestResolve(t *testing.T) {
	const z = "x.test."
	good := predicttest.Srv{Resp: predicttest.Answer(z, predicttest.LE)}
	cases := []struct {
		name     string
		dnssec   model.DNSSECStatus
		servers  []predicttest.Srv
		outcome  model.Outcome
		failing  int
		variants int
		text     string // a piece of the explanation
		warnOnly bool   // the fault has no fail finding of its own on these probes
	}{
		{"R1 one good server", "", []predicttest.Srv{good}, model.OutcomeOK, 0, 1, "Every server answers CAA correctly", false},
		{"R2 good + REFUSED", "", []predicttest.Srv{good, {Resp: predicttest.Rcode(dns.RcodeRefused)}}, model.OutcomeOK, 1, 1, "the CA still gets its answer", false},
		{"R2 good + NOTIMP", "", []predicttest.Srv{good, {Resp: predicttest.Rcode(dns.RcodeNotImplemented)}}, model.OutcomeOK, 1, 1, "one extra round trip", false},
		{"R2 good + SERVFAIL", "", []predicttest.Srv{good, {Resp: predicttest.Rcode(dns.RcodeServerFailure)}}, model.OutcomeOK, 1, 1, "routes around that server", false},
		{"R2 two of three REFUSED", "", []predicttest.Srv{{Resp: predicttest.Rcode(dns.RcodeRefused)}, good, {Resp: predicttest.Rcode(dns.RcodeRefused)}}, model.OutcomeOK, 2, 1, "routes around those servers", false},
		{"R2 only NOTIMP", "", []predicttest.Srv{{Resp: predicttest.Rcode(dns.RcodeNotImplemented)}}, model.OutcomeServfail, 1, 0, "answers NOTIMP to CAA; a validating resolver turns that into SERVFAIL", false},
		{"R2 every server fails", "", []predicttest.Srv{{Resp: predicttest.Rcode(dns.RcodeRefused)}, {Resp: predicttest.Rcode(dns.RcodeServerFailure)}}, model.OutcomeServfail, 2, 0, "SERVFAIL", false},
		{"R4 good + drops", "", []predicttest.Srv{good, {Resp: predicttest.Drop}}, model.OutcomeOK, 1, 1, "a timeout of 0.4 s or more", false},
		{"R4 only drops", "", []predicttest.Srv{{Resp: predicttest.Drop}}, model.OutcomeServfail, 1, 0, "does not answer CAA queries (timeout)", false},
		{"R4 drops queries with DO, answers without", "", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Drop, predicttest.Answer(z, predicttest.LE))}}, model.OutcomeServfail, 1, 0, "drops every CAA query that carries EDNS with the DO bit", false},
		{"R2 good + lame referral", "", []predicttest.Srv{good, {Resp: predicttest.Referral}}, model.OutcomeOK, 1, 1, "a referral instead of an answer", true},
		{"R2 only lame", "", []predicttest.Srv{{Resp: predicttest.Referral}}, model.OutcomeServfail, 1, 0, "lame server", true},
		{"R2 good + bogus", "secure", []predicttest.Srv{good, {Resp: predicttest.Answer(z, predicttest.LE), Extra: catalog.CodeDNSSECBogus}}, model.OutcomeOK, 1, 1, "DNSSEC validation fails", false},
		{"R2 good + stripped copy", "secure", []predicttest.Srv{good, {Resp: predicttest.Answer(z, predicttest.LE), Extra: catalog.CodeDNSSECMissing}}, model.OutcomeOK, 1, 1, "without the signatures", false},
		{"R2 only bogus", "secure", []predicttest.Srv{{Resp: predicttest.Answer(z, predicttest.LE), Extra: catalog.CodeDNSSECBogus}}, model.OutcomeServfail, 1, 0, "SERVFAIL", false},
		{"R3 FORMERR to EDNS, unsigned", "insecure", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, model.OutcomeOK, 0, 1, "retries without EDNS", false},
		{"R3 FORMERR to EDNS, signed", "secure", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, model.OutcomeServfail, 1, 0, "the zone is signed and an answer without EDNS carries no signatures", false},
		{"R3 FORMERR to EDNS beside a good server", "insecure", []predicttest.Srv{good, {Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, model.OutcomeOK, 0, 1, "retries without EDNS", false},
		{"R3 FORMERR to EDNS, chain not judged secure", "bogus", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, model.OutcomeServfail, 1, 0, "carries no signatures", false},
		{"R3 FORMERR with and without EDNS", "", []predicttest.Srv{{Resp: predicttest.Rcode(dns.RcodeFormatError)}}, model.OutcomeServfail, 1, 0, "FORMERR", false},
		{"R5 empty NODATA beside a good server", "", []predicttest.Srv{good, {Resp: predicttest.EmptyReply}}, model.OutcomeOK, 1, 1, "from 1.19", true},
		{"R5 empty NODATA alone", "", []predicttest.Srv{{Resp: predicttest.EmptyReply}}, model.OutcomeOK, 0, 1, "", false},
		{"R6 stale servers", "", []predicttest.Srv{good, {Resp: predicttest.Answer(z, `0 issue "old-ca.example"`)}}, model.OutcomeIntermittent, 0, 2, "varies between lookups", false},
		{"R6 case changed and answers differ", "", []predicttest.Srv{{Resp: predicttest.LowerEcho(predicttest.Answer(z, predicttest.LE))}, {Resp: predicttest.Answer(z, `0 issue "old-ca.example"`)}}, model.OutcomeIntermittent, 0, 1, "returns SERVFAIL for x.test CAA when it asks ns1.x.test (192.0.2.1) first", false},
		{"R6 every server changes case, answers differ", "", []predicttest.Srv{{Resp: predicttest.LowerEcho(predicttest.Answer(z, predicttest.LE))}, {Resp: predicttest.LowerEcho(predicttest.Answer(z, `0 issue "old-ca.example"`))}}, model.OutcomeServfail, 0, 0, "asks every server again in lowercase", false},
		{"R6 case changed, same answers", "", []predicttest.Srv{{Resp: predicttest.LowerEcho(predicttest.Answer(z, predicttest.LE))}, good}, model.OutcomeOK, 0, 1, "", false},
		{"R7 NXDOMAIN at an existing name", "", []predicttest.Srv{{Resp: predicttest.NXDomain(z)}}, model.OutcomeOK, 0, 1, "reads it as no CAA records there", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := predicttest.Domain(t, predicttest.Zone{Name: z, Zone: z, DNSSEC: tc.dnssec, Servers: tc.servers})
			pr := boulder.Fill(d, unboundOnly, "letsencrypt.org", "x.test")
			r := pr.Names[0]
			if r.Outcome != tc.outcome || len(r.Failing) != tc.failing || len(r.Variants) != tc.variants {
				t.Errorf("outcome %q failing %v variants %d; want %q, %d failing, %d variants", r.Outcome, r.Failing, len(r.Variants),
					tc.outcome, tc.failing, tc.variants)
			}
			if d.Outcome != tc.outcome || d.Names[0].Outcome != tc.outcome {
				t.Errorf("domain outcome %q, name %q: Fill must write %q", d.Outcome, d.Names[0].Outcome, tc.outcome)
			}
			if !strings.Contains(d.Explanation, tc.text) {
				t.Errorf("explanation %q lacks %q", d.Explanation, tc.text)
			}
			// A routed-around fault stays a fail finding: the provider must fix it.
			// (A lame referral's fail finding is on the SOA probe at the
			// apex, which these tests do not send.)
			if tc.failing > 0 && !tc.warnOnly && d.Verdict != model.VerdictFail {
				t.Errorf("verdict %s with a failing server, want fail", d.Verdict)
			}
		})
	}
}

// TestResolveUnreachableFamily: a server this host cannot reach counts as
// neither failing nor working; with no other server the outcome is unknown.
func TestResolveUnreachableFamily(t *testing.T) {
	const z = "v6.test."
	mk := func(servers ...*model.Server) *model.Domain {
		d := &model.Domain{Domain: "v6.test", Names: []*model.Name{{Name: model.MustName(z), Zone: model.MustName(z), Exists: true}}, Servers: servers}
		judge.Summarise(d)
		return d
	}
	good := predicttest.Server(t, z, z, 0, predicttest.Srv{Resp: predicttest.Answer(z, predicttest.LE)})
	far := &model.Server{Zone: model.MustName(z), NS: "ns2." + z, Addr: netip.MustParseAddr("2001:db8::1")}
	for _, id := range predicttest.ResolverSet {
		p, _ := catalog.ProbeByID(id)
		q, _ := wire.BuildQuery(wire.Spell(z, p.Spelling), p.Type, p.EDNS, p.DO)
		r := judge.Exchange(p, judge.Context{Zone: model.MustName(z), Name: model.MustName(z), Exists: true},
			&model.Exchange{Server: netip.AddrPortFrom(far.Addr, 53), Query: q, Err: model.ErrNoFamily}, nil)
		far.Results = append(far.Results, &r)
	}
	r := boulder.Predict(mk(good, far), unbound.Model{}, "letsencrypt.org", "v6.test").Names[0]
	if r.Outcome != model.OutcomeOK || len(r.Working) != 1 || len(r.Failing) != 0 {
		t.Errorf("outcome %s working %v failing %v; want ok, one working, none failing", r.Outcome, r.Working, r.Failing)
	}
	if r := boulder.Predict(mk(far), unbound.Model{}, "letsencrypt.org", "v6.test").Names[0]; r.Outcome != model.OutcomeUnknown {
		t.Errorf("outcome %q with only an unreachable server, want unknown", r.Outcome)
	}
}

// TestResolveConformance: the issue-13 findings as the model reads them.
// A fail finding the model passes (do-intolerant, negative-without-soa) leaves the reply to
// the rules; a NODATA with another zone's SOA is an empty NODATA (R5, the
// scrubber drops the SOA); an address whose instances answer differently
// gives each answer as a variant.
func TestResolveConformance(t *testing.T) {
	const z = "x.test."
	good := predicttest.Srv{Resp: predicttest.Answer(z, predicttest.LE)}
	for _, tc := range []struct {
		name     string
		servers  []predicttest.Srv
		outcome  model.Outcome
		failing  int
		variants int
	}{
		{"passed fail finding on a good answer", []predicttest.Srv{{Resp: predicttest.Answer(z, predicttest.LE), Extra: catalog.CodeDOIntolerant}}, model.OutcomeOK, 0, 1},
		{"wrong-zone SOA beside a good server", []predicttest.Srv{good, {Resp: predicttest.WrongSOA}}, model.OutcomeOK, 1, 1},
		{"wrong-zone SOA alone", []predicttest.Srv{{Resp: predicttest.WrongSOA}}, model.OutcomeOK, 0, 1},
		{"anycast instances answer differently", []predicttest.Srv{{Resp: predicttest.Anycast(z, predicttest.LE, `0 issue "old-ca.example"`)}}, model.OutcomeIntermittent, 0, 2},
		{"anycast instances agree", []predicttest.Srv{{Resp: predicttest.Anycast(z, predicttest.LE, predicttest.LE)}}, model.OutcomeOK, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := predicttest.Domain(t, predicttest.Zone{Name: z, Zone: z, Servers: tc.servers})
			pr := boulder.Fill(d, unboundOnly, "letsencrypt.org", "x.test")
			r := pr.Names[0]
			if r.Outcome != tc.outcome || len(r.Failing) != tc.failing || len(r.Variants) != tc.variants {
				t.Errorf("outcome %q failing %v variants %d; want %q, %d failing, %d variants", r.Outcome, r.Failing, len(r.Variants),
					tc.outcome, tc.failing, tc.variants)
			}
		})
	}
}

// TestProbes: the model reads the CA resolver's own spelling first, no
// conformance probe, and every EDNS probe it reads goes out as the
// resolver's query byte for byte (no NSID option).
func TestProbes(t *testing.T) {
	ids := unbound.Model{}.Probes()
	if len(ids) != 4 || ids[0] != catalog.ProbeCAA0x20 || ids[3] != catalog.ProbeCAANoEDNS {
		t.Fatalf("probes %v, want caa-0x20 first, the three spellings and caa-noedns", ids)
	}
	for _, id := range ids {
		p, ok := catalog.ProbeByID(id)
		if !ok || p.Conformance() || (p.EDNS && !p.NoNSID) {
			t.Errorf("%s: in catalog %v, conformance %v, EDNS %v without NSID %v", id, ok, p.Conformance(), p.EDNS, p.NoNSID)
		}
	}
}

// TestRules: each prediction names the rules that decided it.
func TestRules(t *testing.T) {
	const z = "x.test."
	good := predicttest.Srv{Resp: predicttest.Answer(z, predicttest.LE)}
	for _, tc := range []struct {
		name    string
		dnssec  model.DNSSECStatus
		servers []predicttest.Srv
		want    []string
		not     []string
	}{
		{"one good server", "", []predicttest.Srv{good}, []string{"R1"}, []string{"R2", "R3", "R4", "R5", "R6"}},
		{"good + REFUSED", "", []predicttest.Srv{good, {Resp: predicttest.Rcode(dns.RcodeRefused)}}, []string{"R1", "R2"}, []string{"R4", "R6"}},
		{"good + drops", "", []predicttest.Srv{good, {Resp: predicttest.Drop}}, []string{"R2", "R4"}, []string{"R3"}},
		{"FORMERR to EDNS, unsigned", "insecure", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, []string{"R3"}, []string{"R2"}},
		{"FORMERR to EDNS, signed", "secure", []predicttest.Srv{{Resp: predicttest.WithEDNS(predicttest.Rcode(dns.RcodeFormatError), predicttest.Answer(z, predicttest.LE))}}, []string{"R2", "R3"}, nil},
		{"empty NODATA", "", []predicttest.Srv{{Resp: predicttest.EmptyReply}}, []string{"R5"}, nil},
		{"stale servers", "", []predicttest.Srv{good, {Resp: predicttest.Answer(z, `0 issue "old-ca.example"`)}}, []string{"R6"}, []string{"R2"}},
		{"NXDOMAIN", "", []predicttest.Srv{{Resp: predicttest.NXDomain(z)}}, []string{"R7"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := predicttest.Domain(t, predicttest.Zone{Name: z, Zone: z, DNSSEC: tc.dnssec, Servers: tc.servers})
			r := unbound.Model{}.Resolve(d.Names[0], d.Servers)
			for _, id := range tc.want {
				if !slices.Contains(r.Rules, id) {
					t.Errorf("rules %v lack %s", r.Rules, id)
				}
			}
			for _, id := range tc.not {
				if slices.Contains(r.Rules, id) {
					t.Errorf("rules %v have %s", r.Rules, id)
				}
			}
			if _, ok := r.Detail.([]unbound.Path); !ok || len(r.Detail.([]unbound.Path)) != len(tc.servers) {
				t.Errorf("detail %T, want a path per server", r.Detail)
			}
		})
	}
}
