package dnssec

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// nsecProof judges denial of existence from NSEC records (RFC 4035 §5.4).
type nsecProof struct {
	zone string
	recs []*dns.NSEC
}

// covers reports whether n proves that name does not exist: name sorts
// strictly between n's owner and next name, the last NSEC wrapping to the
// apex (RFC 4034 §4.1.1).
func (p nsecProof) covers(n *dns.NSEC, name string) bool {
	owner, next := n.Hdr.Name, n.NextDomain
	// An NSEC from the parent side of a cut, or at a DNAME, says nothing
	// about names below it (RFC 6840 §4.1).
	if below(owner, name) && (delegation(n.TypeBitMap, owner, p.zone) || slices.Contains(n.TypeBitMap, dns.TypeDNAME)) {
		return false
	}
	if compareNames(owner, next) < 0 {
		return compareNames(owner, name) < 0 && compareNames(name, next) < 0
	}
	return compareNames(owner, name) < 0 || compareNames(name, next) < 0
}

func (p nsecProof) covering(name string) *dns.NSEC {
	for _, n := range p.recs {
		if p.covers(n, name) {
			return n
		}
	}
	return nil
}

func (p nsecProof) at(name string) *dns.NSEC {
	for _, n := range p.recs {
		if sameName(n.Hdr.Name, name) {
			return n
		}
	}
	return nil
}

// closestEncloser is the longest ancestor of name that the covering NSEC
// shows to exist: the longer common suffix with its owner or its next name.
func (p nsecProof) closestEncloser(name string, n *dns.NSEC) string {
	labels := max(commonLabels(name, n.Hdr.Name), commonLabels(name, n.NextDomain), dns.CountLabel(p.zone))
	return ancestor(name, labels)
}

func (p nsecProof) noData(name string, qtype uint16) Verdict {
	if n := p.at(name); n != nil {
		if v, ok := bitmapProblem("NSEC", n.Hdr.Name, n.TypeBitMap, qtype); !ok {
			return v
		}
		if v, ok := sideProblem("NSEC", n.Hdr.Name, name, p.zone, n.TypeBitMap, qtype); !ok {
			return v
		}
		return secure(ReasonNoDataProven, "NSEC at %s lists no %s or CNAME", n.Hdr.Name, dns.Type(qtype))
	}
	// An empty non-terminal has no NSEC of its own; the NSEC before it
	// leads to a name below it.
	for _, n := range p.recs {
		if p.covers(n, name) && below(name, n.NextDomain) {
			return secure(ReasonNoDataProven, "NSEC %s -> %s: %s is an empty non-terminal", n.Hdr.Name, n.NextDomain, name)
		}
	}
	// RFC 4035 §3.1.3.4: no such name, and the wildcard that would match
	// it lacks the type.
	if c := p.covering(name); c != nil {
		wild := "*." + p.closestEncloser(name, c)
		if w := p.at(wild); w != nil {
			if v, ok := bitmapProblem("NSEC", w.Hdr.Name, w.TypeBitMap, qtype); !ok {
				return v
			}
			return secure(ReasonNoDataProven, "NSEC %s -> %s covers %s; NSEC at %s lists no %s", c.Hdr.Name, c.NextDomain, name, wild, dns.Type(qtype))
		}
	}
	return bogus(ReasonDenialNoProof, "no NSEC at %s (have %s)", name, p.owners())
}

func (p nsecProof) nxDomain(name string) Verdict {
	c := p.covering(name)
	if c == nil {
		if n := p.at(name); n != nil {
			return bogus(ReasonDenialNoProof, "NSEC at %s shows the name exists", n.Hdr.Name)
		}
		return bogus(ReasonDenialNoProof, "no NSEC covers %s (have %s)", name, p.owners())
	}
	ce := p.closestEncloser(name, c)
	wild := "*." + ce
	if w := p.at(wild); w != nil {
		return bogus(ReasonDenialNoProof, "NSEC at %s shows the wildcard exists: %s should have been synthesised from it", w.Hdr.Name, name)
	}
	wc := p.covering(wild)
	if wc == nil {
		return bogus(ReasonDenialNoProof, "NSEC %s -> %s covers %s, but no NSEC covers the wildcard %s", c.Hdr.Name, c.NextDomain, name, wild)
	}
	return secure(ReasonNXDomainProven, "NSEC %s -> %s covers %s; NSEC %s -> %s covers %s", c.Hdr.Name, c.NextDomain, name, wc.Hdr.Name, wc.NextDomain, wild)
}

// wildcardAnswer checks the proof that came with an RRset synthesised from
// a wildcard whose RRSIG has labels labels: an NSEC must show that owner
// itself does not exist and that the closest encloser is the wildcard's
// parent (RFC 4035 §5.3.4).
func (p nsecProof) wildcardAnswer(owner string, labels int) Verdict {
	c := p.covering(owner)
	if c == nil {
		return bogus(ReasonDenialNoProof, "wildcard answer for %s: no NSEC covers it (have %s)", owner, p.owners())
	}
	if ce := p.closestEncloser(owner, c); dns.CountLabel(ce) != labels {
		return bogus(ReasonDenialNoProof, "wildcard answer for %s from *.%s, but NSEC %s -> %s gives closest encloser %s", owner, ancestor(owner, labels), c.Hdr.Name, c.NextDomain, ce)
	}
	return secure(ReasonSigned, "NSEC %s -> %s covers %s", c.Hdr.Name, c.NextDomain, owner)
}

func (p nsecProof) owners() string {
	var s []string
	for _, n := range p.recs {
		s = append(s, n.Hdr.Name+"->"+n.NextDomain)
	}
	return strings.Join(s, ", ")
}

// bitmapProblem is the RFC 4035 §5.4 / RFC 5155 §8.5 test on a record meant
// to deny qtype at its owner: neither qtype nor CNAME may be listed.
func bitmapProblem(kind, owner string, bitmap []uint16, qtype uint16) (Verdict, bool) {
	for _, t := range []uint16{qtype, dns.TypeCNAME} {
		if slices.Contains(bitmap, t) {
			return bogus(ReasonBitmapListsType, "%s at %s lists %s in its type bitmap", kind, owner, dns.Type(t)), false
		}
	}
	return Verdict{}, true
}

// sideProblem checks that a record at name comes from the side of a zone
// cut that owns qtype (RFC 6840 §4.4): at a delegation the parent's record
// denies only DS, and a DS is never denied by the child apex's record.
func sideProblem(kind, owner, name, zone string, bitmap []uint16, qtype uint16) (Verdict, bool) {
	switch {
	case qtype == dns.TypeDS && !sameName(name, zone) && slices.Contains(bitmap, dns.TypeSOA):
		return bogus(ReasonDenialNoProof, "%s %s is the child zone's apex record: only the parent's record denies DS at %s", kind, owner, name), false
	case qtype != dns.TypeDS && delegation(bitmap, name, zone):
		return bogus(ReasonDenialNoProof, "%s %s is the parent side of a delegation (NS, no SOA): it cannot deny %s at %s", kind, owner, dns.Type(qtype), name), false
	}
	return Verdict{}, true
}

// delegation reports a bitmap from the parent side of a zone cut.
func delegation(bitmap []uint16, owner, zone string) bool {
	return !sameName(owner, zone) && slices.Contains(bitmap, dns.TypeNS) && !slices.Contains(bitmap, dns.TypeSOA)
}
