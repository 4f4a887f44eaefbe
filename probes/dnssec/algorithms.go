package dnssec

import "github.com/miekg/dns"

// Algorithms returns the DNSKEY algorithms this package validates: those
// Unbound, the validating resolver of Let's Encrypt, validates. RFC 8624
// §3.1 makes RSASHA1 (5), RSASHA1-NSEC3-SHA1 (7), RSASHA256 (8), RSASHA512
// (10) and ECDSAP256SHA256 (13) MUST-validate, ECDSAP384SHA384 (14),
// ED25519 (15) and ED448 (16) RECOMMENDED; Unbound validates all eight.
// It does not validate RSAMD5 (1, RFC 6725), DSA (3, 6) or the GOST
// algorithm (12), nor does this package: a zone signed only with those is
// insecure, as RFC 4035 §5.2 tells resolvers, rather than bogus.
//
// miekg/dns verifies all but ED448, which is verified here with
// github.com/cloudflare/circl over SignedData (RFC 8080).
func Algorithms() []uint8 {
	return []uint8{dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512,
		dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519, dns.ED448}
}

// DigestTypes returns the DS digest types this package checks: SHA-1 (1),
// SHA-256 (2) and SHA-384 (4), the ones RFC 8624 §3.3 says validators
// MUST (1, 2) or RECOMMENDED (4) support. GOST R 34.11-94 (3) is not.
func DigestTypes() []uint8 {
	return []uint8{dns.SHA1, dns.SHA256, dns.SHA384}
}

func supportedAlgorithm(alg uint8) bool {
	for _, a := range Algorithms() {
		if a == alg {
			return true
		}
	}
	return false
}

func supportedDigest(d uint8) bool {
	for _, t := range DigestTypes() {
		if t == d {
			return true
		}
	}
	return false
}

// usableKey reports whether k may verify RRSIGs for zone: RFC 4034 §2.1.1
// (zone key bit), §2.1.2 (protocol 3), RFC 5011 §2.1 (a revoked key must
// not be used) and an algorithm this package can verify.
func usableKey(zone string, k *dns.DNSKEY) bool {
	return k != nil &&
		k.Flags&dns.ZONE != 0 &&
		k.Flags&dns.REVOKE == 0 &&
		k.Protocol == 3 &&
		supportedAlgorithm(k.Algorithm) &&
		sameName(k.Hdr.Name, zone)
}

// verify checks sig over rrset (owners already canonical) with k.
func verify(sig *dns.RRSIG, k *dns.DNSKEY, rrset []dns.RR) error {
	if sig.Algorithm == dns.ED448 {
		return verifyEd448(sig, k, rrset)
	}
	return sig.Verify(k, rrset)
}
