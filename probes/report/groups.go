package report

import (
	"slices"
	"sort"

	"github.com/caaprobe/caaprobe/probes/model"
)

// FindingGroup is one finding code at one server address, and with
// GroupFindings' perName for one name: five probes answering NOTIMP are
// one paragraph to the provider (or one line of the table), not five.
type FindingGroup struct {
	Finding model.Finding // the group's first finding
	Names   []string      // the names it was seen for, each once, in order
	Probes  []string      // the probes that showed it
	Details []string
	Results []*model.Result // every finding's result, for transcripts and dig commands
}

// GroupFindings groups fs by code and server (and name, with perName),
// worst severity first (fail, warn, info) and otherwise in the order the
// findings came. Every renderer that groups findings (the table, the
// Markdown evidence, the HTML page) uses it, so they list a domain's
// findings in the same order.
func GroupFindings(fs []model.Finding, perName bool) []*FindingGroup {
	var out []*FindingGroup
	type groupKey struct {
		code   model.Code
		name   string
		server model.ServerRef
	}
	index := map[groupKey]*FindingGroup{}
	for _, f := range fs {
		key := groupKey{code: f.Code, server: f.Server}
		if perName {
			key.name = f.Name
		}
		g := index[key]
		if g == nil {
			g = &FindingGroup{Finding: f}
			index[key] = g
			out = append(out, g)
		}
		addUnique(&g.Names, f.Name)
		addUnique(&g.Probes, string(f.Probe))
		addUnique(&g.Details, f.Detail)
		if f.Result != nil {
			g.Results = append(g.Results, f.Result)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return SeverityRank(out[i].Finding.Severity) < SeverityRank(out[j].Finding.Severity)
	})
	return out
}

// SeverityRank orders severities from worst to mildest: fail, warn, info.
func SeverityRank(s model.Severity) int {
	switch s {
	case model.SeverityFail:
		return 0
	case model.SeverityWarn:
		return 1
	}
	return 2
}

func addUnique(list *[]string, s string) {
	if s != "" && !slices.Contains(*list, s) {
		*list = append(*list, s)
	}
}
