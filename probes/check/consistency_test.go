package check_test

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/miekg/dns"
)

// contradictions lists the ways d's verdict, findings, policy and
// outcomes disagree. It reads the names the way Boulder's walk does
// (docs/prediction.md C1, C2, C9), independently of boulder.Policy: from
// the name upward, each alias followed to the end of its chain, stopping
// at the first non-empty RRset or the first lookup that fails. A failed
// lookup in that span must make the verdict fail with a fail finding about
// a name of that chain, the policy unknown and the outcome servfail; a
// domain whose every lookup in the span works has outcome ok and a policy
// that is permitted or forbidden; a forbidding policy fails the run.
func contradictions(d *model.Domain) []string {
	var out []string
	if d.Err != "" {
		if d.Verdict != model.VerdictError {
			out = append(out, fmt.Sprintf("error %q with verdict %s", d.Err, d.Verdict))
		}
		if d.Policy != nil && d.Policy.Issue != model.PermissionUnknown {
			out = append(out, fmt.Sprintf("error %q with policy %+v", d.Err, d.Policy))
		}
		return out
	}
	byName := map[string]*model.Name{}
	for _, n := range d.Names {
		if byName[n.Name.String()] != nil {
			out = append(out, "name listed twice: "+n.Name.String())
		}
		byName[n.Name.String()] = n
	}
	var failed []*model.Name // the chain whose lookup failed
	varies, tldNX := false, false
climb:
	for _, n := range d.Names {
		if !n.AliasOf.IsZero() {
			continue
		}
		chain := []*model.Name{n}
		for cur := n; ; {
			if cur.Outcome == model.OutcomeServfail || cur.Outcome == model.OutcomeUnknown {
				failed = chain
				break climb
			}
			if cur.Outcome == model.OutcomeIntermittent {
				varies = true
			}
			next := byName[cur.CNAME.String()]
			if cur.CNAME.IsZero() || next == nil || len(chain) > len(d.Names) {
				if !cur.CNAME.IsZero() {
					out = append(out, "CNAME chain leaves the names: "+cur.CNAME.String())
				}
				if !cur.Exists && dns.CountLabel(cur.Name.String()) == 1 {
					tldNX = true
				}
				if len(cur.RRset) > 0 {
					break climb
				}
				break
			}
			cur = next
			chain = append(chain, cur)
		}
	}
	p := d.Policy
	if p == nil {
		return append(out, "no policy")
	}
	switch {
	case failed != nil && failed[len(failed)-1].Outcome == model.OutcomeServfail:
		last := failed[len(failed)-1]
		if d.Verdict != model.VerdictFail {
			out = append(out, fmt.Sprintf("lookup of %s fails, verdict %s", last.Name, d.Verdict))
		}
		if !namesCause(d, failed) {
			out = append(out, fmt.Sprintf("lookup of %s fails, no fail finding about %s", last.Name, chainText(failed)))
		}
		if p.Issue != model.PermissionUnknown && p.Issue != model.PermissionVaries {
			out = append(out, fmt.Sprintf("lookup of %s fails, policy %s", last.Name, p.Issue))
		}
		if d.Outcome != model.OutcomeServfail {
			out = append(out, fmt.Sprintf("lookup of %s fails, outcome %q", last.Name, d.Outcome))
		}
	case failed != nil: // not predicted (no server reachable from here)
		if p.Issue != model.PermissionUnknown {
			out = append(out, fmt.Sprintf("lookup of %s not predicted, policy %s", failed[0].Name, p.Issue))
		}
	case varies:
		if d.Outcome != model.OutcomeIntermittent {
			out = append(out, fmt.Sprintf("answers vary, outcome %q", d.Outcome))
		}
	default:
		if d.Outcome != model.OutcomeOK {
			out = append(out, fmt.Sprintf("every lookup the CA reads works, outcome %q", d.Outcome))
		}
		if p.Issue != model.PermissionPermitted && p.Issue != model.PermissionForbidden && !(tldNX && p.Issue == model.PermissionUnknown) {
			out = append(out, fmt.Sprintf("every lookup the CA reads works, policy %s: %s", p.Issue, p.Reason))
		}
	}
	if p.Issue == model.PermissionForbidden && !strings.HasPrefix(d.Domain, "*.") && !boulder.PolicyFails(d) {
		out = append(out, "policy forbidden does not fail the run")
	}
	return out
}

// namesCause: a fail finding about a name of the chain, its zone, or one
// of its servers.
func namesCause(d *model.Domain, chain []*model.Name) bool {
	for _, f := range d.Findings {
		if f.Severity != model.SeverityFail {
			continue
		}
		for _, n := range chain {
			if f.Name == n.Name.Display() || (!n.Zone.IsZero() && f.Zone == n.Zone.Display()) {
				return true
			}
		}
	}
	return false
}

func chainText(chain []*model.Name) string {
	var s []string
	for _, n := range chain {
		s = append(s, n.Name.Display())
	}
	return strings.Join(s, " → ")
}
