// Go's crypto/rsa refuses keys under 1024 bits unless told otherwise; the
// caaprobe command says so with the same directive (cmd/caaprobe/main.go).
//
//go:debug rsa1024min=0
package dnssec_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/probes/dnssec"
)

// TestSmallRSAKey: a zone still signed with a 768-bit RSA key validates,
// as in Unbound (OpenSSL verifies it), instead of being called bogus.
func TestSmallRSAKey(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 768)
	if err != nil {
		t.Fatal(err)
	}
	exp := big.NewInt(int64(priv.E)).Bytes()
	pub := append(append([]byte{byte(len(exp))}, exp...), priv.N.Bytes()...)
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.RSASHA256, PublicKey: base64.StdEncoding.EncodeToString(pub)}
	caa, err := dns.NewRR(`example.com. 300 IN CAA 0 issue "ca.example.net"`)
	if err != nil {
		t.Fatal(err)
	}
	now := testNow()
	sig := &dns.RRSIG{Algorithm: dns.RSASHA256, SignerName: origin, KeyTag: key.KeyTag(),
		Inception: uint32(now.Unix() - 3600), Expiration: uint32(now.Unix() + 3600)}
	if err := sig.Sign(priv, []dns.RR{caa}); err != nil {
		t.Fatal(err)
	}
	m := &dns.Msg{Answer: []dns.RR{caa, sig}}
	if v := dnssec.CheckResponse(origin, origin, dns.TypeCAA, m, []*dns.DNSKEY{key}, now); v.Status != dnssec.StatusSecure {
		t.Errorf("768-bit RSA: %v, want secure", v)
	}
}
