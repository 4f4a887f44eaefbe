package discovery

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// kind is what one server's reply means to the walk.
type kind int

const (
	// kindAnswer: data of the asked type at the name (AA or not: a
	// server that forgets the bit still gives the data, and resolvers
	// take it).
	kindAnswer kind = iota
	// kindReferral: the name is handed down to a child zone below the
	// zone asked (cut is the child's apex).
	kindReferral
	// kindLame: the server does not serve the zone it was asked for: an
	// upward or sideways referral, REFUSED, an empty reply without AA, a
	// recursive server's negative answer (RA without AA), a negative
	// answer from another zone (RFC 1034 §4.2.2; RFC 8499 §7). Where
	// resolvers differ, Unbound's reading (iter_resptype.c) is followed:
	// a negative answer with the zone's SOA counts without AA.
	kindLame
	// kindNXDomain: the name does not exist (cut is the SOA owner, when
	// the authority section holds one).
	kindNXDomain
	// kindNoData: the name exists without data of the type (cut as for
	// kindNXDomain).
	kindNoData
	// kindAlias: a CNAME at the name (target is its target).
	kindAlias
	// kindDNAME: a DNAME above the name redirects it (target is the
	// name it becomes, RFC 6672 §2.2).
	kindDNAME
	// kindError: an RCODE that says nothing of the name (SERVFAIL,
	// NOTIMP, FORMERR, …).
	kindError
)

var kindNames = [...]string{"answer", "referral", "lame", "nxdomain", "nodata", "alias", "dname", "error"}

func (k kind) String() string { return kindNames[k] }

// reply is a classified reply.
type reply struct {
	kind kind
	// cut is the child apex of a referral, or the apex a negative
	// answer's SOA names (which, when below the zone asked, is a
	// co-hosted child zone: the same servers serve parent and child).
	cut model.DomainName
	// target is the alias or DNAME target.
	target model.DomainName
	// why says what made a reply lame or an error.
	why string
	msg *dns.Msg
}

// classify says what m, the reply of a server of zone to qname/qtype, means
// to the walk. It is pure: no I/O, no state.
func classify(m *dns.Msg, apex model.DomainName, qname string, qtype uint16) reply {
	zone := apex.String()
	qname = dns.CanonicalName(qname)
	r := reply{msg: m}
	switch m.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeRefused:
		r.kind, r.why = kindLame, "REFUSED: the server does not serve "+trim(zone)
		return r
	default:
		r.kind, r.why = kindError, wire.RcodeText(m.Rcode)
		return r
	}
	// The answer section first: data, an alias or a DNAME at the name.
	target := ""
	for _, rr := range m.Answer {
		h := rr.Header()
		owner := dns.CanonicalName(h.Name)
		switch {
		case owner == qname && h.Rrtype == dns.TypeNS && qtype == dns.TypeNS && owner != zone && dns.IsSubDomain(zone, owner) && !m.Authoritative:
			// A child's NS set in the answer section without AA: a
			// referral written there (as Unbound reads it too).
			r.kind, r.cut = kindReferral, wireName(owner)
			return r
		case owner == qname && (h.Rrtype == qtype || qtype == dns.TypeANY):
			r.kind = kindAnswer
			return r
		case owner == qname && h.Rrtype == dns.TypeCNAME && target == "":
			target = dns.CanonicalName(rr.(*dns.CNAME).Target)
		case h.Rrtype == dns.TypeDNAME && owner != qname && dns.IsSubDomain(owner, qname) && qtype != dns.TypeDNAME:
			// The substitution can outgrow a name (RFC 6672 §2.2:
			// YXDOMAIN); then there is no target to follow.
			t, err := model.ParseName(strings.TrimSuffix(qname, owner) + rr.(*dns.DNAME).Target)
			if err != nil {
				r.kind, r.why = kindError, "DNAME "+trim(owner)+" gives no name: "+err.Error()
				return r
			}
			r.kind, r.target = kindDNAME, t
			return r
		}
	}
	if target != "" {
		r.kind, r.target = kindAlias, wireName(target)
		return r
	}
	if len(m.Answer) > 0 && m.Rcode == dns.RcodeSuccess && !m.Authoritative {
		r.kind, r.why = kindLame, "an answer for other names than "+trim(qname)+" without AA"
		return r
	}
	// The authority section: a referral (NS) or a negative answer (SOA).
	var soa, nsOwner string
	for _, rr := range m.Ns {
		owner := dns.CanonicalName(rr.Header().Name)
		switch rr.Header().Rrtype {
		case dns.TypeSOA:
			if soa == "" {
				soa = owner
			}
		case dns.TypeNS:
			// The deepest NS owner on the name's path: a referral may
			// list only the child's NS, but a lame one may list anything.
			if nsOwner == "" || dns.IsSubDomain(nsOwner, owner) {
				nsOwner = owner
			}
		}
	}
	if soa != "" {
		// A negative answer. Its SOA names the apex of the zone that
		// answered: the zone asked, or a child below it on the name's
		// path that the same server serves. Any other apex (a parent, a
		// zone elsewhere) means the server answers from a zone it was
		// not asked about.
		if !dns.IsSubDomain(zone, soa) || !dns.IsSubDomain(soa, qname) {
			r.kind, r.why = kindLame, fmt.Sprintf("answers from zone %s, not %s", trim(soa), trim(zone))
			return r
		}
		if !m.Authoritative && m.RecursionAvailable {
			// A recursive server's cache, not the zone's data. Without
			// RA, a negative answer with the zone's SOA is taken as
			// the zone's answer, AA or not, as resolvers do (the
			// probes judge the missing AA on their own).
			r.kind, r.why = kindLame, "negative answer from a recursive server (RA, no AA)"
			return r
		}
		r.cut = wireName(soa)
		r.kind = kindNoData
		if m.Rcode == dns.RcodeNameError {
			r.kind = kindNXDomain
		}
		return r
	}
	if nsOwner != "" && m.Rcode == dns.RcodeSuccess {
		switch {
		case nsOwner != zone && dns.IsSubDomain(zone, nsOwner) && dns.IsSubDomain(nsOwner, qname):
			r.kind, r.cut = kindReferral, wireName(nsOwner)
		case dns.IsSubDomain(nsOwner, zone) && !m.Authoritative:
			// The zone itself or one above it: the server sends the
			// resolver back up (often to the root).
			r.kind, r.why = kindLame, "upward referral to "+trim(nsOwner)
		case nsOwner == zone:
			// AA, the zone's own NS in authority and no answer: a
			// NODATA whose server forgot the SOA.
			r.kind, r.cut = kindNoData, apex
		case dns.IsSubDomain(nsOwner, zone):
			r.kind, r.why = kindLame, "referral up to "+trim(nsOwner)
		default:
			r.kind, r.why = kindLame, "sideways referral to "+trim(nsOwner)
		}
		return r
	}
	if !m.Authoritative {
		r.kind, r.why = kindLame, "empty reply without AA"
		return r
	}
	r.kind, r.cut = kindNoData, apex
	if m.Rcode == dns.RcodeNameError {
		r.kind = kindNXDomain
	}
	return r
}

func trim(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(name, ".")
}
