package check

import (
	"context"

	"github.com/caaprobe/caaprobe/probes/model"
)

// MaxRepeat bounds Config.Repeat: a fault seen once in a thousand tries is
// past what a CA's retry would meet, and the tries are sequential.
const MaxRepeat = 1000

// repeated checks domain Config.Repeat times, each try on a new Checker
// (cold caches: every discovery step and probe is sent again), and returns
// the first of the worst tries with what all tries saw in its Repeat.
// Tries run one after another and share the run's rate limiter, so the
// per-server rate holds across them and beside the run's other domains.
func (c *Checker) repeated(ctx context.Context, domain string) *model.Domain {
	cfg := c.cfg
	cfg.Repeat = 0
	cfg.OnNoAnchor = nil // said once by the run's own Checker
	var tries []*model.Domain
	for len(tries) < c.cfg.Repeat && ctx.Err() == nil {
		try := newChecker(cfg, c.limit)
		d := try.Check(ctx, domain)
		try.Close()
		if ctx.Err() != nil {
			break // cut short: not a try the servers answered
		}
		tries = append(tries, d)
	}
	if len(tries) == 0 {
		return c.Check(ctx, domain) // interrupted before any try finished
	}
	return Merge(tries)
}

// Merge is one domain's tries (in order, at least one) as one Domain: the
// first of the worst tries, with what all tries saw in its Repeat. explain
// makes its tries itself and merges them the same way.
func Merge(tries []*model.Domain) *model.Domain {
	shown := 0
	for i, d := range tries {
		if d.Verdict.Rank() > tries[shown].Verdict.Rank() {
			shown = i
		}
	}
	d := tries[shown]
	rep := &model.Repeat{Tries: len(tries), Shown: shown + 1, Faults: Tally(tries, nil)}
	for _, t := range tries {
		if t.Verdict == model.VerdictFail {
			rep.Failed++
		}
	}
	for i := range rep.Faults {
		if rep.Faults[i].First == rep.Shown {
			rep.Faults[i].Result = nil // in the shown matrix already
		}
	}
	d.Repeat = rep
	return d
}

// Tally counts, over the tries of one domain (in order), each fail
// finding per server (or zone, for a zone-level one) and code: how many
// tries showed it and the first that did, with that try's exchange. keep,
// when set, selects the findings counted (explain counts those of the
// lookup a CA's message names).
func Tally(tries []*model.Domain, keep func(*model.Domain, model.Finding) bool) []model.RepeatFault {
	type key struct {
		server     model.ServerRef
		zone, name string
		code       model.Code
	}
	at := map[key]int{}
	var out []model.RepeatFault
	for t, d := range tries {
		seen := map[key]bool{}
		for _, f := range d.Findings {
			if f.Severity != model.SeverityFail || keep != nil && !keep(d, f) {
				continue
			}
			k := key{server: f.Server, zone: f.Zone, name: f.Name, code: f.Code}
			if seen[k] {
				continue
			}
			seen[k] = true
			i, ok := at[k]
			if !ok {
				i = len(out)
				at[k] = i
				out = append(out, model.RepeatFault{Server: k.server, Zone: f.Zone, Name: f.Name, Code: f.Code,
					First: t + 1, Probe: f.Probe, Detail: f.Detail, Result: f.Result})
			}
			out[i].Seen++
		}
	}
	return out
}
