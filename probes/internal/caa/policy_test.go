package caa

import (
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	issue := func(v string) Record { return Record{0, "issue", v} }
	wild := func(v string) Record { return Record{0, "issuewild", v} }
	const le = "letsencrypt.org"
	cases := []struct {
		name     string
		ca       string
		rrset    []Record
		issue    model.Permission
		wildcard model.Permission
		reason   string // a piece of the Reason
	}{
		{"no records", le, nil, model.PermissionPermitted, model.PermissionPermitted, "no CAA records: any CA may issue"},
		{"issue names the CA", le, []Record{issue(le)}, model.PermissionPermitted, model.PermissionPermitted,
			`issue "letsencrypt.org" permits letsencrypt.org; no issuewild, so wildcards follow issue`},
		{"issue names another CA", le, []Record{issue("digicert.com")}, model.PermissionForbidden, model.PermissionForbidden,
			"no issue property permits letsencrypt.org (issue names digicert.com)"},
		{"one of several issue properties", le, []Record{issue("digicert.com"), issue(le), issue("sectigo.com")}, model.PermissionPermitted, model.PermissionPermitted,
			`issue "letsencrypt.org" permits`},
		{"issuer case-insensitive", le, []Record{issue("LetsEncrypt.ORG")}, model.PermissionPermitted, model.PermissionPermitted, "permits letsencrypt.org"},
		{"CA given with capitals and trailing dot", "LetsEncrypt.org.", []Record{issue(le)}, model.PermissionPermitted, model.PermissionPermitted, "permits letsencrypt.org"},
		{"CA with spaces around", " letsencrypt.org ", []Record{issue(le)}, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"tag case-insensitive", le, []Record{{0, "ISSUE", "digicert.com"}}, model.PermissionForbidden, model.PermissionForbidden, "issue names digicert.com"},
		{"issue semicolon forbids all", le, []Record{issue(";")}, model.PermissionForbidden, model.PermissionForbidden,
			`issue ";" names no CA: every CA is forbidden`},
		{"issue empty value forbids all", le, []Record{issue("")}, model.PermissionForbidden, model.PermissionForbidden, `issue "" names no CA`},
		{"semicolon plus CA is additive", le, []Record{issue(";"), issue(le)}, model.PermissionPermitted, model.PermissionPermitted, "permits letsencrypt.org"},
		{"semicolon plus other CA", le, []Record{issue(";"), issue("digicert.com")}, model.PermissionForbidden, model.PermissionForbidden,
			"(issue names digicert.com; 1 with no issuer-domain-name)"},
		{"malformed only issue", le, []Record{issue("%%%%%")}, model.PermissionForbidden, model.PermissionForbidden,
			`issue "%%%%%" is malformed, which counts as naming no CA (RFC 8659 §4.2)`},
		{"malformed naming the CA", le, []Record{issue("letsencrypt.org.")}, model.PermissionForbidden, model.PermissionForbidden, "is malformed"},
		{"malformed next to a good one", le, []Record{issue("letsencrypt.org; a=b;"), issue(le)}, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"malformed next to another CA", le, []Record{issue("%%"), issue("digicert.com")}, model.PermissionForbidden, model.PermissionForbidden,
			"(issue names digicert.com; 1 malformed, counted as naming no CA per RFC 8659 §4.2)"},
		{"parameters do not stop a match", le, []Record{issue("letsencrypt.org; policy=ev")}, model.PermissionPermitted, model.PermissionPermitted,
			`issue "letsencrypt.org; policy=ev" permits letsencrypt.org;`},
		{"accounturi makes it conditional", le, []Record{issue("letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1")},
			model.PermissionPermitted, model.PermissionPermitted, "only for the accounts and validation methods it lists (RFC 8657)"},
		{"unconditional match preferred", le, []Record{issue("letsencrypt.org; validationmethods=dns-01"), issue(le)},
			model.PermissionPermitted, model.PermissionPermitted, `issue "letsencrypt.org" permits letsencrypt.org; no issuewild`},
		{"two accounturi are unsatisfiable", le, []Record{issue("letsencrypt.org; accounturi=https://a.example/1; accounturi=https://a.example/2")},
			model.PermissionForbidden, model.PermissionForbidden, "(1 naming letsencrypt.org with parameters that can never be met per RFC 8657 §3–§4)"},
		{"invalid accounturi is unsatisfiable", le, []Record{issue("letsencrypt.org; accounturi=1234")}, model.PermissionForbidden, model.PermissionForbidden, "can never be met"},
		{"empty validationmethods is unsatisfiable", le, []Record{issue("letsencrypt.org; validationmethods=")}, model.PermissionForbidden, model.PermissionForbidden, "can never be met"},
		{"malformed validationmethods is unsatisfiable", le, []Record{issue("letsencrypt.org; validationmethods=dns-01,,http-01")}, model.PermissionForbidden, model.PermissionForbidden, "can never be met"},
		{"unknown method still satisfiable", le, []Record{issue("letsencrypt.org; validationmethods=xyz-01,dns-01")}, model.PermissionPermitted, model.PermissionPermitted, "only for the accounts"},
		{"empty CA matches nothing", "", []Record{issue(le)}, model.PermissionForbidden, model.PermissionForbidden, "names letsencrypt.org"},

		{"only iodef", le, []Record{{0, "iodef", "mailto:security@example.com"}}, model.PermissionPermitted, model.PermissionPermitted,
			"no issue or issuewild property: CAA does not restrict issuance (RFC 8659 §3)"},
		{"only unknown non-critical tag", le, []Record{{0, "tbs", "Unknown"}}, model.PermissionPermitted, model.PermissionPermitted, "does not restrict"},
		{"issuemail does not restrict server certificates", le, []Record{{0, "issuemail", ";"}}, model.PermissionPermitted, model.PermissionPermitted, "does not restrict"},

		{"critical unknown forbids all", le, []Record{issue(le), {128, "tbs", "Unknown"}}, model.PermissionForbidden, model.PermissionForbidden,
			`unknown tag "tbs" is marked critical: RFC 8659 §4.1 forbids issuance`},
		{"critical unknown alone", le, []Record{{128, "future", ""}}, model.PermissionForbidden, model.PermissionForbidden, "marked critical"},
		{"critical known tag is fine", le, []Record{{128, "issue", le}}, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"critical known tag in capitals", le, []Record{{128, "IODEF", "mailto:a@example.com"}}, model.PermissionPermitted, model.PermissionPermitted, "does not restrict"},
		{"reserved bits are not critical", le, []Record{{0x7f, "tbs", "x"}}, model.PermissionPermitted, model.PermissionPermitted, "does not restrict"},

		{"only issuewild naming the CA", le, []Record{wild(le)}, model.PermissionPermitted, model.PermissionPermitted,
			`only issuewild properties, which do not restrict the name itself (RFC 8659 §4.3); issuewild "letsencrypt.org" permits letsencrypt.org`},
		{"only issuewild naming another CA", le, []Record{wild("digicert.com")}, model.PermissionPermitted, model.PermissionForbidden,
			"only issuewild properties, which do not restrict the name itself (RFC 8659 §4.3); no issuewild property permits letsencrypt.org (issuewild names digicert.com)"},
		{"issuewild semicolon forbids wildcards only", le, []Record{wild(";")}, model.PermissionPermitted, model.PermissionForbidden, `issuewild ";" names no CA`},
		{"issuewild overrides issue", le, []Record{issue(le), wild("digicert.com")}, model.PermissionPermitted, model.PermissionForbidden,
			`issue "letsencrypt.org" permits letsencrypt.org; for wildcards no issuewild property permits letsencrypt.org (issuewild names digicert.com) (issue ignored, RFC 8659 §4.3)`},
		{"issuewild grants what issue does not", le, []Record{issue("digicert.com"), wild(le)}, model.PermissionForbidden, model.PermissionPermitted,
			`for wildcards issuewild "letsencrypt.org" permits letsencrypt.org`},
		{"RFC 8659 wild.example.com", "ca2.example.org", []Record{issue("ca1.example.net"), wild("ca2.example.org")}, model.PermissionForbidden, model.PermissionPermitted, "for wildcards"},
		{"RFC 8659 wild3.example.com", "ca1.example.net", []Record{issue(";"), wild("ca2.example.org")}, model.PermissionForbidden, model.PermissionForbidden, `issue ";" names no CA`},
		{"malformed issuewild forbids wildcards", le, []Record{issue(le), wild("%%")}, model.PermissionPermitted, model.PermissionForbidden, `issuewild "%%" is malformed`},
		{"issuewild in capitals", le, []Record{issue(le), {0, "ISSUEWILD", ";"}}, model.PermissionPermitted, model.PermissionForbidden, "issuewild"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := evaluate(tc.ca, tc.rrset, false)
			if got.Issue != tc.issue || got.Wildcard != tc.wildcard {
				t.Errorf("Evaluate(%q, %v) = issue %s, wildcard %s; want %s, %s\nreason: %s",
					tc.ca, tc.rrset, got.Issue, got.Wildcard, tc.issue, tc.wildcard, got.Reason)
			}
			if !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Evaluate(%q, %v) reason = %q, want containing %q", tc.ca, tc.rrset, got.Reason, tc.reason)
			}
			if strings.Contains(got.Reason, "\n") {
				t.Errorf("reason %q is more than one line", got.Reason)
			}
		})
	}
}

// TestEvaluateLetsEncrypt: --ca letsencrypt.org reads CAA as Boulder does
// (va/caa.go filterCAA, validateCAA, caaDomainMatches), where that differs
// from RFC 8659 as the strict evaluation applies it.
func TestEvaluateLetsEncrypt(t *testing.T) {
	t.Parallel()
	issue := func(v string) Record { return Record{0, "issue", v} }
	const le = LetsEncrypt
	cases := []struct {
		name            string
		rrset           []Record
		issue, wildcard model.Permission // Let's Encrypt's decision
		strictIssue     model.Permission // RFC 8659's for the same records
		reason          string
	}{
		{"flag 1 on an unknown tag is critical", []Record{issue(le), {1, "tbs", "x"}}, model.PermissionForbidden, model.PermissionForbidden, model.PermissionPermitted,
			"flag bit 1 set, which Let's Encrypt treats as the critical flag"},
		{"flag 128 on an unknown tag", []Record{issue(le), {128, "tbs", "x"}}, model.PermissionForbidden, model.PermissionForbidden, model.PermissionForbidden, "is marked critical"},
		{"reserved bits other than 1 are ignored", []Record{issue(le), {0x7e, "tbs", "x"}}, model.PermissionPermitted, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"flag 1 on issue is fine", []Record{{1, "issue", le}}, model.PermissionPermitted, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"critical iodef is fine", []Record{issue(le), {128, "iodef", "mailto:a@example.com"}}, model.PermissionPermitted, model.PermissionPermitted, model.PermissionPermitted, "permits"},
		{"critical issuemail is unknown to Boulder", []Record{issue(le), {128, "issuemail", le}}, model.PermissionForbidden, model.PermissionForbidden, model.PermissionPermitted, "does not process it"},
		{"issuer match is exact", []Record{issue("LetsEncrypt.org")}, model.PermissionForbidden, model.PermissionForbidden, model.PermissionPermitted, "issue names LetsEncrypt.org"},
		{"malformed value names no CA", []Record{issue("%%bad%%")}, model.PermissionForbidden, model.PermissionForbidden, model.PermissionForbidden, "is malformed"},
		{"only iodef: wildcards refused", []Record{{0, "iodef", "mailto:a@example.com"}}, model.PermissionPermitted, model.PermissionForbidden, model.PermissionPermitted, "refuses wildcards"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(le, tc.rrset)
			if got.Issue != tc.issue || got.Wildcard != tc.wildcard || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Evaluate(le, %v) = %+v; want %s/%s with %q", tc.rrset, got, tc.issue, tc.wildcard, tc.reason)
			}
			if s := evaluate(le, tc.rrset, false); s.Issue != tc.strictIssue {
				t.Errorf("evaluate(le, %v, false) = %+v; want issue %s", tc.rrset, s, tc.strictIssue)
			}
			// Any other CA gets the RFC's reading.
			if o := Evaluate("ca.example", tc.rrset); o != evaluate("ca.example", tc.rrset, false) {
				t.Errorf("Evaluate(ca.example) = %+v differs from the strict evaluation", o)
			}
		})
	}
}

func TestEvaluateListsAtMostFiveCAs(t *testing.T) {
	t.Parallel()
	var rrset []Record
	for _, ca := range []string{"a.example", "b.example", "c.example", "A.example", "d.example", "e.example", "f.example", "g.example"} {
		rrset = append(rrset, Record{0, "issue", ca})
	}
	got := evaluate("letsencrypt.org", rrset, false)
	want := "issue names a.example, b.example, c.example, d.example, e.example, and 2 more"
	if got.Issue != model.PermissionForbidden || !strings.Contains(got.Reason, want) {
		t.Errorf("Evaluate = %+v, want forbidden with reason containing %q", got, want)
	}
}
