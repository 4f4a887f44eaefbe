package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
)

// Summarise fills in the findings and the verdict (the worst severity among
// them) from the servers' results. It is called once the probing is done;
// the outcomes, the policy and the explanation are probes/predict's. A
// finding's severity is its code's, from the catalog (probes/catalog/findings.go).
func Summarise(d *model.Domain) {
	d.Findings = d.Findings[:0:0]
	var untested []string // server addresses this host cannot reach
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for _, is := range r.Issues {
				if is.Code == catalog.CodeFamilyUnreachable {
					// A fact about this host, said once for the domain
					// below rather than on every probe of every server.
					label := s.Ref().String()
					if !slices.Contains(untested, label) {
						untested = append(untested, label)
					}
					continue
				}
				d.Findings = append(d.Findings, model.Finding{
					Code: is.Code, Severity: catalog.Info(is.Code).Severity, Name: r.Name.Display(),
					Zone: s.Zone.Display(), Server: s.Ref(),
					Probe: r.Probe, Detail: is.Detail, Result: r,
				})
			}
		}
	}
	for _, f := range d.ZoneFindings {
		f.Severity = catalog.Info(f.Code).Severity
		d.Findings = append(d.Findings, f)
	}
	if len(untested) > 0 {
		d.Findings = append(d.Findings, model.Finding{Code: catalog.CodeFamilyUnreachable, Severity: catalog.Info(catalog.CodeFamilyUnreachable).Severity,
			Detail: fmt.Sprintf("this host cannot reach %d server address(es), not tested: %s", len(untested), strings.Join(untested, ", "))})
	}
	if d.Err != "" {
		d.Verdict, d.Outcome = model.VerdictError, model.OutcomeUnknown
		return
	}
	d.Verdict = model.VerdictPass
	for _, f := range d.Findings {
		switch f.Severity {
		case model.SeverityFail:
			d.Verdict = model.VerdictFail
		case model.SeverityWarn:
			if d.Verdict == model.VerdictPass {
				d.Verdict = model.VerdictWarn
			}
		}
	}
}
