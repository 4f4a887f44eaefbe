package model

import (
	"net/netip"

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
	// Cause is the error Err says, when the engine had one as an error
	// (a local error of this host, which errors.Is tells apart); nil
	// otherwise, and in a domain read back from JSON (not serialized).
	Cause error
	// Resolver holds what a real validating resolver said, name by name,
	// when the run was given one (check --resolver); nil otherwise.
	Resolver []ResolverCheck
	// Repeat is what a repeated check (check --repeat N) saw over all its
	// tries; nil for a single check. The rest of the Domain is one try.
	Repeat *Repeat

	// ZoneFindings are the findings of a server or zone rather than of
	// one exchange (delegation health, a CNAME loop); the judge's
	// Summarise adds them to Findings.
	ZoneFindings []Finding
}

// Name is one relevant name of the RFC 8659 climb.
type Name struct {
	Name    DomainName
	Zone    DomainName // the zone the name's CAA is asked of; none when discovery failed
	Exists  bool
	CNAME   DomainName // the alias target; none when the name is no alias
	AliasOf DomainName // set on a CNAME target: the name whose alias led here
	Outcome Outcome
	// Outcomes is this name's outcome under every resolver model of the
	// run, by model name; Outcome is the default model's.
	Outcomes map[string]Outcome
	// Ignored: the CA's walk does not read this name (it is above the
	// closest CAA RRset), so its outcome is not the domain's.
	Ignored bool
	Failing []ServerRef // servers whose CAA path fails
	Working []ServerRef // servers whose reply the resolver takes
	RRset   []*dns.CAA  // CAA RRset as a working server gave it
	Err     string
	// DNSSEC is the zone's chain status from the trust anchor: secure,
	// insecure, bogus, missing or indeterminate ("" when not validated).
	DNSSEC DNSSECStatus
}

// Server is one address of one NS name of one zone.
type Server struct {
	Zone    DomainName
	NS      string // the NS name as discovery found it (FQDN)
	Addr    netip.Addr
	Results []*Result
	// Pinned: the zone's servers were given (check --ns), not discovered.
	Pinned bool
}

// Finding is one finding with everything needed to find its evidence.
type Finding struct {
	Code     Code
	Severity Severity
	Name     string // relevant name, as users read it (DomainName.Display); "" for the domain as a whole
	Zone     string // as users read it: findings are read back from saved JSON as text
	// Server is the server address it is about; NS only for an NS name
	// without an address, zero for a zone-level finding.
	Server ServerRef
	Probe  ProbeID
	Detail string
	Result *Result // the exchange that shows it; nil for zone-level findings
}

// Policy answers "may this CA issue?" apart from server conformance.
type Policy struct {
	CA       string
	Name     string
	Issue    Permission // permitted, forbidden, varies (depends on the server asked), unknown (the lookup fails)
	Wildcard Permission
	Relevant string // the name whose RRset decided; "" when none or the lookup failed
	Reason   string
}

// AddZoneFinding records a finding that belongs to a server or zone rather
// than to one exchange (delegation health, unresolvable NS names).
func (d *Domain) AddZoneFinding(f Finding) {
	d.ZoneFindings = append(d.ZoneFindings, f)
}

// HasName reports whether the server was probed for name.
func (s *Server) HasName(name DomainName) bool {
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
	Server ServerRef // zero for a zone-level finding
	Zone   string
	Name   string
	Code   Code
	Seen   int // tries in which it appeared
	First  int // the first of them (from 1)
	Probe  ProbeID
	Detail string
	// Result is the exchange of its first appearance when that try is not
	// the one shown (whose matrix holds it already); nil otherwise.
	Result *Result
}

// MatrixRow is one row of the server × probe matrix: a relevant name at one
// server address, with the result of each column's probe (nil where that
// probe was not sent there).
type MatrixRow struct {
	Server *Server
	Cells  []*Result
}

// MatrixRows returns the rows of relevant name n for the columns cols: one
// per server address of n's zone that was probed for n, in the order of
// d.Servers. The terminal table, the Markdown evidence and the HTML page
// all draw their matrix from it.
func (d *Domain) MatrixRows(n *Name, cols []ProbeID) []MatrixRow {
	var out []MatrixRow
	for _, s := range d.Servers {
		if s.Zone != n.Zone || !s.HasName(n.Name) {
			continue
		}
		r := MatrixRow{Server: s}
		for _, c := range cols {
			r.Cells = append(r.Cells, s.result(n.Name, c))
		}
		out = append(out, r)
	}
	return out
}

// result finds the server's result of probe id for name; apex probes are
// shown on the row of the zone's apex only.
func (s *Server) result(name DomainName, id ProbeID) *Result {
	for _, r := range s.Results {
		if r.Probe == id && r.Name == name {
			return r
		}
	}
	return nil
}
