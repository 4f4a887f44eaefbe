package boulder_test

import (
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/predict/predicttest"
	"github.com/caaprobe/caaprobe/probes/predict/unbound"
	"github.com/miekg/dns"
)

// TestPolicy is the CA model: Boulder's walk (va/caa.go selectCAA, bdns
// LookupCAA) over the predicted answers, and its CAA reading.
func TestPolicy(t *testing.T) {
	good := func(z string, caas ...string) []predicttest.Srv {
		return []predicttest.Srv{{Resp: predicttest.Answer(z, caas...)}}
	}
	fails := []predicttest.Srv{{Resp: predicttest.Rcode(dns.RcodeServerFailure)}}
	cases := []struct {
		name      string
		input     string
		ca        string
		zones     []predicttest.Zone
		issue     model.Permission
		wildcard  model.Permission
		relevant  string
		outcome   model.Outcome
		reason    string
		reasonToo string
	}{
		{"closest RRset decides", "www.a.test", "", []predicttest.Zone{
			{Name: "www.a.test.", Zone: "a.test.", Servers: good("a.test.")},
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", predicttest.LE)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"permitted", "permitted", "a.test", model.OutcomeOK, `CAA at a.test: issue "letsencrypt.org" permits`, ""},
		{"failure above the closest RRset is ignored", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", predicttest.LE)},
			{Name: "test.", Zone: "test.", Servers: fails}},
			"permitted", "permitted", "a.test", model.OutcomeOK, "CAA at a.test", ""},
		{"failure below the closest RRset blocks", "www.a.test", "", []predicttest.Zone{
			{Name: "www.a.test.", Zone: "www.a.test.", Servers: fails},
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", predicttest.LE)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"unknown", "unknown", "", model.OutcomeServfail, "CAA lookup of www.a.test fails at ns1.www.a.test", ""},
		{"NXDOMAIN below the TLD is empty", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: []predicttest.Srv{{Resp: predicttest.NXDomain("a.test.")}}},
			{Name: "test.", Zone: "test.", Servers: good("test.", `0 issue "other.example"`)}},
			"forbidden", "forbidden", "test", model.OutcomeOK, "CAA at test", ""},
		{"NXDOMAIN at the TLD is an error", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.")},
			{Name: "test.", Zone: "test.", Servers: []predicttest.Srv{{Resp: predicttest.NXDomain("test.")}}}},
			"unknown", "unknown", "", model.OutcomeOK, "TLD test does not exist", ""},
		{"no CAA anywhere", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.")},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"permitted", "permitted", "", model.OutcomeOK, "no CAA records at any relevant name", ""},
		{"malformed issue value forbids", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", `0 issue "%%bad%%"`)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"forbidden", "forbidden", "a.test", model.OutcomeOK, "is malformed", ""},
		{"flag 1 forbids for Let's Encrypt", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", predicttest.LE, `1 tbs "x"`)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"forbidden", "forbidden", "a.test", model.OutcomeOK, "flag bit 1", ""},
		{"flag 1 permits for another CA", "a.test", "ca.example", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", `0 issue "ca.example"`, `1 tbs "x"`)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"permitted", "permitted", "a.test", model.OutcomeOK, "permits ca.example", ""},
		{"stale servers: permitted or forbidden", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: []predicttest.Srv{{Resp: predicttest.Answer("a.test.", predicttest.LE)}, {Resp: predicttest.Answer("a.test.", `0 issue "old-ca.example"`)}}},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"varies", "varies", "", model.OutcomeIntermittent,
			`CAA 0 issue "letsencrypt.org" at a.test from ns1.a.test (192.0.2.1): permitted`, `from ns2.a.test (192.0.2.2): forbidden`},
		{"stale servers that agree on the decision", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: []predicttest.Srv{{Resp: predicttest.Answer("a.test.", predicttest.LE)}, {Resp: predicttest.Answer("a.test.", predicttest.LE, `0 iodef "mailto:a@a.test"`)}}},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"permitted", "permitted", "a.test", model.OutcomeIntermittent, "CAA at a.test", ""},
		{"one server has no CAA: the walk goes on", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: []predicttest.Srv{{Resp: predicttest.Answer("a.test.", `0 issue "other.example"`)}, {Resp: predicttest.Answer("a.test.")}}},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"varies", "varies", "", model.OutcomeIntermittent, "no CAA at a.test from ns2.a.test (192.0.2.2): permitted", ""},
		{"case changer beside a stale server: permitted or refused", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: []predicttest.Srv{{Resp: predicttest.LowerEcho(predicttest.Answer("a.test.", `0 issue "other.example"`))}, {Resp: predicttest.Answer("a.test.")}}},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"varies", "varies", "", model.OutcomeIntermittent, "no CAA at a.test from ns2.a.test (192.0.2.2): permitted", "a lookup that asks ns1.a.test (192.0.2.1) first: unknown"},
		{"wildcard uses issuewild", "*.a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Servers: good("a.test.", predicttest.LE, `0 issuewild ";"`)},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"forbidden", "forbidden", "a.test", model.OutcomeOK, "for wildcards", ""},
		{"discovery error at the name blocks", "a.test", "", []predicttest.Zone{
			{Name: "a.test.", Zone: "a.test.", Err: "no server answers"},
			{Name: "test.", Zone: "test.", Servers: good("test.")}},
			"unknown", "unknown", "", model.OutcomeServfail, "CAA lookup of a.test fails: no server answers", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := tc.ca
			if ca == "" {
				ca = "letsencrypt.org"
			}
			d := predicttest.Domain(t, tc.zones...)
			boulder.Fill(d, []predict.Model{unbound.Model{}}, ca, tc.input)
			p := d.Policy
			if p.Issue != tc.issue || p.Wildcard != tc.wildcard || p.Relevant != tc.relevant {
				t.Errorf("policy %s/%s at %q, want %s/%s at %q: %s", p.Issue, p.Wildcard, p.Relevant, tc.issue, tc.wildcard, tc.relevant, p.Reason)
			}
			if d.Outcome != tc.outcome {
				t.Errorf("domain outcome %q, want %q (the worst over the names the CA reads)", d.Outcome, tc.outcome)
			}
			for _, n := range d.Names {
				// A name is ignored exactly when it lies above the RRset
				// that decided (R8, C2).
				stop := p.Relevant + "."
				if p.Relevant == "" {
					stop = "" // no RRset decided: the walk stops at the first failure
					for _, m := range d.Names {
						if m.Outcome == model.OutcomeServfail && stop == "" {
							stop = m.Name.String()
						}
					}
				}
				if stop == "" {
					continue // the policy varies: each answer stops elsewhere
				}
				above := n.Name.String() != stop && strings.HasSuffix(stop, "."+n.Name.String())
				if n.Ignored != above {
					t.Errorf("%s ignored %v, want %v (the walk stops at %q)", n.Name, n.Ignored, above, stop)
				}
			}
			if !strings.Contains(p.Reason, tc.reason) || !strings.Contains(p.Reason, tc.reasonToo) {
				t.Errorf("reason %q lacks %q / %q", p.Reason, tc.reason, tc.reasonToo)
			}
		})
	}
}

// TestSecondModel: with a second resolver model beside the default, every
// name and the domain carry both outcomes by model name, while the
// default's outcome, policy and explanation are what they are with the
// default alone. The strict model refuses a dead server that Unbound
// routes around.
func TestSecondModel(t *testing.T) {
	const z = "x.test."
	servers := []predicttest.Srv{{Resp: predicttest.Answer(z, predicttest.LE)}, {Resp: predicttest.Drop}}
	mk := func() *model.Domain {
		return predicttest.Domain(t, predicttest.Zone{Name: z, Zone: z, Servers: servers})
	}
	alone, both := mk(), mk()
	boulder.Fill(alone, []predict.Model{unbound.Model{}}, "letsencrypt.org", "x.test")
	pr := boulder.Fill(both, []predict.Model{unbound.Model{}, predicttest.Strict{}}, "letsencrypt.org", "x.test")

	if pr.Model != "unbound" || both.Outcome != model.OutcomeOK || both.Outcome != alone.Outcome {
		t.Errorf("default %q outcome %q, alone %q: want unbound's ok either way", pr.Model, both.Outcome, alone.Outcome)
	}
	if *both.Policy != *alone.Policy || both.Explanation != alone.Explanation {
		t.Errorf("a second model changed the default's reading:\npolicy %+v\n vs    %+v\ntext %q\n vs  %q", both.Policy, alone.Policy, both.Explanation, alone.Explanation)
	}
	want := map[string]model.Outcome{"unbound": model.OutcomeOK, "strict": model.OutcomeServfail}
	if len(both.Outcomes) != 2 || both.Outcomes["unbound"] != want["unbound"] || both.Outcomes["strict"] != want["strict"] {
		t.Errorf("domain outcomes %v, want %v", both.Outcomes, want)
	}
	n := both.Names[0]
	if len(n.Outcomes) != 2 || n.Outcomes["unbound"] != n.Outcome || n.Outcomes["strict"] != model.OutcomeServfail {
		t.Errorf("name outcomes %v (outcome %q), want %v", n.Outcomes, n.Outcome, want)
	}
	if len(alone.Outcomes) != 1 || alone.Outcomes["unbound"] != alone.Outcome {
		t.Errorf("outcomes with the default alone: %v", alone.Outcomes)
	}
}
