package caa

import (
	"bytes"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

// FuzzParseRDATA feeds arbitrary RDATA through everything a server's answer
// reaches: parse, validate, evaluate. None of it may panic, and parsing must
// lose nothing, since evidence is re-encoded from the parsed Record.
func FuzzParseRDATA(f *testing.F) {
	for _, seed := range []string{
		"\x00\x05issueletsencrypt.org",
		"\x80\x03tbsUnknown",
		"\x00\x05issue;",
		"\x00\x09issuewildca.example; validationmethods=dns-01,ca-x",
		"\x00\x05issueca.example; accounturi=https://ca.example/a/1; accounturi=x",
		"\x00\x05iodefmailto:security@example.com",
		"\x00\x05ISSUE%%%%%",
		"\x01\x05issueletsencrypt.org.",
		"\x00\x00",
		"\x00\x14issue",
		"\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRDATA(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "CAA ") {
				t.Errorf("error %q does not say it is about CAA", err)
			}
			return
		}

		packed := packRDATA(r)
		if !bytes.Equal(packed, data) {
			t.Fatalf("Pack(parseRDATA(%q)) = %q", data, packed)
		}
		again, err := parseRDATA(packed)
		if err != nil || again != r {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", packed, again, err, r)
		}

		for _, p := range Validate(r) {
			if p.Severity != SeverityFail && p.Severity != SeverityWarn {
				t.Errorf("problem %+v has severity %q", p, p.Severity)
			}
			if p.Detail == "" || strings.ContainsAny(p.Detail, "\n\r") {
				t.Errorf("problem %+v: Detail must be one non-empty line", p)
			}
			if p.Critical && !r.Critical() {
				t.Errorf("problem %+v marked critical on a record without the critical flag", p)
			}
		}

		for _, ca := range []string{"letsencrypt.org", r.Value} {
			d := Evaluate(ca, []Record{r})
			for _, got := range []model.Permission{d.Issue, d.Wildcard} {
				if got != model.PermissionPermitted && got != model.PermissionForbidden {
					t.Errorf("Evaluate(%q, %+v) = %+v", ca, r, d)
				}
			}
			if d.Reason == "" || strings.ContainsAny(d.Reason, "\n\r") {
				t.Errorf("Evaluate(%q, %+v): Reason %q must be one non-empty line", ca, r, d.Reason)
			}
		}

		// Evaluate must agree with the grammar on an issue property: a
		// well-formed one permits exactly the CA it names, a malformed one
		// permits nobody (RFC 8659 §4.2).
		if lowerASCII(r.Tag) == tagIssue {
			v, err := parseIssueValue(r.Value)
			switch {
			case err != nil:
				if d := Evaluate(LetsEncrypt, []Record{r}); d.Issue != model.PermissionForbidden {
					t.Errorf("malformed %+v: Evaluate = %+v, want forbidden", r, d)
				}
			case v.issuer != "" && satisfiable(v):
				if d := evaluate(v.issuer+".", []Record{r}, false); d.Issue != model.PermissionPermitted || d.Wildcard != model.PermissionPermitted {
					t.Errorf("%+v: Evaluate(%q) = %+v, want permitted", r, v.issuer, d)
				}
			}
		}
	})
}
