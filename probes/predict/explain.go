package predict

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Prediction is the model's answer for one domain.
type Prediction struct {
	Names   []*Name // in the order of Domain.Names
	ByName  map[string]*Name
	Outcome model.Outcome
	Policy  *model.Policy
	Text    string
}

// Predict runs the whole model over a summarised domain: each name's
// resolver outcome, the domain's (the worst over every relevant name, up to
// the TLD), the CA's policy for ca, and the explanation.
func Predict(d *model.Domain, ca, input string) Prediction {
	pr := Prediction{ByName: map[string]*Name{}}
	if d.Err != "" {
		pr.Policy, _ = Policy(d, pr.ByName, ca, input)
		pr.Text = "The domain could not be checked: " + d.Err + "."
		return pr
	}
	for _, n := range d.Names {
		r := Resolve(n, d.Servers)
		pr.Names = append(pr.Names, &r)
		pr.ByName[n.Name] = &r
	}
	var read map[string]bool
	pr.Policy, read = Policy(d, pr.ByName, ca, input)
	// R8: the domain's outcome is the worst over the names the CA's
	// decision depends on; a failure above the closest RRset is ignored
	// by Boulder (C2) and said so in the explanation, not the headline.
	pr.Outcome = model.OutcomeOK
	for _, r := range pr.Names {
		if read[r.Name.Name] {
			pr.Outcome = Worse(pr.Outcome, r.Outcome)
		} else {
			r.Ignored = true
		}
	}
	pr.Text = explain(d, pr)
	return pr
}

// Fill runs Predict and writes the prediction into d: each name's outcome,
// failing and working servers and the RRset the CA reads; the domain's
// outcome, policy and explanation. Call it after d.Summarise.
func Fill(d *model.Domain, ca, input string) Prediction {
	pr := Predict(d, ca, input)
	for _, r := range pr.Names {
		n := r.Name
		n.Outcome, n.Failing, n.Working, n.Ignored = r.Outcome, r.Failing, r.Working, r.Ignored
		if len(r.Variants) > 0 {
			n.RRset = r.Variants[0].RRset
		}
	}
	if d.Err == "" {
		d.Outcome = pr.Outcome
	}
	d.Policy, d.Explanation = pr.Policy, pr.Text
	return pr
}

// Delays of one detour, as measured with the real Unbound (issue 12,
// docs/prediction.md R4).
const (
	dropDelay  = "a timeout of 0.4 s or more (376 ms measured with Unbound 1.26, 0.7 to 1.2 s with 1.17)"
	replyDelay = "one extra round trip"
)

// explain writes, per name, the chain from server fault to what the CA's
// resolver returns and what the CA does, in sentences a user can forward.
func explain(d *model.Domain, pr Prediction) string {
	var parts []string
	for _, r := range pr.Names {
		n := r.Name
		name := model.TrimDot(n.Name)
		switch r.Outcome {
		case model.OutcomeServfail:
			if r.Ignored {
				parts = append(parts, fmt.Sprintf("%s; a validating resolver turns that into SERVFAIL for %s CAA, which the CA ignores: its walk up from the name stops at the CAA records %s.",
					failureText(r), name, below(pr.Policy.Relevant)))
				break
			}
			parts = append(parts, fmt.Sprintf("%s; a validating resolver turns that into SERVFAIL for %s CAA; the CA cannot check CAA and refuses to issue.",
				failureText(r), name))
		case model.OutcomeIntermittent:
			if r.CapsFail {
				parts = append(parts, fmt.Sprintf("%s. So the CA's resolver returns SERVFAIL for %s CAA when it asks %s first (measured with Unbound 1.17: 6 of 10 lookups), and otherwise the other servers' answer (%s): the CA's check fails intermittently.",
					capsText(r), name, strings.Join(caseChangers(r), ", "), variantsText(n, r.Variants)))
				break
			}
			parts = append(parts, fmt.Sprintf("The servers of %s serve different answers for %s CAA: %s. The CA's resolver (Unbound) picks a server per lookup, so which answer the CA reads varies between lookups; synchronise the servers.",
				model.TrimDot(n.Zone), name, variantsText(n, r.Variants)))
		case model.OutcomeOK:
			if text := detourText(r); text != "" {
				parts = append(parts, text)
			}
		}
		if r.Outcome == model.OutcomeOK || r.Outcome == model.OutcomeIntermittent {
			if text := wrongAnswerText(r); text != "" {
				parts = append(parts, text)
			}
		}
	}
	text := strings.Join(parts, " ")
	switch {
	case text != "":
	case d.Verdict == model.VerdictPass:
		text = "Every server answers CAA correctly for every relevant name; a CA's resolver gets the same answer from each."
	default:
		text = "Every server answers CAA usably, but some break the protocol in ways resolvers tolerate (see the warnings)."
	}
	if n := d.Names; len(n) > 0 && !n[0].Exists && n[0].Err == "" && n[0].CNAME == "" {
		// Not a server fault, but almost always a typo or a lapsed
		// domain: say so first.
		text = fmt.Sprintf("%s does not exist (NXDOMAIN from the servers of %s): CAA does not restrict it, but no CA can validate it either; check the spelling. ",
			model.TrimDot(n[0].Name), model.TrimDot(n[0].Zone)) + text
	}
	return text
}

// detourText says, for a name whose lookup works although some servers
// fail, that the CA still gets its answer, what it costs, and why the
// provider must fix it anyway.
func detourText(r *Name) string {
	var faults []string
	slow := false
	for _, p := range r.Paths {
		switch {
		case p.Kind == Fails:
			faults = append(faults, p.Label+" "+behaviour(p))
			slow = slow || dropped(p.Fault)
		case p.Kind == EmptyNoData && len(r.Failing) > 0:
			faults = append(faults, p.Label+" answers CAA with an empty NOERROR without SOA, which Unbound from 1.19 takes as a failed server and asks another (1.17 accepted it in about half of the lookups)")
		case p.EDNSFallback:
			faults = append(faults, fmt.Sprintf("%s answers %s to CAA queries with EDNS and answers them without; Unbound retries without EDNS after FORMERR or NOTIMP, so it gets the answer one round trip later", p.Label, p.Fault.Status))
		}
	}
	if len(faults) == 0 {
		return ""
	}
	name := model.TrimDot(r.Name.Name)
	if len(r.Failing) == 0 {
		return strings.Join(faults, "; ") + fmt.Sprintf(": the CA still gets the answer for %s CAA, but only because its resolver falls back; fix it.", name)
	}
	cost := replyDelay
	if slow {
		cost = dropDelay
	}
	return fmt.Sprintf("%s. The CA's resolver (Unbound) routes around %s and gets the answer for %s CAA from %s: the CA still gets its answer, at a cost of %s whenever a lookup tries a failing server first. Fix it anyway: the next fault may hit the last working server, and then the CA cannot check CAA and refuses to issue.",
		strings.Join(faults, "; "), them(len(r.Failing)), name, strings.Join(r.Working, ", "), cost)
}

func them(n int) string {
	if n == 1 {
		return "that server"
	}
	return "those servers"
}

// wrongAnswerText warns when the answer the CA gets is NXDOMAIN at a name
// that exists: the CA reads it as no CAA records there.
func wrongAnswerText(r *Name) string {
	for _, v := range r.Variants {
		if v.Rcode != dns.RcodeNameError || !r.Name.Exists {
			continue
		}
		return fmt.Sprintf("%s answer%s NXDOMAIN to the CA's CAA query at %s, which exists: the CA's resolver returns NXDOMAIN and Let's Encrypt reads it as no CAA records there (Boulder bdns LookupCAA), so any CAA records at %s are ignored.",
			strings.Join(v.Servers, ", "), pluralS(len(v.Servers)), model.TrimDot(r.Name.Name), model.TrimDot(r.Name.Name))
	}
	return ""
}

func variantsText(n *model.Name, vs []Variant) string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s serve%s %s", strings.Join(v.Servers, ", "), pluralS(len(v.Servers)), describe(n, v)))
	}
	return strings.Join(out, "; ")
}

func pluralS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// failureText says, per failing server, what it did: "ns1.x (127.0.0.11)
// answers NOTIMP to CAA".
func failureText(r *Name) string {
	n := r.Name
	if n.Err != "" {
		return fmt.Sprintf("%s could not be resolved (%s)", model.TrimDot(n.Name), n.Err)
	}
	if r.CapsFail {
		return capsText(r)
	}
	var out []string
	for _, p := range r.Paths {
		if p.Kind == Fails {
			out = append(out, p.Label+" "+behaviour(p))
		}
	}
	if len(out) == 0 {
		return fmt.Sprintf("no server of %s could be asked", model.TrimDot(n.Zone))
	}
	return strings.Join(out, "; ")
}

func pluralES(n int) string {
	if n == 1 {
		return "es"
	}
	return ""
}

// dropped reports a fault that costs the resolver a timeout rather than a
// round trip: no reply, or only replies it ignores (wrong ID or question).
func dropped(r *probes.Result) bool {
	if r == nil {
		return false
	}
	for _, c := range []probes.Code{probes.CodeTimeout, probes.CodeIntermittentTimeout, probes.CodeIDMismatch, probes.CodeQuestionMismatch, probes.CodeUnreachable} {
		if r.Has(c) {
			return true
		}
	}
	return false
}

// behaviour describes a failing path in a few words, for the sentence a
// user forwards; the finding list under it has the details.
func behaviour(p Path) string {
	r := p.Fault
	if r == nil {
		return "fails CAA"
	}
	typ := probes.TypeString(r.QType)
	if p.DropsDO {
		return fmt.Sprintf("drops every %s query that carries EDNS with the DO bit, as validating resolvers send them, and answers only without EDNS; Unbound falls back without EDNS after FORMERR or NOTIMP, never after a timeout", typ)
	}
	if p.Lame {
		return fmt.Sprintf("answers %s with a referral instead of an answer (a lame server)", typ)
	}
	if r.Has(probes.CodeEDNSIntolerant) {
		// The RCODE is only the symptom: without EDNS the server answers.
		if p.Signed {
			return fmt.Sprintf("fails %s queries that carry EDNS and answers them without (%s), but the zone is signed and an answer without EDNS carries no signatures, so the validator rejects it", typ, r.Status)
		}
		return fmt.Sprintf("fails %s queries that carry EDNS and answers them without (%s)", typ, r.Status)
	}
	for _, is := range r.Issues {
		if probes.Info(is.Code).Severity != probes.SeverityFail || passes[is.Code] {
			continue
		}
		switch is.Code {
		case probes.CodeTimeout:
			return "does not answer " + typ + " queries (timeout)"
		case probes.CodeIntermittentTimeout:
			return "drops some " + typ + " queries (" + is.Detail + ")"
		case probes.CodeRcodeNotimp, probes.CodeRcodeRefused, probes.CodeRcodeServfail, probes.CodeRcodeFormerr, probes.CodeRcodeOther:
			return fmt.Sprintf("answers %s to %s", r.Status, typ)
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

// capsText says why the 0x20 fallback fails (rule R6).
func capsText(r *Name) string {
	changed := caseChangers(r)
	var answers []string
	for _, p := range r.Paths {
		if p.Kind == Answers {
			answers = append(answers, fmt.Sprintf("%s serves %s", p.Label, describe(r.Name, Variant{Rcode: p.Rcode, RRset: p.RRset})))
		}
	}
	return fmt.Sprintf("%s echo%s the question in another case than asked, so Unbound (use-caps-for-id) asks every server again in lowercase and compares the answers, which differ (%s), and fails the lookup",
		strings.Join(changed, ", "), pluralES(len(changed)), strings.Join(answers, "; "))
}

// below names the RRset that ended the CA's walk, when there is one.
func below(relevant string) string {
	if relevant == "" {
		return "below it"
	}
	return "of " + relevant + " below it"
}
