package runs

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// Kinds of change between two runs of a domain. They are part of diff's
// JSON output: add kinds, never rename them.
const (
	ChangeNewlyFailing  = "newly-failing"  // verdict became fail (or the domain is new and fails)
	ChangeFixed         = "fixed"          // verdict was fail and is no longer
	ChangeVerdict       = "verdict"        // any other verdict change (pass↔warn, to or from error)
	ChangeOutcome       = "outcome"        // the predicted resolver outcome changed
	ChangePolicy        = "policy"         // may the CA issue, or which name decides, changed
	ChangeNSSet         = "ns-set"         // a zone's NS names changed
	ChangeAddresses     = "addresses"      // an NS name's addresses changed
	ChangeFindingNew    = "finding-new"    // a finding appeared at a server
	ChangeFindingGone   = "finding-gone"   // a finding is no longer seen at a server
	ChangeRRSIGExpiring = "rrsig-expiring" // an RRSIG in the newer run expires within the warning window (or has)
	ChangeDomainNew     = "domain-new"     // only in the newer run
	ChangeDomainGone    = "domain-gone"    // only in the older run
)

// Change is one difference for one domain. Worse marks what a monitoring
// job should alert on: diff exits 3 when any change is worse.
type Change struct {
	Domain string `json:"domain"`
	Kind   string `json:"change"`
	Worse  bool   `json:"worse"`
	Zone   string `json:"zone,omitempty"`
	Server string `json:"server,omitempty"` // "ns (addr)"
	Code   string `json:"code,omitempty"`   // finding code, for finding changes
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// DiffOptions tune Compare.
type DiffOptions struct {
	// ExpiryWarning: RRSIGs in the newer run that expire within this much
	// of the time it was checked are reported (0: not checked).
	ExpiryWarning time.Duration
}

// diffVerdictRank is how diff ranks verdicts for "worse": unlike
// model.Verdict.Rank, a domain that can no longer be checked (error)
// counts as worse than one that failed, so a cron job is told when it
// loses sight of a domain. Kept as it was; see docs/history.md.
var diffVerdictRank = map[model.Verdict]int{model.VerdictPass: 0, model.VerdictWarn: 1, model.VerdictFail: 2, model.VerdictError: 3}

var outcomeRank = map[model.Outcome]int{model.OutcomeOK: 0, model.OutcomeIntermittent: 1, model.OutcomeServfail: 2}

// Compare lists what changed for one domain from old to new. Either may
// be nil: the domain is in one run only.
func Compare(old, new *Record, opt DiffOptions) []Change {
	switch {
	case old == nil && new == nil:
		return nil
	case old == nil:
		d := new.Domain
		c := Change{Domain: d.Domain, Kind: ChangeDomainNew, New: string(d.Verdict), Detail: "not in the older run"}
		if d.Verdict == model.VerdictFail {
			c.Kind, c.Worse = ChangeNewlyFailing, true
			c.Detail = "not in the older run; fails: " + failingSummary(d)
		}
		return append([]Change{c}, expiring(new, opt)...)
	case new == nil:
		return []Change{{Domain: old.Domain.Domain, Kind: ChangeDomainGone, Old: string(old.Domain.Verdict), Detail: "not in the newer run"}}
	}
	o, n := old.Domain, new.Domain
	var out []Change
	add := func(c Change) { c.Domain = n.Domain; out = append(out, c) }

	if o.Verdict != n.Verdict {
		c := Change{Kind: ChangeVerdict, Old: string(o.Verdict), New: string(n.Verdict), Worse: diffVerdictRank[n.Verdict] > diffVerdictRank[o.Verdict]}
		switch {
		case n.Verdict == model.VerdictFail && o.Verdict != model.VerdictError:
			c.Kind, c.Detail = ChangeNewlyFailing, failingSummary(n)
		case o.Verdict == model.VerdictFail && n.Verdict != model.VerdictError:
			c.Kind = ChangeFixed
		case n.Verdict == model.VerdictError:
			c.Detail = "not checked: " + n.Err
		}
		add(c)
	}
	if o.Outcome != n.Outcome && o.Outcome != "" && n.Outcome != "" {
		add(Change{Kind: ChangeOutcome, Old: string(o.Outcome), New: string(n.Outcome), Worse: outcomeRank[n.Outcome] > outcomeRank[o.Outcome]})
	}
	if op, np := o.Policy, n.Policy; op != nil && np != nil {
		if op.Issue != np.Issue || op.Wildcard != np.Wildcard || op.Relevant != np.Relevant || op.CA != np.CA {
			worse := (op.Issue == model.PermissionPermitted && np.Issue != model.PermissionPermitted) || (op.Wildcard == model.PermissionPermitted && np.Wildcard != model.PermissionPermitted)
			add(Change{Kind: ChangePolicy, Old: policyString(op), New: policyString(np), Worse: worse, Detail: np.Reason})
		}
	}
	for _, c := range nsChanges(o, n) {
		add(c)
	}
	for _, c := range findingChanges(o, n) {
		add(c)
	}
	return append(out, expiring(new, opt)...)
}

func policyString(p *model.Policy) string {
	s := fmt.Sprintf("%s: issue %s, wildcard %s", p.CA, p.Issue, p.Wildcard)
	if p.Relevant != "" {
		s += ", decided at " + p.Relevant
	}
	return s
}

// failingSummary names the failing servers, or the fail findings' codes.
func failingSummary(d *model.Domain) string {
	parts := model.Labels(d.FailingServers())
	if len(parts) > 0 {
		return "failing servers: " + strings.Join(parts, ", ")
	}
	for _, f := range d.Findings {
		if f.Severity == model.SeverityFail {
			s := string(f.Code)
			if !f.Server.IsZero() {
				s += " at " + f.Server.String()
			}
			if !slices.Contains(parts, s) {
				parts = append(parts, s)
			}
		}
	}
	return strings.Join(parts, ", ")
}

// nsChanges compares each zone's NS names, and each NS name's addresses,
// for the zones both runs probed.
func nsChanges(o, n *model.Domain) []Change {
	type zoneView struct {
		ns    map[string][]string // NS name -> addresses
		names []string
	}
	view := func(d *model.Domain) (map[string]*zoneView, []string) {
		m := map[string]*zoneView{}
		var zones []string
		for _, s := range d.Servers {
			z := s.Zone.Display()
			v := m[z]
			if v == nil {
				v = &zoneView{ns: map[string][]string{}}
				m[z] = v
				zones = append(zones, z)
			}
			ns := model.TrimDot(strings.ToLower(s.NS))
			if _, ok := v.ns[ns]; !ok {
				v.names = append(v.names, ns)
			}
			if a := s.Addr.String(); !slices.Contains(v.ns[ns], a) {
				v.ns[ns] = append(v.ns[ns], a)
			}
		}
		for _, v := range m {
			sort.Strings(v.names)
			for _, a := range v.ns {
				sort.Strings(a)
			}
		}
		return m, zones
	}
	ov, _ := view(o)
	nv, zones := view(n)
	var out []Change
	for _, z := range zones {
		a, b := ov[z], nv[z]
		if a == nil {
			continue // a zone the older run did not reach: the names changed, said elsewhere
		}
		if !slices.Equal(a.names, b.names) {
			out = append(out, Change{Kind: ChangeNSSet, Zone: z, Old: strings.Join(a.names, " "), New: strings.Join(b.names, " ")})
		}
		for _, ns := range b.names {
			if olds, ok := a.ns[ns]; ok && !slices.Equal(olds, b.ns[ns]) {
				out = append(out, Change{Kind: ChangeAddresses, Zone: z, Server: ns, Old: strings.Join(olds, " "), New: strings.Join(b.ns[ns], " ")})
			}
		}
	}
	return out
}

// findingChanges compares the findings per server: a code that appears at
// a server (on any name or probe) is new, one no longer seen there is gone.
func findingChanges(o, n *model.Domain) []Change {
	type key struct{ server, code string }
	collect := func(d *model.Domain) (map[key]model.Finding, []key) {
		m := map[key]model.Finding{}
		var order []key
		for _, f := range d.Findings {
			if f.Severity == model.SeverityInfo {
				continue // facts about the host running caaprobe, not the servers
			}
			at := f.Server
			at.NS = strings.ToLower(at.NS)
			k := key{at.String(), string(f.Code)}
			if _, ok := m[k]; !ok {
				m[k] = f
				order = append(order, k)
			}
		}
		return m, order
	}
	om, oorder := collect(o)
	nm, norder := collect(n)
	var out []Change
	for _, k := range norder {
		if _, ok := om[k]; !ok {
			f := nm[k]
			out = append(out, Change{Kind: ChangeFindingNew, Zone: f.Zone, Server: k.server, Code: k.code, New: string(f.Severity),
				Worse: f.Severity == model.SeverityFail || f.Severity == model.SeverityWarn, Detail: f.Detail})
		}
	}
	for _, k := range oorder {
		if _, ok := nm[k]; !ok {
			f := om[k]
			out = append(out, Change{Kind: ChangeFindingGone, Zone: f.Zone, Server: k.server, Code: k.code, Old: string(f.Severity), Detail: f.Detail})
		}
	}
	return out
}

// expiring lists the RRSIGs in the record's replies that expire within
// the warning window of when the record was checked, once per signature
// (owner, type covered, key tag), naming the first server that sent it.
func expiring(rec *Record, opt DiffOptions) []Change {
	if opt.ExpiryWarning <= 0 || rec.Time.IsZero() {
		return nil
	}
	var out []Change
	seen := map[string]bool{}
	for _, s := range rec.Domain.Servers {
		for _, r := range s.Results {
			if r.Msg == nil {
				continue
			}
			for _, sig := range RRSIGs(r.Msg) {
				left := Remaining(sig, rec.Time)
				if left > opt.ExpiryWarning {
					continue
				}
				k := fmt.Sprintf("%s|%d|%d|%d", strings.ToLower(sig.Hdr.Name), sig.TypeCovered, sig.KeyTag, sig.Expiration)
				if seen[k] {
					continue
				}
				seen[k] = true
				when := "expires in " + left.Round(time.Minute).String()
				if left <= 0 {
					when = "expired " + (-left).Round(time.Minute).String() + " before the check"
				}
				out = append(out, Change{Domain: rec.Domain.Domain, Kind: ChangeRRSIGExpiring, Worse: true, Zone: s.Zone.Display(),
					Server: s.Ref().String(),
					New:    expiryTime(sig, rec.Time).UTC().Format(time.RFC3339),
					Detail: fmt.Sprintf("RRSIG %s %s by %s (key %d) %s", model.TrimDot(sig.Hdr.Name), dns.TypeToString[sig.TypeCovered],
						model.TrimDot(sig.SignerName), sig.KeyTag, when)})
			}
		}
	}
	return out
}

// RRSIGs are the signatures in every section of a reply.
func RRSIGs(m *dns.Msg) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if sig, ok := rr.(*dns.RRSIG); ok {
				out = append(out, sig)
			}
		}
	}
	return out
}

// Remaining is how long after at the signature expires (negative once it
// has), reading the 32-bit expiration in serial number arithmetic around
// at (RFC 4034 §3.1.5).
func Remaining(sig *dns.RRSIG, at time.Time) time.Duration {
	return time.Duration(int64(int32(sig.Expiration-uint32(at.Unix())))) * time.Second
}

func expiryTime(sig *dns.RRSIG, at time.Time) time.Time {
	return at.Truncate(time.Second).Add(Remaining(sig, at))
}
