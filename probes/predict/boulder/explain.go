package boulder

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/miekg/dns"
)

// Prediction is the CA model's answer for one domain under one resolver
// model.
type Prediction struct {
	Model   string          // the resolver model's name
	Names   []*predict.Name // in the order of Domain.Names
	ByName  map[model.DomainName]*predict.Name
	Outcome model.Outcome
	Policy  *model.Policy
	Text    string
}

// Predict runs the CA model over a summarised domain with resolver model
// m: each name's resolver outcome, the domain's (R8: the worst over the
// names the CA's walk reads), the CA's policy for ca, and the explanation.
func Predict(d *model.Domain, m predict.Model, ca, input string) Prediction {
	pr := Prediction{Model: m.Name(), ByName: map[model.DomainName]*predict.Name{}}
	if d.Err != "" {
		pr.Policy, _ = Policy(d, pr.ByName, ca, input)
		pr.Text = "The domain could not be checked: " + d.Err + "."
		return pr
	}
	for _, n := range d.Names {
		r := m.Resolve(n, d.Servers)
		pr.Names = append(pr.Names, &r)
		pr.ByName[n.Name] = &r
	}
	var read map[model.DomainName]bool
	pr.Policy, read = Policy(d, pr.ByName, ca, input)
	// R8: the domain's outcome is the worst over the names the CA's
	// decision depends on; a failure above the closest RRset is ignored
	// by Boulder (C2) and said so in the explanation, not the headline.
	pr.Outcome = model.OutcomeOK
	for _, r := range pr.Names {
		if read[r.Name.Name] {
			pr.Outcome = predict.Worse(pr.Outcome, r.Outcome)
		} else {
			r.Ignored = true
		}
	}
	pr.Text = explain(d, pr)
	return pr
}

// Fill runs Predict with every model of ms (the default first) and writes
// the default's prediction into d: each name's outcome, failing and
// working servers and the RRset the CA reads; the domain's outcome, policy
// and explanation. Every model's outcome goes into Domain.Outcomes and
// Name.Outcomes by model name. Call it after d.Summarise. It returns the
// default's prediction.
func Fill(d *model.Domain, ms []predict.Model, ca, input string) Prediction {
	pr := Predict(d, ms[0], ca, input)
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
	if d.Err != "" {
		return pr
	}
	d.Outcomes = map[string]model.Outcome{}
	for _, n := range d.Names {
		n.Outcomes = map[string]model.Outcome{}
	}
	for i, m := range ms {
		other := pr
		if i > 0 {
			other = Predict(d, m, ca, input)
		}
		d.Outcomes[m.Name()] = other.Outcome
		for _, r := range other.Names {
			r.Name.Outcomes[m.Name()] = r.Outcome
		}
	}
	return pr
}

// explain writes, per name, the chain from server fault to what the CA's
// resolver returns and what the CA does, in sentences a user can forward;
// the resolver model's words say what the servers do and what a detour
// costs.
func explain(d *model.Domain, pr Prediction) string {
	var parts []string
	for _, r := range pr.Names {
		n := r.Name
		name := n.Name.Display()
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
			if len(r.FailsFirst) > 0 {
				parts = append(parts, fmt.Sprintf("%s. So the CA's resolver returns SERVFAIL for %s CAA when it asks %s first%s, and otherwise the other servers' answer (%s): the CA's check fails intermittently.",
					r.Fault, name, strings.Join(r.FailsFirst, ", "), r.FailsFirstNote, variantsText(n, r.Variants)))
				break
			}
			parts = append(parts, fmt.Sprintf("The servers of %s serve different answers for %s CAA: %s. The CA's resolver (Unbound) picks a server per lookup, so which answer the CA reads varies between lookups; synchronise the servers.",
				n.Zone.Display(), name, variantsText(n, r.Variants)))
		case model.OutcomeOK:
			if r.Detour != "" {
				parts = append(parts, r.Detour)
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
	if n := d.Names; len(n) > 0 && !n[0].Exists && n[0].Err == "" && n[0].CNAME.IsZero() {
		// Not a server fault, but almost always a typo or a lapsed
		// domain: say so first.
		text = fmt.Sprintf("%s does not exist (NXDOMAIN from the servers of %s): CAA does not restrict it, but no CA can validate it either; check the spelling. ",
			n[0].Name.Display(), n[0].Zone.Display()) + text
	}
	return text
}

// wrongAnswerText warns when the answer the CA gets is NXDOMAIN at a name
// that exists: the CA reads it as no CAA records there.
func wrongAnswerText(r *predict.Name) string {
	for _, v := range r.Variants {
		if v.Rcode != dns.RcodeNameError || !r.Name.Exists {
			continue
		}
		return fmt.Sprintf("%s answer%s NXDOMAIN to the CA's CAA query at %s, which exists: the CA's resolver returns NXDOMAIN and Let's Encrypt reads it as no CAA records there (Boulder bdns LookupCAA), so any CAA records at %s are ignored.",
			strings.Join(v.Servers, ", "), pluralS(len(v.Servers)), r.Name.Name.Display(), r.Name.Name.Display())
	}
	return ""
}

func variantsText(n *model.Name, vs []predict.Variant) string {
	var out []string
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s serve%s %s", strings.Join(v.Servers, ", "), pluralS(len(v.Servers)), predict.Describe(n, v)))
	}
	return strings.Join(out, "; ")
}

func pluralS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

// failureText says what fails the lookup of r's name: the engine's error,
// or the resolver model's words for what the servers do.
func failureText(r *predict.Name) string {
	n := r.Name
	switch {
	case n.Err != "":
		return fmt.Sprintf("%s could not be resolved (%s)", n.Name.Display(), n.Err)
	case r.Fault != "":
		return r.Fault
	}
	return fmt.Sprintf("no server of %s could be asked", n.Zone.Display())
}

// below names the RRset that ended the CA's walk, when there is one.
func below(relevant string) string {
	if relevant == "" {
		return "below it"
	}
	return "of " + relevant + " below it"
}
