package probes

import (
	"fmt"
	"sort"
	"strings"
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
	checkSpellings(by)
	checkEDNS(by)
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
		if other.Status == "no-family" || base.Status == "no-family" {
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
	if !with.Answered() && with.Status != "no-family" && without.Answered() {
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
