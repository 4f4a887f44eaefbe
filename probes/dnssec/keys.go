package dnssec

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// CheckKeys judges the DNSKEY RRset one server returned for zone against
// the DS RRset published in the parent (RFC 4035 §5.2), at now.
//
// dnskeys is the answer section of the DNSKEY reply: the DNSKEY records and
// the RRSIGs over them; other records are ignored. The set is secure when a
// DNSKEY matches a usable DS (owner, algorithm, key tag and digest) and that
// key's RRSIG over the whole DNSKEY RRset validates. trusted then holds
// every zone key of the set that is not revoked, for CheckResponse; it is
// nil unless the verdict is secure.
//
// Without a DS the zone is insecure; so it is when every DS uses an
// algorithm or digest type this package does not support, as RFC 4035 §5.2
// tells resolvers. Only the DS records of the set's highest supported
// digest type count, as in Unbound (see usableDS).
func CheckKeys(zone string, ds []*dns.DS, dnskeys []dns.RR, now time.Time) (trusted []*dns.DNSKEY, v Verdict) {
	zone = dns.CanonicalName(zone)
	if len(ds) == 0 {
		return nil, insecure(ReasonNoDS, "no DS for %s in the parent: unsigned delegation", zone)
	}
	anchors := usableDS(zone, ds)
	if len(anchors) == 0 {
		return nil, insecure(ReasonUnsupportedAlg, "DS for %s uses only unsupported algorithms or digests (%s)", zone, dsList(ds))
	}

	var set *rrset
	for _, s := range collect(dnskeys) {
		if s.rrtype == dns.TypeDNSKEY && sameName(s.owner, zone) {
			set = s
			break
		}
	}
	if set == nil {
		return nil, missing(ReasonMissingDNSKEY, "parent has DS %s but the reply has no DNSKEY for %s", dsList(anchors), zone)
	}

	var sep []*dns.DNSKEY
	for _, rr := range set.rrs {
		k, ok := rr.(*dns.DNSKEY)
		if !ok || !usableKey(zone, k) {
			continue
		}
		for _, d := range anchors {
			if dsMatches(d, k) {
				sep = append(sep, k)
				break
			}
		}
	}
	if len(sep) == 0 {
		return nil, bogus(ReasonDSMatchesNoKey, "DS %s of %s matches none of DNSKEY %s", dsList(anchors), zone, rrKeyList(set.rrs))
	}

	v, _ = checkRRset(zone, set, sep, now)
	switch {
	case v.Reason == ReasonNoMatchingKey || v.Reason == ReasonWrongSigner:
		return nil, bogus(ReasonDNSKEYNotByDSKey, "DNSKEY %s: no RRSIG by a key the DS names (%s); %s", zone, keyList(sep), v.Detail)
	case v.Status != StatusSecure:
		return nil, v
	}
	for _, rr := range set.rrs {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.ZONE != 0 && k.Flags&dns.REVOKE == 0 {
			trusted = append(trusted, k)
		}
	}
	return trusted, secure(ReasonDSMatches, "DS %s matches; %s", dsList(anchors), v.Detail)
}

// usableDS keeps the DS records a validator uses: owner the zone, an
// algorithm and digest type it implements, and of those only the ones with
// the highest digest type in the set. That is Unbound's rule
// (validator/val_utils.c, val_favorite_ds_algo: "highest number
// supported"), and it covers RFC 4509 §3 (SHA-1 is ignored when SHA-256 is
// there): a DS set whose SHA-384 record is wrong fails even when its
// SHA-256 record is right.
func usableDS(zone string, ds []*dns.DS) []*dns.DS {
	var best uint8
	for _, d := range ds {
		if d != nil && sameName(d.Hdr.Name, zone) && supportedAlgorithm(d.Algorithm) && supportedDigest(d.DigestType) {
			best = max(best, d.DigestType)
		}
	}
	var out []*dns.DS
	for _, d := range ds {
		if d != nil && best != 0 && d.DigestType == best && sameName(d.Hdr.Name, zone) && supportedAlgorithm(d.Algorithm) {
			out = append(out, d)
		}
	}
	return out
}

// dsMatches is RFC 4035 §5.2: same algorithm and key tag, and the digest of
// the key (owner name and RDATA, by DNSKEY.ToDS) equals the DS digest.
func dsMatches(d *dns.DS, k *dns.DNSKEY) bool {
	if d.Algorithm != k.Algorithm || d.KeyTag != k.KeyTag() {
		return false
	}
	got := k.ToDS(d.DigestType)
	return got != nil && strings.EqualFold(got.Digest, d.Digest)
}

func dsList(ds []*dns.DS) string {
	var s []string
	for _, d := range ds {
		if d != nil {
			s = append(s, fmt.Sprintf("%d/%d/%d", d.KeyTag, d.Algorithm, d.DigestType))
		}
	}
	return strings.Join(s, ", ")
}

func rrKeyList(rrs []dns.RR) string {
	var keys []*dns.DNSKEY
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys = append(keys, k)
		}
	}
	return keyList(keys)
}
