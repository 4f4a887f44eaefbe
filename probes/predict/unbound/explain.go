package unbound

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
)

// Delays of one detour, as measured with the real Unbound (R4).
const (
	dropDelay  = "a timeout of 0.4 s or more (376 ms measured with Unbound 1.26, 0.7 to 1.2 s with 1.17)"
	replyDelay = "one extra round trip"
)

// detourText says, for a name whose lookup works although some servers
// fail, that the CA still gets its answer, what it costs, and why the
// provider must fix it anyway.
func detourText(r *result) string {
	var faults []string
	slow := false
	for _, p := range r.paths {
		switch {
		case p.Kind == Fails:
			faults = append(faults, p.Label+" "+behaviour(p))
			slow = slow || dropped(p.Fault)
		case p.Kind == EmptyNoData && len(r.failing) > 0:
			faults = append(faults, p.Label+" answers CAA with an empty NOERROR without SOA, which Unbound from 1.19 takes as a failed server and asks another (1.17 accepted it in about half of the lookups)")
		case p.EDNSFallback:
			faults = append(faults, fmt.Sprintf("%s answers %s to CAA queries with EDNS and answers them without; Unbound retries without EDNS after FORMERR or NOTIMP, so it gets the answer one round trip later", p.Label, p.Fault.Status))
		}
	}
	if len(faults) == 0 {
		return ""
	}
	name := r.name.Name.Display()
	if len(r.failing) == 0 {
		return strings.Join(faults, "; ") + fmt.Sprintf(": the CA still gets the answer for %s CAA, but only because its resolver falls back; fix it.", name)
	}
	cost := replyDelay
	if slow {
		cost = dropDelay
	}
	return fmt.Sprintf("%s. The CA's resolver (Unbound) routes around %s and gets the answer for %s CAA from %s: the CA still gets its answer, at a cost of %s whenever a lookup tries a failing server first. Fix it anyway: the next fault may hit the last working server, and then the CA cannot check CAA and refuses to issue.",
		strings.Join(faults, "; "), them(len(r.failing)), name, strings.Join(r.workingLabels, ", "), cost)
}

func them(n int) string {
	if n == 1 {
		return "that server"
	}
	return "those servers"
}

// failureText says, per failing server, what it did: "ns1.x (127.0.0.11)
// answers NOTIMP to CAA"; "" when no server failed (none could be asked,
// or the engine found the lookup broken).
func failureText(r *result) string {
	if r.name.Err != "" {
		return ""
	}
	if r.capsFail {
		return capsText(r)
	}
	var out []string
	for _, p := range r.paths {
		if p.Kind == Fails {
			out = append(out, p.Label+" "+behaviour(p))
		}
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
func dropped(r *model.Result) bool {
	if r == nil {
		return false
	}
	for _, c := range []model.Code{catalog.CodeTimeout, catalog.CodeIntermittentTimeout, catalog.CodeIDMismatch, catalog.CodeQuestionMismatch, catalog.CodeUnreachable} {
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
	typ := catalog.TypeString(r.QType)
	if p.DropsDO {
		return fmt.Sprintf("drops every %s query that carries EDNS with the DO bit, as validating resolvers send them, and answers only without EDNS; Unbound falls back without EDNS after FORMERR or NOTIMP, never after a timeout", typ)
	}
	if p.Lame {
		return fmt.Sprintf("answers %s with a referral instead of an answer (a lame server)", typ)
	}
	if r.Has(catalog.CodeEDNSIntolerant) {
		// The RCODE is only the symptom: without EDNS the server answers.
		if p.Signed {
			return fmt.Sprintf("fails %s queries that carry EDNS and answers them without (%s), but the zone is signed and an answer without EDNS carries no signatures, so the validator rejects it", typ, r.Status)
		}
		return fmt.Sprintf("fails %s queries that carry EDNS and answers them without (%s)", typ, r.Status)
	}
	for _, is := range r.Issues {
		if catalog.Info(is.Code).Severity != model.SeverityFail || passes[is.Code] {
			continue
		}
		switch is.Code {
		case catalog.CodeTimeout:
			return "does not answer " + typ + " queries (timeout)"
		case catalog.CodeIntermittentTimeout:
			return "drops some " + typ + " queries (" + is.Detail + ")"
		case catalog.CodeRcodeNotimp, catalog.CodeRcodeRefused, catalog.CodeRcodeServfail, catalog.CodeRcodeFormerr, catalog.CodeRcodeOther:
			return fmt.Sprintf("answers %s to %s", r.Status, typ)
		case catalog.CodeDNSSECBogus:
			return fmt.Sprintf("returns %s answers whose DNSSEC validation fails for %s (%s)", typ, r.QName, is.Detail)
		case catalog.CodeDNSSECMissing:
			return fmt.Sprintf("returns %s answers without the signatures or denial proof a signed zone needs (%s)", typ, is.Detail)
		case catalog.CodeMalformed:
			return fmt.Sprintf("sends %s replies that do not parse (%s)", typ, is.Detail)
		case catalog.CodeIDMismatch:
			return fmt.Sprintf("answers %s with the wrong message ID", typ)
		case catalog.CodeQuestionMismatch:
			return fmt.Sprintf("answers %s with another question (%s)", typ, is.Detail)
		case catalog.CodeTruncatedTCPFailed:
			return fmt.Sprintf("truncates %s replies over UDP and fails the TCP retry (%s)", typ, is.Detail)
		case catalog.CodeUnreachable:
			return fmt.Sprintf("cannot be reached for %s (%s)", typ, is.Detail)
		default:
			return fmt.Sprintf("fails %s (%s: %s)", typ, is.Code, is.Detail)
		}
	}
	return "fails " + typ
}

// capsText says why the 0x20 fallback fails (R6).
func capsText(r *result) string {
	changed := caseChangers(r.paths)
	var answers []string
	for _, p := range r.paths {
		if p.Kind == Answers {
			answers = append(answers, fmt.Sprintf("%s serves %s", p.Label, predict.Describe(r.name, predict.Variant{Rcode: p.Rcode, RRset: p.RRset})))
		}
	}
	return fmt.Sprintf("%s echo%s the question in another case than asked, so Unbound (use-caps-for-id) asks every server again in lowercase and compares the answers, which differ (%s), and fails the lookup",
		strings.Join(changed, ", "), pluralES(len(changed)), strings.Join(answers, "; "))
}

// caseChangers are the servers that echo the question in another case.
func caseChangers(paths []Path) []string {
	var out []string
	for _, p := range paths {
		if p.CaseChanged {
			out = append(out, p.Label)
		}
	}
	return out
}
