package dnssec

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
)

// TestNSEC3OptOut judges proofs whose next-closer record has the opt-out
// flag; zonesign does not build opt-out chains, so the records are edited
// and judged without their signatures.
func TestNSEC3OptOut(t *testing.T) {
	t.Parallel()
	names := map[string][]uint16{
		"example.com.":     {dns.TypeSOA, dns.TypeNS},
		"www.example.com.": {dns.TypeA},
	}
	chain, err := zonesign.NewNSEC3Chain("example.com.", names, "", 0, 300)
	if err != nil {
		t.Fatal(err)
	}
	proof := func(optOut bool) nsec3Proof {
		p := nsec3Proof{zone: "example.com."}
		for _, rr := range chain.NXDomain("nope.example.com.") {
			n := rr.(*dns.NSEC3)
			if optOut {
				n.Flags = 1
			}
			u, ok := usableNSEC3("example.com.", n)
			if !ok {
				t.Fatalf("%s not usable", n)
			}
			p.recs = append(p.recs, u)
		}
		return p
	}
	tests := []struct {
		name   string
		optOut bool
		judge  func(nsec3Proof) Verdict
		want   Reason
	}{
		{"nxdomain", false, func(p nsec3Proof) Verdict { return p.nxDomain("nope.example.com.") }, ReasonNXDomainProven},
		{"nxdomain opt-out", true, func(p nsec3Proof) Verdict { return p.nxDomain("nope.example.com.") }, ReasonOptOut},
		{"nodata without match", false, func(p nsec3Proof) Verdict { return p.noData("nope.example.com.", dns.TypeCAA) }, ReasonDenialNoProof},
		{"nodata in opt-out span", true, func(p nsec3Proof) Verdict { return p.noData("nope.example.com.", dns.TypeCAA) }, ReasonOptOut},
	}
	for _, tc := range tests {
		if v := tc.judge(proof(tc.optOut)); v.Reason != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, v, tc.want)
		}
	}
}

// TestDenialAtCut judges proofs at a zone cut, unsigned: the parent's
// record at the cut denies DS and nothing else; the child apex's record
// never denies DS.
func TestDenialAtCut(t *testing.T) {
	t.Parallel()
	parent := map[string][]uint16{
		"example.com.":     {dns.TypeSOA, dns.TypeNS},
		"sub.example.com.": {dns.TypeNS},
	}
	child := map[string][]uint16{"sub.example.com.": {dns.TypeSOA, dns.TypeNS, dns.TypeCAA}}
	nsecOf := func(zone string, names map[string][]uint16) nsecProof {
		c, err := zonesign.NewNSECChain(zone, names, 300)
		if err != nil {
			t.Fatal(err)
		}
		p := nsecProof{zone: "example.com."}
		for _, rr := range c.NoData("sub.example.com.", dns.TypeDS) {
			p.recs = append(p.recs, rr.(*dns.NSEC))
		}
		return p
	}
	nsec3Of := func(zone string, names map[string][]uint16) nsec3Proof {
		c, err := zonesign.NewNSEC3Chain(zone, names, "", 0, 300)
		if err != nil {
			t.Fatal(err)
		}
		p := nsec3Proof{zone: "example.com."}
		for _, rr := range c.NoData("sub.example.com.", dns.TypeDS) {
			if u, ok := usableNSEC3("example.com.", rr.(*dns.NSEC3)); ok {
				p.recs = append(p.recs, u)
			}
		}
		return p
	}
	tests := []struct {
		name string
		got  Verdict
		want Reason
	}{
		{"nsec parent side, DS", nsecOf("example.com.", parent).noData("sub.example.com.", dns.TypeDS), ReasonNoDataProven},
		{"nsec parent side, CAA", nsecOf("example.com.", parent).noData("sub.example.com.", dns.TypeCAA), ReasonDenialNoProof},
		{"nsec child apex, DS", nsecOf("sub.example.com.", child).noData("sub.example.com.", dns.TypeDS), ReasonDenialNoProof},
		{"nsec3 parent side, DS", nsec3Of("example.com.", parent).noData("sub.example.com.", dns.TypeDS), ReasonNoDataProven},
		{"nsec3 parent side, CAA", nsec3Of("example.com.", parent).noData("sub.example.com.", dns.TypeCAA), ReasonDenialNoProof},
	}
	for _, tc := range tests {
		if tc.got.Reason != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, tc.got, tc.want)
		}
	}
}
