// Package dnssec judges the DNSSEC of replies caaprobe got from one
// authoritative server: is the zone's DNSKEY RRset anchored by the parent's
// DS set, and does a reply to (qname, qtype) validate with those keys.
//
// A public CA's validating resolver randomises the case of the names it asks
// for (DNS 0x20) and treats a reply it cannot validate as SERVFAIL, which
// forbids issuance. Servers that sign on the fly sometimes sign correctly for
// example.com. yet send a bad signature or a broken denial of existence for
// ExAmPlE.CoM. This package lets caaprobe judge every server and every
// spelling apart, so such a server can be named with evidence.
//
// Everything here is a pure function of messages already received and a
// clock value: no I/O, no caching, safe for concurrent use. Verification
// works on canonical (lowercase) names, as RFC 4034 §6.2 and RFC 4035 §5.3.1
// require of validators, and relies on miekg/dns for the cryptography.
package dnssec
