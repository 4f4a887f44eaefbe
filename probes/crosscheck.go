package probes

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Cross-checks compare results with each other: one probe alone cannot see
// that the answer depends on the spelling, on EDNS, or on the server.

// CheckServer compares the results of one server address for one relevant
// name: spellings against each other and EDNS against no EDNS.
func CheckServer(results []*Result) {
	by := map[ProbeID]*Result{}
	for _, r := range results {
		by[r.Probe] = r
	}
	checkTimeouts(results)
	checkSpellings(by)
	checkEDNS(by)
}

// checkTimeouts turns the timeouts of a server that answered the same kind
// of query (type and transport) on another probe into intermittent-timeout
// with counts: the server can answer it, so the lost replies are loss, not
// a refusal to answer. A server that drops all CAA keeps its timeouts, even
// on a lossy path. A server that drops only some spellings is reported here
// as intermittent too (both fail; the detail gives the counts).
// This runs before the other cross-checks, which ignore what it converts.
func checkTimeouts(results []*Result) {
	answered, attempts := 0, 0
	answeredForm := map[string]bool{}
	for _, r := range results {
		if r == nil || r.Exchange == nil {
			continue
		}
		attempts += r.Exchange.Attempts
		if r.Exchange.Reply != nil {
			answered++
			answeredForm[fmt.Sprint(r.QType, r.Transport)] = true
		}
	}
	for _, r := range results {
		if r == nil || r.Exchange == nil || !answeredForm[fmt.Sprint(r.QType, r.Transport)] {
			continue
		}
		for i, is := range r.Issues {
			if is.Code == CodeTimeout {
				r.Issues[i] = Issue{CodeIntermittentTimeout, fmt.Sprintf(
					"no reply to %d attempts for this probe, though the server answered this kind of query on other probes: answered %d of %d attempts for this name",
					r.Exchange.Attempts, answered, attempts)}
			}
		}
	}
}

func checkSpellings(by map[ProbeID]*Result) {
	base := by[ProbeCAA]
	if base == nil {
		return
	}
	for _, id := range []ProbeID{ProbeCAAUpper, ProbeCAA0x20} {
		other := by[id]
		if other == nil {
			continue
		}
		// Failures that do not depend on the name (no family, a limit)
		// say nothing about case handling.
		if other.Status == StatusNoFamily || base.Status == StatusNoFamily {
			continue
		}
		// A reply lost at random says nothing about case handling either.
		if other.Has(CodeIntermittentTimeout) || base.Has(CodeIntermittentTimeout) {
			continue
		}
		if a, b := base.Signature(), other.Signature(); a != b {
			other.Add(CodeCaseSensitiveAnswer, fmt.Sprintf("%s gets %s, %s gets %s", base.QName, a, other.QName, b))
		}
	}
}

func checkEDNS(by map[ProbeID]*Result) {
	with, without := by[ProbeCAA], by[ProbeCAANoEDNS]
	if with == nil || without == nil {
		return
	}
	if !with.Answered() && with.Status != StatusNoFamily && !with.Has(CodeIntermittentTimeout) && without.Answered() {
		with.Add(CodeEDNSIntolerant, fmt.Sprintf("with EDNS: %s; without EDNS: %s", with.Status, without.Status))
	}
}

// CheckZone compares the CAA answers of every server address of one zone for
// one relevant name. Results that failed outright are left out: their
// failure is its own finding.
func CheckZone(results []*Result) {
	groups := map[string][]*Result{}
	var sigs []string
	for _, r := range results {
		if r.Probe != ProbeCAA || !r.Answered() {
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
			r.Add(CodeInconsistentAnswers, detail)
		}
	}
}

// CheckDelegation compares what one server says at the zone apex with the
// parent's delegation: a server that does not answer the SOA with AA is
// lame, and an apex NS set unlike the parent's is a mismatch.
func CheckDelegation(results []*Result, parentNS []string) {
	for _, r := range results {
		switch r.Probe {
		case ProbeSOA:
			switch {
			case r.Msg == nil:
			case r.Rcode == dns.RcodeRefused:
				r.Add(CodeLameServer, "REFUSED to SOA at the apex: the server does not serve the zone")
			case isReferral(r.Msg, r.Name) || (r.Rcode == dns.RcodeSuccess && !r.AA):
				r.Add(CodeLameServer, "no authoritative SOA at the apex (AA clear or a referral)")
			}
		case ProbeNS:
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
				r.Add(CodeNSMismatch, fmt.Sprintf("parent delegates to %s; the apex lists %s",
					strings.Join(parentNS, " "), strings.Join(child, " ")))
			}
		}
	}
}
