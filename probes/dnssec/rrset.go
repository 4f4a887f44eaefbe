package dnssec

import (
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// rrset is one RRset of a message section with the RRSIGs that cover it.
// owner is canonical; the records keep the spelling they arrived with.
type rrset struct {
	owner  string
	rrtype uint16
	class  uint16
	rrs    []dns.RR
	sigs   []*dns.RRSIG
}

func (s *rrset) String() string {
	return dns.Type(s.rrtype).String() + " " + s.owner
}

// collect groups a section into RRsets. Owners are matched case-insensitively
// because a server may echo the query's spelling in some owners and not in
// others; to a validator they are one name (RFC 4034 §6.2).
func collect(section []dns.RR) []*rrset {
	var sets []*rrset
	for _, rr := range section {
		if rr == nil {
			continue
		}
		h := rr.Header()
		if h.Rrtype == dns.TypeRRSIG || h.Rrtype == dns.TypeOPT {
			continue
		}
		owner := dns.CanonicalName(h.Name)
		set := find(sets, owner, h.Rrtype)
		if set == nil || set.class != h.Class {
			set = &rrset{owner: owner, rrtype: h.Rrtype, class: h.Class}
			sets = append(sets, set)
		}
		set.rrs = append(set.rrs, rr)
	}
	for _, rr := range section {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || sig == nil {
			continue
		}
		if set := find(sets, dns.CanonicalName(sig.Hdr.Name), sig.TypeCovered); set != nil && set.class == sig.Hdr.Class {
			set.sigs = append(set.sigs, sig)
		}
	}
	return sets
}

// find compares canonical text rather than wire labels: names unpacked from
// a message always spell one name one way once lowercased, and a fuzzed
// message with thousands of records must not cost a pack per comparison.
func find(sets []*rrset, owner string, rrtype uint16) *rrset {
	owner = dns.CanonicalName(owner)
	for _, s := range sets {
		if s.rrtype == rrtype && s.owner == owner {
			return s
		}
	}
	return nil
}

// canonicalCopy returns the records with their owner lowercased.
// RRSIG.Verify lowercases owners while building the signed data, but first
// insists (dns.IsRRset) that all owners are byte-identical, which a reply
// with mixed spellings breaks; copying keeps the message untouched.
func (s *rrset) canonicalCopy() []dns.RR {
	out := make([]dns.RR, len(s.rrs))
	for i, rr := range s.rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = s.owner
	}
	return out
}

// maxSigsPerRRset bounds the RRSIGs tried per RRset, as validators do
// since the KeyTrap attacks (CVE-2023-50387): each costs a serialisation of
// the RRset and a signature check. Honest servers send one per key.
const maxSigsPerRRset = 8

// Problems found in one RRSIG, least specific first: when no RRSIG of an
// RRset validates, the report names the most specific problem.
const (
	rankWrongSigner = iota
	rankNoKey
	rankLabels
	rankTime
	rankBadSig
	rankValid
)

// checkRRset validates set with keys at now. It returns the RRSIG that
// validated, whose Labels field tells a wildcard expansion apart.
func checkRRset(zone string, set *rrset, keys []*dns.DNSKEY, now time.Time) (Verdict, *dns.RRSIG) {
	if len(set.sigs) == 0 {
		return missing(ReasonMissingRRSIG, "%s: no RRSIG", set), nil
	}
	canonical := set.canonicalCopy()
	var worst Verdict
	worstRank := -1
	for i, sig := range set.sigs {
		if i == maxSigsPerRRset {
			break
		}
		v, rank := checkSig(zone, set, canonical, sig, keys, now)
		if rank == rankValid {
			return v, sig
		}
		if rank > worstRank {
			worst, worstRank = v, rank
		}
	}
	return worst, nil
}

func checkSig(zone string, set *rrset, canonical []dns.RR, sig *dns.RRSIG, keys []*dns.DNSKEY, now time.Time) (Verdict, int) {
	what := fmt.Sprintf("%s: RRSIG key %d alg %d", set, sig.KeyTag, sig.Algorithm)
	if !sameName(sig.SignerName, zone) {
		return bogus(ReasonWrongSigner, "%s signer %s, zone is %s", what, sig.SignerName, zone), rankWrongSigner
	}
	// RFC 4035 §5.3.1: the labels field may not exceed the owner's label
	// count; RRSIG.Verify would only say "bad rrset".
	if owner := dns.CountLabel(set.owner); int(sig.Labels) > owner {
		return bogus(ReasonWildcardLabels, "%s labels %d > %d labels in owner", what, sig.Labels, owner), rankLabels
	}
	var candidates []*dns.DNSKEY
	for _, k := range keys {
		if k.Algorithm == sig.Algorithm && k.KeyTag() == sig.KeyTag {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return bogus(ReasonNoMatchingKey, "%s: no trusted key with that tag and algorithm (have %s)", what, keyList(keys)), rankNoKey
	}
	if !sig.ValidityPeriod(now) {
		period := fmt.Sprintf("inception %s expiration %s, now %s",
			serialTime(sig.Inception, now), serialTime(sig.Expiration, now), now.UTC().Format(time.RFC3339))
		// RFC 1982 serial arithmetic, as ValidityPeriod uses, to tell which bound failed.
		if int32(sig.Inception-uint32(now.Unix())) > 0 {
			return bogus(ReasonNotYetValid, "%s not yet valid: %s", what, period), rankTime
		}
		return bogus(ReasonExpired, "%s expired: %s", what, period), rankTime
	}
	var err error
	for _, k := range candidates {
		if err = verify(sig, k, canonical); err == nil {
			return secure(ReasonSigned, "%s valid until %s", what, serialTime(sig.Expiration, now)), rankValid
		}
	}
	// The owner as sent is the evidence for servers that sign over the
	// query's spelling: the signature then fails only for some spellings.
	sent := ""
	if spelled := set.rrs[0].Header().Name; spelled != set.owner {
		sent = " (owner sent as " + spelled + ")"
	}
	return bogus(ReasonBadSignature, "%s does not verify over %d RR(s)%s: %v", what, len(canonical), sent, err), rankBadSig
}

// serialTime turns an RRSIG time (seconds mod 2^32) into the instant
// nearest to now, the way RFC 4034 §3.1.5 means it to be read.
func serialTime(t uint32, now time.Time) string {
	delta := int64(int32(t - uint32(now.Unix())))
	return time.Unix(now.Unix()+delta, 0).UTC().Format(time.RFC3339)
}

func keyList(keys []*dns.DNSKEY) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d/%d", k.KeyTag(), k.Algorithm)
	}
	if s == "" {
		return "none"
	}
	return s
}
