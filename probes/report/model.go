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
	"strings"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/miekg/dns"
)

// Verdict is the conformance judgement of a domain's servers: the worst
// severity among its findings (docs/json.md).
type Verdict string

// Outcome is the predicted answer of a CA's validating resolver for a name or
// a domain (see probes/predict and docs/prediction.md).
type Outcome string

// Verdicts and outcomes, as in the JSON contract (docs/json.md).
const (
	VerdictPass  Verdict = "pass"
	VerdictWarn  Verdict = "warn"
	VerdictFail  Verdict = "fail"
	VerdictError Verdict = "error"

	// OutcomeOK: the resolver returns the CAA answer (possibly after
	// routing around a failing server).
	OutcomeOK Outcome = "ok"
	// OutcomeIntermittent: the resolver's answer varies between lookups.
	OutcomeIntermittent Outcome = "intermittent"
	// OutcomeServfail: the resolver returns SERVFAIL.
	OutcomeServfail Outcome = "servfail"
	// OutcomeUnknown: not predicted (the domain could not be checked, or
	// no server could be tried from this host).
	OutcomeUnknown Outcome = ""
)

// Domain is everything caaprobe found for one input name.
type Domain struct {
	Domain string // the input name as normalised ("*.example.com" for a wildcard)
	Source string // where it came from ("names.txt:3")
	Names  []*Name
	// Servers are the server addresses probed, zone by zone in climb
	// order, each with its results for every relevant name of its zone.
	Servers  []*Server
	Findings []Finding
	Verdict  Verdict
	Outcome  Outcome
	// Outcomes is the domain's outcome under every resolver model of the
	// run, by model name (probes/predict/models); Outcome is the default
	// model's, and the only one in the JSON. Nil when not predicted.
	Outcomes    map[string]Outcome
	Policy      *Policy
	Explanation string
	Err         string
	// Resolver holds what a real validating resolver said, name by name,
	// when the run was given one (check --resolver); nil otherwise.
	Resolver []ResolverCheck
	// Repeat is what a repeated check (check --repeat N) saw over all its
	// tries; nil for a single check. The rest of the Domain is one try.
	Repeat *Repeat

	zoneFindings []Finding
}

// Name is one relevant name of the RFC 8659 climb.
type Name struct {
	Name    string // lowercase FQDN
	Zone    string
	Exists  bool
	CNAME   string
	AliasOf string // set on a CNAME target: the name whose alias led here
	Outcome Outcome
	// Outcomes is this name's outcome under every resolver model of the
	// run, by model name; Outcome is the default model's.
	Outcomes map[string]Outcome
	// Ignored: the CA's walk does not read this name (it is above the
	// closest CAA RRset), so its outcome is not the domain's.
	Ignored bool
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
	// Pinned: the zone's servers were given (check --ns), not discovered.
	Pinned bool
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
	Issue    string // permitted, forbidden, varies (depends on the server asked), unknown (the lookup fails)
	Wildcard string
	Relevant string // the name whose RRset decided; "" when none or the lookup failed
	Reason   string
}

// Summarise fills in the findings and the verdict (the worst severity among
// them) from the servers' results. It is called once the probing is done;
// the outcomes, the policy and the explanation are probes/predict's.
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
}

// AddZoneFinding records a finding that belongs to a server or zone rather
// than to one exchange (delegation health, unresolvable NS names).
func (d *Domain) AddZoneFinding(f Finding) {
	f.Severity = probes.Info(f.Code).Severity
	d.zoneFindings = append(d.zoneFindings, f)
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

// HasName reports whether the server was probed for name.
func (s *Server) HasName(name string) bool {
	for _, r := range s.Results {
		if r.Name == name {
			return true
		}
	}
	return false
}

// Rank orders verdicts from best to worst: pass, warn, error (not
// checked), fail (a fault found). A fault outranks a check that could not
// finish, since it is what the user must act on.
func (v Verdict) Rank() int {
	switch v {
	case VerdictWarn:
		return 1
	case VerdictError:
		return 2
	case VerdictFail:
		return 3
	}
	return 0
}

// Repeat is a domain checked several times, each try with cold caches
// (nothing remembered from the try before), to catch a fault that comes
// and goes. The Domain that holds it is the first of the worst tries, so
// its matrix and exchanges are those of a time the fault appeared.
type Repeat struct {
	Tries  int // tries made (fewer than asked when interrupted)
	Shown  int // the try (from 1) the Domain's matrix is
	Failed int // tries whose verdict was fail
	Faults []RepeatFault
}

// RepeatFault is one fail finding of one server (or zone) over the tries.
type RepeatFault struct {
	Server string // "ns (addr)"; "" for a zone-level finding
	Zone   string
	Name   string
	Code   probes.Code
	Seen   int // tries in which it appeared
	First  int // the first of them (from 1)
	Probe  probes.ProbeID
	Detail string
	// Result is the exchange of its first appearance when that try is not
	// the one shown (whose matrix holds it already); nil otherwise.
	Result *probes.Result
}
