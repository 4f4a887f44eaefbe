package dnssec

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// maxNSEC3Iterations is the highest NSEC3 iteration count Unbound
// validates: its val-nsec3-keysize-iterations default has been
// "1024 150 2048 150 4096 150" since 1.13.2 (util/config_file.c), 150 for
// every key size. Above it, Unbound marks the answer insecure without
// hashing (validator/val_nsec3.c, nsec3_iteration_count_high, called first
// by every nsec3_prove_* function), as RFC 9276 §3.2 allows; BIND does the
// same above 150. It also bounds the hashing a hostile reply can cost.
const maxNSEC3Iterations = 150

// nsec3Proof judges denial of existence from NSEC3 records (RFC 5155 §8).
type nsec3Proof struct {
	zone string
	recs []*dns.NSEC3
}

// usableNSEC3 applies RFC 5155 §8.1–8.2: only SHA-1, no unknown flags, owner
// one hash label directly under the zone. Ignored records prove nothing.
// The iteration count is judged by newDenial, over all usable records.
// The copy uppercases the next hashed owner because NSEC3.Cover compares it
// as text with the uppercased owner label, and a record parsed from text may
// spell it in lowercase.
func usableNSEC3(zone string, n *dns.NSEC3) (*dns.NSEC3, bool) {
	if n.Hash != dns.SHA1 || n.Flags&^1 != 0 {
		return nil, false
	}
	if dns.CountLabel(n.Hdr.Name) != dns.CountLabel(zone)+1 || !inZone(zone, n.Hdr.Name) {
		return nil, false
	}
	c := dns.Copy(n).(*dns.NSEC3)
	c.Hdr.Name = dns.CanonicalName(c.Hdr.Name)
	c.NextDomain = strings.ToUpper(c.NextDomain)
	if c.Salt == "-" {
		c.Salt = ""
	}
	return c, true
}

func (p nsec3Proof) match(name string) *dns.NSEC3 {
	for _, n := range p.recs {
		if n.Match(name) {
			return n
		}
	}
	return nil
}

// cover excludes matches: NSEC3.Cover also accepts a hash equal to the
// owner's, which proves existence, not absence.
func (p nsec3Proof) cover(name string) *dns.NSEC3 {
	for _, n := range p.recs {
		if n.Cover(name) && !n.Match(name) {
			return n
		}
	}
	return nil
}

func (p nsec3Proof) hash(name string) string {
	if len(p.recs) == 0 {
		return ""
	}
	n := p.recs[0]
	return dns.HashName(name, n.Hash, n.Iterations, n.Salt)
}

// closestEncloser finds the closest provable encloser of name (RFC 5155
// §8.3): its longest ancestor with a matching NSEC3, with the NSEC3 that
// covers the next closer name, if any.
func (p nsec3Proof) closestEncloser(name string) (ce, nextCloser string, ceRec, ncRec *dns.NSEC3) {
	for n := dns.CountLabel(name) - 1; n >= dns.CountLabel(p.zone); n-- {
		cand := ancestor(name, n)
		if r := p.match(cand); r != nil {
			nc := ancestor(name, n+1)
			return cand, nc, r, p.cover(nc)
		}
	}
	return "", "", nil, nil
}

// cutProblem rejects a closest encloser at a zone cut or DNAME: names below
// it are not in this zone, so this zone's chain cannot deny them.
func cutProblem(ce string, r *dns.NSEC3, zone string) (Verdict, bool) {
	if delegation(r.TypeBitMap, ce, zone) || slices.Contains(r.TypeBitMap, dns.TypeDNAME) {
		return bogus(ReasonDenialNoProof, "NSEC3 %s for closest encloser %s is a delegation or DNAME", r.Hdr.Name, ce), false
	}
	return Verdict{}, true
}

func (p nsec3Proof) noData(name string, qtype uint16) Verdict {
	if m := p.match(name); m != nil {
		if v, ok := bitmapProblem("NSEC3", m.Hdr.Name+" ("+name+")", m.TypeBitMap, qtype); !ok {
			return v
		}
		if v, ok := sideProblem("NSEC3", m.Hdr.Name+" ("+name+")", name, p.zone, m.TypeBitMap, qtype); !ok {
			return v
		}
		return secure(ReasonNoDataProven, "NSEC3 %s matches %s and lists no %s or CNAME", m.Hdr.Name, name, dns.Type(qtype))
	}
	ce, nc, ceRec, ncRec := p.closestEncloser(name)
	if ceRec != nil && ncRec != nil {
		if v, ok := cutProblem(ce, ceRec, p.zone); !ok {
			return v
		}
		// RFC 5155 §8.7: the name does not exist and the wildcard that
		// would match it lacks the type.
		wild := "*." + ce
		if w := p.match(wild); w != nil {
			if v, ok := bitmapProblem("NSEC3", w.Hdr.Name+" ("+wild+")", w.TypeBitMap, qtype); !ok {
				return v
			}
			return secure(ReasonNoDataProven, "closest encloser %s, next closer %s covered by %s; NSEC3 %s matches %s and lists no %s", ce, nc, ncRec.Hdr.Name, w.Hdr.Name, wild, dns.Type(qtype))
		}
		// RFC 5155 §8.5 as corrected by erratum 3441, and §8.6 for DS: an
		// empty non-terminal or unsigned delegation inside an opt-out span
		// has no NSEC3 of its own.
		if ncRec.Flags&1 != 0 {
			return insecure(ReasonOptOut, "no NSEC3 matches %s; next closer %s is in the opt-out span of %s", name, nc, ncRec.Hdr.Name)
		}
	}
	return bogus(ReasonDenialNoProof, "no NSEC3 matches %s (hash %s; have %s)", name, p.hash(name), p.owners())
}

func (p nsec3Proof) nxDomain(name string) Verdict {
	if m := p.match(name); m != nil {
		return bogus(ReasonDenialNoProof, "NSEC3 %s matches %s: the name exists", m.Hdr.Name, name)
	}
	ce, nc, ceRec, ncRec := p.closestEncloser(name)
	if ceRec == nil {
		return bogus(ReasonDenialNoProof, "no NSEC3 matches an ancestor of %s: no closest encloser proof (have %s)", name, p.owners())
	}
	if v, ok := cutProblem(ce, ceRec, p.zone); !ok {
		return v
	}
	if ncRec == nil {
		return bogus(ReasonDenialNoProof, "closest encloser %s, but no NSEC3 covers next closer %s (hash %s; have %s)", ce, nc, p.hash(nc), p.owners())
	}
	wild := "*." + ce
	if w := p.match(wild); w != nil {
		return bogus(ReasonDenialNoProof, "NSEC3 %s matches %s: the wildcard exists and %s should have been synthesised", w.Hdr.Name, wild, name)
	}
	wc := p.cover(wild)
	if wc == nil {
		return bogus(ReasonDenialNoProof, "no NSEC3 covers wildcard %s (hash %s; have %s)", wild, p.hash(wild), p.owners())
	}
	// Unbound's order: the wildcard is checked before opt-out is allowed
	// to downgrade the answer.
	if ncRec.Flags&1 != 0 {
		return insecure(ReasonOptOut, "next closer %s is in the opt-out span of %s: unsigned delegations there are not denied", nc, ncRec.Hdr.Name)
	}
	return secure(ReasonNXDomainProven, "closest encloser %s (%s); next closer %s covered by %s; wildcard %s covered by %s",
		ce, ceRec.Hdr.Name, nc, ncRec.Hdr.Name, wild, wc.Hdr.Name)
}

// wildcardAnswer is RFC 5155 §8.8: for an RRset synthesised from the
// wildcard at ancestor(owner, labels), an NSEC3 must cover the next closer
// name, proving that no closer match exists.
func (p nsec3Proof) wildcardAnswer(owner string, labels int) Verdict {
	nc := ancestor(owner, labels+1)
	r := p.cover(nc)
	if r == nil {
		return bogus(ReasonDenialNoProof, "wildcard answer for %s from *.%s: no NSEC3 covers next closer %s (hash %s; have %s)", owner, ancestor(owner, labels), nc, p.hash(nc), p.owners())
	}
	return secure(ReasonSigned, "NSEC3 %s covers next closer %s", r.Hdr.Name, nc)
}

func (p nsec3Proof) owners() string {
	var s []string
	for _, n := range p.recs {
		label, _, _ := strings.Cut(n.Hdr.Name, ".")
		s = append(s, label+"->"+strings.ToLower(n.NextDomain))
	}
	return strings.Join(s, ", ")
}
