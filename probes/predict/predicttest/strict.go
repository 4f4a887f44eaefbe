package predicttest

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/miekg/dns"
)

// Strict is a resolver model for the tests: a resolver that never routes
// around a server. A name whose zone has any server with a fail finding
// (or no reply) on the lowercase CAA probe is SERVFAIL; otherwise the
// servers' answers to that probe are the variants. It is the smallest
// model that disagrees with Unbound (which routes around a bad server), so
// a test can tell the two outcomes apart.
type Strict struct{}

// Name implements predict.Model.
func (Strict) Name() string { return "strict" }

// Probes implements predict.Model.
func (Strict) Probes() []model.ProbeID { return []model.ProbeID{catalog.ProbeCAA} }

// Resolve implements predict.Model.
func (Strict) Resolve(n *model.Name, servers []*model.Server) predict.Name {
	out := predict.Name{Name: n, Rules: []string{"strict"}}
	if n.Err != "" {
		out.Outcome = model.OutcomeServfail
		return out
	}
	var faults []string
	for _, s := range servers {
		if s.Zone != n.Zone {
			continue
		}
		for _, r := range s.Results {
			if r.Name != n.Name || r.Probe != catalog.ProbeCAA || r.Has(catalog.CodeFamilyUnreachable) {
				continue
			}
			label := s.Ref().String()
			if !r.Answered() || judge.Fails(r) {
				out.Failing = append(out.Failing, s.Ref())
				faults = append(faults, fmt.Sprintf("%s fails CAA (%s)", label, r.Status))
				continue
			}
			out.Working = append(out.Working, s.Ref())
			addVariant(&out, r, label)
		}
	}
	switch {
	case len(out.Failing) > 0:
		out.Outcome, out.Variants, out.Fault = model.OutcomeServfail, nil, strings.Join(faults, "; ")
	case len(out.Variants) == 0:
		out.Outcome = model.OutcomeUnknown
	case len(out.Variants) > 1:
		out.Outcome = model.OutcomeIntermittent
	default:
		out.Outcome = model.OutcomeOK
	}
	return out
}

// addVariant adds r's answer to the variant with the same RCODE and
// records, or as a new one.
func addVariant(out *predict.Name, r *model.Result, label string) {
	var rrset []*dns.CAA
	var rd []string
	for _, rr := range r.Records {
		if c, ok := rr.(*dns.CAA); ok {
			rrset = append(rrset, c)
			rd = append(rd, strings.ToLower(c.String()))
		}
	}
	key := fmt.Sprint(r.Rcode, rd)
	for i := range out.Variants {
		if out.Variants[i].Key == key {
			out.Variants[i].Servers = append(out.Variants[i].Servers, label)
			return
		}
	}
	out.Variants = append(out.Variants, predict.Variant{Key: key, Rcode: r.Rcode, RRset: rrset, Servers: []string{label}})
}
