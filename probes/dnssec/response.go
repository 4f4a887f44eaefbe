package dnssec

import (
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxCNAMEHops bounds how far an in-zone CNAME chain is followed, so a loop
// in a reply cannot keep the judge busy.
const maxCNAMEHops = 8

// CheckResponse judges reply m from one server of zone to the query
// (qname, qtype), as a validating resolver holding keys (the trusted DNSKEYs
// from CheckKeys) would at now.
//
// qname may be spelled in any case; the reply's owners may echo that
// spelling. Both are compared and verified in canonical form (RFC 4034
// §6.2, RFC 4035 §5.3.1), so a server whose signatures only hold for the
// lowercase spelling is reported bogus for the others.
//
// A positive answer is followed through in-zone CNAMEs; every RRset on the
// way must carry a valid RRSIG by the zone, and an RRset synthesised from a
// wildcard must come with NSEC/NSEC3 proof that no closer name exists. A
// NODATA or NXDOMAIN reply must prove the denial with NSEC (RFC 4035 §5.4)
// or NSEC3 (RFC 5155 §8). Every in-zone SOA, NSEC and NSEC3 RRset in the
// authority section must validate, and so must any other in-zone RRset
// there that carries RRSIGs. The first problem found is reported.
func CheckResponse(zone string, qname string, qtype uint16, m *dns.Msg, keys []*dns.DNSKEY, now time.Time) Verdict {
	zone, qname = dns.CanonicalName(zone), dns.CanonicalName(qname)
	if len(keys) == 0 {
		return insecure(ReasonNoKeys, "no trusted DNSKEY for %s", zone)
	}
	var usable []*dns.DNSKEY
	for _, k := range keys {
		if usableKey(zone, k) {
			usable = append(usable, k)
		}
	}
	if len(usable) == 0 {
		return insecure(ReasonUnsupportedAlg, "none of the DNSKEYs of %s (%s) is a zone key with a supported algorithm", zone, keyList(keys))
	}
	if !inZone(zone, qname) {
		return insecure(ReasonOutsideZone, "%s is not in zone %s", qname, zone)
	}
	switch {
	case m == nil:
		return insecure(ReasonUnvalidated, "no reply")
	case m.Truncated:
		return insecure(ReasonUnvalidated, "reply truncated (TC): validate the TCP reply")
	case m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError:
		return insecure(ReasonUnvalidated, "RCODE %s carries no data to validate", dns.RcodeToString[m.Rcode])
	}
	r := reply{zone: zone, keys: usable, now: now, answer: collect(m.Answer), auth: collect(m.Ns)}
	return r.check(qname, qtype, m.Rcode)
}

// reply holds one message being judged.
type reply struct {
	zone   string
	keys   []*dns.DNSKEY
	now    time.Time
	answer []*rrset
	auth   []*rrset
}

// wildcardUse records an RRset that was synthesised from a wildcard.
type wildcardUse struct {
	owner  string
	labels int
}

func (r reply) check(qname string, qtype uint16, rcode int) Verdict {
	sname := qname
	var (
		wild  []wildcardUse
		notes []string
		// answered is the verdict on the last RRset of the answer chain;
		// open says sname still needs an answer or a denial.
		answered Verdict
		open     = true
	)
	verify := func(set *rrset) (Verdict, bool) {
		v, sig := checkRRset(r.zone, set, r.keys, r.now)
		if v.Status != StatusSecure {
			return v, false
		}
		if expanded(set.owner, sig) {
			wild = append(wild, wildcardUse{owner: set.owner, labels: int(sig.Labels)})
		}
		answered = v
		return v, true
	}
chain:
	for hop := 0; ; hop++ {
		if set := find(r.answer, sname, qtype); set != nil {
			if v, ok := verify(set); !ok {
				return v
			}
			open = false
			break
		}
		if qtype == dns.TypeCNAME {
			break
		}
		// The CNAME a DNAME synthesises is unsigned by design (RFC 6672
		// §5.3.1): the signed DNAME answers for it.
		for _, set := range r.answer {
			if set.rrtype == dns.TypeDNAME && below(set.owner, sname) && inZone(r.zone, set.owner) {
				if v, ok := verify(set); !ok {
					return v
				}
				notes = append(notes, "DNAME at "+set.owner+": target not checked")
				open = false
				break chain
			}
		}
		if set := find(r.answer, sname, dns.TypeCNAME); set != nil {
			if v, ok := verify(set); !ok {
				return v
			}
			cname, isCNAME := set.rrs[0].(*dns.CNAME)
			switch {
			case !isCNAME:
				open = false
			case !inZone(r.zone, cname.Target):
				notes = append(notes, "CNAME target "+dns.CanonicalName(cname.Target)+" is outside the zone, not checked")
				open = false
			case hop == maxCNAMEHops:
				notes = append(notes, "CNAME chain longer than the judge follows")
				open = false
			default:
				sname = dns.CanonicalName(cname.Target)
				continue
			}
			break
		}
		break
	}

	if v, ok := r.checkAuthority(); !ok {
		return v
	}
	d := newDenial(r.zone, r.auth)
	for _, w := range wild {
		if v := d.wildcardAnswer(w.owner, w.labels); v.Status != StatusSecure {
			return v
		}
		notes = append(notes, "synthesised from wildcard *."+ancestor(w.owner, w.labels))
	}
	if !open {
		answered.Detail = join(answered.Detail, notes)
		return answered
	}

	// The parent answers for the DS at a cut; that is no referral.
	if cut := r.referral(sname); cut != "" && !(qtype == dns.TypeDS && sameName(cut, sname)) {
		return insecure(ReasonReferral, "referral to %s for %s: delegation not judged here", cut, sname)
	}
	var v Verdict
	if rcode == dns.RcodeNameError {
		v = d.nxDomain(sname)
	} else {
		v = d.noData(sname, qtype)
	}
	v.Detail = join(v.Detail, notes)
	return v
}

// checkAuthority validates the in-zone authority RRsets a resolver relies
// on: SOA, NSEC and NSEC3 always, others when they carry RRSIGs (an
// unsigned NS RRset at a zone cut is legitimate).
func (r reply) checkAuthority() (Verdict, bool) {
	for _, set := range r.auth {
		if !inZone(r.zone, set.owner) {
			continue
		}
		switch set.rrtype {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
		default:
			if len(set.sigs) == 0 {
				continue
			}
		}
		if v, _ := checkRRset(r.zone, set, r.keys, r.now); v.Status != StatusSecure {
			return v, false
		}
	}
	return Verdict{}, true
}

// referral returns the zone cut the authority section delegates name to, if
// any: an NS RRset below the apex at or above name.
func (r reply) referral(name string) string {
	for _, set := range r.auth {
		if set.rrtype == dns.TypeNS && below(r.zone, set.owner) && inZone(set.owner, name) {
			return set.owner
		}
	}
	return ""
}

// expanded reports whether sig says its RRset was synthesised from a
// wildcard (RFC 4035 §5.3.4): fewer labels than the owner has, not counting
// the "*" of an owner that is the wildcard itself.
func expanded(owner string, sig *dns.RRSIG) bool {
	n := dns.CountLabel(owner)
	if isWildcard(owner) {
		n--
	}
	return int(sig.Labels) < n
}

func join(detail string, notes []string) string {
	if len(notes) == 0 {
		return detail
	}
	return detail + "; " + strings.Join(notes, "; ")
}
