// Package boulder is caaprobe's model of the CA: Boulder's CAA rule as Let's
// Encrypt runs it, over any resolver model's per-name predictions
// (predict.Name). It looks up every label, walks up from the name, stops at
// the first lookup error before the closest non-empty RRset, reads the
// RRset for the CA, and says why in words; Fill writes the result into the
// domain. Every rule (C1..C10, and R8 the domain's outcome) is in README.md
// beside this file. Pure: no I/O, no clock.
package boulder

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/internal/caa"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/miekg/dns"
)

// maxOutcomes bounds the combinations of varying answers followed up the
// climb; beyond it the policy says varies without listing every path.
const maxOutcomes = 32

// ending is where one combination of answers leads the CA's walk.
type ending struct {
	issue, wildcard model.Permission
	relevant        string // the name whose RRset decided
	reason          string
	via             string // the servers whose answers led here, when names vary
}

// Policy applies Boulder's CAA rule (va/caa.go parallelCAALookup and
// selectCAA; bdns LookupCAA) to the predicted answers: every relevant name is
// looked up, the walk goes up from the name, the first lookup error before
// the first non-empty RRset blocks issuance, errors above it are ignored,
// NXDOMAIN is an empty RRset below the TLD and an error at a TLD. Where a
// name's answer varies between servers, each answer is followed; when the
// decisions differ the policy varies (model.PermissionVaries) and the reason names which servers
// lead to which decision. input is the domain as given ("*.example.com" for a
// wildcard); results holds the resolver model's prediction per name.
//
// It also returns the names the decision depends on: every name the walk
// read, along every combination of answers (CNAME targets included). A
// failure at a name outside that set is one Boulder ignores (C2).
func Policy(d *model.Domain, results map[model.DomainName]*predict.Name, ca, input string) (*model.Policy, map[model.DomainName]bool) {
	p := &model.Policy{CA: ca, Name: input, Issue: model.PermissionUnknown, Wildcard: model.PermissionUnknown}
	if d.Err != "" {
		p.Reason = d.Err
		return p, nil
	}
	byName := map[model.DomainName]*model.Name{}
	var climb []*model.Name
	for _, n := range d.Names {
		byName[n.Name] = n
		if n.AliasOf.IsZero() {
			climb = append(climb, n)
		}
	}
	w := walker{byName: byName, results: results, ca: ca, climb: climb, read: map[model.DomainName]bool{}}
	ends := w.walk(0, "")
	wildcard := strings.HasPrefix(input, "*.")
	first := ends[0]
	p.Relevant, p.Reason = first.relevant, first.reason
	p.Issue, p.Wildcard = first.issue, first.wildcard
	if wildcard {
		p.Issue = first.wildcard
	}
	same := true
	for _, e := range ends[1:] {
		if e.issue != first.issue || e.wildcard != first.wildcard {
			same = false
		}
	}
	if same && !w.truncated {
		return p, w.read
	}
	issues, wilds := map[model.Permission]bool{}, map[model.Permission]bool{}
	var parts []string
	for _, e := range ends {
		issues[e.issue], wilds[e.wildcard] = true, true
		dec := e.issue
		if wildcard {
			dec = e.wildcard
		}
		parts = append(parts, fmt.Sprintf("%s: %s (%s)", e.via, dec, e.reason))
	}
	if len(issues) > 1 || w.truncated {
		p.Issue = model.PermissionVaries
	}
	if len(wilds) > 1 || w.truncated {
		p.Wildcard = model.PermissionVaries
	}
	if wildcard {
		p.Issue = p.Wildcard
	}
	p.Relevant = ""
	p.Reason = "the CA's decision depends on which server its resolver asks: " + strings.Join(parts, "; ")
	if w.truncated {
		p.Reason += fmt.Sprintf("; more than %d combinations, not all listed", maxOutcomes)
	}
	return p, w.read
}

// PolicyFails says whether the CAA policy alone makes the run fail (exit
// 3): the policy forbids the CA (issue, or issuewild for a wildcard input),
// or the CA's decision depends on the server it asks (it varies).
func PolicyFails(d *model.Domain) bool {
	p := d.Policy
	if p == nil {
		return false
	}
	return p.Issue == model.PermissionVaries || p.Wildcard == model.PermissionVaries || Forbids(d)
}

// Forbids says whether d's CAA policy forbids the CA for d's name (issue,
// or issuewild for a wildcard input), whatever server is asked.
func Forbids(d *model.Domain) bool {
	p := d.Policy
	if p == nil {
		return false
	}
	if strings.HasPrefix(d.Domain, "*.") {
		return p.Wildcard == model.PermissionForbidden
	}
	return p.Issue == model.PermissionForbidden
}

type walker struct {
	byName    map[model.DomainName]*model.Name
	results   map[model.DomainName]*predict.Name
	ca        string
	climb     []*model.Name
	truncated bool
	count     int
	read      map[model.DomainName]bool // the names the walk read (Policy)
}

// walk follows the climb from index i, given the servers whose answers led
// here (via), and returns every ending.
func (w *walker) walk(i int, via string) []ending {
	if i >= len(w.climb) {
		return []ending{{issue: model.PermissionPermitted, wildcard: model.PermissionPermitted, via: via,
			reason: "no CAA records at any relevant name: any CA may issue"}}
	}
	n := w.climb[i]
	w.read[n.Name] = true
	// The RRset of an alias is its target's (RFC 8659 §3): the resolver
	// follows the CNAME, and an error anywhere on the chain is the lookup's.
	// The engine puts a loop or an overlong chain on the link that closes
	// it (Name.Err), so every chain here ends; the bound is for safety.
	for hops := 0; !n.CNAME.IsZero() && hops <= len(w.byName); hops++ {
		if r := w.results[n.Name]; r == nil || r.Outcome == model.OutcomeServfail || r.Outcome == model.OutcomeUnknown {
			break
		}
		next := w.byName[n.CNAME]
		if next == nil {
			break
		}
		n = next
		w.read[n.Name] = true
	}
	r := w.results[n.Name]
	if r == nil || r.Outcome == model.OutcomeServfail || r.Outcome == model.OutcomeUnknown {
		reason := lookupFails(n, r)
		if start := w.climb[i]; start != n {
			reason = fmt.Sprintf("%s is an alias (CNAME), and the %s", start.Name.Display(), reason)
		}
		return []ending{{issue: model.PermissionUnknown, wildcard: model.PermissionUnknown, via: via, reason: reason}}
	}
	if !n.CNAME.IsZero() {
		// The chain leaves the names the engine followed: not predicted.
		return []ending{{issue: model.PermissionUnknown, wildcard: model.PermissionUnknown, via: via,
			reason: fmt.Sprintf("CAA lookup of %s could not be predicted: its CNAME target %s was not followed", n.Name.Display(), n.CNAME.Display())}}
	}
	var out []ending
	for _, v := range r.Variants {
		if w.count >= maxOutcomes {
			w.truncated = true
			break
		}
		here := via
		if len(r.Variants) > 1 || len(r.FailsFirst) > 0 {
			if here != "" {
				here += ", then "
			}
			here += fmt.Sprintf("%s from %s", predict.Describe(n, v), strings.Join(v.Servers, ", "))
		}
		switch {
		case v.Rcode == dns.RcodeNameError && n.Name.CountLabels() == 1:
			// bdns LookupCAA: NXDOMAIN for a TLD is an error, so that a
			// TLD removed from the root blocks issuance.
			w.count++
			out = append(out, ending{issue: model.PermissionUnknown, wildcard: model.PermissionUnknown, via: here,
				reason: fmt.Sprintf("the TLD %s does not exist (NXDOMAIN), which Let's Encrypt treats as a lookup error", n.Name.Display())})
		case len(v.RRset) == 0:
			out = append(out, w.walk(i+1, here)...)
		default:
			w.count++
			recs := make([]caa.Record, 0, len(v.RRset))
			for _, rr := range v.RRset {
				recs = append(recs, caa.FromRR(rr))
			}
			dec := caa.Evaluate(w.ca, recs)
			out = append(out, ending{issue: dec.Issue, wildcard: dec.Wildcard, relevant: n.Name.Display(), via: here,
				reason: fmt.Sprintf("CAA at %s: %s", n.Name.Display(), dec.Reason)})
		}
	}
	if len(r.FailsFirst) > 0 && w.count < maxOutcomes {
		// Lookups that reach one of these servers first fail.
		w.count++
		here := via
		if here != "" {
			here += ", then "
		}
		here += "a lookup that asks " + strings.Join(r.FailsFirst, ", ") + " first"
		out = append(out, ending{issue: model.PermissionUnknown, wildcard: model.PermissionUnknown, via: here, reason: lookupFails(n, r)})
	}
	if len(out) == 0 {
		out = append(out, ending{issue: model.PermissionVaries, wildcard: model.PermissionVaries, via: via, reason: "too many combinations of answers"})
	}
	return out
}

func lookupFails(n *model.Name, r *predict.Name) string {
	switch {
	case n.Err != "":
		return fmt.Sprintf("CAA lookup of %s fails: %s", n.Name.Display(), n.Err)
	case r == nil || r.Outcome == model.OutcomeUnknown:
		return fmt.Sprintf("CAA lookup of %s could not be predicted: no server of %s was reachable from this host", n.Name.Display(), n.Zone.Display())
	case r.Reason != "":
		return fmt.Sprintf("CAA lookup of %s fails: %s", n.Name.Display(), r.Reason)
	case len(r.Failing) > 0:
		return fmt.Sprintf("CAA lookup of %s fails at %s", n.Name.Display(), strings.Join(model.Labels(r.Failing), ", "))
	}
	return fmt.Sprintf("CAA lookup of %s fails: no server answers", n.Name.Display())
}
