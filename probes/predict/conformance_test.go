package predict

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/miekg/dns"
)

// wrongSOA answers NODATA with the SOA of another zone (the parent test.).
func wrongSOA(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Ns = append(m.Ns, mustRR("test. 300 IN SOA ns.nic.test. h.nic.test. 1 2 3 4 5"))
	return m
}

// anycast answers in turn from two instances, each with its NSID: lhr-1
// with a, lhr-2 with b.
func anycast(zone, a, b string) respond {
	var n atomic.Int32
	return func(q *dns.Msg) *dns.Msg {
		id, caa := "lhr-1", a
		if n.Add(1)%2 == 0 {
			id, caa = "lhr-2", b
		}
		m := answer(zone, caa)(q)
		if q.IsEdns0() != nil {
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: fmt.Sprintf("%x", id)})
		}
		return m
	}
}

// TestResolveConformance: the issue-13 findings as the model reads them.
// A Kept finding (do-intolerant, negative-without-soa) leaves the reply to
// the rules; a NODATA with another zone's SOA is an empty NODATA (R5, the
// scrubber drops the SOA); an address whose instances answer differently
// gives each answer as a variant.
func TestResolveConformance(t *testing.T) {
	const z = "x.test."
	good := srv{resp: answer(z, le)}
	for _, tc := range []struct {
		name     string
		servers  []srv
		outcome  report.Outcome
		failing  int
		variants int
	}{
		{"Kept finding on a good answer", []srv{{resp: answer(z, le), extra: probes.CodeDOIntolerant}}, report.OutcomeOK, 0, 1},
		{"wrong-zone SOA beside a good server", []srv{good, {resp: wrongSOA}}, report.OutcomeOK, 1, 1},
		{"wrong-zone SOA alone", []srv{{resp: wrongSOA}}, report.OutcomeOK, 0, 1},
		{"anycast instances answer differently", []srv{{resp: anycast(z, le, `0 issue "old-ca.example"`)}}, report.OutcomeIntermittent, 0, 2},
		{"anycast instances agree", []srv{{resp: anycast(z, le, le)}}, report.OutcomeOK, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := domain(t, zone{name: z, zone: z, servers: tc.servers})
			pr := Fill(d, "letsencrypt.org", "x.test")
			r := pr.Names[0]
			if r.Outcome != tc.outcome || len(r.Failing) != tc.failing || len(r.Variants) != tc.variants {
				t.Errorf("outcome %q failing %v variants %d; want %q, %d failing, %d variants", r.Outcome, r.Failing, len(r.Variants),
					tc.outcome, tc.failing, tc.variants)
			}
		})
	}
}

// TestResolverProbesFromCatalog: the model reads the probes the catalog
// marks Resolver, the CA resolver's own spelling first.
func TestResolverProbesFromCatalog(t *testing.T) {
	if len(resolverProbes) != 3 || resolverProbes[0] != probes.ProbeCAA0x20 {
		t.Errorf("resolver probes %v", resolverProbes)
	}
	for _, id := range resolverProbes {
		if p, _ := probes.ProbeByID(id); !p.Resolver || p.Conformance() {
			t.Errorf("%s is not a resolver probe in the catalog", id)
		}
	}
}
