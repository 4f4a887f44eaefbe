package check

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/caa"
	"github.com/caaprobe/caaprobe/probes/report"
)

// policy answers "may the CA issue?" from the climb: the first relevant
// name with a non-empty CAA RRset decides (RFC 8659 §3). A lookup that
// fails on every server at or before that name leaves it unknown: a CA
// must then refuse.
func (c *Checker) policy(d *report.Domain, input string) *report.Policy {
	p := &report.Policy{CA: c.cfg.CA, Name: input, Issue: "unknown", Wildcard: "unknown"}
	if d.Err != "" {
		p.Reason = d.Err
		return p
	}
	wildcardInput := strings.HasPrefix(input, "*.")
	byName := map[string]*report.Name{}
	for _, n := range d.Names {
		byName[n.Name] = n
	}
	for _, n := range d.Names {
		if n.AliasOf != "" {
			continue // reached through the alias of a climb name below
		}
		// The RRset of an alias is its target's (RFC 8659 §3).
		for hops := 0; n.CNAME != "" && byName[n.CNAME] != nil && hops < 16; hops++ {
			if n.Outcome == report.OutcomeServfail {
				break
			}
			n = byName[n.CNAME]
		}
		if n.Outcome == report.OutcomeServfail {
			if len(n.Failing) > 0 {
				p.Reason = fmt.Sprintf("CAA lookup of %s fails at %s", report.TrimDot(n.Name), strings.Join(n.Failing, ", "))
			} else {
				p.Reason = fmt.Sprintf("CAA lookup of %s fails: %s", report.TrimDot(n.Name), orText(n.Err, "no server answers"))
			}
			return p
		}
		if len(n.RRset) == 0 {
			continue
		}
		var recs []caa.Record
		for _, rr := range n.RRset {
			recs = append(recs, caa.FromRR(rr))
		}
		dec := caa.Evaluate(c.cfg.CA, recs)
		p.Relevant = report.TrimDot(n.Name)
		p.Issue, p.Wildcard = dec.Issue, dec.Wildcard
		if wildcardInput {
			p.Issue = dec.Wildcard
		}
		p.Reason = fmt.Sprintf("CAA at %s: %s", report.TrimDot(n.Name), dec.Reason)
		return p
	}
	p.Issue, p.Wildcard = caa.Permitted, caa.Permitted
	p.Reason = "no CAA records at any relevant name: any CA may issue"
	return p
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// explain writes the chain from server fault to CA refusal in one or two
// sentences a user can forward.
func explain(d *report.Domain) string {
	if d.Err != "" {
		return "The domain could not be checked: " + d.Err + "."
	}
	var parts []string
	for _, n := range d.Names {
		switch n.Outcome {
		case report.OutcomeServfail, report.OutcomeIntermittent:
			what := failureText(d, n)
			if n.Outcome == report.OutcomeServfail {
				parts = append(parts, fmt.Sprintf("%s; a validating resolver turns that into SERVFAIL for %s CAA; the CA cannot check CAA and refuses to issue.",
					what, report.TrimDot(n.Name)))
			} else {
				parts = append(parts, fmt.Sprintf("%s, while %s answer%s correctly; a resolver that tries another server after the failure (Unbound does) still gets the answer, but one that gives up or whose other attempts also land on a failing server returns SERVFAIL for %s CAA, so issuance can fail intermittently (this is what regional or anycast faults look like).",
					what, strings.Join(n.Working, ", "), pluralS(len(n.Working)), report.TrimDot(n.Name)))
			}
		}
	}
	text := strings.Join(parts, " ")
	switch {
	case text != "":
	case d.Verdict == report.VerdictPass:
		text = "Every server answers CAA correctly for every relevant name; a CA's resolver gets the same answer from each."
	default:
		text = "Every server answers CAA usably, but some break the protocol in ways resolvers tolerate (see the warnings)."
	}
	if n := d.Names; len(n) > 0 && !n[0].Exists && n[0].Err == "" && n[0].CNAME == "" {
		// Not a server fault, but almost always a typo or a lapsed
		// domain: say so first.
		text = fmt.Sprintf("%s does not exist (NXDOMAIN from the servers of %s): CAA does not restrict it, but no CA can validate it either; check the spelling. ",
			report.TrimDot(n[0].Name), report.TrimDot(n[0].Zone)) + text
	}
	return text
}

func pluralS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// failureText says, per failing server, what it did: "ns1.x (127.0.0.11)
// answers NOTIMP to CAA".
func failureText(d *report.Domain, n *report.Name) string {
	if n.Err != "" {
		return fmt.Sprintf("%s could not be resolved (%s)", report.TrimDot(n.Name), n.Err)
	}
	var out []string
	for _, s := range d.Servers {
		if s.Zone != n.Zone {
			continue
		}
		bad, r := s.PathFails(n.Name)
		if !bad {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s) %s", report.TrimDot(s.NS), s.Addr, behaviour(r)))
	}
	if len(out) == 0 {
		return fmt.Sprintf("no server of %s could be asked", report.TrimDot(n.Zone))
	}
	return strings.Join(out, "; ")
}

// behaviour describes a failing result in a few words, for the sentence a
// user forwards; the finding list under it has the details.
func behaviour(r *probes.Result) string {
	typ := probes.TypeString(r.QType)
	if r.Has(probes.CodeEDNSIntolerant) {
		// The RCODE is only the symptom: without EDNS the server answers.
		return fmt.Sprintf("fails %s queries that carry EDNS and answers them without (%s)", typ, r.Status)
	}
	for _, is := range r.Issues {
		if probes.Info(is.Code).Severity != probes.SeverityFail || is.Code == probes.CodeInvalidCAA {
			continue
		}
		switch is.Code {
		case probes.CodeTimeout:
			return "does not answer " + typ + " queries (timeout)"
		case probes.CodeIntermittentTimeout:
			return "drops some " + typ + " queries (" + is.Detail + ")"
		case probes.CodeRcodeNotimp, probes.CodeRcodeRefused, probes.CodeRcodeServfail, probes.CodeRcodeFormerr, probes.CodeRcodeOther:
			return fmt.Sprintf("answers %s to %s", r.Status, typ)
		case probes.CodeNXDomainExisting:
			return fmt.Sprintf("answers NXDOMAIN to %s at %s, which exists", typ, r.QName)
		case probes.CodeCaseSensitiveAnswer:
			return fmt.Sprintf("answers %s differently depending on the case of the name (%s)", typ, is.Detail)
		case probes.CodeDNSSECBogus:
			return fmt.Sprintf("returns %s answers whose DNSSEC validation fails for %s (%s)", typ, r.QName, is.Detail)
		case probes.CodeDNSSECMissing:
			return fmt.Sprintf("returns %s answers without the signatures or denial proof a signed zone needs (%s)", typ, is.Detail)
		case probes.CodeMalformed:
			return fmt.Sprintf("sends %s replies that do not parse (%s)", typ, is.Detail)
		case probes.CodeIDMismatch:
			return fmt.Sprintf("answers %s with the wrong message ID", typ)
		case probes.CodeQuestionMismatch:
			return fmt.Sprintf("answers %s with another question (%s)", typ, is.Detail)
		case probes.CodeTruncatedTCPFailed:
			return fmt.Sprintf("truncates %s replies over UDP and fails the TCP retry (%s)", typ, is.Detail)
		case probes.CodeUnreachable:
			return fmt.Sprintf("cannot be reached for %s (%s)", typ, is.Detail)
		default:
			return fmt.Sprintf("fails %s (%s: %s)", typ, is.Code, is.Detail)
		}
	}
	return "fails " + typ
}
