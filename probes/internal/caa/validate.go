package caa

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Problem severities. Fail: the record breaks a MUST of its specification, so
// a CA may read it differently from what its owner meant. Warn: it breaks a
// SHOULD, or is valid but very likely not what was meant.
const (
	SeverityFail = "fail"
	SeverityWarn = "warn"
)

// Problem is one thing wrong with a CAA record. Detail is one line that
// starts with the clause it breaks.
type Problem struct {
	Severity string
	Detail   string
	// Critical marks the Issuer Critical Flag on a tag this package does not
	// know. The record itself is legal, hence warn, but it forbids issuance
	// by every CA that does not know the tag either (RFC 8659 §4.1), which a
	// caller may want to treat as a policy failure.
	Critical bool
}

// Property tags with a known meaning, in lowercase: tags match
// case-insensitively (RFC 8659 §4.1), so callers fold with lowerASCII first.
const (
	tagIssue        = "issue"        // RFC 8659 §4.2
	tagIssueWild    = "issuewild"    // RFC 8659 §4.3
	tagIodef        = "iodef"        // RFC 8659 §4.4
	tagContactEmail = "contactemail" // CA/Browser Forum BR, Appendix A
	tagContactPhone = "contactphone" // CA/Browser Forum BR, Appendix A
	tagIssueMail    = "issuemail"    // RFC 9495
	tagIssueVMC     = "issuevmc"     // CA/Browser Forum VMC Requirements
)

// KnownTag reports whether tag names a property this package understands.
// Tags match case-insensitively (RFC 8659 §4.1).
func KnownTag(tag string) bool {
	switch lowerASCII(tag) {
	case tagIssue, tagIssueWild, tagIodef, tagContactEmail, tagContactPhone, tagIssueMail, tagIssueVMC:
		return true
	}
	return false
}

// Validate reports everything wrong with one CAA record, in a stable order:
// tag, flags, then value. A record without problems gives nil.
func Validate(r Record) []Problem {
	var ps []Problem
	add := func(sev, format string, args ...any) {
		ps = append(ps, Problem{Severity: sev, Detail: fmt.Sprintf(format, args...)})
	}

	tag := lowerASCII(r.Tag)
	switch {
	case r.Tag == "":
		add(SeverityFail, "RFC 8659 §4.1: tag is empty; the tag length MUST be at least 1")
	case badTagByte(r.Tag) >= 0:
		i := badTagByte(r.Tag)
		add(SeverityFail, "RFC 8659 §4.1: tag %s has %q at byte %d; tags MUST contain only ASCII letters and digits",
			quote(r.Tag), r.Tag[i:i+1], i)
	default:
		if len(r.Tag) > 15 {
			add(SeverityWarn, "RFC 6844 §5.1: tag %q is %d characters; tags SHOULD be at most 15 (RFC 8659 dropped the limit, but DNS software that kept it rejects the record)",
				r.Tag, len(r.Tag))
		}
		if tag != r.Tag {
			add(SeverityWarn, "RFC 8659 §4.1.1: tag %q is not in canonical lowercase; CAs match tags case-insensitively (§4.1), but %q is the form to publish",
				r.Tag, tag)
		}
	}

	if reserved := r.Flags &^ FlagCritical; reserved != 0 {
		hint := ""
		if r.Flags == 1 {
			hint = "; flags 1 sets bit 7, the critical flag is 128 (bit 0 in RFC 1035 bit order)"
		}
		add(SeverityWarn, "RFC 8659 §4.1: flags %d set reserved bits (0x%02x); records MUST clear them and CAs ignore them%s",
			r.Flags, reserved, hint)
	}
	if r.Critical() && !KnownTag(r.Tag) {
		ps = append(ps, Problem{
			Severity: SeverityWarn,
			Critical: true,
			Detail: fmt.Sprintf("RFC 8659 §4.1: critical flag on unknown tag %s; a CA that does not know the tag MUST NOT issue for this name",
				quote(r.Tag)),
		})
	}

	switch tag {
	case tagIssue:
		ps = append(ps, validateIssueLike("RFC 8659 §4.2", tag, r.Value, true)...)
	case tagIssueWild:
		ps = append(ps, validateIssueLike("RFC 8659 §4.3", tag, r.Value, true)...)
	case tagIssueMail:
		ps = append(ps, validateIssueLike("RFC 9495 §3", tag, r.Value, false)...)
	case tagIodef:
		ps = append(ps, validateIodef(r.Value)...)
	case tagContactEmail, tagContactPhone:
		ps = append(ps, validateText("CA/Browser Forum BR Appendix A", tag, r.Value)...)
	case tagIssueVMC:
		ps = append(ps, validateText("CA/Browser Forum VMC Requirements", tag, r.Value)...)
	default:
		// RFC 8659 §4.1 lets values of other tags be binary, so bytes alone
		// cannot be wrong; they are only worth a note because few tools
		// show them faithfully.
		if i := nonPrintable(r.Value); i >= 0 && r.Tag != "" && badTagByte(r.Tag) < 0 {
			add(SeverityWarn, "RFC 8659 §4.1: value of unknown tag %q has non-printable byte 0x%02x at offset %d; legal (values are binary), but most zone tools cannot show it",
				r.Tag, r.Value[i], i)
		}
	}
	return ps
}

// validateIssueLike checks a value against the issue-value grammar and, for
// issue and issuewild, the RFC 8657 parameters.
func validateIssueLike(clause, tag, value string, rfc8657 bool) []Problem {
	v, err := parseIssueValue(value)
	if err != nil {
		return []Problem{{Severity: SeverityFail, Detail: fmt.Sprintf(
			"%s: %s value %s does not match the issue-value grammar (%v); a CA MUST treat it as naming no CA",
			clause, tag, quote(value), err)}}
	}
	if !rfc8657 {
		return nil
	}
	var ps []Problem
	add := func(sev, format string, args ...any) {
		ps = append(ps, Problem{Severity: sev, Detail: fmt.Sprintf(format, args...)})
	}
	var accounts, methods int
	for _, p := range v.params {
		switch lowerASCII(p.tag) {
		case "accounturi":
			accounts++
			if err := checkURI(p.value); err != nil {
				add(SeverityFail, "RFC 8657 §3: %s accounturi %s is not a URI (%v); the property is unsatisfiable",
					tag, quote(p.value), err)
			}
		case "validationmethods":
			methods++
			ps = append(ps, checkMethods(tag, p.value)...)
		}
	}
	if accounts > 1 {
		add(SeverityWarn, "RFC 8657 §3: %s property has %d accounturi parameters; a property with more than one is unsatisfiable and authorises no account",
			tag, accounts)
	}
	if methods > 1 {
		add(SeverityWarn, "RFC 8657 §4: %s property has %d validationmethods parameters; RFC 8657 defines one list per property and CAs may refuse the property (§5.8); publish one comma-separated list",
			tag, methods)
	}
	return ps
}

// checkMethods checks a validationmethods value, which RFC 8657 §4 defines as
//
//	value = [*(label ",") label]
//	label = 1*(ALPHA / DIGIT / "-")
func checkMethods(tag, value string) []Problem {
	if value == "" {
		return []Problem{{Severity: SeverityWarn, Detail: fmt.Sprintf(
			"RFC 8657 §4: %s validationmethods is empty, so no validation method is allowed and the property authorises nothing", tag)}}
	}
	var ps []Problem
	for _, m := range strings.Split(value, ",") {
		if m == "" || badMethodByte(m) {
			return []Problem{{Severity: SeverityFail, Detail: fmt.Sprintf(
				"RFC 8657 §4: %s validationmethods %s is not a comma-separated list of method names (letters, digits, \"-\"); the property is unsatisfiable",
				tag, quote(value))}}
		}
		if registeredMethod(m) || strings.HasPrefix(m, "ca-") {
			continue
		}
		hint := ""
		if low := lowerASCII(m); registeredMethod(low) {
			hint = fmt.Sprintf(" (method names are lowercase: %q)", low)
		}
		ps = append(ps, Problem{Severity: SeverityWarn, Detail: fmt.Sprintf(
			"RFC 8657 §4: %s validationmethods names %q, neither a registered ACME validation method nor a CA-specific \"ca-\" method%s; no CA will use it",
			tag, m, hint)})
	}
	return ps
}

// registeredMethod lists the IANA "ACME Validation Methods" registry entries
// a domain is likely to name. An unlisted method is only warned about.
func registeredMethod(m string) bool {
	switch m {
	case "http-01", "dns-01", "tls-alpn-01", "tls-sni-01", "tls-sni-02",
		"email-reply-00", "tkauth-01", "onion-csr-01":
		return true
	}
	return false
}

// checkURI applies the RFC 3986 generic syntax: a scheme, ":", and only
// characters a URI may carry. It does not resolve or normalise anything;
// only the CA knows which account URIs it recognises.
func checkURI(s string) error {
	colon := strings.IndexByte(s, ':')
	if colon < 0 {
		return fmt.Errorf("no scheme")
	}
	scheme := s[:colon]
	if scheme == "" || !isAlpha(scheme[0]) {
		return fmt.Errorf("scheme must start with a letter")
	}
	for i := 1; i < len(scheme); i++ {
		c := scheme[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("scheme %q has %q", scheme, string(c))
		}
	}
	rest := s[colon+1:]
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '%':
			if i+2 >= len(rest) || !isHex(rest[i+1]) || !isHex(rest[i+2]) {
				return fmt.Errorf("%% not followed by two hex digits")
			}
			i += 2
		case isAlnum(c) || strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		default:
			return fmt.Errorf("%q is not allowed in a URI", string(c))
		}
	}
	return nil
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// validateIodef checks RFC 8659 §4.4: the value is a mailto:, http: or https:
// URL, "the only supported URL schemes".
func validateIodef(value string) []Problem {
	fail := func(format string, args ...any) []Problem {
		return []Problem{{Severity: SeverityFail, Detail: "RFC 8659 §4.4: " + fmt.Sprintf(format, args...)}}
	}
	if value == "" {
		return fail("iodef value is empty; it MUST be a mailto:, http: or https: URL")
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c <= 0x20 || c > 0x7e {
			return fail("iodef URL %s has byte 0x%02x at offset %d; a URL has no spaces or control bytes", quote(value), c, i)
		}
	}
	u, err := url.Parse(value)
	if err != nil {
		// url.Error repeats the whole value; the Detail already quotes it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail("iodef value %s is not a URL: %v", quote(value), err)
	}
	switch lowerASCII(u.Scheme) {
	case "mailto":
		addr, _, _ := strings.Cut(u.Opaque, "?")
		local, domain, ok := strings.Cut(addr, "@")
		if !ok || local == "" || domain == "" {
			return fail("iodef URL %s has no mail address (want mailto:user@example.com)", quote(value))
		}
	case "http", "https":
		if u.Host == "" {
			return fail("iodef URL %s has no host", quote(value))
		}
	case "":
		return fail("iodef value %s has no URL scheme; use mailto:, http: or https:", quote(value))
	default:
		return fail("iodef URL scheme %q is not mailto, http or https, the only supported schemes", u.Scheme)
	}
	return nil
}

// validateText checks a property whose value is defined as text.
func validateText(spec, tag, value string) []Problem {
	if i := nonPrintable(value); i >= 0 {
		return []Problem{{Severity: SeverityFail, Detail: fmt.Sprintf(
			"%s: %s value has non-printable byte 0x%02x at offset %d; the property is text", spec, tag, value[i], i)}}
	}
	return nil
}

// badTagByte returns the offset of the first byte that is not an ASCII letter
// or digit, or -1.
func badTagByte(tag string) int {
	for i := 0; i < len(tag); i++ {
		if !isAlnum(tag[i]) {
			return i
		}
	}
	return -1
}

// nonPrintable returns the offset of the first byte outside %x20-7E, or -1.
func nonPrintable(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return i
		}
	}
	return -1
}

// quote renders untrusted bytes for a Detail: Go-quoted so control bytes stay
// visible, and shortened so that a 60 KB value does not become a 60 KB line.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q… (%d bytes)", s[:limit], len(s))
	}
	return fmt.Sprintf("%q", s)
}
