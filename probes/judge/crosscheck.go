package judge

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Cross-checks compare results with each other: one probe alone cannot see
// that the answer depends on the spelling, on EDNS, or on the server. They
// are pure: each returns the results whose findings it would change, with
// their new findings (Amended), and writes nothing; the engine applies
// them (Apply), so what the judge produced stays as it was until then and
// a cross-check can be run again on the same results.

// Amended is one result's findings as a cross-check has them.
type Amended struct {
	Result *model.Result
	Issues []model.Issue
}

// Apply gives each amended result its new findings.
func Apply(as []Amended) {
	for _, a := range as {
		a.Result.Issues = a.Issues
	}
}

// amend runs check over copies of results (their findings cloned), so the
// results given are never written, and returns those whose findings the
// check changed.
func amend(results []*model.Result, check func([]*model.Result)) []Amended {
	copies := make([]*model.Result, len(results))
	for i, r := range results {
		if r != nil {
			c := *r
			c.Issues = slices.Clone(r.Issues)
			copies[i] = &c
		}
	}
	check(copies)
	var out []Amended
	for i, c := range copies {
		if c != nil && !slices.Equal(c.Issues, results[i].Issues) {
			out = append(out, Amended{Result: results[i], Issues: c.Issues})
		}
	}
	return out
}

// CheckServer compares the results of one server address for one relevant
// name: spellings against each other and EDNS against no EDNS.
//
// A result that failed on this host (Local) is left out of every
// comparison: a socket this host could not open says nothing about how
// the server treats a spelling, EDNS or a transport.
func CheckServer(results []*model.Result) []Amended { return amend(results, checkServer) }

func checkServer(results []*model.Result) {
	results = slices.DeleteFunc(slices.Clone(results), (*model.Result).Local)
	by := map[model.ProbeID]*model.Result{}
	for _, r := range results {
		by[r.Probe] = r
	}
	checkTimeouts(results)
	checkSpellings(by, checkInstances(results))
	checkEDNS(by)
	checkConformance(by)
}

// conformance reports whether r is the result of a conformance probe (set
// edns or id).
func conformance(r *model.Result) bool {
	p, ok := catalog.ProbeByID(r.Probe)
	return ok && p.Conformance()
}

// checkTimeouts turns the timeouts of a server that answered the same kind
// of query (type and transport) on another probe into intermittent-timeout
// with counts: the server can answer it, so the lost replies are loss, not
// a refusal to answer. A server that drops all CAA keeps its timeouts, even
// on a lossy path. A server that drops only some spellings is reported here
// as intermittent too (both fail; the detail gives the counts).
// This runs before the other cross-checks, which ignore what it converts.
func checkTimeouts(results []*model.Result) {
	answered, attempts := 0, 0
	answeredForm := map[string]bool{}
	for _, r := range results {
		// An odd form of query (DO clear, an option) answered says nothing
		// about loss on the plain form: a server that drops DO queries
		// keeps its timeouts.
		if r == nil || r.Exchange == nil || conformance(r) {
			continue
		}
		attempts += r.Exchange.Attempts
		if r.Exchange.Reply != nil {
			answered++
			answeredForm[queryForm(r)] = true
		}
	}
	for _, r := range results {
		if r == nil || r.Exchange == nil || !answeredForm[queryForm(r)] {
			continue
		}
		for i, is := range r.Issues {
			if is.Code == catalog.CodeTimeout {
				r.Issues[i] = model.Issue{Code: catalog.CodeIntermittentTimeout, Detail: fmt.Sprintf(
					"no reply to %d attempts for this probe, though the server answered this kind of query on other probes: answered %d of %d attempts for this name",
					r.Exchange.Attempts, answered, attempts)}
			}
		}
	}
}

// queryForm is the kind of query a result's probe sent: type, transport
// and DO. A server that drops every query with DO set and answers the
// same query without it is not losing packets (do-intolerant).
func queryForm(r *model.Result) string {
	p, _ := catalog.ProbeByID(r.Probe)
	return fmt.Sprint(r.QType, r.Transport, p.DO)
}

// checkSpellings compares the answers to the three spellings of CAA. When
// the address is instance-inconsistent, an answer that one of its
// instances gave is no case fault: the resolver probes carry no NSID
// (they are the CA resolver's query byte for byte), so which instance
// sent them is unknown, and both answers may simply come from different
// instances (anycast: the signatures in instanceAnswers).
func checkSpellings(by map[model.ProbeID]*model.Result, instanceAnswers map[string]bool) {
	base := by[catalog.ProbeCAA]
	if base == nil {
		return
	}
	for _, id := range []model.ProbeID{catalog.ProbeCAAUpper, catalog.ProbeCAA0x20} {
		other := by[id]
		if other == nil {
			continue
		}
		// Failures that do not depend on the name (no family, a limit)
		// say nothing about case handling.
		if other.Status == model.StatusNoFamily || base.Status == model.StatusNoFamily {
			continue
		}
		// A reply lost at random says nothing about case handling either.
		if other.Has(catalog.CodeIntermittentTimeout) || base.Has(catalog.CodeIntermittentTimeout) {
			continue
		}
		// Two instances behind one address (anycast) that answer
		// differently are instance-inconsistent (checkInstances), not a
		// case fault.
		if base.NSID != nil && other.NSID != nil && !bytes.Equal(base.NSID, other.NSID) {
			continue
		}
		if a, b := base.Signature(), other.Signature(); a != b && !(instanceAnswers[a] && instanceAnswers[b]) {
			other.Add(catalog.CodeCaseSensitiveAnswer, fmt.Sprintf("%s gets %s, %s gets %s", base.QName, a, other.QName, b))
		}
	}
}

func checkEDNS(by map[model.ProbeID]*model.Result) {
	with, without := by[catalog.ProbeCAA], by[catalog.ProbeCAANoEDNS]
	if with == nil || without == nil {
		return
	}
	if !with.Answered() && with.Status != model.StatusNoFamily && !with.Has(catalog.CodeIntermittentTimeout) && without.Answered() {
		with.Add(catalog.CodeEDNSIntolerant, fmt.Sprintf("with EDNS: %s; without EDNS: %s", with.Status, without.Status))
	}
}

// plainCAA reports a result whose query is CAA in the form the answer must
// not depend on: any spelling or transport, EDNS with or without DO, an
// option or flag that must be ignored. Its signature must equal every
// other plain CAA result's of the same server.
func plainCAA(r *model.Result) bool {
	p, ok := catalog.ProbeByID(r.Probe)
	return ok && p.Type == dns.TypeCAA && p.Version == 0 && p.Opcode == 0 && p.BufSize == 0 &&
		r.Answered() && !r.TC && r.Fallback == nil
}

// checkInstances finds an address with more than one source of data:
// anycast sites or load-balanced backends out of sync. Two signs tell:
// replies that carry different NSIDs give different plain CAA answers (in
// any spelling); or the lowercase plain CAA queries with EDNS, which ask
// one question in one spelling, get different answers, whatever their
// NSIDs say (the NSID-carrying probes may all have reached one site while
// the resolver's query, which carries no NSID, reached another). Each of
// those results gets instance-inconsistent, and their answers are
// returned (nil when there is no sign): an answer the address gave to
// such a query is no case fault in checkSpellings.
func checkInstances(results []*model.Result) map[string]bool {
	var marked []*model.Result
	groups := map[string]map[string]bool{} // "instance X", or "" for no NSID → signatures
	var order []string
	lowerAnswers := map[string]bool{}
	for _, r := range results {
		if r == nil || !plainCAA(r) || r.NSID == nil && !sameQuestion(r) {
			continue
		}
		marked = append(marked, r)
		id := ""
		if r.NSID != nil {
			id = "instance " + r.Instance()
		}
		if groups[id] == nil {
			groups[id] = map[string]bool{}
			order = append(order, id)
		}
		groups[id][r.Signature()] = true
		if sameQuestion(r) {
			lowerAnswers[r.Signature()] = true
		}
	}
	if !instancesDiffer(groups) && len(lowerAnswers) < 2 {
		return nil
	}
	var parts []string
	all := map[string]bool{}
	for _, id := range order {
		what := id
		if id == "" {
			what = "replies without NSID"
		}
		parts = append(parts, what+": "+joinSorted(groups[id]))
		maps.Copy(all, groups[id])
	}
	detail := strings.Join(parts, "; ")
	if len(lowerAnswers) > 1 {
		detail = "the same query (lowercase, EDNS) got different answers; " + detail
	}
	for _, r := range marked {
		r.Add(catalog.CodeInstanceInconsistent, detail)
	}
	return all
}

// sameQuestion reports a plain CAA result whose query is the lowercase
// spelling with EDNS: the resolver's own query and the forms that must be
// answered like it (over TCP, DO clear, an ignored option or flag, a
// cookie). Their answers can differ only if the data behind the address
// does. The query without EDNS is left out: a reply squeezed into 512
// bytes is another fault, not another source of data.
func sameQuestion(r *model.Result) bool {
	p, ok := catalog.ProbeByID(r.Probe)
	return ok && p.Spelling == catalog.SpellLower && p.EDNS
}

// instancesDiffer reports whether two NSID instances (the groups other
// than "", the replies without NSID) gave different sets of answers.
func instancesDiffer(groups map[string]map[string]bool) bool {
	first, seen := "", false
	for id, sigs := range groups {
		if id == "" {
			continue
		}
		sig := joinSorted(sigs)
		if seen && sig != first {
			return true
		}
		first, seen = sig, true
	}
	return false
}

func joinSorted(set map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(set)), " | ")
}

// checkConformance judges the conformance probes (set edns) against the
// plain caa probe of the same server: a form of query the server must
// answer like the plain one (an unknown option or flag, a cookie), the
// EDNS version negotiation, the unknown opcode, the 512-byte buffer, and
// DO against no DO. A server that fails the plain query too is judged by
// that failure alone.
func checkConformance(by map[model.ProbeID]*model.Result) {
	base := by[catalog.ProbeCAA]
	if nodo := by[catalog.ProbeEDNSNoDO]; base != nil && nodo != nil && nodo.Answered() && !base.Answered() &&
		base.Status != model.StatusNoFamily && !base.Has(catalog.CodeIntermittentTimeout) &&
		(base.Status == model.StatusTimeout || base.Rcode == dns.RcodeFormatError || base.Rcode == dns.RcodeServerFailure ||
			base.Rcode == dns.RcodeNotImplemented || base.Rcode == dns.RcodeRefused) {
		base.Add(catalog.CodeDOIntolerant, fmt.Sprintf("with EDNS and DO: %s; with EDNS, DO clear: %s", base.Status, nodo.Status))
	}
	if r := by[catalog.ProbeEDNS512]; r != nil && r.Exchange != nil && len(r.Exchange.Reply) > 512 && !wire.Truncated(r.Exchange.Reply) {
		r.Add(catalog.CodeOversizeUDPReply, fmt.Sprintf("%d-byte UDP reply without TC to a query advertising a 512-byte buffer", len(r.Exchange.Reply)))
	}
	if base == nil || !base.Answered() {
		return
	}
	// Forms the server must answer like the plain query.
	for _, c := range []struct {
		id   model.ProbeID
		code model.Code
		what string
	}{
		{catalog.ProbeEDNSOption, catalog.CodeEDNSOptionIntolerant, "an unknown EDNS option (65001)"},
		{catalog.ProbeEDNSFlag, catalog.CodeEDNSFlagIntolerant, "an unknown EDNS flag (0x4000)"},
		{catalog.ProbeEDNSCookie, catalog.CodeCookieIntolerant, "a DNS COOKIE option"},
	} {
		r := by[c.id]
		if r == nil || r.Status == model.StatusNoFamily {
			continue
		}
		if r.Rcode == base.Rcode || c.id == catalog.ProbeEDNSCookie && r.Rcode == dns.RcodeBadCookie {
			continue
		}
		r.Add(c.code, fmt.Sprintf("with %s: %s; without: %s", c.what, statusText(r), base.Status))
	}
	if r := by[catalog.ProbeEDNSFlag]; r != nil && r.Msg != nil {
		if opt := r.Msg.IsEdns0(); opt != nil && flagsOf(opt)&catalog.FlagUnknown != 0 {
			r.Add(catalog.CodeEDNSFlagEchoed, fmt.Sprintf("the reply's OPT has flags 0x%04x: the unknown flag 0x%04x was copied from the query", flagsOf(opt), catalog.FlagUnknown))
		}
	}
	if r := by[catalog.ProbeEDNSVersion]; r != nil && r.Status != model.StatusNoFamily {
		switch {
		case r.Exchange != nil && r.Exchange.Reply == nil && r.Exchange.RejectedCount == 0:
			r.Add(catalog.CodeEDNSVersionDropped, fmt.Sprintf("no reply to %d attempts with EDNS version 1; version 0 answered %s", r.Exchange.Attempts, base.Status))
		case r.Msg == nil:
		case r.Msg.IsEdns0() == nil:
			r.Add(catalog.CodeEDNSVersionIgnored, fmt.Sprintf("RCODE %s without an OPT record to EDNS version 1; want BADVERS with OPT version 0", r.Status))
		case r.Rcode != dns.RcodeBadVers:
			r.Add(catalog.CodeEDNSVersionIgnored, fmt.Sprintf("RCODE %s (OPT version %d) to EDNS version 1; want BADVERS with OPT version 0", r.Status, r.Msg.IsEdns0().Version()))
		case r.Msg.IsEdns0().Version() != 0:
			r.Add(catalog.CodeEDNSVersionIgnored, fmt.Sprintf("BADVERS with OPT version %d; want version 0, the highest the server implements", r.Msg.IsEdns0().Version()))
		}
	}
	if r := by[catalog.ProbeOpcode]; r != nil && r.Status != model.StatusNoFamily {
		switch {
		case r.Exchange != nil && r.Exchange.Reply == nil && r.Exchange.RejectedCount == 0:
			r.Add(catalog.CodeOpcodeNotNotimp, fmt.Sprintf("no reply to %d attempts with opcode %d", r.Exchange.Attempts, catalog.OpcodeUnassigned))
		case r.Msg == nil:
		case r.Msg.Opcode != catalog.OpcodeUnassigned:
			r.Add(catalog.CodeOpcodeNotNotimp, fmt.Sprintf("%s with opcode %d to a query with opcode %d", r.Status, r.Msg.Opcode, catalog.OpcodeUnassigned))
		case r.Rcode != dns.RcodeNotImplemented:
			r.Add(catalog.CodeOpcodeNotNotimp, fmt.Sprintf("%s to opcode %d; want NOTIMP", r.Status, catalog.OpcodeUnassigned))
		}
	}
}

// flagsOf is the OPT record's flag field (the low 16 bits of its TTL).
func flagsOf(opt *dns.OPT) uint16 { return uint16(opt.Hdr.Ttl) }

func statusText(r *model.Result) string {
	if r.Exchange != nil && r.Exchange.Reply == nil && r.Exchange.RejectedCount == 0 {
		return fmt.Sprintf("no reply to %d attempts", r.Exchange.Attempts)
	}
	return string(r.Status)
}

// CheckZone compares the CAA answers of every server address of one zone for
// one relevant name. Results that failed outright are left out: their
// failure is its own finding.
func CheckZone(results []*model.Result) []Amended { return amend(results, checkZone) }

func checkZone(results []*model.Result) {
	groups := map[string][]*model.Result{}
	var sigs []string
	for _, r := range results {
		if r.Probe != catalog.ProbeCAA || r.Local() || !r.Answered() {
			continue
		}
		s := r.Signature()
		if _, ok := groups[s]; !ok {
			sigs = append(sigs, s)
		}
		groups[s] = append(groups[s], r)
	}
	if len(groups) < 2 {
		return
	}
	sort.Strings(sigs)
	var parts []string
	for _, s := range sigs {
		var addrs []string
		for _, r := range groups[s] {
			addrs = append(addrs, r.Exchange.Server.Addr().String())
		}
		parts = append(parts, fmt.Sprintf("%s from %s", s, strings.Join(addrs, ",")))
	}
	detail := strings.Join(parts, " vs ")
	for _, rs := range groups {
		for _, r := range rs {
			r.Add(catalog.CodeInconsistentAnswers, detail)
		}
	}
}

// CheckDelegation compares what one server says at the zone apex with the
// parent's delegation: a server that does not answer the SOA with AA is
// lame, and an apex NS set unlike the parent's is a mismatch.
func CheckDelegation(results []*model.Result, parentNS []string) []Amended {
	return amend(results, func(rs []*model.Result) { checkDelegation(rs, parentNS) })
}

func checkDelegation(results []*model.Result, parentNS []string) {
	for _, r := range results {
		if r.Local() {
			continue
		}
		switch r.Probe {
		case catalog.ProbeSOA:
			switch {
			case r.Msg == nil:
			case r.Rcode == dns.RcodeRefused:
				r.Add(catalog.CodeLameServer, "REFUSED to SOA at the apex: the server does not serve the zone")
			case isReferral(r.Msg, r.Name.String()) || (r.Rcode == dns.RcodeSuccess && !r.AA):
				r.Add(catalog.CodeLameServer, "no authoritative SOA at the apex (AA clear or a referral)")
			}
		case catalog.ProbeNS:
			if !r.Answered() || len(parentNS) == 0 || r.Rcode != dns.RcodeSuccess {
				continue
			}
			var child []string
			for _, rr := range r.Records {
				if ns, ok := rr.(*dns.NS); ok {
					child = append(child, strings.ToLower(dns.Fqdn(ns.Ns)))
				}
			}
			sort.Strings(child)
			if len(child) > 0 && !slices.Equal(child, parentNS) {
				r.Add(catalog.CodeNSMismatch, fmt.Sprintf("parent delegates to %s; the apex lists %s",
					strings.Join(parentNS, " "), strings.Join(child, " ")))
			}
		}
	}
}
