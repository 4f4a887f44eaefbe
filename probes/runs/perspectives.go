package runs

import (
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/report"
)

// The CA's outcome for a domain checked from several vantage points; the
// rule itself is probes/mpic's, shared with the live check.
const (
	MPICPass    = mpic.Pass
	MPICFail    = mpic.Fail
	MPICAtRisk  = mpic.AtRisk
	MPICUnknown = mpic.Unknown
)

// Perspective states.
const (
	StateOK      = mpic.StateOK
	StateFail    = mpic.StateFail
	StateMayFail = mpic.StateMayFail
)

// AllowedRemoteFailures is the BR quorum (mpic.AllowedRemoteFailures).
func AllowedRemoteFailures(remotes int) int { return mpic.AllowedRemoteFailures(remotes) }

// MPIC is the CA's multi-perspective view of one domain.
type MPIC = mpic.Result

// Perspective is one vantage point's part in it.
type Perspective = mpic.Perspective

// ServerSeen is one failing server and the vantage points that see it fail.
type ServerSeen = mpic.ServerSeen

// Judge applies the CA rule to one domain's records, one per vantage (the
// last one wins if a vantage has several). primary is the primary's label;
// vantages lists every vantage of the set, so a vantage without this domain
// counts as not checked. The RIR of each vantage is the one its records
// carry. The phase-in minimum is today's.
func Judge(domain string, recs []*Record, primary string, vantages []string) *MPIC {
	return JudgeAt(domain, recs, primary, vantages, time.Now())
}

// JudgeAt is Judge with the date of the phase-in minimum given.
func JudgeAt(domain string, recs []*Record, primary string, vantages []string, date time.Time) *MPIC {
	return mpic.Judge(domain, Inputs(recs), mpic.Options{Primary: primary, Vantages: VantagesOf(recs, vantages), Date: date})
}

// Inputs turns records into the decision's inputs, their domains
// cleaned of bytes that would act on a terminal or a page.
func Inputs(recs []*Record) []mpic.Input {
	ins := make([]mpic.Input, len(recs))
	for i, r := range recs {
		// What a saved run says is not trusted: every renderer of the
		// decision prints the domain's strings (report/clean.go).
		ins[i] = mpic.Input{Vantage: r.Vantage, Domain: report.CleanDomain(r.Domain)}
	}
	return ins
}

// VantagesOf is the set's vantages by label, each with the RIR a record
// of it carries.
func VantagesOf(recs []*Record, labels []string) []model.Vantage {
	rir := map[string]string{}
	for _, r := range recs {
		if r.Vantage.RIR != "" {
			rir[r.Vantage.Label] = r.Vantage.RIR
		}
	}
	out := make([]model.Vantage, len(labels))
	for i, l := range labels {
		out[i] = model.Vantage{Label: l, RIR: rir[l]}
	}
	return out
}
