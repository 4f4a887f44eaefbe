package runs

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/report"
)

// The CA's outcome for a domain checked from several vantage points.
const (
	MPICPass    = "pass"    // issuance goes ahead: the primary and enough remotes succeed
	MPICFail    = "fail"    // issuance fails: the primary fails, or more remotes than the quorum allows
	MPICAtRisk  = "at-risk" // passes now, but fails if the perspectives that may fail (intermittent, not checked) do
	MPICUnknown = "unknown" // the primary did not check this domain
)

// AllowedRemoteFailures is the CA/Browser Forum Baseline Requirements'
// quorum for multi-perspective issuance corroboration (BR §3.2.2.9): with
// 2 to 5 remote perspectives at most one may disagree, with 6 or more at
// most two. Fewer than 2 remotes do not meet the rule; none may fail.
func AllowedRemoteFailures(remotes int) int {
	switch {
	case remotes >= 6:
		return 2
	case remotes >= 2:
		return 1
	}
	return 0
}

// Perspective is one vantage point's check of a domain.
type Perspective struct {
	Vantage report.Vantage
	Primary bool
	Verdict report.Verdict
	Outcome report.Outcome // the resolver outcome this vantage predicts
	// State is how a CA's lookup from here goes: "fail" (servfail),
	// "may-fail" (intermittent, or not checked here), "ok".
	State   string
	Failing []string // failing servers, "ns (addr)"
	Record  *Record
}

// Perspective states.
const (
	StateOK      = "ok"
	StateFail    = "fail"
	StateMayFail = "may-fail"
)

// ServerSeen is one failing server and the vantage points that see it fail.
type ServerSeen struct {
	Server   string   // "ns (addr)"
	Vantages []string // labels, primary first
	NSID     map[string]string
	// Working are the vantages that reached it without failing: a server
	// broken in one region only shows here.
	Working []string
}

// MPIC is the CA's multi-perspective view of one domain.
type MPIC struct {
	Domain         string
	Primary        string
	Perspectives   []*Perspective // primary first, then remotes by label
	Remotes        int
	Allowed        int // remote failures the quorum allows
	FailingRemotes []string
	MayFailRemotes []string
	PrimaryState   string
	Outcome        string
	Reason         string
	Servers        []ServerSeen
	Missing        []string // vantages in the set with no line for this domain
}

// Judge applies the CA rule to one domain's records, one per vantage
// (the last one wins if a vantage has several). primary is the primary's
// label; vantages lists every vantage of the set, so a vantage without
// this domain counts as not checked.
//
// Every string the verdict carries is cleaned (report.CleanDomain,
// CleanVantage): it is read from saved JSON and printed.
func Judge(domain string, recs []*Record, primary string, vantages []string) *MPIC {
	domain, primary = report.CleanText(domain), report.CleanText(primary)
	cleaned := make([]string, len(vantages))
	for i, v := range vantages {
		cleaned[i] = report.CleanText(v)
	}
	vantages = cleaned
	clean := make([]*Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Domain, c.Vantage = report.CleanDomain(r.Domain), report.CleanVantage(r.Vantage)
		clean[i] = &c
	}
	recs = clean
	m := &MPIC{Domain: domain, Primary: primary}
	byLabel := map[string]*Perspective{}
	for _, r := range recs {
		p := &Perspective{Vantage: r.Vantage, Primary: r.Vantage.Label == primary, Verdict: r.Domain.Verdict,
			Outcome: r.Domain.Outcome, Record: r}
		switch {
		case r.Domain.Verdict == report.VerdictError || r.Domain.Outcome == report.OutcomeUnknown:
			p.State = StateMayFail
		case r.Domain.Outcome == report.OutcomeServfail:
			p.State = StateFail
		case r.Domain.Outcome == report.OutcomeIntermittent:
			p.State = StateMayFail
		default:
			p.State = StateOK
		}
		for _, n := range r.Domain.Names {
			for _, s := range n.Failing {
				if !slices.Contains(p.Failing, s) {
					p.Failing = append(p.Failing, s)
				}
			}
		}
		byLabel[r.Vantage.Label] = p
	}
	for _, v := range vantages {
		if byLabel[v] == nil {
			m.Missing = append(m.Missing, v)
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
	for _, v := range vantages {
		if v != primary {
			m.Remotes++
		}
	}
	m.Allowed = AllowedRemoteFailures(m.Remotes)
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
	}
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
		m.Outcome, m.Reason = MPICUnknown, fmt.Sprintf("the primary %s has no result for this domain", primary)
	case m.PrimaryState == StateFail:
		m.Outcome, m.Reason = MPICFail, fmt.Sprintf("the primary %s fails the CAA lookup", primary)
	case len(m.FailingRemotes) > m.Allowed:
		m.Outcome, m.Reason = MPICFail, fmt.Sprintf("%d remotes fail (%s); %s", len(m.FailingRemotes), strings.Join(m.FailingRemotes, ", "), quorum)
	case m.PrimaryState == StateMayFail || len(m.FailingRemotes)+len(m.MayFailRemotes) > m.Allowed:
		m.Outcome = MPICAtRisk
		m.Reason = fmt.Sprintf("passes unless the perspectives that may fail do (primary %s; remotes failing: %s; may fail: %s); %s",
			m.PrimaryState, listOrNone(m.FailingRemotes), listOrNone(m.MayFailRemotes), quorum)
	default:
		m.Outcome = MPICPass
		m.Reason = fmt.Sprintf("the primary succeeds and %d of %d remotes fail; %s", len(m.FailingRemotes), m.Remotes, quorum)
	}
	m.Servers = failingServers(m.Perspectives)
	return m
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
	index := map[string]int{}
	for _, p := range ps {
		for _, s := range p.Failing {
			i, ok := index[s]
			if !ok {
				i = len(out)
				index[s] = i
				out = append(out, ServerSeen{Server: s, NSID: map[string]string{}})
			}
			out[i].Vantages = append(out[i].Vantages, p.Vantage.Label)
			if id := nsidOf(p.Record.Domain, s); id != "" {
				out[i].NSID[p.Vantage.Label] = id
			}
		}
	}
	for i := range out {
		for _, p := range ps {
			if !slices.Contains(out[i].Vantages, p.Vantage.Label) && probed(p.Record.Domain, out[i].Server) {
				out[i].Working = append(out[i].Working, p.Vantage.Label)
			}
		}
	}
	return out
}

func probed(d *report.Domain, label string) bool {
	for _, s := range d.Servers {
		if serverLabel(s.NS, s.Addr.String()) == label {
			return true
		}
	}
	return false
}

// nsidOf finds the NSID (RFC 5001) in any reply of the server called
// label: anycast sites name themselves there, which tells a provider
// which instance is broken. Empty when the replies carry none.
func nsidOf(d *report.Domain, label string) string {
	for _, s := range d.Servers {
		if serverLabel(s.NS, s.Addr.String()) != label {
			continue
		}
		for _, r := range s.Results {
			if id := probes.InstanceName(probes.NSIDOf(r.Msg)); id != "" {
				return id
			}
		}
	}
	return ""
}
