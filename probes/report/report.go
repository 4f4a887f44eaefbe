// Package report renders checked domains (probes/model) as a terminal
// table and as JSON Lines, and makes server-sent text safe to print. It
// reads results and writes text; it decides nothing.
package report

import (
	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/model"
)

// The domain model is the leaf package probes/model's; these names keep
// the renderers' and the engine's callers reading as before.
type (
	Verdict       = model.Verdict
	Outcome       = model.Outcome
	Domain        = model.Domain
	Name          = model.Name
	Server        = model.Server
	Finding       = model.Finding
	ServerRef     = model.ServerRef
	Policy        = model.Policy
	Repeat        = model.Repeat
	RepeatFault   = model.RepeatFault
	MatrixRow     = model.MatrixRow
	Vantage       = model.Vantage
	Run           = model.Run
	ResolverCheck = model.ResolverCheck
)

const (
	VerdictPass  = model.VerdictPass
	VerdictWarn  = model.VerdictWarn
	VerdictFail  = model.VerdictFail
	VerdictError = model.VerdictError

	OutcomeOK           = model.OutcomeOK
	OutcomeIntermittent = model.OutcomeIntermittent
	OutcomeServfail     = model.OutcomeServfail
	OutcomeUnknown      = model.OutcomeUnknown
)

// Columns are the probe IDs that appear in the domain's matrix, in catalog order.
func Columns(d *Domain) []probes.ProbeID {
	seen := map[probes.ProbeID]bool{}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			seen[r.Probe] = true
		}
	}
	var out []probes.ProbeID
	for _, p := range probes.Catalog {
		if seen[p.ID] {
			out = append(out, p.ID)
		}
	}
	return out
}

// JoinSource adds what to a domain's source ("names.txt:3, from eu-1").
func JoinSource(source, what string) string {
	if source == "" {
		return what
	}
	return source + ", " + what
}
