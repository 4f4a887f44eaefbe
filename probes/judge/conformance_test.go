package judge

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// TestBuildProbeQueryForms unpacks every catalog probe's query and checks
// its form against the probe's data: opcode, class, EDNS version, flags,
// buffer, the probe's option and the NSID request on every EDNS query.
func TestBuildProbeQueryForms(t *testing.T) {
	for _, p := range catalog.Catalog {
		name := "a.test."
		if p.QName != "" {
			name = p.QName
		}
		b, err := wire.BuildProbeQuery(name, p)
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("%s: query does not parse: %v", p.ID, err)
		}
		if m.Opcode != p.Opcode || m.RecursionDesired {
			t.Errorf("%s: opcode %d RD %v", p.ID, m.Opcode, m.RecursionDesired)
		}
		wantClass := p.Class
		if wantClass == 0 {
			wantClass = dns.ClassINET
		}
		if q := m.Question[0]; q.Qtype != p.Type || q.Qclass != wantClass || q.Name != name {
			t.Errorf("%s: question %v", p.ID, q)
		}
		opt := m.IsEdns0()
		if (opt != nil) != (p.EDNS || p.DO) {
			t.Fatalf("%s: OPT present %v, want %v", p.ID, opt != nil, p.EDNS || p.DO)
		}
		if opt == nil {
			continue
		}
		size := p.BufSize
		if size == 0 {
			size = wire.EDNSBufSize
		}
		if opt.Version() != p.Version || opt.Do() != p.DO || opt.UDPSize() != size || uint16(opt.Hdr.Ttl)&^0x8000 != p.Flags {
			t.Errorf("%s: OPT version %d DO %v size %d flags %04x", p.ID, opt.Version(), opt.Do(), opt.UDPSize(), uint16(opt.Hdr.Ttl))
		}
		var codes []uint16
		for _, o := range opt.Option {
			codes = append(codes, o.Option())
			if n, ok := o.(*dns.EDNS0_NSID); ok && n.Nsid != "" {
				t.Errorf("%s: the NSID request must be empty, got %q", p.ID, n.Nsid)
			}
		}
		// The NoNSID probes are Unbound's query byte for byte: no
		// option at all; every other EDNS probe asks for the NSID.
		var want []uint16
		if !p.NoNSID {
			want = append(want, dns.EDNS0NSID)
		}
		if p.Option != 0 {
			want = append(want, p.Option)
		}
		if !slices.Equal(codes, want) {
			t.Errorf("%s: options %v, want %v", p.ID, codes, want)
		}
	}
}

func TestParsePlan(t *testing.T) {
	got, err := catalog.ParsePlan("caa, edns,caa")
	if err != nil {
		t.Fatal(err)
	}
	want := append([]model.ProbeID{catalog.ProbeCAA}, catalog.SetProbes(catalog.SetEDNS)...)
	if !slices.Equal(got, want) {
		t.Errorf("plan %v, want %v", got, want)
	}
	if slices.Contains(got, catalog.ProbeIDHostname) {
		t.Error("the edns set holds an id probe")
	}
	if _, err := catalog.ParsePlan("caa,nosuch"); err == nil {
		t.Error("an unknown name was accepted")
	}
	// The CAA-only plan stays one probe: no set is called caa.
	if p, _ := catalog.ParsePlan("caa"); !slices.Equal(p, []model.ProbeID{catalog.ProbeCAA}) {
		t.Errorf("--probes caa is %v", p)
	}
	for _, p := range catalog.Catalog {
		if p.Conformance() && p.NoNSID {
			t.Errorf("%s is a conformance probe sent as the resolver's query", p.ID)
		}
	}
}

// conformanceResult builds a result of probe id for example.test. from a
// reply that edit shapes; edit may return nil to drop the query (no reply).
func conformanceResult(t *testing.T, id model.ProbeID, edit func(q, m *dns.Msg) *dns.Msg) *model.Result {
	t.Helper()
	p, _ := catalog.ProbeByID(id)
	name := "example.test."
	if p.QName != "" {
		name = p.QName
	}
	qb, err := wire.BuildProbeQuery(wire.Spell(name, p.Spelling), p)
	if err != nil {
		t.Fatal(err)
	}
	q, m := conformantReply(t, qb)
	if q.IsEdns0() != nil {
		m.SetEdns0(1232, q.IsEdns0().Do())
	}
	ex := &model.Exchange{Server: netip.MustParseAddrPort("127.0.0.1:53"), Transport: p.Transport, Query: qb, Attempts: 1}
	if m = edit(q, m); m != nil {
		if ex.Reply, err = m.Pack(); err != nil {
			t.Fatal(err)
		}
	} else {
		ex.Attempts, ex.Err = 2, model.ErrTimeout
	}
	r := Exchange(p, Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}, ex, nil)
	return &r
}

func conformant(q, m *dns.Msg) *dns.Msg {
	if q.Opcode != dns.OpcodeQuery {
		r := new(dns.Msg)
		r.SetRcode(q, dns.RcodeNotImplemented)
		return r
	}
	if opt := q.IsEdns0(); opt != nil && opt.Version() != 0 {
		r := new(dns.Msg)
		r.SetRcode(q, dns.RcodeBadVers)
		r.SetEdns0(1232, false)
		return r
	}
	return m
}

func drop(q, m *dns.Msg) *dns.Msg { return nil }

func formerr(q, m *dns.Msg) *dns.Msg {
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeFormatError)
	return r
}

// TestCheckConformance runs the cross-check of the edns set over hand-built
// replies: a conformant server gets nothing; each fault its code, on the
// probe that showed it; a server that fails the plain query too gets none
// of them.
func TestCheckConformance(t *testing.T) {
	set := append([]model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAANoEDNS}, catalog.SetProbes(catalog.SetEDNS)...)
	for _, tc := range []struct {
		name  string
		bad   map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg
		want  map[model.ProbeID][]model.Code
		plain func(q, m *dns.Msg) *dns.Msg // the plain caa probe's reply; nil: conformant
	}{
		{name: "conformant"},
		{name: "version ignored", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSVersion: func(q, m *dns.Msg) *dns.Msg { return m }},
			want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSVersion: {catalog.CodeEDNSVersionIgnored}}},
		{name: "version dropped", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSVersion: drop},
			want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSVersion: {catalog.CodeEDNSVersionDropped}}},
		{name: "BADVERS with version 1", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSVersion: func(q, m *dns.Msg) *dns.Msg {
			r := conformant(q, m)
			r.IsEdns0().SetVersion(1)
			return r
		}}, want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSVersion: {catalog.CodeEDNSVersionIgnored}}},
		{name: "option FORMERR", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSOption: formerr},
			want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSOption: {catalog.CodeEDNSOptionIntolerant}}},
		{name: "flag dropped", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSFlag: drop},
			want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSFlag: {catalog.CodeEDNSFlagIntolerant}}},
		{name: "flag echoed", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSFlag: func(q, m *dns.Msg) *dns.Msg {
			m.IsEdns0().Hdr.Ttl |= uint32(catalog.FlagUnknown)
			return m
		}}, want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSFlag: {catalog.CodeEDNSFlagEchoed}}},
		{name: "cookie FORMERR", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSCookie: formerr},
			want: map[model.ProbeID][]model.Code{catalog.ProbeEDNSCookie: {catalog.CodeCookieIntolerant}}},
		{name: "BADCOOKIE is allowed", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSCookie: func(q, m *dns.Msg) *dns.Msg {
			r := new(dns.Msg)
			r.SetRcode(q, dns.RcodeBadCookie)
			r.SetEdns0(1232, false)
			return r
		}}},
		{name: "opcode answered as a query", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeOpcode: func(q, m *dns.Msg) *dns.Msg { return m }},
			want: map[model.ProbeID][]model.Code{catalog.ProbeOpcode: {catalog.CodeOpcodeNotNotimp}}},
		{name: "opcode dropped", bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeOpcode: drop},
			want: map[model.ProbeID][]model.Code{catalog.ProbeOpcode: {catalog.CodeOpcodeNotNotimp}}},
		{name: "DO dropped", plain: drop,
			bad:  map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeEDNSOption: drop, catalog.ProbeEDNSFlag: drop, catalog.ProbeEDNS512: drop, catalog.ProbeEDNSCookie: drop},
			want: map[model.ProbeID][]model.Code{catalog.ProbeCAA: {catalog.CodeTimeout, catalog.CodeEDNSIntolerant, catalog.CodeDOIntolerant}}},
		{name: "plain query fails: nothing else judged", plain: formerr,
			bad: map[model.ProbeID]func(q, m *dns.Msg) *dns.Msg{catalog.ProbeCAANoEDNS: formerr, catalog.ProbeEDNSNoDO: formerr,
				catalog.ProbeEDNSVersion: formerr, catalog.ProbeEDNSOption: formerr, catalog.ProbeOpcode: formerr},
			want: map[model.ProbeID][]model.Code{catalog.ProbeCAA: {catalog.CodeRcodeFormerr}, catalog.ProbeCAANoEDNS: {catalog.CodeRcodeFormerr}}},
		{name: "DO FORMERR", plain: formerr,
			want: map[model.ProbeID][]model.Code{catalog.ProbeCAA: {catalog.CodeRcodeFormerr, catalog.CodeEDNSIntolerant, catalog.CodeDOIntolerant}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []*model.Result
			for _, id := range set {
				edit := conformant
				if f := tc.bad[id]; f != nil {
					edit = f
				}
				if id == catalog.ProbeCAA && tc.plain != nil {
					edit = tc.plain
				}
				rs = append(rs, conformanceResult(t, id, edit))
			}
			Apply(CheckServer(rs))
			for _, r := range rs {
				if got := issueCodes(*r); !slices.Equal(got, tc.want[r.Probe]) {
					t.Errorf("%s: %v, want %v", r.Probe, got, tc.want[r.Probe])
				}
			}
		})
	}
}

// TestOversizeUDPReply: a UDP reply above the 512 bytes the edns-512 query
// advertised, without TC, is flagged; a truncated one is not.
func TestOversizeUDPReply(t *testing.T) {
	big := func(q, m *dns.Msg) *dns.Msg {
		for i := range 20 {
			rr, _ := dns.NewRR(q.Question[0].Name + ` 3600 IN CAA 0 issue "ca` + string(rune('a'+i)) + `.example.net; account=0123456789"`)
			m.Answer = append(m.Answer, rr)
		}
		return m
	}
	r := conformanceResult(t, catalog.ProbeEDNS512, big)
	Apply(CheckServer([]*model.Result{r}))
	if !r.Has(catalog.CodeOversizeUDPReply) {
		t.Errorf("a %d-byte reply without TC: %v", len(r.Exchange.Reply), issueCodes(*r))
	}
	r = conformanceResult(t, catalog.ProbeEDNS512, func(q, m *dns.Msg) *dns.Msg {
		m = big(q, m)
		m.Truncate(512)
		return m
	})
	Apply(CheckServer([]*model.Result{r}))
	if r.Has(catalog.CodeOversizeUDPReply) {
		t.Errorf("a truncated reply flagged: %v", r.Issues)
	}
}

// TestInstances: replies from two instances (NSIDs) with different CAA
// answers are instance-inconsistent, and the spellings' difference is not
// blamed on case handling; one instance, or equal answers, say nothing.
func TestInstances(t *testing.T) {
	withNSID := func(id, value string) func(q, m *dns.Msg) *dns.Msg {
		return func(q, m *dns.Msg) *dns.Msg {
			m.Answer[0].(*dns.CAA).Value = value
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hexOf(id)})
			return m
		}
	}
	run := func(upperID, upperValue string) []*model.Result {
		rs := []*model.Result{
			conformanceResult(t, catalog.ProbeCAA, withNSID("lhr-1", "letsencrypt.org")),
			conformanceResult(t, catalog.ProbeCAAUpper, withNSID(upperID, upperValue)),
			conformanceResult(t, catalog.ProbeEDNSNoDO, withNSID("lhr-1", "letsencrypt.org")),
		}
		Apply(CheckServer(rs))
		return rs
	}
	rs := run("lhr-2", "old-ca.example")
	for _, r := range rs {
		if !r.Has(catalog.CodeInstanceInconsistent) || r.Has(catalog.CodeCaseSensitiveAnswer) {
			t.Errorf("%s: %v, want instance-inconsistent only", r.Probe, issueCodes(*r))
		}
	}
	if got := rs[1].Instance(); got != "lhr-2" {
		t.Errorf("instance %q", got)
	}
	for _, r := range run("lhr-2", "letsencrypt.org") {
		if len(r.Issues) > 0 {
			t.Errorf("equal answers from two instances: %s %v", r.Probe, issueCodes(*r))
		}
	}
	// One instance with two answers is a case fault, as before.
	rs = run("lhr-1", "old-ca.example")
	if !rs[1].Has(catalog.CodeCaseSensitiveAnswer) || rs[1].Has(catalog.CodeInstanceInconsistent) {
		t.Errorf("one instance: %v", issueCodes(*rs[1]))
	}
}

// TestInstancesWithoutNSID: the resolver's query carries no NSID, and the
// probes that carry one may all reach one site. When the lowercase
// queries with EDNS (one question, one spelling) get different answers,
// the address is instance-inconsistent whatever the NSIDs say, and the
// spellings' difference is not blamed on case; when they agree, an
// uppercase answer of its own is still a case fault.
func TestInstancesWithoutNSID(t *testing.T) {
	answer := func(value, nsid string) func(q, m *dns.Msg) *dns.Msg {
		return func(q, m *dns.Msg) *dns.Msg {
			m.Answer[0].(*dns.CAA).Value = value
			if nsid != "" {
				m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hexOf(nsid)})
			}
			return m
		}
	}
	run := func(resolverValue string) []*model.Result {
		rs := []*model.Result{
			conformanceResult(t, catalog.ProbeCAA, answer(resolverValue, "")),
			conformanceResult(t, catalog.ProbeCAAUpper, answer("letsencrypt.org", "")),
			conformanceResult(t, catalog.ProbeCAATCP, answer("letsencrypt.org", "lhr-1")),
			conformanceResult(t, catalog.ProbeEDNSNoDO, answer("letsencrypt.org", "lhr-1")),
			conformanceResult(t, catalog.ProbeCAANoEDNS, answer("letsencrypt.org", "")),
		}
		Apply(CheckServer(rs))
		return rs
	}
	rs := run("old-ca.example")
	for _, r := range rs {
		lower := r.Probe == catalog.ProbeCAA || r.Probe == catalog.ProbeCAATCP || r.Probe == catalog.ProbeEDNSNoDO
		if r.Has(catalog.CodeInstanceInconsistent) != lower {
			t.Errorf("%s: %v; instance-inconsistent wanted: %v", r.Probe, issueCodes(*r), lower)
		}
		if r.Has(catalog.CodeCaseSensitiveAnswer) {
			t.Errorf("%s: an answer the lowercase query also got blamed on case: %v", r.Probe, r.Issues)
		}
	}
	for _, is := range rs[0].Issues {
		if is.Code == catalog.CodeInstanceInconsistent && (!strings.Contains(is.Detail, "replies without NSID") || !strings.Contains(is.Detail, "instance lhr-1")) {
			t.Errorf("the detail does not name both groups: %s", is.Detail)
		}
	}
	rs = run("letsencrypt.org")
	for _, r := range rs {
		if r.Has(catalog.CodeInstanceInconsistent) || r.Has(catalog.CodeCaseSensitiveAnswer) {
			t.Errorf("equal answers: %s %v", r.Probe, issueCodes(*r))
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b []byte
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&0xf])
	}
	return string(b)
}

func TestInstanceName(t *testing.T) {
	for in, want := range map[string]string{"lhr-2": "lhr-2", "\x00\xff": "00ff", "": "", "é-1": "é-1", "\xc3": "c3"} {
		if got := model.InstanceName([]byte(in)); got != want {
			t.Errorf("model.InstanceName(%q) = %q, want %q", in, got, want)
		}
	}
}
