package canonical_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/probes/dnssec/canonical"
)

// TestSignedDataIsWhatMiekgSigns: miekg/dns signs Ed25519 over the raw
// signed data, so its signature verifies over canonical.SignedData only
// if both constructions agree octet for octet. The RRsets exercise every
// rule: owners and RDATA names in mixed case, records out of order, a
// duplicate, a TTL other than the original, a wildcard expansion, and an
// NSEC whose next name keeps its case (RFC 6840 §5.1).
func TestSignedDataIsWhatMiekgSigns(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ED25519, PublicKey: base64.StdEncoding.EncodeToString(pub)}
	sets := map[string][]string{
		"mx": {"WWW.Example.COM. 60 IN MX 20 Mail2.EXAMPLE.com.", "WWW.Example.COM. 60 IN MX 10 Mail.Example.COM.",
			"WWW.Example.COM. 60 IN MX 10 mail.example.com."},
		"soa":      {"example.com. 300 IN SOA NS.Example.com. HostMaster.EXAMPLE.com. 1 2 3 4 5"},
		"srv":      {"_x._tcp.example.com. 300 IN SRV 0 0 443 Target.EXAMPLE.com."},
		"caa":      {`example.com. 300 IN CAA 0 issue "ca.example.net"`, `example.com. 300 IN CAA 0 iodef "mailto:A@B.example"`},
		"nsec":     {"a.example.com. 300 IN NSEC B.Example.com. A RRSIG NSEC"},
		"wildcard": {`x.y.wild.example.com. 300 IN CAA 0 issue "wild.example.net"`},
	}
	for name, lines := range sets {
		var rrset []dns.RR
		for _, l := range lines {
			rr, err := dns.NewRR(l)
			if err != nil {
				t.Fatal(err)
			}
			rrset = append(rrset, rr)
		}
		// miekg's Sign insists on identical owners; signing a wildcard
		// expansion means signing the wildcard's RRset.
		signed := make([]dns.RR, len(rrset))
		for i, rr := range rrset {
			signed[i] = dns.Copy(rr)
			signed[i].Header().Name = dns.CanonicalName(rr.Header().Name)
			if name == "wildcard" {
				signed[i].Header().Name = "*.wild.example.com."
			}
		}
		sig := &dns.RRSIG{Algorithm: dns.ED25519, SignerName: "Example.COM.", KeyTag: key.KeyTag(),
			Inception: 1, Expiration: 2, OrigTtl: 3600}
		if err := sig.Sign(priv, signed); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, _ := base64.StdEncoding.DecodeString(sig.Signature)
		data, err := canonical.SignedData(sig, rrset)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !ed25519.Verify(pub, data, raw) {
			t.Errorf("%s: miekg/dns's signature does not verify over SignedData", name)
		}
		// Sanity: the data depends on what it must.
		sig.OrigTtl++
		if other, _ := canonical.SignedData(sig, rrset); ed25519.Verify(pub, other, raw) {
			t.Errorf("%s: the signature verifies with another original TTL", name)
		}
	}
}
