package explain

import (
	"fmt"
	"strings"
)

// dnssecWords are the Extended DNS Error summaries (RFC 8914 §4) of the
// DNSSEC family, as Boulder and Unbound spell them.
var dnssecWords = []string{"dnssec", "bogus", "signature expired", "signature not yet valid", "dnskey missing",
	"rrsigs missing", "no zone key bit", "nsec missing", "unsupported dnskey", "unsupported ds", "indeterminate"}

// classify sets Kind (when the text has not), Permanence and its reason
// from the error the CA reported.
func classify(p *Problem) {
	e := strings.ToLower(p.Error)
	set := func(k Kind, perm Permanence, reason string) {
		if p.Kind == "" {
			p.Kind = k
		}
		p.Permanence, p.Reason = perm, reason
	}
	switch {
	case p.Kind == KindPolicy:
		at := p.Lookup
		if at == "" {
			at = "the domain"
		}
		set(KindPolicy, Permanent, fmt.Sprintf("the CAA records at %s were read and do not permit the CA: every attempt fails the same way until they name it", at))
	case p.Error == "CAA_ERROR":
		set(KindUnknown, PermanenceUnknown, "AWS ACM's CAA_ERROR stands for both a CAA record that forbids Amazon and a CAA lookup that failed; the check tells which")
	case p.Error == "FAILED_CAA_CHECKING":
		set(KindServer, PermanenceUnknown, "Google's CAA lookup failed (a DNS error, not the policy): permanent when a server fails every time, transient otherwise; the check tells")
	case p.Error == "invalid":
		set(KindUnknown, PermanenceUnknown, "ZeroSSL's \"invalid\" does not say why; a CAA record without sectigo.com is one of the reasons, a failing CAA lookup another")
	case strings.Contains(e, "canceled"):
		set(KindResolver, Transient, "the CA gave up on its own deadline: its resolver was still waiting for the domain's servers; that depends on load at both ends")
	case strings.Contains(e, "timed out"):
		set(KindServer, Transient, "a timeout depends on loss and load on the way to the servers; it is permanent only when a server drops CAA queries every time, which the check finds")
	case strings.Contains(e, "networking error"), strings.Contains(e, "network error"):
		set(KindResolver, Transient, "a network failure between the CA's resolver and the servers is usually passing")
	case strings.Contains(e, "server failure at resolver"):
		set(KindResolver, Transient, "the CA's resolver failed without an RCODE from the domain's servers: a fault on the CA's side, usually passing")
	case strings.Contains(e, "truncated"):
		set(KindServer, PermanenceUnknown, "a truncated reply makes the resolver retry over TCP; a server (or firewall) that never answers DNS over TCP fails every time")
	case containsAny(e, dnssecWords):
		set(KindDNSSEC, Permanent, "a broken chain of trust (expired or missing signatures, a DS that matches no key) stays broken until the zone is re-signed or the DS at the parent fixed")
	case strings.Contains(e, "no reachable authority"):
		set(KindServer, PermanenceUnknown, "no server of the zone answered the CA's resolver: permanent when they all drop or refuse CAA queries, transient when it was loss")
	case strings.Contains(e, "servfail"):
		set(KindServer, PermanenceUnknown, "SERVFAIL is the resolver's summary of any failure at the authoritative side: permanent when a server fails every time (NOTIMP, REFUSED, a dropped query), transient when one of several servers fails now and then; the check tells")
	case strings.Contains(e, "refused"):
		set(KindServer, PermanenceUnknown, "REFUSED usually means a lame delegation (a listed server that does not serve the zone) or a server that refuses CAA queries; both last until fixed, unless another server answers")
	case containsAny(e, []string{"notimp", "formerr", "notauth", "notzone", "nxdomain", "yxdomain"}):
		set(KindServer, Permanent, "a server that rejects the CAA query type or answers with a nonsense RCODE does so every time")
	case containsAny(e, []string{"blocked", "censored", "filtered", "prohibited", "not authoritative", "not supported", "not ready"}):
		set(KindResolver, PermanenceUnknown, "the CA's resolver itself declined the query (an Extended DNS Error of policy, not DNSSEC)")
	case containsAny(e, []string{"stale", "cached error"}):
		set(KindServer, Transient, "the resolver answered from a cached failure: the fault it cached may be gone")
	default:
		set(KindUnknown, PermanenceUnknown, "the message does not say what failed")
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// climb explains why the CA looked at the lookup name (RFC 8659 §3).
func climb(p *Problem) string {
	if p.Lookup == "" {
		return ""
	}
	base := ""
	for _, n := range p.Names {
		b := strings.TrimPrefix(n, "*.")
		if b == p.Lookup {
			base = ""
			break
		}
		if under(b, p.Lookup) && base == "" {
			base = b
		}
	}
	tld := !strings.Contains(p.Lookup, ".")
	switch {
	case p.Kind == KindPolicy && base != "":
		return fmt.Sprintf("%s is a parent of %s: RFC 8659 §3 has the CA look for CAA at %s, then at each parent up to the TLD, and use the first RRset it finds; no name between them has CAA records, so the RRset at %s applies to %s", p.Lookup, base, base, p.Lookup, base)
	case base != "" && tld:
		return fmt.Sprintf("%s is the top-level domain of %s: RFC 8659 §3 has the CA look for CAA at %s, then at each parent up to the TLD; no name below %s had a CAA RRset, so the climb reached the TLD, whose lookup failed (the TLD's servers, or the CA's path to them: rarely the domain's fault, usually passing). A CAA record at %s or its registrable domain ends the climb before the TLD", p.Lookup, base, base, p.Lookup, base)
	case base != "":
		return fmt.Sprintf("%s is a parent of %s: RFC 8659 §3 has the CA look for CAA at %s, then at each parent up to the TLD, and use the first RRset it finds; the CA asks every name of that climb, and a failed lookup at any name below the first RRset stops issuance, so a fault at %s blocks %s although %s may be healthy", p.Lookup, base, base, p.Lookup, base, base)
	case tld:
		return fmt.Sprintf("%s is a top-level domain: the CA's RFC 8659 §3 climb reached it because no name below it had a CAA RRset; its servers, or the CA's path to them, failed (rarely the domain's fault, usually passing). A CAA record at the certificate's name or its registrable domain ends the climb before the TLD", p.Lookup)
	}
	return ""
}

// meaning says the problem in plain words.
func meaning(p *Problem) string {
	var b strings.Builder
	who := "the CA"
	switch p.CA {
	case "letsencrypt.org":
		who = "Let's Encrypt"
	case "amazon.com":
		who = "AWS Certificate Manager"
	case "pki.goog":
		who = "Google"
	case "ssl.com":
		who = "SSL.com"
	case "sectigo.com":
		who = "ZeroSSL (Sectigo)"
	}
	at := p.Lookup
	if at == "" {
		at = "the domain"
	}
	switch p.Perspective {
	case PerspectiveRemote:
		fmt.Fprintf(&b, "A remote perspective of %s (one of the vantage points that must agree with the primary before issuance) failed: ", who)
	case PerspectivePrimary:
		fmt.Fprintf(&b, "%s's primary validation failed: ", who)
	default:
		fmt.Fprintf(&b, "%s refused: ", who)
	}
	switch {
	case p.Kind == KindPolicy && p.CA == "ssl.com":
		fmt.Fprintf(&b, "the CAA records do not permit ssl.com (%s)", p.Error)
	case p.Kind == KindPolicy:
		fmt.Fprintf(&b, "the CAA RRset at %s does not permit the CA to issue (an issue record naming other CAs, issue \";\", a critical unknown tag, or issuewild for a wildcard name)", at)
	case p.Error == "CAA_ERROR":
		b.WriteString("ACM's CAA check failed: a CAA record does not permit amazon.com (or amazontrust.com, awstrust.com, amazonaws.com), or the CAA lookup failed")
	case p.Error == "FAILED_CAA_CHECKING":
		b.WriteString("the CAA lookup failed (the servers' fault or the path to them, not the policy)")
	case p.Error == "invalid":
		b.WriteString("the order is invalid, without a reason; CAA is only one possible cause")
	case p.Kind == KindDNSSEC:
		fmt.Fprintf(&b, "the CA's validating resolver could not validate the CAA answer for %s (%s): the zone's DNSSEC chain of trust is broken, and a bogus answer is a failed lookup", at, p.Error)
	case p.Kind == KindResolver:
		fmt.Fprintf(&b, "the CA's own resolver or network failed looking up CAA for %s (%s)", at, p.Error)
	case p.Kind == KindServer:
		fmt.Fprintf(&b, "the CAA lookup for %s failed (%s): the CA's validating resolver got no usable answer from the authoritative servers", at, p.Error)
	default:
		if p.Error != "" {
			fmt.Fprintf(&b, "%s (%s)", at, p.Error)
		} else {
			b.WriteString("the message does not say why")
		}
	}
	if p.Kind != KindPolicy && p.Kind != KindUnknown {
		b.WriteString("; a CAA lookup that fails stops issuance as surely as a forbidding record")
	}
	return b.String()
}
