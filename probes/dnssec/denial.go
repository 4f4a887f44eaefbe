package dnssec

import (
	"slices"

	"github.com/miekg/dns"
)

// maxNSEC3Records bounds the NSEC3 records a proof is searched in. Each
// NSEC3.Match or Cover hashes the name anew, so a reply stuffed with
// records and a long name would cost seconds; an honest proof needs at most
// four records (RFC 5155 §7.2), and resolvers cap NSEC3 work since
// CVE-2023-50868.
const maxNSEC3Records = 16

// denial is the denial-of-existence material of one reply's authority
// section: in-zone NSEC records, usable NSEC3 records, and how many of
// those have more iterations than validators hash.
type denial struct {
	nsec       nsecProof
	nsec3      nsec3Proof
	tooCostly  int
	iterations uint16
}

func newDenial(zone string, auth []*rrset) denial {
	d := denial{nsec: nsecProof{zone: zone}, nsec3: nsec3Proof{zone: zone}}
	for _, set := range auth {
		for _, rr := range set.rrs {
			switch r := rr.(type) {
			case *dns.NSEC:
				if inZone(zone, r.Hdr.Name) {
					d.nsec.recs = append(d.nsec.recs, r)
				}
			case *dns.NSEC3:
				u, ok := usableNSEC3(zone, r)
				if !ok {
					continue
				}
				// Unbound looks at every usable NSEC3 of the reply before
				// hashing anything: one above the limit makes the whole
				// proof insecure (val_nsec3.c, nsec3_iteration_count_high).
				if u.Iterations > maxNSEC3Iterations {
					d.tooCostly++
					d.iterations = max(d.iterations, u.Iterations)
					continue
				}
				if len(d.nsec3.recs) < maxNSEC3Records && !slices.ContainsFunc(d.nsec3.recs, func(n *dns.NSEC3) bool { return n.Hdr.Name == u.Hdr.Name }) {
					d.nsec3.recs = append(d.nsec3.recs, u)
				}
			}
		}
	}
	return d
}

// prover is what NSEC and NSEC3 proofs have in common.
type prover interface {
	noData(name string, qtype uint16) Verdict
	nxDomain(name string) Verdict
	wildcardAnswer(owner string, labels int) Verdict
}

// pick chooses NSEC3 when the reply has any: a zone uses one kind, and a
// mixed reply is judged by the kind its chain is built from. Without a
// usable record it returns the verdict to report instead.
func (d denial) pick(what string) (prover, Verdict) {
	switch {
	case d.tooCostly > 0:
		// RFC 9276 §3.2: insecure, not bogus; the NSEC3 RRsets' own
		// signatures were validated before (checkAuthority), as §3.2
		// requires of a resolver that returns insecure.
		return nil, insecure(ReasonNSEC3Iterations, "%s: NSEC3 with %d iterations, above the %d a validating resolver hashes (Unbound, BIND): the answer is insecure", what, d.iterations, maxNSEC3Iterations)
	case len(d.nsec3.recs) > 0:
		return d.nsec3, Verdict{}
	case len(d.nsec.recs) > 0:
		return d.nsec, Verdict{}
	}
	return nil, missing(ReasonMissingDenial, "%s: no NSEC or NSEC3 in the authority section", what)
}

func (d denial) noData(name string, qtype uint16) Verdict {
	p, v := d.pick("NODATA for " + dns.Type(qtype).String() + " " + name)
	if p == nil {
		return v
	}
	return p.noData(name, qtype)
}

func (d denial) nxDomain(name string) Verdict {
	p, v := d.pick("NXDOMAIN for " + name)
	if p == nil {
		return v
	}
	return p.nxDomain(name)
}

func (d denial) wildcardAnswer(owner string, labels int) Verdict {
	p, v := d.pick("wildcard answer for " + owner)
	if p == nil {
		return v
	}
	return p.wildcardAnswer(owner, labels)
}
