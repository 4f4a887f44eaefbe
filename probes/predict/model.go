// Package predict defines what caaprobe predicts a CA's validating resolver
// returns for one name: the Model interface a resolver model implements and
// the per-name result (Name) the CA model reads. It holds no rules of its
// own: today's resolver is probes/predict/unbound (Unbound with
// use-caps-for-id, as Let's Encrypt runs it), the CA is
// probes/predict/boulder (Boulder's CAA walk, the policy line and the
// explanation), and the list of models with the default first is
// probes/predict/models.
//
// The imports go one way: predict imports neither; unbound and boulder
// import predict and not each other; models imports predict and every
// resolver model; the engine (probes/check) imports models and boulder.
// Everything here is pure: no I/O, no clock.
package predict

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Model is one resolver model: a CA's validating resolver as caaprobe
// predicts it.
type Model interface {
	// Name identifies the model in Domain.Outcomes and Name.Outcomes.
	Name() string
	// Probes are the catalog probes whose results Resolve reads, the one
	// closest to the resolver's own query first. Faults seen on any other
	// probe do not change this model's outcome.
	Probes() []model.ProbeID
	// Resolve predicts the resolver's answer for n from the servers of
	// the domain (those of n's zone answer for it): the outcome, the
	// servers it routes around and those it takes, the fault it cannot
	// route around in words, and the rules that decided.
	Resolve(n *model.Name, servers []*model.Server) Name
}

// Variant is one answer the resolver may return for a name, with the
// servers that give it.
type Variant struct {
	Key     string // the RCODE and the canonical RRset: equal keys, equal data for the CA
	Rcode   int
	RRset   []*dns.CAA
	Servers []string
}

// Name is a resolver model's prediction for one relevant name: what the
// CA model reads, whichever resolver model made it.
type Name struct {
	Name    *model.Name
	Outcome model.Outcome
	// Variants are the distinct answers the resolver may return, in server
	// order: one when the outcome is ok, several when intermittent, none
	// on servfail. When FailsFirst is set, only the answers a lookup that
	// does not fail can return.
	Variants []Variant
	Working  []model.ServerRef // servers whose reply the resolver takes
	Failing  []model.ServerRef // servers the resolver routes around (or fails on)
	// FailsFirst are servers that make a lookup fail when the resolver
	// happens to ask them first, although other servers answer: some
	// lookups fail and the others return Variants.
	FailsFirst []string
	// Fault says, in words that start a sentence, what the servers do that
	// fails the lookup (outcome servfail) or some lookups (FailsFirst):
	// "ns1.x.test (192.0.2.1) answers NOTIMP to CAA". Empty when no server
	// could be asked.
	Fault string
	// Reason, when set, is why a lookup fails, for the policy line's
	// "CAA lookup of NAME fails: REASON"; otherwise the CA model names
	// the failing servers.
	Reason string
	// FailsFirstNote is the evidence for FailsFirst, in parentheses, for
	// the explanation: " (measured with …)". Empty when none.
	FailsFirstNote string
	// Detour is a sentence on faults the resolver routes around or falls
	// back from (outcome ok), with what they cost; empty when none.
	Detour string
	// Rules are the model's rule IDs that decided, in the order applied
	// (the model's README gives each with its evidence).
	Rules []string
	// Ignored: the CA's decision does not read this name (a name above
	// the closest CAA RRset), so its outcome is not the domain's. Set by
	// the CA model.
	Ignored bool
	// Detail is the model's own record of how it decided (unbound: the
	// path per server), for its tests and tools; the CA model does not
	// read it.
	Detail any
}

// Worse orders outcomes: servfail over intermittent over ok. Unknown (not
// predicted) changes nothing.
func Worse(a, b model.Outcome) model.Outcome {
	rank := map[model.Outcome]int{model.OutcomeOK: 1, model.OutcomeIntermittent: 2, model.OutcomeServfail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Describe says what variant v of name n gives the CA: "NXDOMAIN at
// x.test", "no CAA at x.test", or the records.
func Describe(n *model.Name, v Variant) string {
	switch {
	case v.Rcode == dns.RcodeNameError:
		return "NXDOMAIN at " + n.Name.Display()
	case len(v.RRset) == 0:
		return "no CAA at " + n.Name.Display()
	}
	var rd []string
	for _, rr := range v.RRset {
		rd = append(rd, fmt.Sprintf("%d %s %q", rr.Flag, rr.Tag, rr.Value))
	}
	return fmt.Sprintf("CAA %s at %s", strings.Join(rd, ", "), n.Name.Display())
}
