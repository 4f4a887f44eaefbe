// Package predicttest builds judged evidence for the resolver and CA models'
// tests: scripted servers (a reply per query, or none), their probe results
// judged as the engine judges them, and domains made of them. It also holds
// Strict, a second resolver model for the tests that show a model added
// beside the default.
package predicttest

import (
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Respond is a server's behaviour: the reply to a query, or nil for no
// reply (a timeout).
type Respond func(q *dns.Msg) *dns.Msg

// LE is the CAA record that permits Let's Encrypt.
const LE = `0 issue "letsencrypt.org"`

// Answer answers with the CAA records given in presentation form ("0 issue
// \"letsencrypt.org\""), or NODATA with the zone's SOA when there are none.
func Answer(zone string, caas ...string) Respond {
	return func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, c := range caas {
			m.Answer = append(m.Answer, MustRR(fmt.Sprintf("%s 3600 IN CAA %s", q.Question[0].Name, c)))
		}
		if len(caas) == 0 {
			m.Ns = append(m.Ns, MustRR(fmt.Sprintf("%s 3600 IN SOA ns1.%s h.%s 1 2 3 4 5", zone, zone, zone)))
		}
		return m
	}
}

// Rcode answers with rc and nothing else.
func Rcode(rc int) Respond {
	return func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(q, rc)
		return m
	}
}

// Drop never answers.
func Drop(*dns.Msg) *dns.Msg { return nil }

// WithEDNS answers queries with EDNS with a, those without with b.
func WithEDNS(a, b Respond) Respond {
	return func(q *dns.Msg) *dns.Msg {
		if q.IsEdns0() != nil {
			return a(q)
		}
		return b(q)
	}
}

// EmptyReply is NOERROR with nothing at all: no answer, no SOA.
func EmptyReply(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	return m
}

// Referral points upward, to the root: a lame server.
func Referral(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Ns = append(m.Ns, MustRR(". 3600 IN NS a.root-servers.net."))
	return m
}

// NXDomain answers NXDOMAIN with the SOA, as for a name that does not exist.
func NXDomain(zone string) Respond {
	return func(q *dns.Msg) *dns.Msg {
		m := Answer(zone)(q)
		m.Rcode = dns.RcodeNameError
		return m
	}
}

// LowerEcho answers with r and echoes the question in lowercase.
func LowerEcho(r Respond) Respond {
	return func(q *dns.Msg) *dns.Msg {
		m := r(q)
		m.Question[0].Name = strings.ToLower(m.Question[0].Name)
		return m
	}
}

// WrongSOA answers NODATA with the SOA of another zone (the parent test.).
func WrongSOA(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	m.Ns = append(m.Ns, MustRR("test. 300 IN SOA ns.nic.test. h.nic.test. 1 2 3 4 5"))
	return m
}

// Anycast answers in turn from two instances, each with its NSID: lhr-1
// with a, lhr-2 with b.
func Anycast(zone, a, b string) Respond {
	var n atomic.Int32
	return func(q *dns.Msg) *dns.Msg {
		id, caa := "lhr-1", a
		if n.Add(1)%2 == 0 {
			id, caa = "lhr-2", b
		}
		m := Answer(zone, caa)(q)
		if q.IsEdns0() != nil {
			m.SetEdns0(1232, true)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: fmt.Sprintf("%x", id)})
		}
		return m
	}
}

// MustRR parses one record or panics.
func MustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

// Srv is one server of a test zone.
type Srv struct {
	Resp  Respond
	Extra model.Code // a finding to add to its CAA results with DO (the DNSSEC judge's)
}

// ResolverSet are the probes a server is asked: the CAA probes of the
// resolver's path and caa-noedns.
var ResolverSet = []model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAAUpper, catalog.ProbeCAA0x20, catalog.ProbeCAANoEDNS}

// Server builds the judged results of server i of zone for name, as the
// engine does: each probe judged, then the per-server cross-checks.
func Server(t *testing.T, zone, name string, i int, s Srv) *model.Server {
	t.Helper()
	addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
	rs := &model.Server{Zone: model.MustName(zone), NS: fmt.Sprintf("ns%d.%s", i+1, zone), Addr: addr}
	var results []*model.Result
	for _, id := range ResolverSet {
		p, _ := catalog.ProbeByID(id)
		q, err := wire.BuildQuery(wire.Spell(name, p.Spelling), p.Type, p.EDNS, p.DO)
		if err != nil {
			t.Fatal(err)
		}
		qm := new(dns.Msg)
		if err := qm.Unpack(q); err != nil {
			t.Fatal(err)
		}
		ex := &model.Exchange{Server: netip.AddrPortFrom(addr, 53), Transport: p.Transport, Query: q, Attempts: 1}
		if m := s.Resp(qm); m != nil {
			if ex.Reply, err = m.Pack(); err != nil {
				t.Fatal(err)
			}
		} else {
			ex.Err = model.ErrTimeout
		}
		r := judge.Exchange(p, judge.Context{Zone: model.MustName(zone), Name: model.MustName(name), Exists: true}, ex, nil)
		if s.Extra != "" && p.DO {
			r.Add(s.Extra, "added by the test")
		}
		results = append(results, &r)
	}
	judge.Apply(judge.CheckServer(results))
	rs.Results = results
	return rs
}

// Zone is one relevant name and its servers.
type Zone struct {
	Name, Zone string
	DNSSEC     model.DNSSECStatus
	Servers    []Srv
	Err        string
}

// Domain builds a summarised domain of the names of zs, in the climb's
// order, the first being the domain.
func Domain(t *testing.T, zs ...Zone) *model.Domain {
	t.Helper()
	d := &model.Domain{Domain: model.MustName(zs[0].Name).Display()}
	for _, z := range zs {
		d.Names = append(d.Names, &model.Name{Name: model.MustName(z.Name), Zone: model.MustName(z.Zone), Exists: true, DNSSEC: z.DNSSEC, Err: z.Err})
		for i, s := range z.Servers {
			d.Servers = append(d.Servers, Server(t, z.Zone, z.Name, i, s))
		}
	}
	var all []*model.Result
	for _, s := range d.Servers {
		all = append(all, s.Results...)
	}
	judge.Apply(judge.CheckZone(all))
	judge.Summarise(d)
	return d
}
