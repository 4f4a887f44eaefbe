// Package unbound is caaprobe's model of the CA's validating resolver:
// Unbound with use-caps-for-id, validating, as Let's Encrypt runs it. From
// one name's servers and their probe results (and the zone's DNSSEC state)
// it says what Unbound returns: ok, servfail or intermittent, the servers it
// routes around and the fault it cannot route around. Every rule (R1–R7,
// R9, R10; R8, the domain's outcome, is the CA model's) is in README.md
// beside this file with its evidence: the Unbound source it follows, or the
// run of the real Unbound that measured it. Pure: no I/O, no clock.
package unbound

import (
	"fmt"
	"sort"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/predict"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Kind is how a CA's resolver fares with one server for one name.
type Kind int

const (
	// Answers: the resolver takes the server's reply as the answer
	// (NOERROR with or without records, or NXDOMAIN).
	Answers Kind = iota
	// EmptyNoData: NOERROR with nothing in any section (no SOA either).
	// Unbound from 1.19 asks another server first (EMPTY_NODATA_RETRY_COUNT)
	// and takes it only when no server does better (rule R5).
	EmptyNoData
	// Fails: the resolver discards the reply (or gets none) and asks another
	// server (rules R2–R4).
	Fails
	// Untested: this host could not reach the server (address family).
	Untested
)

// Path is what the CA's resolver gets from one server for one name.
type Path struct {
	Server *model.Server
	// Ref is the server, with the instance that answered when the
	// answers of its instances differ (what Failing and Working hold).
	Ref model.ServerRef
	// Label is Ref in the explanations' words: "ns1.example (192.0.2.1)",
	// with the instance, or "(a reply without NSID)" when it named none.
	Label string
	Kind  Kind
	// Answer, for Answers and EmptyNoData: the result whose reply the
	// resolver takes, its RCODE and CAA records.
	Answer *model.Result
	Rcode  int
	RRset  []*dns.CAA
	// Key tells answers apart: two paths with equal keys give the CA the
	// same data (RCODE and the canonical RRset).
	Key string
	// Fault is the result that shows what the server does wrong on the
	// resolver's path: why it Fails, or the detour it costs when it Answers
	// only after a fallback (EDNSFallback).
	Fault *model.Result
	// EDNSFallback: the server fails queries with EDNS (FORMERR or NOTIMP)
	// and answers without; Unbound retries without EDNS (rule R3).
	EDNSFallback bool
	// CaseChanged: the server echoes the question in another case, which
	// starts Unbound's 0x20 fallback (rule R6).
	CaseChanged bool
	// Lame: the reply is a referral (upward or sideways), not an answer.
	Lame bool
	// Signed: the validator expects signatures from this zone.
	Signed bool
	// DropsDO: no reply to any query with EDNS and DO, a reply without
	// EDNS. Unbound falls back without EDNS only after FORMERR or NOTIMP,
	// never after a timeout (rule R4).
	DropsDO bool
}

// Model is the Unbound resolver model (predict.Model).
type Model struct{}

// Name implements predict.Model.
func (Model) Name() string { return "unbound" }

// Probes implements predict.Model: what Unbound sends, CAA over UDP with
// EDNS 0, DO, a 1232-byte buffer and no option, in a random spelling
// (use-caps-for-id), its own spelling first; the lowercase and uppercase
// probes are its extreme spellings (R1); caa-noedns is its retry without
// EDNS (R3).
func (Model) Probes() []model.ProbeID {
	return append(append([]model.ProbeID(nil), resolverProbes...), catalog.ProbeCAANoEDNS)
}

// Resolve implements predict.Model (the rules of README.md).
func (Model) Resolve(n *model.Name, servers []*model.Server) predict.Name {
	return resolve(n, servers).result()
}

// resolverProbes are the probes on Unbound's path (R1), the random
// spelling first: the reply the resolver itself would get.
var resolverProbes = []model.ProbeID{catalog.ProbeCAA0x20, catalog.ProbeCAA, catalog.ProbeCAAUpper}

// passes are the fail-severity codes that do not make the resolver discard
// a reply: they are about the data (the CA reads it), about which name the
// answer is for, or are judged per zone (rules R1, R7), or the reply stays
// usable and a rule decides what Unbound returns (R3 the EDNS fallback, R4
// no fallback after a drop, R5 the empty NODATA).
var passes = map[model.Code]bool{
	catalog.CodeInvalidCAA:          true, // data: the CA reads the RRset (CA rule C4)
	catalog.CodeNXDomainExisting:    true, // a wrong answer, but an answer (R7)
	catalog.CodeCaseSensitiveAnswer: true, // the 0x20 spelling's reply is the one the resolver gets (R7)
	catalog.CodeFamilyUnreachable:   true, // this host's limit, not the server's
	catalog.CodeEDNSIntolerant:      true, // decided by the EDNS fallback rule (R3)
	catalog.CodeDOIntolerant:        true, // what the CAA probes got decides (R3, R4)
	catalog.CodeNegativeWithoutSOA:  true, // an empty NODATA (R5)
	catalog.CodeNegativeWrongSOA:    true, // the scrubber leaves an empty NODATA (R5)
}

// ServerPath classifies what the resolver gets from server s for name.
// signed says the validator expects the name's zone to be signed (its
// DNSSEC state is anything but insecure): a reply without EDNS carries no
// signatures there, so the EDNS fallback cannot rescue it.
func ServerPath(s *model.Server, name model.DomainName, signed bool) Path {
	p := Path{Server: s, Ref: s.Ref(), Label: s.Ref().String(), Signed: signed}
	by := map[model.ProbeID]*model.Result{}
	for _, r := range s.Results {
		if r.Name == name {
			by[r.Probe] = r
		}
	}
	var rs []*model.Result
	for _, id := range resolverProbes {
		if r := by[id]; r != nil {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		p.Kind = Untested
		return p
	}
	untested := true
	for _, r := range rs {
		if !r.Has(catalog.CodeFamilyUnreachable) {
			untested = false
		}
		if r.Has(catalog.CodeCaseNotPreserved) {
			p.CaseChanged = true
		}
	}
	if untested {
		p.Kind = Untested
		return p
	}
	// R3: FORMERR or NOTIMP to a query with EDNS, and an answer without.
	if base, plain := by[catalog.ProbeCAA], by[catalog.ProbeCAANoEDNS]; base != nil && plain != nil &&
		base.Has(catalog.CodeEDNSIntolerant) && (base.Rcode == dns.RcodeFormatError || base.Rcode == dns.RcodeNotImplemented) &&
		plain.Answered() && !failsLookup(plain, false) && !signed {
		p.EDNSFallback, p.Fault = true, base
	}
	if plain := by[catalog.ProbeCAANoEDNS]; plain != nil && plain.Answered() {
		p.DropsDO = true
		for _, r := range rs {
			if r.Exchange == nil || r.Exchange.Reply != nil || r.Exchange.RejectedCount > 0 || r.Has(catalog.CodeFamilyUnreachable) {
				p.DropsDO = false
			}
		}
	}
	// The lowercase probe first: the cross-checks (EDNS) mark it.
	for _, id := range []model.ProbeID{catalog.ProbeCAA, catalog.ProbeCAA0x20, catalog.ProbeCAAUpper} {
		if r := by[id]; r != nil && failsLookup(r, p.EDNSFallback) {
			p.Kind, p.Fault = Fails, r
			return p
		}
	}
	// The reply the resolver takes: its own spelling (0x20) first.
	ans := rs[0]
	if p.EDNSFallback {
		ans = by[catalog.ProbeCAANoEDNS]
	}
	if !ans.Answered() {
		// A failed result always carries a fail finding; this is a
		// safety net for a result judged without one.
		p.Kind, p.Fault = Fails, ans
		return p
	}
	if lame(ans) {
		p.Kind, p.Fault, p.Lame = Fails, ans, true
		return p
	}
	p.Answer, p.Rcode = ans, ans.Rcode
	for _, rr := range ans.Records {
		if c, ok := rr.(*dns.CAA); ok {
			p.RRset = append(p.RRset, c)
		}
	}
	p.Key = key(ans)
	p.Kind = Answers
	if emptyNoData(ans, s.Zone.String()) {
		p.Kind = EmptyNoData
	}
	return p
}

// instancePaths are the other answers of an address whose anycast
// instances answer differently (instance-inconsistent): which one the
// resolver gets depends on the instance it reaches, so each is a variant
// (R6 applied within one address). The cross-check marks only the plain
// CAA queries (any spelling or transport, DO or not, an ignored option):
// each is what the resolver's query gets from that instance.
func instancePaths(s *model.Server, name model.DomainName, p Path) []Path {
	var out []Path
	seen := map[string]bool{p.Key: true}
	for _, r := range s.Results {
		if r.Name != name || !r.Has(catalog.CodeInstanceInconsistent) || !r.Answered() || failsLookup(r, false) {
			continue
		}
		k := key(r)
		if seen[k] {
			continue
		}
		seen[k] = true
		v := p
		v.nameInstance(r)
		v.Answer, v.Rcode, v.Key, v.RRset = r, r.Rcode, k, nil
		for _, rr := range r.Records {
			if c, ok := rr.(*dns.CAA); ok {
				v.RRset = append(v.RRset, c)
			}
		}
		out = append(out, v)
	}
	return out
}

// nameInstance adds the instance (NSID) that sent r to the path's server,
// or says in the label that the reply named none (the resolver's own
// query carries no NSID option).
func (p *Path) nameInstance(r *model.Result) {
	p.Ref = p.Server.Ref()
	p.Ref.Instance = r.Instance()
	p.Label = p.Ref.String()
	if p.Ref.Instance == "" {
		p.Label += " (a reply without NSID)"
	}
}

// failsLookup reports a result the resolver discards: any fail-severity
// finding but those in passes. With ednsFallback, the FORMERR or NOTIMP
// that the retry without EDNS gets past does not count either.
func failsLookup(r *model.Result, ednsFallback bool) bool {
	for _, is := range r.Issues {
		if passes[is.Code] || catalog.Info(is.Code).Severity != model.SeverityFail {
			continue
		}
		if ednsFallback && (is.Code == catalog.CodeRcodeFormerr || is.Code == catalog.CodeRcodeNotimp) {
			continue
		}
		return true
	}
	return false
}

// lame reports a NOERROR reply that answers nothing and refers the resolver
// elsewhere: no answer records, AA clear, NS records in the authority
// section. Unbound classifies it as a referral or lame reply
// (iter_resptype.c response_type_from_server), never as the answer.
func lame(r *model.Result) bool {
	m := r.Msg
	if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) > 0 || m.Authoritative {
		return false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}

// emptyNoData is NOERROR with nothing in any section (the OPT record
// aside): the "entirely empty message" of Unbound's
// iter_resptype.c response_type_from_server. Authority records outside
// zone count as nothing: Unbound's scrubber (iter_scrub.c) removes them
// before the reply is classified, so a NODATA with another zone's SOA
// (negative-wrong-soa) is empty too.
func emptyNoData(r *model.Result, zone string) bool {
	m := r.Msg
	if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) > 0 {
		return false
	}
	for _, rr := range m.Ns {
		if zone == "" || dns.IsSubDomain(zone, rr.Header().Name) {
			return false
		}
	}
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			return false
		}
	}
	return true
}

// key is the RCODE and the canonical (lowercase, sorted) CAA RRset.
func key(r *model.Result) string {
	var rd []string
	for _, rr := range r.Records {
		rd = append(rd, strings.ToLower(strings.TrimPrefix(rr.String(), rr.Header().String())))
	}
	sort.Strings(rd)
	return wire.RcodeText(r.Rcode) + " [" + strings.Join(rd, "; ") + "]"
}

// result is the model's working record for one name, turned into a
// predict.Name by result().
type result struct {
	name     *model.Name
	outcome  model.Outcome
	paths    []Path
	variants []predict.Variant
	working  []model.ServerRef
	failing  []model.ServerRef
	// workingLabels are the working servers in the explanation's words
	// (their paths' labels).
	workingLabels []string
	// capsFail: a server changed the question's case and the servers'
	// answers differ, so Unbound's 0x20 fallback fails every lookup that
	// reaches that server first (R6): some lookups SERVFAIL.
	capsFail bool
	rules    []string
}

func (r *result) rule(id string) {
	for _, x := range r.rules {
		if x == id {
			return
		}
	}
	r.rules = append(r.rules, id)
}

// resolve predicts the resolver's answer for n from the servers of its
// zone (the rules of README.md).
func resolve(n *model.Name, servers []*model.Server) *result {
	out := &result{name: n}
	if n.Err != "" {
		// The engine found the lookup broken before any server was asked
		// (a CNAME loop or an overlong chain, an undiscoverable name):
		// Unbound returns SERVFAIL (R10).
		out.outcome = model.OutcomeServfail
		out.rule("R10")
		return out
	}
	out.rule("R1")
	// The validator expects signatures unless the zone is known to be
	// insecure (or DNSSEC was not judged at all).
	signed := n.DNSSEC != model.DNSSECInsecure && n.DNSSEC != model.DNSSECUnvalidated
	var answers, empties []Path
	untested, failing := 0, 0
	for _, s := range servers {
		if s.Zone != n.Zone || !s.HasName(n.Name) {
			continue
		}
		p := ServerPath(s, n.Name, signed)
		out.paths = append(out.paths, p)
		switch p.Kind {
		case Answers:
			others := instancePaths(s, n.Name, p)
			if len(others) > 0 {
				// Name the instance on each answer's path: the provider
				// fixes a site, not an address.
				p.nameInstance(p.Answer)
				out.paths[len(out.paths)-1] = p
				out.rule("R6")
			}
			answers = append(answers, p)
			answers = append(answers, others...)
		case EmptyNoData:
			empties = append(empties, p)
			out.rule("R5")
		case Fails:
			failing++
			out.rule("R2")
		case Untested:
			untested++
			out.rule("R9")
		}
		if p.EDNSFallback || p.Signed && p.Fault != nil && p.Fault.Has(catalog.CodeEDNSIntolerant) {
			out.rule("R3")
		}
		if p.DropsDO || p.Kind == Fails && dropped(p.Fault) {
			out.rule("R4")
		}
	}
	taken := answers
	if len(answers) == 0 {
		// R5: an empty NODATA is accepted when no server does better.
		taken = empties
	}
	for _, p := range out.paths {
		switch {
		case p.Kind == Fails, p.Kind == EmptyNoData && len(answers) > 0:
			out.failing = append(out.failing, p.Ref)
		case p.Kind != Untested:
			out.working = append(out.working, p.Ref)
			out.workingLabels = append(out.workingLabels, p.Label)
		}
	}
	if len(taken) == 0 {
		if failing == 0 && untested > 0 {
			out.outcome = model.OutcomeUnknown
		} else {
			out.outcome = model.OutcomeServfail
		}
		return out
	}
	addVariants(out, taken)
	out.outcome = model.OutcomeOK
	for _, v := range out.variants {
		if v.Rcode == dns.RcodeNameError {
			out.rule("R7")
		}
	}
	if len(out.variants) > 1 {
		out.outcome = model.OutcomeIntermittent
		out.rule("R6")
		// R6: a lookup that reaches a server that changes the question's
		// case first runs Unbound's 0x20 fallback, which compares the
		// servers' answers and fails on a difference; a lookup that
		// reaches another server first takes its answer.
		var keep []Path
		for _, p := range taken {
			if p.CaseChanged {
				out.capsFail = true
			} else {
				keep = append(keep, p)
			}
		}
		if out.capsFail {
			out.variants = nil
			addVariants(out, keep)
			if len(keep) == 0 {
				out.outcome = model.OutcomeServfail
			}
		}
	}
	return out
}

// addVariants groups the paths' answers by key, in server order.
func addVariants(out *result, paths []Path) {
	for _, p := range paths {
		i := 0
		for i < len(out.variants) && out.variants[i].Key != p.Key {
			i++
		}
		if i == len(out.variants) {
			out.variants = append(out.variants, predict.Variant{Key: p.Key, Rcode: p.Rcode, RRset: p.RRset})
		}
		out.variants[i].Servers = append(out.variants[i].Servers, p.Label)
	}
}

// result is what the CA model reads: the outcome and servers, and the
// model's words for what fails and what the detours cost.
func (r *result) result() predict.Name {
	out := predict.Name{Name: r.name, Outcome: r.outcome, Variants: r.variants, Working: r.working, Failing: r.failing,
		Rules: r.rules, Detail: r.paths}
	if r.capsFail {
		out.FailsFirst = caseChangers(r.paths)
		out.FailsFirstNote = " (measured with Unbound 1.17: 6 of 10 lookups)"
		out.Reason = fmt.Sprintf("the servers' answers differ and %s changes the question's case, so the resolver's 0x20 fallback fails", strings.Join(out.FailsFirst, ", "))
	}
	out.Fault = failureText(r)
	if r.outcome == model.OutcomeOK {
		out.Detour = detourText(r)
	}
	return out
}
