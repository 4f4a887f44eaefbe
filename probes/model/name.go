package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// DNS limits in octets (RFC 1035 §2.3.4). A name is at most 255 octets on
// the wire, which is 253 in presentation form without the trailing dot.
const (
	MaxNameOctets  = 253
	MaxLabelOctets = 63
)

// DomainName is a domain name in its canonical presentation form: ASCII
// letters lowercased, absolute (with the trailing dot), escapes as
// miekg/dns writes them. One name has one spelling, so == and map keys
// compare names (DNS names are case-insensitive, RFC 4343), and the
// trailing dot is never a question: String is what goes on the wire and in
// the caches, Display what a person reads. The zero value is no name (an
// absent CNAME target, a finding of no zone).
//
// It holds names that are DNS names. A query name spelled with mixed case
// (the 0x20 probes), where the casing is the point, stays a string, and so
// does a user's input before it is checked (Domain.Domain keeps the text of
// an unusable entry).
type DomainName struct{ fqdn string }

// Root is the root name ".".
var Root = DomainName{"."}

// ParseName reads a name in presentation form, with or without its
// trailing dot, and returns it canonical. It checks what DNS requires of
// any name: ASCII text (an internationalised name must be given as its
// A-labels), no empty label, at most 63 octets a label and 253 in all
// (escapes such as \046 and \. count as the octet they stand for). Rules
// about which names a person may ask for (hyphens, wildcards, an all-digit
// TLD) are probes/input's: names read off the wire (a CNAME target, an NS
// name) need not follow them.
func ParseName(s string) (DomainName, error) {
	if msg := checkName(s); msg != "" {
		return DomainName{}, fmt.Errorf("domain name %q: %s", s, msg)
	}
	return DomainName{dns.CanonicalName(s)}, nil
}

// MustName is ParseName for names known to be valid (constants, tests); it
// panics on anything else.
func MustName(s string) DomainName {
	n, err := ParseName(s)
	if err != nil {
		panic(err)
	}
	return n
}

// errEscape is a malformed escape in presentation form.
var errEscape = errors.New(`bad escape (a '\' must be followed by a character or three digits up to 255)`)

// checkName returns what makes s no domain name, or "".
func checkName(s string) string {
	switch {
	case s == "":
		return "empty name"
	case s == ".":
		return ""
	case strings.HasPrefix(s, "."):
		return "starts with a dot (empty first label)"
	}
	body := s
	if dns.IsFqdn(body) {
		body = body[:len(body)-1]
	}
	total, label := 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c <= ' ' || c == 0x7f:
			return fmt.Sprintf("contains control character or space %q", c)
		case c > 0x7e:
			return "not ASCII: write an internationalised name as its A-labels (xn--...)"
		case c == '.':
			if label == 0 {
				return `empty label ("..")`
			}
			total += label + 1
			label = 0
			continue
		case c == '\\':
			n, err := escapeLen(body[i:])
			if err != nil {
				return err.Error()
			}
			i += n - 1
		}
		label++
		if label > MaxLabelOctets {
			return fmt.Sprintf("label %q is longer than %d octets", labelAt(body, i), MaxLabelOctets)
		}
	}
	if label == 0 {
		return `empty label ("..")`
	}
	if total += label; total > MaxNameOctets {
		return fmt.Sprintf("name is %d octets long, more than %d", total, MaxNameOctets)
	}
	return ""
}

// escapeLen is the length in bytes of the escape at the start of s ("\X" or
// "\DDD").
func escapeLen(s string) (int, error) {
	if len(s) < 2 {
		return 0, errEscape
	}
	if s[1] < ' ' || s[1] > '~' {
		// Only printable ASCII is escaped as itself; other octets are
		// written \DDD, so the name stays ASCII text.
		return 0, errEscape
	}
	if s[1] < '0' || s[1] > '9' {
		return 2, nil
	}
	if len(s) < 4 {
		return 0, errEscape
	}
	v := 0
	for _, d := range []byte(s[1:4]) {
		if d < '0' || d > '9' {
			return 0, errEscape
		}
		v = v*10 + int(d-'0')
	}
	if v > 255 {
		return 0, errEscape
	}
	return 4, nil
}

// labelAt is the start of the label that byte i is in, cut for a message.
func labelAt(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '.') + 1
	return s[start:min(len(s), start+MaxLabelOctets)] + "..."
}

// String is the name as a fully qualified domain name ("example.com.",
// "." for the root), as it goes on the wire; "" for the zero value.
func (n DomainName) String() string { return n.fqdn }

// Display is the name as people read and caaprobe writes it: without the
// trailing dot ("example.com"), the root as "."; "" for the zero value.
func (n DomainName) Display() string {
	if n.fqdn == "." {
		return n.fqdn
	}
	return strings.TrimSuffix(n.fqdn, ".")
}

// IsZero reports whether n is no name.
func (n DomainName) IsZero() bool { return n.fqdn == "" }

// IsRoot reports whether n is the root.
func (n DomainName) IsRoot() bool { return n.fqdn == "." }

// Equal reports whether n and o are the same name; the canonical form makes
// it ==.
func (n DomainName) Equal(o DomainName) bool { return n == o }

// Parent is the name with its first label removed: the root for a TLD,
// and the zero value for the root itself (and for no name).
func (n DomainName) Parent() DomainName {
	if n.fqdn == "" || n.fqdn == "." {
		return DomainName{}
	}
	if i, end := dns.NextLabel(n.fqdn, 0); !end && i < len(n.fqdn) {
		return DomainName{n.fqdn[i:]}
	}
	return Root
}

// Climb is the name and every ancestor up to, not including, the root:
// "www.example.com." gives www.example.com., example.com., com. (the order
// a CA's CAA walk reads them, RFC 8659 §3).
func (n DomainName) Climb() []DomainName {
	var out []DomainName
	for c := n; !c.IsZero() && !c.IsRoot(); c = c.Parent() {
		out = append(out, c)
	}
	return out
}

// IsSubdomainOf reports whether n is z or a name under it; every name is
// under the root, and no name is under the zero value.
func (n DomainName) IsSubdomainOf(z DomainName) bool {
	if n.IsZero() || z.IsZero() {
		return false
	}
	return dns.IsSubDomain(z.fqdn, n.fqdn)
}

// Labels are the name's labels from the first, in presentation form (with
// their escapes); none for the root.
func (n DomainName) Labels() []string { return dns.SplitDomainName(n.fqdn) }

// CountLabels is the number of labels, 0 for the root.
func (n DomainName) CountLabels() int { return dns.CountLabel(n.fqdn) }

// MarshalText writes the name as the JSON and the reports do: Display.
func (n DomainName) MarshalText() ([]byte, error) { return []byte(n.Display()), nil }

// UnmarshalText reads a name as ParseName does; empty text is the zero
// value, so an omitted name reads back as none.
func (n *DomainName) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*n = DomainName{}
		return nil
	}
	p, err := ParseName(string(b))
	if err != nil {
		return err
	}
	*n = p
	return nil
}

// TrimDot writes a name without its final dot, keeping the root as ".". It
// is for name-valued strings that are not a DomainName (a query name as it
// was spelled on the wire); a DomainName has Display.
func TrimDot(s string) string {
	if s == "." {
		return s
	}
	return strings.TrimSuffix(s, ".")
}
