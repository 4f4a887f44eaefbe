package predict

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/miekg/dns"
)

// A server's behaviour in these tests: the reply to a query, or nil for no
// reply (a timeout).
type respond func(q *dns.Msg) *dns.Msg

// answer answers with the CAA records given in presentation form ("0 issue
// \"letsencrypt.org\""), or NODATA with the zone's SOA when there are none.
func answer(zone string, caas ...string) respond {
	return func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, c := range caas {
			m.Answer = append(m.Answer, mustRR(fmt.Sprintf("%s 3600 IN CAA %s", q.Question[0].Name, c)))
		}
		if len(caas) == 0 {
			m.Ns = append(m.Ns, mustRR(fmt.Sprintf("%s 3600 IN SOA ns1.%s h.%s 1 2 3 4 5", zone, zone, zone)))
		}
		return m
	}
}

func rcode(rc int) respond {
	return func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(q, rc)
		return m
	}
}

func drop(*dns.Msg) *dns.Msg { return nil }

// withEDNS answers queries with EDNS with a, those without with b.
func withEDNS(a, b respond) respond {
	return func(q *dns.Msg) *dns.Msg {
		if q.IsEdns0() != nil {
			return a(q)
		}
		return b(q)
	}
}

// emptyReply is NOERROR with nothing at all: no answer, no SOA.
func emptyReply(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	return m
}

// referral points upward, to the root: a lame server.
func referral(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Ns = append(m.Ns, mustRR(". 3600 IN NS a.root-servers.net."))
	return m
}

// nxdomain answers NXDOMAIN with the SOA, as for a name that does not exist.
func nxdomain(zone string) respond {
	return func(q *dns.Msg) *dns.Msg {
		m := answer(zone)(q)
		m.Rcode = dns.RcodeNameError
		return m
	}
}

// lowerEcho answers with r and echoes the question in lowercase.
func lowerEcho(r respond) respond {
	return func(q *dns.Msg) *dns.Msg {
		m := r(q)
		m.Question[0].Name = strings.ToLower(m.Question[0].Name)
		return m
	}
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// srv is one server of a test zone.
type srv struct {
	resp  respond
	extra probes.Code // a finding to add to its CAA results (the DNSSEC judge's)
}

// resolverSet are the probes the model reads.
var resolverSet = []probes.ProbeID{probes.ProbeCAA, probes.ProbeCAAUpper, probes.ProbeCAA0x20, probes.ProbeCAANoEDNS}

// server builds the judged results of one server for name, as the engine
// does: each probe judged, then the per-server cross-checks.
func server(t *testing.T, zone, name string, i int, s srv) *report.Server {
	t.Helper()
	addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
	rs := &report.Server{Zone: zone, NS: fmt.Sprintf("ns%d.%s", i+1, zone), Addr: addr}
	var results []*probes.Result
	for _, id := range resolverSet {
		p, _ := probes.ProbeByID(id)
		q, err := probes.BuildQuery(probes.Spell(name, p.Spelling), p.Type, p.EDNS, p.DO)
		if err != nil {
			t.Fatal(err)
		}
		qm := new(dns.Msg)
		if err := qm.Unpack(q); err != nil {
			t.Fatal(err)
		}
		ex := &probes.Exchange{Server: netip.AddrPortFrom(addr, 53), Transport: p.Transport, Query: q, Attempts: 1}
		if m := s.resp(qm); m != nil {
			if ex.Reply, err = m.Pack(); err != nil {
				t.Fatal(err)
			}
		} else {
			ex.Err = probes.ErrTimeout
		}
		r := probes.Judge(p, probes.JudgeContext{Zone: zone, Name: name, Exists: true}, ex, nil)
		if s.extra != "" && p.DO {
			r.Add(s.extra, "added by the test")
		}
		results = append(results, &r)
	}
	probes.Apply(probes.CheckServer(results))
	rs.Results = results
	return rs
}

// zone is one relevant name and its servers.
type zone struct {
	name, zone string
	dnssec     string
	servers    []srv
	err        string
}

func domain(t *testing.T, zs ...zone) *report.Domain {
	t.Helper()
	d := &report.Domain{Domain: strings.TrimSuffix(zs[0].name, ".")}
	for _, z := range zs {
		d.Names = append(d.Names, &report.Name{Name: z.name, Zone: z.zone, Exists: true, DNSSEC: z.dnssec, Err: z.err})
		for i, s := range z.servers {
			d.Servers = append(d.Servers, server(t, z.zone, z.name, i, s))
		}
	}
	var all []*probes.Result
	for _, s := range d.Servers {
		all = append(all, s.Results...)
	}
	probes.Apply(probes.CheckZone(all))
	probes.Summarise(d)
	return d
}

const le = `0 issue "letsencrypt.org"`

// TestResolve is the resolver model, rule by rule (docs/prediction.md).
func TestResolve(t *testing.T) {
	const z = "x.test."
	good := srv{resp: answer(z, le)}
	cases := []struct {
		name     string
		dnssec   string
		servers  []srv
		outcome  report.Outcome
		failing  int
		variants int
		text     string // a piece of the explanation
		warnOnly bool   // the fault has no fail finding of its own on these probes
	}{
		{"R1 one good server", "", []srv{good}, report.OutcomeOK, 0, 1, "Every server answers CAA correctly", false},
		{"R2 good + REFUSED", "", []srv{good, {resp: rcode(dns.RcodeRefused)}}, report.OutcomeOK, 1, 1, "the CA still gets its answer", false},
		{"R2 good + NOTIMP", "", []srv{good, {resp: rcode(dns.RcodeNotImplemented)}}, report.OutcomeOK, 1, 1, "one extra round trip", false},
		{"R2 good + SERVFAIL", "", []srv{good, {resp: rcode(dns.RcodeServerFailure)}}, report.OutcomeOK, 1, 1, "routes around that server", false},
		{"R2 two of three REFUSED", "", []srv{{resp: rcode(dns.RcodeRefused)}, good, {resp: rcode(dns.RcodeRefused)}}, report.OutcomeOK, 2, 1, "routes around those servers", false},
		{"R2 only NOTIMP", "", []srv{{resp: rcode(dns.RcodeNotImplemented)}}, report.OutcomeServfail, 1, 0, "answers NOTIMP to CAA; a validating resolver turns that into SERVFAIL", false},
		{"R2 every server fails", "", []srv{{resp: rcode(dns.RcodeRefused)}, {resp: rcode(dns.RcodeServerFailure)}}, report.OutcomeServfail, 2, 0, "SERVFAIL", false},
		{"R4 good + drops", "", []srv{good, {resp: drop}}, report.OutcomeOK, 1, 1, "a timeout of 0.4 s or more", false},
		{"R4 only drops", "", []srv{{resp: drop}}, report.OutcomeServfail, 1, 0, "does not answer CAA queries (timeout)", false},
		{"R4 drops queries with DO, answers without", "", []srv{{resp: withEDNS(drop, answer(z, le))}}, report.OutcomeServfail, 1, 0, "drops every CAA query that carries EDNS with the DO bit", false},
		{"R2 good + lame referral", "", []srv{good, {resp: referral}}, report.OutcomeOK, 1, 1, "a referral instead of an answer", true},
		{"R2 only lame", "", []srv{{resp: referral}}, report.OutcomeServfail, 1, 0, "lame server", true},
		{"R2 good + bogus", "secure", []srv{good, {resp: answer(z, le), extra: probes.CodeDNSSECBogus}}, report.OutcomeOK, 1, 1, "DNSSEC validation fails", false},
		{"R2 good + stripped copy", "secure", []srv{good, {resp: answer(z, le), extra: probes.CodeDNSSECMissing}}, report.OutcomeOK, 1, 1, "without the signatures", false},
		{"R2 only bogus", "secure", []srv{{resp: answer(z, le), extra: probes.CodeDNSSECBogus}}, report.OutcomeServfail, 1, 0, "SERVFAIL", false},
		{"R3 FORMERR to EDNS, unsigned", "insecure", []srv{{resp: withEDNS(rcode(dns.RcodeFormatError), answer(z, le))}}, report.OutcomeOK, 0, 1, "retries without EDNS", false},
		{"R3 FORMERR to EDNS, signed", "secure", []srv{{resp: withEDNS(rcode(dns.RcodeFormatError), answer(z, le))}}, report.OutcomeServfail, 1, 0, "the zone is signed and an answer without EDNS carries no signatures", false},
		{"R3 FORMERR to EDNS beside a good server", "insecure", []srv{good, {resp: withEDNS(rcode(dns.RcodeFormatError), answer(z, le))}}, report.OutcomeOK, 0, 1, "retries without EDNS", false},
		{"R3 FORMERR to EDNS, chain not judged secure", "bogus", []srv{{resp: withEDNS(rcode(dns.RcodeFormatError), answer(z, le))}}, report.OutcomeServfail, 1, 0, "carries no signatures", false},
		{"R3 FORMERR with and without EDNS", "", []srv{{resp: rcode(dns.RcodeFormatError)}}, report.OutcomeServfail, 1, 0, "FORMERR", false},
		{"R5 empty NODATA beside a good server", "", []srv{good, {resp: emptyReply}}, report.OutcomeOK, 1, 1, "from 1.19", true},
		{"R5 empty NODATA alone", "", []srv{{resp: emptyReply}}, report.OutcomeOK, 0, 1, "", false},
		{"R6 stale servers", "", []srv{good, {resp: answer(z, `0 issue "old-ca.example"`)}}, report.OutcomeIntermittent, 0, 2, "varies between lookups", false},
		{"R6 case changed and answers differ", "", []srv{{resp: lowerEcho(answer(z, le))}, {resp: answer(z, `0 issue "old-ca.example"`)}}, report.OutcomeIntermittent, 0, 1, "returns SERVFAIL for x.test CAA when it asks ns1.x.test (192.0.2.1) first", false},
		{"R6 every server changes case, answers differ", "", []srv{{resp: lowerEcho(answer(z, le))}, {resp: lowerEcho(answer(z, `0 issue "old-ca.example"`))}}, report.OutcomeServfail, 0, 0, "asks every server again in lowercase", false},
		{"R6 case changed, same answers", "", []srv{{resp: lowerEcho(answer(z, le))}, good}, report.OutcomeOK, 0, 1, "", false},
		{"R7 NXDOMAIN at an existing name", "", []srv{{resp: nxdomain(z)}}, report.OutcomeOK, 0, 1, "reads it as no CAA records there", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := domain(t, zone{name: z, zone: z, dnssec: tc.dnssec, servers: tc.servers})
			pr := Fill(d, "letsencrypt.org", "x.test")
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
			if tc.failing > 0 && !tc.warnOnly && d.Verdict != report.VerdictFail {
				t.Errorf("verdict %s with a failing server, want fail", d.Verdict)
			}
		})
	}
}

// TestResolveUnreachableFamily: a server this host cannot reach counts as
// neither failing nor working; with no other server the outcome is unknown.
func TestResolveUnreachableFamily(t *testing.T) {
	const z = "v6.test."
	mk := func(servers ...*report.Server) *report.Domain {
		d := &report.Domain{Domain: "v6.test", Names: []*report.Name{{Name: z, Zone: z, Exists: true}}, Servers: servers}
		probes.Summarise(d)
		return d
	}
	good := server(t, z, z, 0, srv{resp: answer(z, le)})
	far := &report.Server{Zone: z, NS: "ns2." + z, Addr: netip.MustParseAddr("2001:db8::1")}
	for _, id := range resolverSet {
		p, _ := probes.ProbeByID(id)
		q, _ := probes.BuildQuery(probes.Spell(z, p.Spelling), p.Type, p.EDNS, p.DO)
		r := probes.Judge(p, probes.JudgeContext{Zone: z, Name: z, Exists: true},
			&probes.Exchange{Server: netip.AddrPortFrom(far.Addr, 53), Query: q, Err: probes.ErrNoFamily}, nil)
		far.Results = append(far.Results, &r)
	}
	r := Predict(mk(good, far), "letsencrypt.org", "v6.test").Names[0]
	if r.Outcome != report.OutcomeOK || len(r.Working) != 1 || len(r.Failing) != 0 {
		t.Errorf("outcome %s working %v failing %v; want ok, one working, none failing", r.Outcome, r.Working, r.Failing)
	}
	if r := Predict(mk(far), "letsencrypt.org", "v6.test").Names[0]; r.Outcome != report.OutcomeUnknown {
		t.Errorf("outcome %q with only an unreachable server, want unknown", r.Outcome)
	}
}

// TestPolicy is the CA model: Boulder's walk (va/caa.go selectCAA, bdns
// LookupCAA) over the predicted answers, and its CAA reading.
func TestPolicy(t *testing.T) {
	good := func(z string, caas ...string) []srv { return []srv{{resp: answer(z, caas...)}} }
	fails := []srv{{resp: rcode(dns.RcodeServerFailure)}}
	cases := []struct {
		name      string
		input     string
		ca        string
		zones     []zone
		issue     string
		wildcard  string
		relevant  string
		outcome   report.Outcome
		reason    string
		reasonToo string
	}{
		{"closest RRset decides", "www.a.test", "", []zone{
			{name: "www.a.test.", zone: "a.test.", servers: good("a.test.")},
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", le)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"permitted", "permitted", "a.test", report.OutcomeOK, `CAA at a.test: issue "letsencrypt.org" permits`, ""},
		{"failure above the closest RRset is ignored", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", le)},
			{name: "test.", zone: "test.", servers: fails}},
			"permitted", "permitted", "a.test", report.OutcomeOK, "CAA at a.test", ""},
		{"failure below the closest RRset blocks", "www.a.test", "", []zone{
			{name: "www.a.test.", zone: "www.a.test.", servers: fails},
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", le)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"unknown", "unknown", "", report.OutcomeServfail, "CAA lookup of www.a.test fails at ns1.www.a.test", ""},
		{"NXDOMAIN below the TLD is empty", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: []srv{{resp: nxdomain("a.test.")}}},
			{name: "test.", zone: "test.", servers: good("test.", `0 issue "other.example"`)}},
			"forbidden", "forbidden", "test", report.OutcomeOK, "CAA at test", ""},
		{"NXDOMAIN at the TLD is an error", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.")},
			{name: "test.", zone: "test.", servers: []srv{{resp: nxdomain("test.")}}}},
			"unknown", "unknown", "", report.OutcomeOK, "TLD test does not exist", ""},
		{"no CAA anywhere", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.")},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"permitted", "permitted", "", report.OutcomeOK, "no CAA records at any relevant name", ""},
		{"malformed issue value forbids", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", `0 issue "%%bad%%"`)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"forbidden", "forbidden", "a.test", report.OutcomeOK, "is malformed", ""},
		{"flag 1 forbids for Let's Encrypt", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", le, `1 tbs "x"`)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"forbidden", "forbidden", "a.test", report.OutcomeOK, "flag bit 1", ""},
		{"flag 1 permits for another CA", "a.test", "ca.example", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", `0 issue "ca.example"`, `1 tbs "x"`)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"permitted", "permitted", "a.test", report.OutcomeOK, "permits ca.example", ""},
		{"stale servers: permitted or forbidden", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: []srv{{resp: answer("a.test.", le)}, {resp: answer("a.test.", `0 issue "old-ca.example"`)}}},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"varies", "varies", "", report.OutcomeIntermittent,
			`CAA 0 issue "letsencrypt.org" at a.test from ns1.a.test (192.0.2.1): permitted`, `from ns2.a.test (192.0.2.2): forbidden`},
		{"stale servers that agree on the decision", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: []srv{{resp: answer("a.test.", le)}, {resp: answer("a.test.", le, `0 iodef "mailto:a@a.test"`)}}},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"permitted", "permitted", "a.test", report.OutcomeIntermittent, "CAA at a.test", ""},
		{"one server has no CAA: the walk goes on", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: []srv{{resp: answer("a.test.", `0 issue "other.example"`)}, {resp: answer("a.test.")}}},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"varies", "varies", "", report.OutcomeIntermittent, "no CAA at a.test from ns2.a.test (192.0.2.2): permitted", ""},
		{"case changer beside a stale server: permitted or refused", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: []srv{{resp: lowerEcho(answer("a.test.", `0 issue "other.example"`))}, {resp: answer("a.test.")}}},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"varies", "varies", "", report.OutcomeIntermittent, "no CAA at a.test from ns2.a.test (192.0.2.2): permitted", "a lookup that asks ns1.a.test (192.0.2.1) first: unknown"},
		{"wildcard uses issuewild", "*.a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", servers: good("a.test.", le, `0 issuewild ";"`)},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"forbidden", "forbidden", "a.test", report.OutcomeOK, "for wildcards", ""},
		{"discovery error at the name blocks", "a.test", "", []zone{
			{name: "a.test.", zone: "a.test.", err: "no server answers"},
			{name: "test.", zone: "test.", servers: good("test.")}},
			"unknown", "unknown", "", report.OutcomeServfail, "CAA lookup of a.test fails: no server answers", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := tc.ca
			if ca == "" {
				ca = "letsencrypt.org"
			}
			d := domain(t, tc.zones...)
			Fill(d, ca, tc.input)
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
						if m.Outcome == report.OutcomeServfail && stop == "" {
							stop = m.Name
						}
					}
				}
				if stop == "" {
					continue // the policy varies: each answer stops elsewhere
				}
				above := n.Name != stop && strings.HasSuffix(stop, "."+n.Name)
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

func TestWorse(t *testing.T) {
	ok, in, sf, un := report.OutcomeOK, report.OutcomeIntermittent, report.OutcomeServfail, report.OutcomeUnknown
	for _, tc := range []struct{ a, b, want report.Outcome }{
		{ok, in, in}, {in, ok, in}, {in, sf, sf}, {sf, ok, sf}, {ok, un, ok}, {un, ok, ok}, {sf, un, sf},
	} {
		if got := Worse(tc.a, tc.b); got != tc.want {
			t.Errorf("Worse(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
