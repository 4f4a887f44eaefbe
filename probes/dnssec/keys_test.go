package dnssec_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
	"github.com/caaprobe/caaprobe/probes/dnssec"
)

func TestCheckKeys(t *testing.T) {
	t.Parallel()
	ksk, err := zonesign.NewKeyFromSeed(origin, dns.ECDSAP256SHA256, true, []byte("ksk"))
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := zonesign.NewKeyFromSeed(origin, dns.ECDSAP256SHA256, false, []byte("zsk"))
	if err != nil {
		t.Fatal(err)
	}
	csk, err := zonesign.NewKeyFromSeed(origin, dns.ED25519, true, []byte("csk"))
	if err != nil {
		t.Fatal(err)
	}
	split := func(f zonesign.Faults) *zonesign.Signer {
		return &zonesign.Signer{Zone: origin, Keys: []*zonesign.Key{ksk, zsk}, Faults: f}
	}
	// dnskeyReply is the answer section of a DNSKEY query: the RRset as
	// published by published, signed by signer, owners spelled as spelling.
	dnskeyReply := func(t *testing.T, published, signer *zonesign.Signer, spelling string) []dns.RR {
		set := respell(published.DNSKEYs(), origin, spelling)
		sigs, err := signer.Sign(set, testNow())
		if err != nil {
			t.Fatal(err)
		}
		out := append([]dns.RR(nil), set...)
		for _, s := range sigs {
			out = append(out, s)
		}
		m := new(dns.Msg)
		m.SetQuestion(spelling, dns.TypeDNSKEY)
		m.Answer = out
		return roundTrip(t, m).Answer
	}
	withDigest := func(ds []*dns.DS, digest, alg uint8) []*dns.DS {
		for _, d := range ds {
			d.DigestType, d.Algorithm = digest, alg
		}
		return ds
	}

	tests := []struct {
		name      string
		published *zonesign.Signer // publishes the DNSKEY RRset and the DS
		signer    *zonesign.Signer // signs the DNSKEY RRset; nil: published
		ds        func(*zonesign.Signer) []*dns.DS
		spelling  string
		strip     bool
		status    dnssec.Status
		reason    dnssec.Reason
		trusted   int
	}{
		{name: "ksk and zsk", published: split(zonesign.Faults{}), status: dnssec.StatusSecure, reason: dnssec.ReasonDSMatches, trusted: 2},
		{name: "combined key", published: &zonesign.Signer{Zone: origin, Keys: []*zonesign.Key{csk}}, status: dnssec.StatusSecure, reason: dnssec.ReasonDSMatches, trusted: 1},
		{name: "owner in 0x20 case", published: split(zonesign.Faults{}), spelling: "ExAmple.COM.", status: dnssec.StatusSecure, reason: dnssec.ReasonDSMatches, trusted: 2},
		{name: "sha-1 and sha-256 ds", published: split(zonesign.Faults{}),
			ds:     func(s *zonesign.Signer) []*dns.DS { return append(s.DS(dns.SHA1), s.DS(dns.SHA256)...) },
			status: dnssec.StatusSecure, reason: dnssec.ReasonDSMatches, trusted: 2},
		{name: "sha-384 ds", published: split(zonesign.Faults{}),
			ds:     func(s *zonesign.Signer) []*dns.DS { return s.DS(dns.SHA384) },
			status: dnssec.StatusSecure, reason: dnssec.ReasonDSMatches, trusted: 2},
		{name: "ds of a rolled-away key", published: split(zonesign.Faults{WrongDS: true}), status: dnssec.StatusBogus, reason: dnssec.ReasonDSMatchesNoKey},
		{name: "dnskey signed by zsk only", published: split(zonesign.Faults{}),
			signer: &zonesign.Signer{Zone: origin, Keys: []*zonesign.Key{zsk}},
			status: dnssec.StatusBogus, reason: dnssec.ReasonDNSKEYNotByDSKey},
		{name: "expired dnskey signature", published: split(zonesign.Faults{}), signer: split(zonesign.Faults{Expired: true}), status: dnssec.StatusBogus, reason: dnssec.ReasonExpired},
		{name: "corrupt dnskey signature", published: split(zonesign.Faults{}), signer: split(zonesign.Faults{CorruptSignature: true}), status: dnssec.StatusBogus, reason: dnssec.ReasonBadSignature},
		{name: "dnskey rrsig stripped", published: split(zonesign.Faults{}), strip: true, status: dnssec.StatusMissing, reason: dnssec.ReasonMissingRRSIG},
		{name: "no ds", published: split(zonesign.Faults{}), ds: func(*zonesign.Signer) []*dns.DS { return nil }, status: dnssec.StatusInsecure, reason: dnssec.ReasonNoDS},
		{name: "unsupported digest", published: split(zonesign.Faults{}),
			ds: func(s *zonesign.Signer) []*dns.DS {
				return withDigest(s.DS(dns.SHA256), dns.GOST94, dns.ECDSAP256SHA256)
			},
			status: dnssec.StatusInsecure, reason: dnssec.ReasonUnsupportedAlg},
		{name: "unsupported algorithm", published: split(zonesign.Faults{}),
			ds:     func(s *zonesign.Signer) []*dns.DS { return withDigest(s.DS(dns.SHA256), dns.SHA256, dns.RSAMD5) },
			status: dnssec.StatusInsecure, reason: dnssec.ReasonUnsupportedAlg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signer := tc.signer
			if signer == nil {
				signer = tc.published
			}
			spelling := tc.spelling
			if spelling == "" {
				spelling = origin
			}
			ds := tc.published.DS(dns.SHA256)
			if tc.ds != nil {
				ds = tc.ds(tc.published)
			}
			reply := dnskeyReply(t, tc.published, signer, spelling)
			if tc.strip {
				stripped := reply[:0]
				for _, rr := range reply {
					if rr.Header().Rrtype != dns.TypeRRSIG {
						stripped = append(stripped, rr)
					}
				}
				reply = stripped
			}
			trusted, v := dnssec.CheckKeys(spelling, ds, reply, testNow())
			t.Log(v)
			if v.Status != tc.status || v.Reason != tc.reason || len(trusted) != tc.trusted {
				t.Errorf("CheckKeys = %d keys, %v; want %d keys, %s/%s", len(trusted), v, tc.trusted, tc.status, tc.reason)
			}
		})
	}

	t.Run("no dnskey in reply", func(t *testing.T) {
		t.Parallel()
		_, v := dnssec.CheckKeys(origin, split(zonesign.Faults{}).DS(dns.SHA256), nil, testNow())
		if v.Status != dnssec.StatusMissing || v.Reason != dnssec.ReasonMissingDNSKEY {
			t.Errorf("got %v", v)
		}
	})
}

// TestKeysThenResponse is the whole chain as caaprobe runs it: DS from the
// parent, DNSKEY from the server, then the CAA answer.
func TestKeysThenResponse(t *testing.T) {
	t.Parallel()
	z := newTestZone(t, zoneOpts{splitKeys: true, nsec3: true})
	keys, v := dnssec.CheckKeys(origin, z.signer.DS(dns.SHA256), z.query("EXAMPLE.com.", dns.TypeDNSKEY).Answer, testNow())
	if v.Status != dnssec.StatusSecure {
		t.Fatalf("CheckKeys: %v", v)
	}
	for _, qname := range []string{"example.com.", "NoPe.example.com.", "WWW.example.com."} {
		if v := dnssec.CheckResponse(origin, qname, dns.TypeCAA, z.query(qname, dns.TypeCAA), keys, testNow()); v.Status != dnssec.StatusSecure {
			t.Errorf("%s: %v", qname, v)
		}
	}
}
