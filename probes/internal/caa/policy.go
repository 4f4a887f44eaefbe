package caa

import (
	"fmt"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
)

// Decision is what a relevant CAA RRset lets one CA do: Issue for the name
// itself, Wildcard for *.name. Reason is one human sentence that says which
// properties decided.
type Decision struct {
	Issue    model.Permission
	Wildcard model.Permission
	Reason   string
}

// LetsEncrypt is the issuer domain name of Let's Encrypt, the default --ca.
// Evaluate applies Boulder's rules for it (see evaluate).
const LetsEncrypt = "letsencrypt.org"

// Evaluate answers for the CA whose issuer domain name is ca: for
// letsencrypt.org it applies what Let's Encrypt's CA software (Boulder,
// va/caa.go) does, for any other CA RFC 8659 and RFC 8657 strictly
// (evaluate without boulder). The two differ only where Boulder is stricter or reads
// the flags otherwise; docs/prediction.md lists each difference.
func Evaluate(ca string, rrset []Record) Decision {
	if normCA(ca) == LetsEncrypt {
		return evaluate(ca, rrset, true)
	}
	return evaluate(ca, rrset, false)
}

func normCA(ca string) string { return lowerASCII(strings.TrimSuffix(strings.TrimSpace(ca), ".")) }

// Strictly (boulder false), evaluate applies RFC 8659 §3–§4 to the relevant RRset of a name (see
// Climb) for the CA whose issuer domain name is ca, compared
// case-insensitively and without a trailing dot. It answers for server
// certificates, so only issue and issuewild grant or restrict; iodef,
// issuemail and the contact tags are ignored, as are unknown tags unless they
// are critical.
//
// A property permits (model.PermissionPermitted) when it names the CA. A property whose RFC 8657
// parameters can never be met (more than one accounturi, an accounturi that
// is not a URI, an empty or malformed validationmethods) names it in vain; a
// property whose parameters can be met permits the CA for the accounts and
// methods they list, which the Reason then says.
//
// With boulder set it applies Let's Encrypt's reading
// (Boulder va/caa.go, filterCAA and validateCAA):
//   - a record whose tag is not issue, issuewild or iodef is critical when
//     flag bit 128 or bit 1 is set (Boulder treats bit 1, a common misreading
//     of the RFC, as an alias of the critical bit);
//   - the issuer domain name must equal "letsencrypt.org" byte for byte
//     (caaDomainMatches: no case folding);
//   - for a wildcard name, an RRset with neither issue nor issuewild
//     forbids issuance (validateCAA checks the empty issue list).
func evaluate(ca string, rrset []Record, boulder bool) Decision {
	if len(rrset) == 0 {
		return Decision{model.PermissionPermitted, model.PermissionPermitted, "no CAA records: any CA may issue"}
	}
	ca = normCA(ca)

	var issue, wild []Record
	for _, r := range rrset {
		switch {
		case boulder && r.Flags&(FlagCritical|1) != 0 && !boulderTag(r.Tag):
			why := "is marked critical"
			if !r.Critical() {
				why = "has flag bit 1 set, which Let's Encrypt treats as the critical flag"
			}
			return Decision{model.PermissionForbidden, model.PermissionForbidden, fmt.Sprintf(
				"tag %s %s and Let's Encrypt does not process it: it refuses to issue (RFC 8659 §4.1; Boulder va/caa.go filterCAA)",
				quote(r.Tag), why)}
		case !boulder && r.Critical() && !KnownTag(r.Tag):
			return Decision{model.PermissionForbidden, model.PermissionForbidden, fmt.Sprintf(
				"unknown tag %s is marked critical: RFC 8659 §4.1 forbids issuance by any CA that does not understand it",
				quote(r.Tag))}
		}
		switch lowerASCII(r.Tag) {
		case tagIssue:
			issue = append(issue, r)
		case tagIssueWild:
			wild = append(wild, r)
		}
	}

	switch {
	case len(issue) == 0 && len(wild) == 0 && boulder:
		return Decision{model.PermissionPermitted, model.PermissionForbidden,
			"no issue or issuewild property: the name itself is not restricted, but Let's Encrypt refuses wildcards (Boulder va/caa.go validateCAA finds no issue property to match)"}
	case len(issue) == 0 && len(wild) == 0:
		return Decision{model.PermissionPermitted, model.PermissionPermitted,
			"no issue or issuewild property: CAA does not restrict issuance (RFC 8659 §3)"}
	case len(wild) == 0:
		d, why := decide(ca, tagIssue, issue, boulder)
		return Decision{d, d, why + "; no issuewild, so wildcards follow issue (RFC 8659 §4.3)"}
	case len(issue) == 0:
		w, why := decide(ca, tagIssueWild, wild, boulder)
		return Decision{model.PermissionPermitted, w,
			"only issuewild properties, which do not restrict the name itself (RFC 8659 §4.3); " + why}
	default:
		d, whyIssue := decide(ca, tagIssue, issue, boulder)
		w, whyWild := decide(ca, tagIssueWild, wild, boulder)
		return Decision{d, w, whyIssue + "; for wildcards " + whyWild + " (issue ignored, RFC 8659 §4.3)"}
	}
}

// boulderTag reports the tags Boulder processes (filterCAA): every other tag
// with a critical bit forbids issuance.
func boulderTag(tag string) bool {
	switch lowerASCII(tag) {
	case tagIssue, tagIssueWild, tagIodef:
		return true
	}
	return false
}

// decide finds whether any of props (all issue, or all issuewild) names ca.
// CAA authorisations are additive (RFC 8659 §4.2): one match is enough.
// With exact set, the issuer must equal ca byte for byte (Boulder's
// caaDomainMatches); otherwise case is ignored (RFC 8659 §4.2 names are
// domain names).
func decide(ca, tag string, props []Record, exact bool) (model.Permission, string) {
	var (
		match       *Record // preferring a match without RFC 8657 conditions
		conditional bool
		others      []string
		empty       int
		malformed   int
		unsat       int
	)
	for i, r := range props {
		v, err := parseIssueValue(r.Value)
		switch {
		case err != nil:
			malformed++
		case v.issuer == "":
			empty++
		case exact && v.issuer != ca, !exact && lowerASCII(v.issuer) != ca:
			name := lowerASCII(v.issuer)
			if exact {
				name = v.issuer
			}
			if !contains(others, name) {
				others = append(others, name)
			}
		case !satisfiable(v):
			unsat++
		case conditions(v):
			if match == nil {
				match, conditional = &props[i], true
			}
		default:
			if match == nil || conditional {
				match, conditional = &props[i], false
			}
		}
	}

	if match != nil {
		why := fmt.Sprintf("%s %s permits %s", tag, quote(match.Value), ca)
		if conditional {
			why += " only for the accounts and validation methods it lists (RFC 8657)"
		}
		return model.PermissionPermitted, why
	}

	if len(props) == 1 {
		switch {
		case empty == 1:
			return model.PermissionForbidden, fmt.Sprintf("%s %s names no CA: every CA is forbidden", tag, quote(props[0].Value))
		case malformed == 1:
			return model.PermissionForbidden, fmt.Sprintf("%s %s is malformed, which counts as naming no CA (RFC 8659 §4.2): every CA is forbidden",
				tag, quote(props[0].Value))
		}
	}
	var parts []string
	if len(others) > 0 {
		const show = 5
		list := others
		if len(list) > show {
			list = append(list[:show:show], fmt.Sprintf("and %d more", len(others)-show))
		}
		parts = append(parts, tag+" names "+strings.Join(list, ", "))
	}
	if empty > 0 {
		parts = append(parts, fmt.Sprintf("%d with no issuer-domain-name", empty))
	}
	if malformed > 0 {
		parts = append(parts, fmt.Sprintf("%d malformed, counted as naming no CA per RFC 8659 §4.2", malformed))
	}
	if unsat > 0 {
		parts = append(parts, fmt.Sprintf("%d naming %s with parameters that can never be met per RFC 8657 §3–§4", unsat, ca))
	}
	return model.PermissionForbidden, fmt.Sprintf("no %s property permits %s (%s)", tag, ca, strings.Join(parts, "; "))
}

// satisfiable reports whether some account and validation method could meet
// the RFC 8657 parameters of v.
func satisfiable(v issueValue) bool {
	accounts := 0
	for _, p := range v.params {
		switch lowerASCII(p.tag) {
		case "accounturi":
			accounts++
			if checkURI(p.value) != nil {
				return false
			}
		case "validationmethods":
			if p.value == "" {
				return false
			}
			for _, m := range strings.Split(p.value, ",") {
				if m == "" || badMethodByte(m) {
					return false
				}
			}
		}
	}
	return accounts <= 1
}

// conditions reports whether v limits its CA to some accounts or methods.
func conditions(v issueValue) bool {
	for _, p := range v.params {
		switch lowerASCII(p.tag) {
		case "accounturi", "validationmethods":
			return true
		}
	}
	return false
}

func badMethodByte(m string) bool {
	for i := 0; i < len(m); i++ {
		if !isAlnum(m[i]) && m[i] != '-' {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
