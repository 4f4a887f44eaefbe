// Package sample builds the fixed domain the renderers' golden tests
// start from: split.test, built from wire bytes and judged, so a golden
// file of any format changes only when that format or the judge does.
package sample

import (
	"net/netip"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Split is a fixed two-server domain, split.test: one server answers CAA, the
// other answers NOTIMP. Bytes, IDs and times are fixed so output is stable.
func Split(t testing.TB) *model.Domain {
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
