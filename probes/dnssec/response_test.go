package dnssec_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
	"github.com/caaprobe/caaprobe/probes/dnssec"
)

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	const (
		secure   = dnssec.StatusSecure
		bogus    = dnssec.StatusBogus
		missing  = dnssec.StatusMissing
		insecure = dnssec.StatusInsecure
	)
	ed := zoneOpts{alg: dns.ED25519}
	nsec3 := zoneOpts{nsec3: true}
	tests := []struct {
		name   string
		zone   zoneOpts
		qname  string
		qtype  uint16
		mutate func(*dns.Msg)
		status dnssec.Status
		reason dnssec.Reason
	}{
		// Positive answers.
		{"p256 lowercase", zoneOpts{}, "example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"ed25519 lowercase", ed, "example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"p384 lowercase", zoneOpts{alg: dns.ECDSAP384SHA384}, "example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"ksk and zsk", zoneOpts{splitKeys: true}, "example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"p256 owner echoed in 0x20 case", zoneOpts{}, "ExAmPlE.CoM.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"ed25519 owner echoed in 0x20 case", ed, "eXaMpLe.cOm.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"owner echoed in uppercase", zoneOpts{}, "EXAMPLE.COM.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"cname then a", zoneOpts{}, "AlIaS.example.com.", dns.TypeA, nil, secure, dnssec.ReasonSigned},
		{"cname then nodata", zoneOpts{}, "alias.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"wildcard answer nsec", zoneOpts{}, "x.WILD.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"wildcard answer nsec3", nsec3, "a.b.wild.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},

		// Signed over the query's spelling: only lowercase survives.
		{"owner as spelled, lowercase", zoneOpts{faults: zonesign.Faults{OwnerAsSpelled: true}}, "example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonSigned},
		{"owner as spelled, 0x20", zoneOpts{faults: zonesign.Faults{OwnerAsSpelled: true}}, "ExAmPlE.CoM.", dns.TypeCAA, nil, bogus, dnssec.ReasonBadSignature},
		{"owner as spelled, uppercase", zoneOpts{faults: zonesign.Faults{OwnerAsSpelled: true}}, "EXAMPLE.COM.", dns.TypeCAA, nil, bogus, dnssec.ReasonBadSignature},
		{"owner as spelled ed25519, 0x20", zoneOpts{alg: dns.ED25519, faults: zonesign.Faults{OwnerAsSpelled: true}}, "exAMPle.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonBadSignature},

		// Signature faults.
		{"expired", zoneOpts{faults: zonesign.Faults{Expired: true}}, "example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonExpired},
		{"not yet valid", zoneOpts{faults: zonesign.Faults{NotYetValid: true}}, "example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonNotYetValid},
		{"corrupt signature", zoneOpts{faults: zonesign.Faults{CorruptSignature: true}}, "example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonBadSignature},
		{"expired nodata", zoneOpts{faults: zonesign.Faults{Expired: true}}, "www.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonExpired},
		{"rrsig stripped", zoneOpts{}, "example.com.", dns.TypeCAA, stripRRSIGs(answer), missing, dnssec.ReasonMissingRRSIG},
		{"rrsig stripped from nsec", zoneOpts{}, "www.example.com.", dns.TypeCAA, stripRRSIGs(authority), missing, dnssec.ReasonMissingRRSIG},
		{"signer is the parent", zoneOpts{}, "example.com.", dns.TypeCAA,
			editSigs(answer, dns.TypeCAA, func(s *dns.RRSIG) { s.SignerName = "com." }), bogus, dnssec.ReasonWrongSigner},
		{"labels above owner's", zoneOpts{}, "example.com.", dns.TypeCAA,
			editSigs(answer, dns.TypeCAA, func(s *dns.RRSIG) { s.Labels = 3 }), bogus, dnssec.ReasonWildcardLabels},
		{"labels below owner's without proof", zoneOpts{}, "example.com.", dns.TypeCAA,
			editSigs(answer, dns.TypeCAA, func(s *dns.RRSIG) { s.Labels = 1 }), bogus, dnssec.ReasonBadSignature},
		{"unknown key tag", zoneOpts{}, "example.com.", dns.TypeCAA,
			editSigs(answer, dns.TypeCAA, func(s *dns.RRSIG) { s.KeyTag++ }), bogus, dnssec.ReasonNoMatchingKey},
		{"bad soa signature in nodata", zoneOpts{}, "www.example.com.", dns.TypeCAA,
			editSigs(authority, dns.TypeSOA, func(s *dns.RRSIG) { s.OrigTtl++ }), bogus, dnssec.ReasonBadSignature},
		{"wildcard proof stripped", zoneOpts{}, "x.wild.example.com.", dns.TypeCAA, stripType(dns.TypeNSEC), missing, dnssec.ReasonMissingDenial},
		{"wildcard proof nsec3 covers nothing", zoneOpts{nsec3: true, chain: zonesign.ChainFaults{CoverNothing: true}}, "x.wild.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},

		// NSEC denial.
		{"nsec nodata", zoneOpts{}, "www.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec nodata 0x20", zoneOpts{}, "wWw.ExamPLE.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec nodata ed25519", ed, "WWW.EXAMPLE.COM.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec nodata empty non-terminal", zoneOpts{}, "Deep.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec nodata wildcard", zoneOpts{}, "x.wild.example.com.", dns.TypeA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec nodata bitmap lists caa", zoneOpts{chain: zonesign.ChainFaults{ListQueriedType: true}}, "www.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonBitmapListsType},
		{"nsec nodata from predecessor", zoneOpts{chain: zonesign.ChainFaults{NoDataFromPredecessor: true}}, "www.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec nodata stripped", zoneOpts{}, "www.example.com.", dns.TypeCAA, stripType(dns.TypeNSEC), missing, dnssec.ReasonMissingDenial},
		{"nsec nxdomain", zoneOpts{}, "nope.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec nxdomain 0x20", zoneOpts{}, "NoPe.ExAmPlE.cOm.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec nxdomain deep", zoneOpts{}, "a.b.deep.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec nxdomain covers nothing", zoneOpts{chain: zonesign.ChainFaults{CoverNothing: true}}, "nope.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec nxdomain without wildcard proof", zoneOpts{}, "nope.example.com.", dns.TypeCAA, dropOwner("example.com."), bogus, dnssec.ReasonDenialNoProof},
		{"nsec nxdomain stripped", zoneOpts{}, "nope.example.com.", dns.TypeCAA, stripType(dns.TypeNSEC), missing, dnssec.ReasonMissingDenial},

		// NSEC3 denial.
		{"nsec3 nodata", nsec3, "www.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 nodata 0x20", nsec3, "WwW.eXaMpLe.CoM.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 nodata empty non-terminal", nsec3, "deep.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 nodata wildcard", nsec3, "x.wild.example.com.", dns.TypeA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 nodata salted", zoneOpts{nsec3: true, salt: "aabbccdd", iterations: 5}, "www.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 nodata bitmap lists caa", zoneOpts{nsec3: true, chain: zonesign.ChainFaults{ListQueriedType: true}}, "www.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonBitmapListsType},
		{"nsec3 nodata from predecessor", zoneOpts{nsec3: true, chain: zonesign.ChainFaults{NoDataFromPredecessor: true}}, "www.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec3 nxdomain", nsec3, "nope.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec3 nxdomain 0x20", nsec3, "nOpE.EXAMPLE.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec3 nxdomain deep", nsec3, "a.b.deep.example.com.", dns.TypeCAA, nil, secure, dnssec.ReasonNXDomainProven},
		{"nsec3 nxdomain covers nothing", zoneOpts{nsec3: true, chain: zonesign.ChainFaults{CoverNothing: true}}, "nope.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec3 nxdomain ed25519 covers nothing", zoneOpts{alg: dns.ED25519, nsec3: true, chain: zonesign.ChainFaults{CoverNothing: true}}, "NOPE.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec3 nxdomain stripped", nsec3, "nope.example.com.", dns.TypeCAA, stripType(dns.TypeNSEC3), missing, dnssec.ReasonMissingDenial},
		{"nsec3 too many iterations", zoneOpts{nsec3: true, iterations: 200}, "nope.example.com.", dns.TypeCAA, nil, insecure, dnssec.ReasonNSEC3Iterations},

		// At and below a zone cut: the parent's NSEC/NSEC3 denies only DS.
		{"nsec ds at delegation", zoneOpts{}, "Sub.example.com.", dns.TypeDS, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec3 ds at delegation", nsec3, "sub.example.com.", dns.TypeDS, nil, secure, dnssec.ReasonNoDataProven},
		{"nsec caa nodata at delegation", zoneOpts{}, "sub.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec nxdomain below delegation", zoneOpts{}, "x.sub.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},
		{"nsec3 nxdomain below delegation", nsec3, "x.sub.example.com.", dns.TypeCAA, nil, bogus, dnssec.ReasonDenialNoProof},

		// Nothing to validate.
		{"refused", zoneOpts{}, "example.com.", dns.TypeCAA, func(m *dns.Msg) { m.Rcode = dns.RcodeRefused; m.Answer = nil }, insecure, dnssec.ReasonUnvalidated},
		{"truncated", zoneOpts{}, "example.com.", dns.TypeCAA, func(m *dns.Msg) { m.Truncated = true }, insecure, dnssec.ReasonUnvalidated},
		{"outside the zone", zoneOpts{}, "example.net.", dns.TypeCAA, nil, insecure, dnssec.ReasonOutsideZone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := newTestZone(t, tc.zone)
			m := z.query(tc.qname, tc.qtype)
			if tc.mutate != nil {
				tc.mutate(m)
			}
			v := dnssec.CheckResponse(origin, tc.qname, tc.qtype, m, z.trusted(), testNow())
			t.Log(v)
			if v.Status != tc.status || v.Reason != tc.reason {
				t.Errorf("CheckResponse(%s %s) = %v, want %s/%s\n%s", tc.qname, dns.Type(tc.qtype), v, tc.status, tc.reason, m)
			}
			if v.Detail == "" || len(v.Detail) > 400 {
				t.Errorf("detail %q: want one informative line", v.Detail)
			}
		})
	}
}

// TestCheckResponseSpellings is the property caaprobe exists for: a
// correct server is secure under every spelling, and a server that signs
// over the query's spelling is bogus for every spelling but lowercase.
func TestCheckResponseSpellings(t *testing.T) {
	t.Parallel()
	spellings := []string{"example.com.", "EXAMPLE.COM.", "ExAmPlE.cOm.", "eXAMPLE.com."}
	for _, faulty := range []bool{false, true} {
		z := newTestZone(t, zoneOpts{faults: zonesign.Faults{OwnerAsSpelled: faulty}})
		for _, qname := range spellings {
			v := dnssec.CheckResponse(origin, qname, dns.TypeCAA, z.query(qname, dns.TypeCAA), z.trusted(), testNow())
			want := dnssec.StatusSecure
			if faulty && qname != dns.CanonicalName(qname) {
				want = dnssec.StatusBogus
			}
			if v.Status != want {
				t.Errorf("OwnerAsSpelled=%v %s: %v, want %s", faulty, qname, v, want)
			}
		}
	}
}

func TestCheckResponseKeys(t *testing.T) {
	t.Parallel()
	z := newTestZone(t, zoneOpts{})
	m := z.query("example.com.", dns.TypeCAA)
	other := newTestZone(t, zoneOpts{alg: dns.ED25519})
	unsupported := &dns.DNSKEY{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: 257, Protocol: 3, Algorithm: dns.RSAMD5, PublicKey: "AwEAAQ=="}
	tests := []struct {
		name   string
		keys   []*dns.DNSKEY
		status dnssec.Status
		reason dnssec.Reason
	}{
		{"no keys", nil, dnssec.StatusInsecure, dnssec.ReasonNoKeys},
		{"only unsupported algorithms", []*dns.DNSKEY{unsupported}, dnssec.StatusInsecure, dnssec.ReasonUnsupportedAlg},
		{"another zone's keys", other.trusted(), dnssec.StatusBogus, dnssec.ReasonNoMatchingKey},
		{"the zone's keys", z.trusted(), dnssec.StatusSecure, dnssec.ReasonSigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := dnssec.CheckResponse(origin, "example.com.", dns.TypeCAA, m, tc.keys, testNow())
			if v.Status != tc.status || v.Reason != tc.reason {
				t.Errorf("got %v, want %s/%s", v, tc.status, tc.reason)
			}
		})
	}
}

// TestVerifyLowercasesOwner pins the miekg/dns behaviour the judge relies
// on: RRSIG.Verify builds the signed data from lowercased owners (its
// rawSignatureData applies dns.CanonicalName), so an RRset echoed in the
// query's case verifies against a signature made over lowercase.
func TestVerifyLowercasesOwner(t *testing.T) {
	t.Parallel()
	z := newTestZone(t, zoneOpts{})
	set := z.rrs(origin, dns.TypeCAA)
	sigs, err := z.signer.Sign(set, testNow())
	if err != nil {
		t.Fatal(err)
	}
	respell(set, origin, "ExAmPlE.CoM.")
	if err := sigs[0].Verify(z.trusted()[0], set); err != nil {
		t.Fatalf("RRSIG.Verify on a mixed-case owner: %v", err)
	}
}

// TestCheckResponseCrafted judges replies the test zone does not produce,
// signed with its keys.
func TestCheckResponseCrafted(t *testing.T) {
	t.Parallel()
	z := newTestZone(t, zoneOpts{alg: dns.ED25519})
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		qname  string
		answer []dns.RR
		ns     []dns.RR
		status dnssec.Status
		reason dnssec.Reason
		after  []dns.RR // added to the answer unsigned
	}{
		{"cname loop", "loop.example.com.", []dns.RR{rr("loop.example.com. 60 IN CNAME LOOP.example.com.")}, nil,
			dnssec.StatusSecure, dnssec.ReasonSigned, nil},
		{"cname out of zone", "out.example.com.", []dns.RR{rr("out.example.com. 60 IN CNAME ca.example.net."), rr(`ca.example.net. 60 IN CAA 0 issue "x"`)}, nil,
			dnssec.StatusSecure, dnssec.ReasonSigned, nil},
		{"dname", "a.old.example.com.", []dns.RR{rr("old.example.com. 60 IN DNAME new.example.net.")}, nil,
			dnssec.StatusSecure, dnssec.ReasonSigned, []dns.RR{rr("a.old.example.com. 60 IN CNAME a.new.example.net.")}},
		{"referral", "x.sub.example.com.", nil, []dns.RR{rr("sub.example.com. 60 IN NS ns.sub.example.com.")},
			dnssec.StatusInsecure, dnssec.ReasonReferral, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := new(dns.Msg)
			m.SetQuestion(tc.qname, dns.TypeCAA)
			m.Response, m.Answer, m.Ns = true, tc.answer, tc.ns
			if err := z.signer.SignMsg(m, testNow()); err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, tc.after...)
			v := dnssec.CheckResponse(origin, tc.qname, dns.TypeCAA, roundTrip(t, m), z.trusted(), testNow())
			t.Log(v)
			if v.Status != tc.status || v.Reason != tc.reason {
				t.Errorf("got %v, want %s/%s", v, tc.status, tc.reason)
			}
		})
	}
}
