// Package report holds the result of checking one domain: the matrix of
// server × probe, the findings in words, the verdict, the predicted outcome
// of a CA's resolver and the CA policy, and the renderers that print it as a
// terminal table, JSON Lines or Markdown. Everything here is pure: it reads
// results and writes text.
package report

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/miekg/dns"
)

// Verdicts and outcomes, as in DESIGN.md and the JSON contract.
const (
	VerdictPass  = "pass"
	VerdictWarn  = "warn"
	VerdictFail  = "fail"
	VerdictError = "error"

	OutcomeOK           = "ok"
	OutcomeIntermittent = "intermittent"
	OutcomeServfail     = "servfail"
	OutcomeUnknown      = ""
)

// Domain is everything caaprobe found for one input name.
type Domain struct {
	Domain string // the input name as normalised ("*.example.com" for a wildcard)
	Source string // where it came from ("names.txt:3")
	Names  []*Name
	// Servers are the server addresses probed, zone by zone in climb
	// order, each with its results for every relevant name of its zone.
	Servers     []*Server
	Findings    []Finding
	Verdict     string
	Outcome     string
	Policy      *Policy
	Explanation string
	Err         string
	// Resolver holds what a real validating resolver said, name by name,
	// when the run was given one (check --resolver); nil otherwise.
	Resolver []ResolverCheck

	zoneFindings []Finding
}

// Name is one relevant name of the RFC 8659 climb.
type Name struct {
	Name    string // lowercase FQDN
	Zone    string
	Exists  bool
	CNAME   string
	AliasOf string // set on a CNAME target: the name whose alias led here
	Outcome string
	Failing []string // "ns (addr)" of servers whose CAA path fails
	Working []string
	RRset   []*dns.CAA // CAA RRset as a working server gave it
	Err     string
	// DNSSEC is the zone's chain status from the trust anchor: secure,
	// insecure, bogus or missing ("" when not validated).
	DNSSEC string
}

// Server is one address of one NS name of one zone.
type Server struct {
	Zone    string
	NS      string
	Addr    netip.Addr
	Results []*probes.Result
}

// Finding is one finding with everything needed to find its evidence.
type Finding struct {
	Code     probes.Code
	Severity probes.Severity
	Name     string // relevant name
	Zone     string
	NS       string
	Addr     string
	Probe    probes.ProbeID
	Detail   string
	Result   *probes.Result // the exchange that shows it; nil for zone-level findings
}

// Policy answers "may this CA issue?" apart from server conformance.
type Policy struct {
	CA       string
	Name     string
	Issue    string // permitted, forbidden, unknown
	Wildcard string
	Relevant string // the name whose RRset decided; "" when none or the lookup failed
	Reason   string
}

// Summarise fills in findings, verdict and outcome from the servers'
// results and the names' state. It is called once the probing is done.
func (d *Domain) Summarise() {
	d.Findings = d.Findings[:0:0]
	var untested []string // server addresses this host cannot reach
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for _, is := range r.Issues {
				if is.Code == probes.CodeFamilyUnreachable {
					// A fact about this host, said once for the domain
					// below rather than on every probe of every server.
					label := fmt.Sprintf("%s (%s)", strings.TrimSuffix(s.NS, "."), s.Addr)
					if !slices.Contains(untested, label) {
						untested = append(untested, label)
					}
					continue
				}
				d.Findings = append(d.Findings, Finding{
					Code: is.Code, Severity: probes.Info(is.Code).Severity, Name: strings.TrimSuffix(r.Name, "."),
					Zone: strings.TrimSuffix(s.Zone, "."), NS: strings.TrimSuffix(s.NS, "."), Addr: s.Addr.String(),
					Probe: r.Probe, Detail: is.Detail, Result: r,
				})
			}
		}
	}
	d.Findings = append(d.Findings, d.zoneFindings...)
	if len(untested) > 0 {
		d.Findings = append(d.Findings, Finding{Code: probes.CodeFamilyUnreachable, Severity: probes.Info(probes.CodeFamilyUnreachable).Severity,
			Detail: fmt.Sprintf("this host cannot reach %d server address(es), not tested: %s", len(untested), strings.Join(untested, ", "))})
	}
	if d.Err != "" {
		d.Verdict, d.Outcome = VerdictError, OutcomeUnknown
		return
	}
	d.Verdict = VerdictPass
	for _, f := range d.Findings {
		switch f.Severity {
		case probes.SeverityFail:
			d.Verdict = VerdictFail
		case probes.SeverityWarn:
			if d.Verdict == VerdictPass {
				d.Verdict = VerdictWarn
			}
		}
	}
	d.Outcome = OutcomeOK
	for _, n := range d.Names {
		n.Outcome, n.Failing, n.Working = d.nameOutcome(n)
		d.Outcome = worse(d.Outcome, n.Outcome)
	}
}

// AddZoneFinding records a finding that belongs to a server or zone rather
// than to one exchange (delegation health, unresolvable NS names).
func (d *Domain) AddZoneFinding(f Finding) {
	f.Severity = probes.Info(f.Code).Severity
	d.zoneFindings = append(d.zoneFindings, f)
}

// resolverProbes are the probes whose failure a CA's resolver meets: CAA
// over UDP with EDNS and DO, in every spelling (it randomises case).
var resolverProbes = map[probes.ProbeID]bool{probes.ProbeCAA: true, probes.ProbeCAAUpper: true, probes.ProbeCAA0x20: true}

// PathFails reports whether a resolver that picks this server for name
// fails its CAA lookup, and the first failing result.
func (s *Server) PathFails(name string) (bool, *probes.Result) {
	for _, r := range s.Results {
		if r.Name != name || !resolverProbes[r.Probe] {
			continue
		}
		for _, is := range r.Issues {
			if probes.Info(is.Code).Severity == probes.SeverityFail && !dataOnly[is.Code] {
				return true, r
			}
		}
	}
	return false, nil
}

// dataOnly findings are about what the CAA records say, not about the
// lookup: the resolver returns them fine and the CA reads the policy.
var dataOnly = map[probes.Code]bool{probes.CodeInvalidCAA: true}

func (d *Domain) nameOutcome(n *Name) (string, []string, []string) {
	if n.Err != "" {
		return OutcomeServfail, nil, nil
	}
	var failing, working []string
	untested := 0
	for _, s := range d.Servers {
		if s.Zone != n.Zone || !s.hasName(n.Name) {
			continue
		}
		label := fmt.Sprintf("%s (%s)", strings.TrimSuffix(s.NS, "."), s.Addr)
		if s.untested(n.Name) {
			untested++ // neither failing nor working: unknown from this host
			continue
		}
		if bad, _ := s.PathFails(n.Name); bad {
			failing = append(failing, label)
		} else {
			working = append(working, label)
		}
	}
	switch {
	case len(failing) == 0 && len(working) == 0 && untested > 0:
		return OutcomeUnknown, nil, nil
	case len(failing) == 0 && len(working) == 0:
		return OutcomeServfail, nil, nil
	case len(failing) == 0:
		return OutcomeOK, nil, working
	case len(working) == 0:
		return OutcomeServfail, failing, nil
	}
	return OutcomeIntermittent, failing, working
}

// untested reports a server whose CAA path for name could not be tried
// from this host (its address family is unreachable).
func (s *Server) untested(name string) bool {
	tried := false
	for _, r := range s.Results {
		if r.Name == name && resolverProbes[r.Probe] {
			if !r.Has(probes.CodeFamilyUnreachable) {
				return false
			}
			tried = true
		}
	}
	return tried
}

func (s *Server) hasName(name string) bool {
	for _, r := range s.Results {
		if r.Name == name {
			return true
		}
	}
	return false
}

func worse(a, b string) string {
	rank := map[string]int{OutcomeOK: 0, OutcomeIntermittent: 1, OutcomeServfail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// FailCount counts fail-severity findings.
func (d *Domain) FailCount() int {
	n := 0
	for _, f := range d.Findings {
		if f.Severity == probes.SeverityFail {
			n++
		}
	}
	return n
}

// Columns are the probe IDs that appear in the domain's matrix, in catalog order.
func (d *Domain) Columns() []probes.ProbeID {
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

// SortFindings orders findings by severity, then name, server and probe.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity == probes.SeverityFail
		}
		return false
	})
}
