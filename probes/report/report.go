// Package report renders checked domains (probes/model) as a terminal
// table, holds what every renderer shares (the matrix columns, the one
// finding grouping, instance notes) and makes server-sent text safe to
// print. It reads results and writes text; it decides nothing. The JSON
// Lines format is probes/render/jsonl.
package report

import (
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
)

// Columns are the probe IDs that appear in the domain's matrix, in catalog order.
func Columns(d *model.Domain) []model.ProbeID {
	seen := map[model.ProbeID]bool{}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			seen[r.Probe] = true
		}
	}
	var out []model.ProbeID
	for _, p := range catalog.Catalog {
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
