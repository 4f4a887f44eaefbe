package dnssec

import "github.com/miekg/dns"

// Algorithms returns the DNSKEY algorithms this package validates, the ones
// RFC 8624 says validators MUST support and that signed zones use today.
// A zone signed only with other algorithms is treated as insecure, as
// RFC 4035 §5.2 tells resolvers to do, rather than bogus.
func Algorithms() []uint8 {
	return []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519}
}

// DigestTypes returns the DS digest types this package checks.
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
