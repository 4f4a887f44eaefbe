package dnssec_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
)

// testNow is the judges' clock in every test, so signatures made by
// testZone are valid at it whatever the wall clock says.
func testNow() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }

const origin = "example.com."

// zoneData is the test zone. deep.example.com. is an empty non-terminal,
// wild.example.com. one that holds a wildcard, sub.example.com. an
// unsigned delegation with glue.
func zoneData() []string {
	return []string{
		"example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
		"example.com. 3600 IN NS ns.example.com.",
		`example.com. 3600 IN CAA 0 issue "ca.example.net"`,
		"ns.example.com. 3600 IN A 192.0.2.1",
		"www.example.com. 3600 IN A 192.0.2.2",
		"alias.example.com. 3600 IN CNAME www.example.com.",
		"host.deep.example.com. 3600 IN A 192.0.2.3",
		`*.wild.example.com. 3600 IN CAA 0 issue "wild.example.net"`,
		"sub.example.com. 3600 IN NS ns.sub.example.com.",
		"ns.sub.example.com. 3600 IN A 192.0.2.53",
	}
}

// zoneOpts picks the zone's signing setup and faults.
type zoneOpts struct {
	alg        uint8 // default ECDSAP256SHA256
	splitKeys  bool  // KSK + ZSK instead of one combined key
	nsec3      bool
	salt       string
	iterations uint16
	faults     zonesign.Faults
	chain      zonesign.ChainFaults
}

// testZone answers queries for the zone the way an online-signing
// authoritative server does, using zonesign, and hands back the parsed
// wire form of each reply.
type testZone struct {
	t      testing.TB
	signer *zonesign.Signer
	chain  *zonesign.Chain
	data   map[string][]dns.RR
}

func newTestZone(t testing.TB, o zoneOpts) *testZone {
	t.Helper()
	if o.alg == 0 {
		o.alg = dns.ECDSAP256SHA256
	}
	// One combined key with the SEP flag, or a KSK and a ZSK.
	kinds := []bool{true}
	if o.splitKeys {
		kinds = []bool{true, false}
	}
	var keys []*zonesign.Key
	for i, ksk := range kinds {
		k, err := zonesign.NewKeyFromSeed(origin, o.alg, ksk, []byte{byte(i), o.alg})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	z := &testZone{t: t, signer: &zonesign.Signer{Zone: origin, Keys: keys, Faults: o.faults}, data: map[string][]dns.RR{}}
	for _, line := range zoneData() {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatal(err)
		}
		z.add(rr)
	}
	for _, rr := range z.signer.DNSKEYs() {
		z.add(rr)
	}
	types := map[string][]uint16{}
	for name, rrs := range z.data {
		for _, rr := range rrs {
			types[name] = append(types[name], rr.Header().Rrtype)
		}
	}
	var err error
	if o.nsec3 {
		z.chain, err = zonesign.NewNSEC3Chain(origin, types, o.salt, o.iterations, 300)
	} else {
		z.chain, err = zonesign.NewNSECChain(origin, types, 300)
	}
	if err != nil {
		t.Fatal(err)
	}
	z.chain.Faults = o.chain
	return z
}

func (z *testZone) add(rr dns.RR) {
	name := dns.CanonicalName(rr.Header().Name)
	rr.Header().Name = name
	z.data[name] = append(z.data[name], rr)
}

// trusted returns the zone's DNSKEYs as CheckKeys would hand them over.
func (z *testZone) trusted() []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range z.signer.DNSKEYs() {
		out = append(out, rr.(*dns.DNSKEY))
	}
	return out
}

func (z *testZone) rrs(name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.data[dns.CanonicalName(name)] {
		if rr.Header().Rrtype == t {
			out = append(out, dns.Copy(rr))
		}
	}
	return out
}

func (z *testZone) exists(name string) bool {
	for owner := range z.data {
		if dns.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

// respell writes owners equal to canonical as spelling, as a server that
// compresses owners against the question echoes the query's case.
func respell(rrs []dns.RR, canonical, spelling string) []dns.RR {
	for _, rr := range rrs {
		if dns.CanonicalName(rr.Header().Name) == canonical {
			rr.Header().Name = spelling
		}
	}
	return rrs
}

// query answers (qname, qtype) at now and returns the reply after a round
// trip through wire format, as caaprobe would receive it.
func (z *testZone) query(qname string, qtype uint16) *dns.Msg {
	z.t.Helper()
	req := new(dns.Msg)
	req.SetQuestion(qname, qtype)
	req.SetEdns0(1232, true)
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Compress = true
	q := dns.CanonicalName(qname)
	soa := func() []dns.RR { return z.rrs(origin, dns.TypeSOA) }

	switch {
	case !dns.IsSubDomain(origin, q):
		m.Rcode = dns.RcodeRefused
	case len(z.rrs(q, qtype)) > 0:
		m.Answer = respell(z.rrs(q, qtype), q, qname)
	case len(z.rrs(q, dns.TypeCNAME)) > 0:
		m.Answer = respell(z.rrs(q, dns.TypeCNAME), q, qname)
		target := dns.CanonicalName(m.Answer[0].(*dns.CNAME).Target)
		if got := z.rrs(target, qtype); len(got) > 0 {
			m.Answer = append(m.Answer, got...)
		} else {
			m.Ns = append(soa(), z.chain.NoData(target, qtype)...)
		}
	case z.exists(q):
		m.Ns = append(soa(), z.chain.NoData(q, qtype)...)
	default:
		ce := q
		for !z.exists(ce) {
			ce = ce[strings.IndexByte(ce, '.')+1:]
		}
		wild := "*." + ce
		switch {
		case len(z.rrs(wild, qtype)) > 0:
			// Sign under the wildcard owner, then expand to the query
			// name: the RRSIG labels field lets validators undo it.
			set := z.rrs(wild, qtype)
			sigs, err := z.signer.Sign(set, testNow())
			if err != nil {
				z.t.Fatal(err)
			}
			for _, rr := range set {
				rr.Header().Name = qname
				m.Answer = append(m.Answer, rr)
			}
			for _, sig := range sigs {
				sig.Hdr.Name = qname
				m.Answer = append(m.Answer, sig)
			}
			m.Ns = z.chain.Wildcard(q)
		case z.exists(wild):
			m.Ns = append(soa(), z.chain.NoData(q, qtype)...)
		default:
			m.Rcode = dns.RcodeNameError
			m.Ns = append(soa(), z.chain.NXDomain(q)...)
		}
	}
	if err := z.signer.SignMsg(m, testNow()); err != nil {
		z.t.Fatal(err)
	}
	return roundTrip(z.t, m)
}

func roundTrip(t testing.TB, m *dns.Msg) *dns.Msg {
	t.Helper()
	wire, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v\n%s", err, m)
	}
	out := new(dns.Msg)
	if err := out.Unpack(wire); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return out
}

// Reply mutations, for faults a signer cannot make.

func stripRRSIGs(section func(*dns.Msg) *[]dns.RR) func(*dns.Msg) {
	return func(m *dns.Msg) {
		s := section(m)
		*s = slices.DeleteFunc(*s, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeRRSIG })
	}
}

func stripType(t uint16) func(*dns.Msg) {
	return func(m *dns.Msg) {
		m.Ns = slices.DeleteFunc(m.Ns, func(rr dns.RR) bool {
			h := rr.Header()
			if sig, ok := rr.(*dns.RRSIG); ok {
				return sig.TypeCovered == t
			}
			return h.Rrtype == t
		})
	}
}

// dropOwner removes the authority records (and their RRSIGs) at owner.
func dropOwner(owner string) func(*dns.Msg) {
	return func(m *dns.Msg) {
		m.Ns = slices.DeleteFunc(m.Ns, func(rr dns.RR) bool { return dns.CanonicalName(rr.Header().Name) == owner })
	}
}

func editSigs(section func(*dns.Msg) *[]dns.RR, covered uint16, edit func(*dns.RRSIG)) func(*dns.Msg) {
	return func(m *dns.Msg) {
		for _, rr := range *section(m) {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == covered {
				edit(sig)
			}
		}
	}
}

func answer(m *dns.Msg) *[]dns.RR    { return &m.Answer }
func authority(m *dns.Msg) *[]dns.RR { return &m.Ns }
