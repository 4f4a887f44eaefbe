package caa

import "fmt"

// issueValue is an issue, issuewild or issuemail property value split by the
// issue-value grammar of RFC 8659 §4.2 (shared by §4.3 and RFC 9495 §3):
//
//	issue-value = *WSP [issuer-domain-name *WSP]
//	   [";" *WSP [parameters *WSP]]
//	issuer-domain-name = label *("." label)
//	label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
//	parameters = (parameter *WSP ";" *WSP parameters) / parameter
//	parameter = tag *WSP "=" *WSP value
//	tag = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
//	value = *(%x21-3A / %x3C-7E)
type issueValue struct {
	issuer string // as written; empty when the value names no CA
	params []param
}

type param struct {
	tag, value string
}

// grammarError says where a value leaves the grammar, so that a user can find
// the stray byte in a record that looks right in a zone file.
type grammarError struct {
	off int
	msg string
}

func (e *grammarError) Error() string { return fmt.Sprintf("at byte %d: %s", e.off, e.msg) }

// parseIssueValue follows the grammar exactly. A CA must treat a value that
// does not match as naming no CA (RFC 8659 §4.2), so leniency here would
// predict issuance that a CA refuses.
func parseIssueValue(v string) (issueValue, error) {
	p := issueParser{s: v}
	var out issueValue
	p.skipWSP()
	if p.more() && isAlnum(p.peek()) {
		start := p.i
		if err := p.domain(); err != nil {
			return issueValue{}, err
		}
		out.issuer = v[start:p.i]
		p.skipWSP()
	}
	if !p.more() {
		return out, nil
	}
	if p.peek() != ';' {
		if out.issuer == "" {
			return issueValue{}, p.errorf("issuer-domain-name must start with a letter or digit, found %s", p.found())
		}
		return issueValue{}, p.errorf("expected \";\" or the end after issuer-domain-name %q, found %s", out.issuer, p.found())
	}
	p.i++
	p.skipWSP()
	for p.more() {
		pr, err := p.parameter()
		if err != nil {
			return issueValue{}, err
		}
		out.params = append(out.params, pr)
		p.skipWSP()
		if !p.more() {
			break
		}
		if p.peek() != ';' {
			return issueValue{}, p.errorf("expected \";\" between parameters, found %s", p.found())
		}
		p.i++
		p.skipWSP()
		if !p.more() {
			return issueValue{}, p.errorf("\";\" after the last parameter must be followed by another parameter")
		}
	}
	return out, nil
}

type issueParser struct {
	s string
	i int
}

func (p *issueParser) more() bool { return p.i < len(p.s) }
func (p *issueParser) peek() byte { return p.s[p.i] }

func (p *issueParser) found() string {
	if !p.more() {
		return "the end"
	}
	return fmt.Sprintf("%q", p.s[p.i:p.i+1])
}

func (p *issueParser) errorf(format string, args ...any) error {
	return &grammarError{off: p.i, msg: fmt.Sprintf(format, args...)}
}

func (p *issueParser) skipWSP() {
	for p.more() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

func (p *issueParser) domain() error {
	for {
		if err := p.label("issuer-domain-name label"); err != nil {
			return err
		}
		if !p.more() || p.peek() != '.' {
			return nil
		}
		p.i++
		if !p.more() || !isAlnum(p.peek()) {
			if !p.more() || p.peek() == ' ' || p.peek() == '\t' || p.peek() == ';' {
				return p.errorf("issuer-domain-name ends with \".\"; the grammar has no trailing dot")
			}
			return p.errorf("issuer-domain-name label must start with a letter or digit, found %s", p.found())
		}
	}
}

// label reads (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)), the form shared by
// domain labels and parameter tags.
func (p *issueParser) label(what string) error {
	if !p.more() || !isAlnum(p.peek()) {
		return p.errorf("%s must start with a letter or digit, found %s", what, p.found())
	}
	for p.more() && (isAlnum(p.peek()) || p.peek() == '-') {
		p.i++
	}
	if p.s[p.i-1] == '-' {
		p.i--
		return p.errorf("%s ends with \"-\"", what)
	}
	return nil
}

func (p *issueParser) parameter() (param, error) {
	start := p.i
	if err := p.label("parameter tag"); err != nil {
		return param{}, err
	}
	tag := p.s[start:p.i]
	p.skipWSP()
	if !p.more() || p.peek() != '=' {
		return param{}, p.errorf("expected \"=\" after parameter tag %q, found %s", tag, p.found())
	}
	p.i++
	p.skipWSP()
	start = p.i
	for p.more() && isParamValueByte(p.peek()) {
		p.i++
	}
	return param{tag: tag, value: p.s[start:p.i]}, nil
}

// isParamValueByte is %x21-3A / %x3C-7E: printable ASCII except ";".
func isParamValueByte(c byte) bool { return c >= 0x21 && c <= 0x7e && c != ';' }
