package caa

import (
	"strings"
	"testing"
)

// want is one expected Problem: its severity, a piece of its Detail, and
// whether it carries the Critical mark.
type want struct {
	sev      string
	detail   string
	critical bool
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		r    Record
		want []want
	}{
		// Good records.
		{"issue", Record{0, "issue", "letsencrypt.org"}, nil},
		{"issue semicolon", Record{0, "issue", ";"}, nil},
		{"issue empty", Record{0, "issue", ""}, nil},
		{"issuewild", Record{0, "issuewild", "ca2.example.org"}, nil},
		{"critical issue", Record{128, "issue", "letsencrypt.org"}, nil},
		{"issue with account parameter", Record{0, "issue", "ca1.example.net; account=230123"}, nil},
		{"issue with accounturi", Record{0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1234"}, nil},
		{"accounturi urn", Record{0, "issue", "ca.example; accounturi=urn:ca:acct:1%2F2"}, nil},
		{"validationmethods", Record{0, "issue", "ca.example; validationmethods=dns-01,http-01,tls-alpn-01"}, nil},
		{"validationmethods ca-", Record{0, "issuewild", "ca.example; validationmethods=dns-01,ca-foo"}, nil},
		{"both 8657 parameters", Record{0, "issue", "ca.example; accounturi=https://ca.example/a/1; validationmethods=dns-01"}, nil},
		{"unknown parameter", Record{0, "issue", "ca.example; policy=ev; x-y=1"}, nil},
		{"iodef mailto", Record{0, "iodef", "mailto:security@example.com"}, nil},
		{"iodef mailto with query", Record{0, "iodef", "mailto:security@example.com?subject=caa"}, nil},
		{"iodef https", Record{0, "iodef", "https://iodef.example.com/"}, nil},
		{"iodef http uppercase scheme", Record{0, "iodef", "HTTP://iodef.example.com/report"}, nil},
		{"contactemail", Record{0, "contactemail", "domainowner@example.com"}, nil},
		{"contactphone", Record{0, "contactphone", "+1 (555) 123-4567"}, nil},
		{"issuemail", Record{0, "issuemail", "ca.example; a=b"}, nil},
		{"issuevmc", Record{0, "issuevmc", "digicert.com"}, nil},
		{"unknown tag", Record{0, "tbs", "Unknown"}, nil},
		{"reserved IANA tag", Record{0, "auth", "x"}, nil},
		{"15-character tag", Record{0, "abcdefghijklmno", ""}, nil},

		// Tag.
		{"empty tag", Record{0, "", "x"}, []want{{SeverityFail, "RFC 8659 §4.1: tag is empty", false}}},
		{"tag with hyphen", Record{0, "is-sue", "x"}, []want{{SeverityFail, `RFC 8659 §4.1: tag "is-sue" has "-" at byte 2`, false}}},
		{"tag with NUL", Record{0, "issue\x00", "ca.example"}, []want{{SeverityFail, `tag "issue\x00" has "\x00" at byte 5`, false}}},
		{"tag with long s", Record{0, "i\u017f\u017fue", "%%"}, []want{{SeverityFail, "tags MUST contain only ASCII letters and digits", false}}},
		{"16-character tag", Record{0, "abcdefghijklmnop", ""}, []want{{SeverityWarn, `RFC 6844 §5.1: tag "abcdefghijklmnop" is 16 characters`, false}}},
		{"uppercase tag", Record{0, "ISSUE", "letsencrypt.org"}, []want{{SeverityWarn, `RFC 8659 §4.1.1: tag "ISSUE" is not in canonical lowercase`, false}}},
		{"mixed-case tag validated as issue", Record{0, "IssueWild", "bad..name"}, []want{
			{SeverityWarn, "not in canonical lowercase", false},
			{SeverityFail, "RFC 8659 §4.3: issuewild value", false},
		}},

		// Flags.
		{"reserved flag bits", Record{0x41, "issue", "ca.example"}, []want{{SeverityWarn, "RFC 8659 §4.1: flags 65 set reserved bits (0x41)", false}}},
		{"flags 1", Record{1, "issue", "ca.example"}, []want{{SeverityWarn, "flags 1 sets bit 7, the critical flag is 128", false}}},
		{"critical and reserved", Record{0xff, "issue", "ca.example"}, []want{{SeverityWarn, "flags 255 set reserved bits (0x7f)", false}}},
		{"critical unknown tag", Record{128, "tbs", "Unknown"}, []want{{SeverityWarn, `RFC 8659 §4.1: critical flag on unknown tag "tbs"`, true}}},
		{"critical unknown mixed case", Record{128, "Future", "x"}, []want{
			{SeverityWarn, "not in canonical lowercase", false},
			{SeverityWarn, `critical flag on unknown tag "Future"`, true},
		}},
		{"critical known tag in capitals", Record{128, "ISSUEWILD", ";"}, []want{{SeverityWarn, "not in canonical lowercase", false}}},
		{"critical empty tag", Record{128, "", ""}, []want{
			{SeverityFail, "tag is empty", false},
			{SeverityWarn, "critical flag on unknown tag", true},
		}},

		// issue and issuewild grammar.
		{"malformed issue", Record{0, "issue", "%%%%%"}, []want{{SeverityFail, `RFC 8659 §4.2: issue value "%%%%%" does not match the issue-value grammar (at byte 0`, false}}},
		{"issuer trailing dot", Record{0, "issue", "letsencrypt.org."}, []want{{SeverityFail, "the grammar has no trailing dot", false}}},
		{"issuer with underscore", Record{0, "issuewild", "ca_1.example"}, []want{{SeverityFail, "RFC 8659 §4.3: issuewild value", false}}},
		{"issue trailing semicolon", Record{0, "issue", "ca.example; a=b;"}, []want{{SeverityFail, "a CA MUST treat it as naming no CA", false}}},
		{"issue with space in parameters", Record{0, "issue", "ca.example; a=b c=d"}, []want{{SeverityFail, `between parameters, found "c"`, false}}},
		{"issue with control byte", Record{0, "issue", "ca.example\x07"}, []want{{SeverityFail, `found "\a"`, false}}},
		{"issue with non-ASCII", Record{0, "issue", "caf\xc3\xa9.example"}, []want{{SeverityFail, `found "\xc3"`, false}}},
		{"issuemail malformed", Record{0, "issuemail", "ca.example;a"}, []want{{SeverityFail, "RFC 9495 §3: issuemail value", false}}},

		// RFC 8657 parameters.
		{"accounturi without scheme", Record{0, "issue", "ca.example; accounturi=acct-1234"}, []want{{SeverityFail, `RFC 8657 §3: issue accounturi "acct-1234" is not a URI (no scheme)`, false}}},
		{"accounturi bad scheme", Record{0, "issue", "ca.example; accounturi=1http://x"}, []want{{SeverityFail, "scheme must start with a letter", false}}},
		{"accounturi bad char", Record{0, "issue", "ca.example; accounturi=https://ca.example/a|b"}, []want{{SeverityFail, `"|" is not allowed in a URI`, false}}},
		{"accounturi bad percent", Record{0, "issue", "ca.example; accounturi=https://ca.example/%zz"}, []want{{SeverityFail, "% not followed by two hex digits", false}}},
		{"accounturi case-insensitive name", Record{0, "issue", "ca.example; AccountURI=nope"}, []want{{SeverityFail, "is not a URI", false}}},
		{"two accounturi", Record{0, "issue", "ca.example; accounturi=https://ca.example/a/1; accounturi=https://ca.example/a/2"}, []want{
			{SeverityWarn, "RFC 8657 §3: issue property has 2 accounturi parameters", false},
		}},
		{"validationmethods bad label", Record{0, "issue", "ca.example; validationmethods=dns-01,http_01"}, []want{{SeverityFail, `RFC 8657 §4: issue validationmethods "dns-01,http_01" is not a comma-separated list`, false}}},
		{"validationmethods trailing comma", Record{0, "issuewild", "ca.example; validationmethods=dns-01,"}, []want{{SeverityFail, "issuewild validationmethods", false}}},
		{"validationmethods empty", Record{0, "issue", "ca.example; validationmethods="}, []want{{SeverityWarn, "validationmethods is empty", false}}},
		{"validationmethods unknown method", Record{0, "issue", "ca.example; validationmethods=dns-01,xyz-01"}, []want{{SeverityWarn, `names "xyz-01", neither a registered ACME validation method`, false}}},
		{"validationmethods uppercase", Record{0, "issue", "ca.example; validationmethods=DNS-01"}, []want{{SeverityWarn, `(method names are lowercase: "dns-01")`, false}}},
		{"two validationmethods", Record{0, "issue", "ca.example; validationmethods=dns-01; validationmethods=http-01"}, []want{{SeverityWarn, "2 validationmethods parameters", false}}},

		// iodef.
		{"iodef empty", Record{0, "iodef", ""}, []want{{SeverityFail, "RFC 8659 §4.4: iodef value is empty", false}}},
		{"iodef bare address", Record{0, "iodef", "security@example.com"}, []want{{SeverityFail, "has no URL scheme", false}}},
		{"iodef ftp", Record{0, "iodef", "ftp://example.com/"}, []want{{SeverityFail, `scheme "ftp" is not mailto, http or https`, false}}},
		{"iodef mailto without address", Record{0, "iodef", "mailto:"}, []want{{SeverityFail, "has no mail address", false}}},
		{"iodef mailto without domain", Record{0, "iodef", "mailto:security@"}, []want{{SeverityFail, "has no mail address", false}}},
		{"iodef https without host", Record{0, "iodef", "https:///path"}, []want{{SeverityFail, "has no host", false}}},
		{"iodef with space", Record{0, "iodef", "mailto:a b@example.com"}, []want{{SeverityFail, "has byte 0x20 at offset 8", false}}},
		{"iodef with control byte", Record{0, "iodef", "https://example.com/\x00"}, []want{{SeverityFail, "has byte 0x00 at offset 20", false}}},
		{"iodef bad percent", Record{0, "iodef", "https://example.com/%zz"}, []want{{SeverityFail, "is not a URL", false}}},

		// Text properties and unknown tags.
		{"contactemail control byte", Record{0, "contactemail", "a@example.com\r\n"}, []want{{SeverityFail, "CA/Browser Forum BR Appendix A: contactemail value has non-printable byte 0x0d at offset 13", false}}},
		{"issuevmc non-ASCII", Record{0, "issuevmc", "ca\xff"}, []want{{SeverityFail, "VMC Requirements: issuevmc value has non-printable byte 0xff", false}}},
		{"unknown tag binary value", Record{0, "future", "\x00\x01"}, []want{{SeverityWarn, `value of unknown tag "future" has non-printable byte 0x00 at offset 0`, false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Validate(tc.r)
			if len(got) != len(tc.want) {
				t.Fatalf("Validate(%v) gave %d problems, want %d:\n%s", tc.r, len(got), len(tc.want), format(got))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Severity != w.sev || !strings.Contains(g.Detail, w.detail) || g.Critical != w.critical {
					t.Errorf("Validate(%v) problem %d = %+v\nwant severity %s, critical %v, detail containing %q",
						tc.r, i, g, w.sev, w.critical, w.detail)
				}
			}
			for _, g := range got {
				if !strings.HasPrefix(g.Detail, "RFC ") && !strings.HasPrefix(g.Detail, "CA/Browser Forum ") {
					t.Errorf("Detail %q does not start with its clause", g.Detail)
				}
			}
		})
	}
}

func TestValidateLongValueIsShortened(t *testing.T) {
	t.Parallel()
	got := Validate(Record{0, "issue", strings.Repeat("%", 5000)})
	if len(got) != 1 {
		t.Fatalf("got %d problems, want 1", len(got))
	}
	if n := len(got[0].Detail); n > 400 {
		t.Errorf("Detail is %d bytes; a 5000-byte value must not be copied whole", n)
	}
	if !strings.Contains(got[0].Detail, "(5000 bytes)") {
		t.Errorf("Detail %q does not give the value's length", got[0].Detail)
	}
}

func TestKnownTag(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"issue", "ISSUE", "IssueWild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"} {
		if !KnownTag(tag) {
			t.Errorf("KnownTag(%q) = false, want true", tag)
		}
	}
	for _, tag := range []string{"", "tbs", "auth", "issue ", "i\u017f\u017fue", "\u0130ssue", "issuewildx"} {
		if KnownTag(tag) {
			t.Errorf("KnownTag(%q) = true, want false", tag)
		}
	}
}

func format(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  ")
		b.WriteString(p.Severity)
		if p.Critical {
			b.WriteString(" (critical)")
		}
		b.WriteString(": ")
		b.WriteString(p.Detail)
		b.WriteString("\n")
	}
	return b.String()
}
