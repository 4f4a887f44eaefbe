// Package mpic is the CA's multi-perspective issuance corroboration
// decision (CA/Browser Forum Baseline Requirements §3.2.2.9), pure: given
// what a primary and its remote perspectives saw for one domain, it says
// whether the CA issues, which perspectives fail to corroborate and why,
// and which servers and probes the perspectives disagree on.
//
// It is the one implementation behind both the offline merge of saved runs
// (probes/runs, `caaprobe report --perspectives`) and the live check
// against remote agents (probes/agent, `caaprobe check --perspectives`):
// the same records give the same decision whichever path read them.
//
// The rules, in Boulder's order: the primary's lookup first (a failing
// primary refuses, whatever the remotes say); then the quorum of remotes
// (AllowedRemoteFailures); then the diversity of the corroborating remotes
// (at least 2 RIR regions). The phase-in of the minimum number of remotes
// (MinRemotes) does not change the decision of a domain: a configuration
// below it cannot reproduce the CA's decision, and the result says so.
package mpic

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict/boulder"
	"github.com/caaprobe/caaprobe/probes/report"
)

// Outcome is the CA's outcome for a domain checked from several vantage
// points (the JSON's "outcome").
type Outcome string

// Decision is the CA's decision in its own words (the JSON's "decision").
type Decision string

// State is how a CA's lookup from one perspective goes (the JSON's
// perspectives[].state, and primary_state).
type State string

// Fault is why a perspective returned no usable result (the JSON's
// perspectives[].fault).
type Fault string

// The CA's outcome for a domain checked from several vantage points.
const (
	Pass    Outcome = "pass"    // issuance goes ahead: the primary and enough remotes succeed
	Fail    Outcome = "fail"    // issuance fails: the primary fails, more remotes than the quorum allows, or one region only
	AtRisk  Outcome = "at-risk" // passes now, but fails if the perspectives that may fail (intermittent, not checked) do
	Unknown Outcome = "unknown" // the primary did not check this domain
)

// The CA's decision, in its own words.
const (
	Issue  Decision = "issue"
	Refuse Decision = "refuse"
	// DecisionUnknown: the primary did not check this domain.
	DecisionUnknown Decision = "unknown"
)

// Perspective states.
const (
	StateOK      State = "ok"
	StateFail    State = "fail"     // does not corroborate: servfail, or the agent gave no usable answer
	StateMayFail State = "may-fail" // intermittent, or not checked here
)

// Why a perspective returned no usable result. Each counts as a
// non-corroborating perspective, as an unreachable perspective does at
// the CA.
const (
	FaultUnreachable Fault = "unreachable"
	FaultTimeout     Fault = "timed out"
	FaultVersion     Fault = "protocol version"
	FaultBadResponse Fault = "bad response"
	FaultAuth        Fault = "not authorised"
	FaultRefused     Fault = "refused" // the agent answered with an error (rate limit, bad request)
	// FaultForbidden: the perspective read a CAA policy that forbids the
	// CA (a stale or regional RRset at a remote): it does not corroborate.
	FaultForbidden Fault = "forbidden by CAA"
)

// RIRs are the five Regional Internet Registries, the regions the
// diversity rule counts.
var RIRs = []string{"ARIN", "RIPE", "APNIC", "LACNIC", "AFRINIC"}

// ValidRIR reports whether s names one of RIRs (case as written there).
func ValidRIR(s string) bool { return slices.Contains(RIRs, s) }

// AllowedRemoteFailures is the BR quorum: with 2 to 5 remote perspectives
// at most one may fail to corroborate, with 6 or more at most two. Fewer
// than 2 remotes do not meet the rule; none may fail.
func AllowedRemoteFailures(remotes int) int {
	switch {
	case remotes >= 6:
		return 2
	case remotes >= 2:
		return 1
	}
	return 0
}

// phaseIn is the BR's table of the minimum number of remote perspectives
// by date, latest first.
var phaseIn = []struct {
	from    time.Time
	remotes int
}{
	{time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), 5},
	{time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC), 4},
	{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 3},
	{time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC), 2},
}

// MinRemotes is the least number of remote perspectives the BR require of
// a CA on date (0 before corroboration was required).
func MinRemotes(date time.Time) int {
	d := date.UTC()
	for _, p := range phaseIn {
		if !d.Before(p.from) {
			return p.remotes
		}
	}
	return 0
}

// Input is what one perspective returned for a domain: its result, or the
// fault that left it without one.
type Input struct {
	Vantage model.Vantage
	Domain  *model.Domain // nil with a Fault
	Fault   Fault         // one of the Fault constants; "" with a Domain
	Detail  string        // the fault in words, as the primary saw it
}

// Options say what the set of perspectives is.
type Options struct {
	Primary string
	// Vantages is every perspective of the set or configuration, the
	// primary included: one with no Input for the domain counts as not
	// checked there. An RIR given here wins over the one a record carries.
	Vantages []model.Vantage
	// Date picks the phase-in minimum (MinRemotes); zero skips the check.
	Date time.Time
}

// Perspective is one vantage point's part in the decision.
type Perspective struct {
	Vantage model.Vantage
	Primary bool
	Verdict model.Verdict
	Outcome model.Outcome // the resolver outcome this vantage predicts
	// State is how a CA's lookup from here goes (StateOK, StateFail,
	// StateMayFail).
	State   State
	Failing []model.ServerRef // failing servers
	Domain  *model.Domain     // nil when Fault is set
	Fault   Fault
	Detail  string
}

// ServerSeen is one failing server and the vantage points that see it fail.
type ServerSeen struct {
	Server   model.ServerRef
	Vantages []string // labels, primary first
	NSID     map[string]string
	// Working are the vantages that reached it without failing: a server
	// broken in one region only shows here.
	Working []string
}

// Difference is one cell row of the server × probe matrix on which the
// perspectives disagree: what each perspective got from that server for
// that probe (an RCODE, "timeout", ...; "" when it did not ask).
type Difference struct {
	Server model.ServerRef
	Name   string // the relevant name asked
	Probe  model.ProbeID
	Status map[string]string // vantage label -> status
	// Sources is the source address each perspective sent the query from,
	// for matching to the provider's logs.
	Sources map[string]string
}

// Result is the CA's multi-perspective view of one domain.
type Result struct {
	Domain         string
	Primary        string
	Perspectives   []*Perspective // primary first, then remotes by label
	Remotes        int
	Allowed        int // remote failures the quorum allows
	FailingRemotes []string
	MayFailRemotes []string
	PrimaryState   State
	Outcome        Outcome
	Decision       Decision // Issue, Refuse or DecisionUnknown
	Reason         string
	Servers        []ServerSeen
	Differences    []Difference
	Missing        []string // vantages in the set with no result for this domain

	// The configuration against the BR on Date.
	Date       time.Time
	MinRemotes int
	Regions    []string // the distinct RIR regions of the configured remotes
	// Reproducible is false when the set of perspectives is below what
	// the BR require (too few remotes, or one region only): Note says so.
	Reproducible bool
	Note         string
}

// Judge applies the CA rule to one domain's inputs, one per vantage (the
// last one wins if a vantage has several).
//
// Every string the verdict carries is cleaned (report.CleanText,
// CleanVantage): it is read from saved JSON or a remote agent and printed.
func Judge(domain string, ins []Input, opt Options) *Result {
	domain, primary := report.CleanText(domain), report.CleanText(opt.Primary)
	configured := map[string]model.Vantage{}
	var order []string
	for _, v := range opt.Vantages {
		v = report.CleanVantage(v)
		if _, ok := configured[v.Label]; !ok {
			order = append(order, v.Label)
		}
		configured[v.Label] = v
	}
	m := &Result{Domain: domain, Primary: primary, Date: opt.Date, Decision: DecisionUnknown}
	byLabel := map[string]*Perspective{}
	for _, in := range ins {
		v := report.CleanVantage(in.Vantage)
		if c, ok := configured[v.Label]; ok && c.RIR != "" {
			v.RIR = c.RIR
		}
		p := &Perspective{Vantage: v, Primary: v.Label == primary, Fault: Fault(report.CleanText(string(in.Fault))),
			Detail: report.CleanText(in.Detail)}
		switch d := in.Domain; {
		case d == nil:
			p.State = StateFail
			if p.Fault == "" {
				p.Fault = FaultBadResponse
			}
		case d.Verdict == model.VerdictError || d.Outcome == model.OutcomeUnknown:
			p.State = StateMayFail
		case d.Outcome == model.OutcomeServfail:
			p.State = StateFail
		case boulder.Forbids(d):
			// Each perspective runs the CAA check, not only the lookup:
			// one whose policy forbids the CA refuses from there, as a
			// primary that reads it refuses the issuance.
			p.State, p.Fault, p.Detail = StateFail, FaultForbidden, report.CleanText(d.Policy.Reason)
		case boulder.PolicyFails(d) || d.Outcome == model.OutcomeIntermittent:
			// The policy varies with the server asked, or the lookup does.
			p.State = StateMayFail
		default:
			p.State = StateOK
		}
		if d := in.Domain; d != nil {
			p.Domain, p.Verdict, p.Outcome = d, d.Verdict, d.Outcome
			for _, n := range d.Names {
				for _, s := range n.Failing {
					if s.NS, s.Instance = report.CleanText(s.NS), report.CleanText(s.Instance); !slices.Contains(p.Failing, s) {
						p.Failing = append(p.Failing, s)
					}
				}
			}
		}
		byLabel[v.Label] = p
		if _, ok := configured[v.Label]; !ok {
			configured[v.Label] = v
			order = append(order, v.Label)
		}
	}
	for _, l := range order {
		if byLabel[l] == nil {
			m.Missing = append(m.Missing, l)
		}
	}
	labels := make([]string, 0, len(byLabel))
	for l := range byLabel {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		if (labels[i] == primary) != (labels[j] == primary) {
			return labels[i] == primary
		}
		return labels[i] < labels[j]
	})
	for _, l := range labels {
		m.Perspectives = append(m.Perspectives, byLabel[l])
	}
	// A remote that did not check the domain at all counts as one that may
	// fail: the CA's would have run.
	regions, regionsKnown := []string{}, true
	for _, l := range order {
		if l == primary {
			continue
		}
		m.Remotes++
		if r := configured[l].RIR; r == "" {
			regionsKnown = false
		} else if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	sort.Strings(regions)
	m.Regions = regions
	m.Allowed = AllowedRemoteFailures(m.Remotes)
	corroborating := []string{}
	for _, p := range m.Perspectives {
		if p.Primary {
			continue
		}
		switch p.State {
		case StateFail:
			m.FailingRemotes = append(m.FailingRemotes, p.Vantage.Label)
		case StateMayFail:
			m.MayFailRemotes = append(m.MayFailRemotes, p.Vantage.Label)
		}
		if p.State != StateFail && p.Vantage.RIR != "" && !slices.Contains(corroborating, p.Vantage.RIR) {
			corroborating = append(corroborating, p.Vantage.RIR)
		}
	}
	sort.Strings(corroborating)
	for _, v := range m.Missing {
		if v != primary {
			m.MayFailRemotes = append(m.MayFailRemotes, v)
		}
	}
	if p := byLabel[primary]; p != nil {
		m.PrimaryState = p.State
	}
	quorum := fmt.Sprintf("%d remote perspectives, at most %d may fail", m.Remotes, m.Allowed)
	if m.Remotes < 2 {
		quorum = fmt.Sprintf("%d remote perspective(s): the CA/B rule needs at least 2, so none may fail here", m.Remotes)
	}
	switch {
	case m.PrimaryState == "":
		m.Outcome, m.Reason = Unknown, fmt.Sprintf("the primary %s has no result for this domain", primary)
	case m.PrimaryState == StateFail:
		// Boulder asks the primary first and stops there.
		m.Outcome, m.Reason = Fail, fmt.Sprintf("the primary %s fails the CAA lookup%s; the CA stops before the remotes (shown for diagnosis)", primary, faultText(byLabel[primary]))
	case len(m.FailingRemotes) > m.Allowed:
		m.Outcome, m.Reason = Fail, fmt.Sprintf("%d remotes fail (%s); %s", len(m.FailingRemotes), strings.Join(m.FailingRemotes, ", "), quorum)
	case regionsKnown && m.Remotes > 0 && len(corroborating) < 2:
		m.Outcome = Fail
		m.Reason = fmt.Sprintf("the corroborating remotes span %d RIR region(s) (%s); the BR require at least 2", len(corroborating), listOrNone(corroborating))
	case m.PrimaryState == StateMayFail || len(m.FailingRemotes)+len(m.MayFailRemotes) > m.Allowed:
		m.Outcome = AtRisk
		m.Reason = fmt.Sprintf("passes unless the perspectives that may fail do (primary %s; remotes failing: %s; may fail: %s); %s",
			m.PrimaryState, listOrNone(m.FailingRemotes), listOrNone(m.MayFailRemotes), quorum)
	default:
		m.Outcome = Pass
		m.Reason = fmt.Sprintf("the primary succeeds and %d of %d remotes fail; %s", len(m.FailingRemotes), m.Remotes, quorum)
	}
	switch m.Outcome {
	case Pass, AtRisk:
		m.Decision = Issue
	case Fail:
		m.Decision = Refuse
	}
	m.Reproducible = true
	var notes []string
	if !opt.Date.IsZero() {
		m.MinRemotes = MinRemotes(opt.Date)
		var short []string
		if m.Remotes < m.MinRemotes {
			short = append(short, fmt.Sprintf("the BR require at least %d remotes on %s", m.MinRemotes, opt.Date.UTC().Format(time.DateOnly)))
		}
		if regionsKnown && len(regions) < 2 {
			short = append(short, "the BR require at least 2 RIR regions")
		}
		if len(short) > 0 {
			m.Reproducible = false
			region := fmt.Sprintf("%d region", len(regions))
			if len(regions) != 1 {
				region += "s"
			}
			if !regionsKnown {
				region = "unrecorded regions"
			}
			notes = append(notes, fmt.Sprintf("cannot reproduce the CA's decision: %d remotes in %s (%s)", m.Remotes, region, strings.Join(short, "; ")))
		}
	}
	if !regionsKnown && m.Remotes > 0 {
		notes = append(notes, "RIR regions not recorded for every remote: the diversity rule is not checked")
	}
	m.Note = strings.Join(notes, "; ")
	m.Servers = failingServers(m.Perspectives)
	m.Differences = differences(m.Perspectives)
	return m
}

func faultText(p *Perspective) string {
	if p == nil || p.Fault == "" {
		return ""
	}
	if p.Detail != "" {
		return fmt.Sprintf(" (%s: %s)", p.Fault, p.Detail)
	}
	return " (" + string(p.Fault) + ")"
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// failingServers lists each server that fails from some vantage, with the
// vantages that see it fail (and the NSID its replies carried there, when
// they carried one) and those that do not.
func failingServers(ps []*Perspective) []ServerSeen {
	var out []ServerSeen
	index := map[model.ServerRef]int{}
	for _, p := range ps {
		for _, s := range p.Failing {
			i, ok := index[s]
			if !ok {
				i = len(out)
				index[s] = i
				out = append(out, ServerSeen{Server: s, NSID: map[string]string{}})
			}
			out[i].Vantages = append(out[i].Vantages, p.Vantage.Label)
			if id := nsidOf(p.Domain, s); id != "" {
				out[i].NSID[p.Vantage.Label] = id
			}
		}
	}
	for i := range out {
		for _, p := range ps {
			if !slices.Contains(out[i].Vantages, p.Vantage.Label) && probed(p.Domain, out[i].Server) {
				out[i].Working = append(out[i].Working, p.Vantage.Label)
			}
		}
	}
	return out
}

func probed(d *model.Domain, ref model.ServerRef) bool {
	if d == nil {
		return false
	}
	for _, s := range d.Servers {
		if s.Ref() == ref {
			return true
		}
	}
	return false
}

// nsidOf finds the NSID (RFC 5001) in any reply of the server ref:
// anycast sites name themselves there, which tells a provider
// which instance is broken. Empty when the replies carry none.
func nsidOf(d *model.Domain, ref model.ServerRef) string {
	if d == nil {
		return ""
	}
	for _, s := range d.Servers {
		if s.Ref() != ref {
			continue
		}
		for _, r := range s.Results {
			if id := model.InstanceName(model.NSIDOf(r.Msg)); id != "" {
				return id
			}
		}
	}
	return ""
}

// maxDifferences bounds the matrix rows kept per domain: a server broken
// from one region shows in a handful of rows, and a report of thousands
// helps nobody.
const maxDifferences = 64

// differences is the part of the server × probe matrix on which the
// perspectives that returned results disagree, with a column per
// perspective: the cells a provider needs to find the region or the
// instance that answers differently.
func differences(ps []*Perspective) []Difference {
	type key struct {
		server model.ServerRef
		name   string
		probe  model.ProbeID
	}
	var keys []key
	cells := map[key]*Difference{}
	var with []*Perspective
	for _, p := range ps {
		if p.Domain == nil {
			continue
		}
		with = append(with, p)
		for _, s := range p.Domain.Servers {
			ref := s.Ref()
			for _, r := range s.Results {
				k := key{ref, r.Name.Display(), r.Probe}
				c := cells[k]
				if c == nil {
					c = &Difference{Server: ref, Name: k.name, Probe: r.Probe, Status: map[string]string{}, Sources: map[string]string{}}
					cells[k] = c
					keys = append(keys, k)
				}
				if _, seen := c.Status[p.Vantage.Label]; !seen {
					c.Status[p.Vantage.Label] = report.CleanText(string(r.Status))
					if ex := r.Exchange; ex != nil && ex.Source.IsValid() {
						c.Sources[p.Vantage.Label] = ex.Source.Addr().String()
					}
				}
			}
		}
	}
	if len(with) < 2 {
		return nil
	}
	var out []Difference
	for _, k := range keys {
		c := cells[k]
		first, differ := "", false
		for i, p := range with {
			st := c.Status[p.Vantage.Label]
			if i == 0 {
				first = st
			} else if st != first {
				differ = true
			}
		}
		if differ {
			out = append(out, *c)
			if len(out) == maxDifferences {
				break
			}
		}
	}
	return out
}
