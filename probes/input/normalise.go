package input

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/model"
	"golang.org/x/net/idna"
)

// DNS limits in octets, for the presentation form without the trailing dot
// (RFC 1035 §2.3.4: 255 octets on the wire is 253 in text): the model's,
// which every DomainName keeps.
const (
	maxNameOctets  = model.MaxNameOctets
	maxLabelOctets = model.MaxLabelOctets
)

// maxInputBytes bounds the text Normalise looks at. The longest legal name
// written with U-labels of 4-byte UTF-8 characters stays under it; anything
// longer is rejected before IDNA, so junk costs little and error messages
// stay short.
const maxInputBytes = 4 * maxNameOctets

// maxShownBytes bounds the raw text a bad item carries, so one line of junk
// cannot bloat the report; it matches the longest legal name plus the dot and
// the root.
const maxShownBytes = 255

// lookupProfile is built per call rather than held in a package variable, so
// the package has no mutable state; building it is a handful of assignments.
//
// The options follow UTS #46 lookup (what browsers and CAs do with a name a
// person typed) with two changes:
//   - StrictDomainName(false) lets '_' (and '*') through IDNA; Normalise
//     itself decides which ASCII is allowed, with clearer messages.
//   - CheckHyphens(false), because MapForLookup would otherwise reject
//     "--" in the third and fourth position, and real hosts such as
//     "r3---sn-abc.googlevideo.com" have that. Leading and trailing hyphens
//     are checked by Normalise.
//
// Transitional(false) keeps 'ß' and ZWJ/ZWNJ distinct (IDNA2008), which is
// what registries and current resolvers use: "faß.de" is not "fass.de".
func lookupProfile() *idna.Profile {
	return idna.New(
		idna.MapForLookup(),
		idna.BidiRule(),
		idna.Transitional(false),
		idna.StrictDomainName(false),
		idna.CheckHyphens(false),
	)
}

// Normalise turns one name as a person wrote it into the form the rest of
// caaprobe uses: lowercase, A-labels (IDNA2008 via UTS #46 lookup mapping),
// no trailing dot. A leading "*." label is kept: a wildcard is its own input,
// answered with the CAA issuewild rules rather than issue.
//
// The error says what is wrong in words a user can act on and quotes the
// input with control characters escaped; it does not name the source, which
// only the caller knows.
//
// Rules beyond plain RFC 1035 syntax, and why:
//   - One trailing dot is accepted and dropped: "example.com." is the fully
//     qualified form dig and zone files use, and names the same domain.
//     Two ("example.com..") are an empty label.
//   - '_' is allowed anywhere in a label. DNS permits it (RFC 2181 §11) and
//     underscore names (service labels, hosts named by tools) exist in zones
//     that users want checked; the CA/B Forum ban on '_' in certificates
//     is about issuance, not about whether a server answers CAA correctly.
//   - Leading and trailing '-' in a label is an error (RFC 952/1123 host
//     names): such a name cannot be in a certificate, so it is a typo.
//   - A last label of digits only is rejected as an IP address look-alike
//     (RFC 3696 §2): no TLD is all-numeric.
//   - A single label ("com") is valid: CAA at a TLD is checkable.
func Normalise(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if err := checkText(s); err != nil {
		return "", nameErr(s, err.Error())
	}
	if s == "" {
		return "", errors.New("empty name")
	}
	if len(s) > maxInputBytes {
		return "", nameErr(s, fmt.Sprintf("%d bytes long: no domain name is", len(s)))
	}
	if msg := notADomain(s); msg != "" {
		return "", nameErr(s, msg)
	}
	if s == "." {
		return "", nameErr(s, `the root "." is not a domain to check`)
	}

	for _, l := range strings.Split(s, ".") {
		// IDNA decodes a bare "xn--" to an empty label without complaint,
		// which would otherwise surface as a puzzling "empty label".
		if strings.EqualFold(l, "xn--") {
			return "", nameErr(s, `label "xn--" is an A-label prefix with nothing after it`)
		}
	}
	out, err := lookupProfile().ToASCII(s)
	if err != nil {
		return "", nameErr(s, "not a valid internationalised name (IDNA2008/UTS #46): "+err.Error())
	}
	// IDNA maps characters such as U+3002 IDEOGRAPHIC FULL STOP and
	// U+FF0F FULLWIDTH SOLIDUS to ASCII, so the structure is checked on its
	// output, not on the input.
	if out == "" {
		return "", nameErr(s, "only invisible characters, which IDNA mapping removes")
	}
	// The fully qualified form ("example.com.", as dig and zone files
	// write it) names the same domain: one trailing dot is dropped.
	if strings.HasSuffix(out, ".") && !strings.HasSuffix(out, "..") && out != "." {
		out = strings.TrimSuffix(out, ".")
	}
	if msg := checkStructure(out); msg != "" {
		return "", nameErr(s, msg)
	}
	return out, nil
}

// Name is Normalise for the code that works on the name rather than on the
// text: the same checks and messages, the result a DomainName (for a
// wildcard, "*.example.com.").
func Name(raw string) (model.DomainName, error) {
	s, err := Normalise(raw)
	if err != nil {
		return model.DomainName{}, err
	}
	n, err := model.ParseName(s)
	if err != nil {
		// Normalise's checks are stricter than the model's; this would
		// be a disagreement between the two, said with the input.
		return model.DomainName{}, nameErr(raw, err.Error())
	}
	return n, nil
}

func nameErr(raw, msg string) error {
	return fmt.Errorf(`"%s": %s`, sanitise(raw), msg)
}

// checkText rejects input that is not text at all, before anything tries to
// read meaning into it.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8 (binary data or another encoding)")
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return errors.New("contains whitespace: one name per entry")
		case unicode.IsControl(r):
			return fmt.Errorf("contains control character %U", r)
		}
	}
	return nil
}

// notADomain recognises things people paste instead of a domain name, so the
// message can say what to write instead. It returns "" for anything else.
func notADomain(s string) string {
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
			return fmt.Sprintf("is a URL, not a domain name: write %q", suggest(u.Hostname()))
		}
		return "is a URL, not a domain name"
	}
	if ip := strings.Trim(s, "[]"); isIP(ip) {
		return "is an IP address, not a domain name"
	}
	if strings.Contains(s, ":") {
		if host, port, err := net.SplitHostPort(s); err == nil && host != "" && port != "" && strings.Trim(port, "0123456789") == "" {
			if isIP(host) {
				return "is an IP address and port, not a domain name"
			}
			return fmt.Sprintf("has a port: write %q", suggest(host))
		}
		return "':' is not allowed in a domain name"
	}
	if host, _, ok := strings.Cut(s, "/"); ok {
		if host != "" {
			return fmt.Sprintf("contains '/': write the host name %q", suggest(host))
		}
		return "contains '/': not a domain name"
	}
	if _, host, ok := strings.Cut(s, "@"); ok && host != "" && !strings.Contains(host, "@") {
		return fmt.Sprintf("looks like an email address: write the domain %q", suggest(host))
	}
	return ""
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// suggest gives the normalised form of a host pulled out of a URL or address
// when it has one, so the hint is exactly what to write; otherwise the
// host as found.
func suggest(host string) string {
	if n, err := Normalise(strings.TrimSuffix(host, ".")); err == nil {
		return n
	}
	return sanitise(host)
}

// checkStructure validates an ASCII name after IDNA mapping and returns what
// is wrong, or "".
func checkStructure(name string) string {
	switch {
	case strings.Contains(name, ".."):
		return `empty label ("..")`
	case strings.HasPrefix(name, "."):
		return "starts with a dot (empty first label)"
	case strings.HasSuffix(name, "."):
		// Normalise strips one trailing dot before this check: a second
		// one would be an empty label, found above.
		return "ends with a dot"
	}
	if len(name) > maxNameOctets {
		return fmt.Sprintf("name is %d octets long, more than %d", len(name), maxNameOctets)
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if msg := checkLabel(l, i); msg != "" {
			return msg
		}
	}
	if len(labels) == 1 && labels[0] == "*" {
		return "a wildcard needs a name under it, as in *.example.com"
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return fmt.Sprintf("last label %q is all digits: looks like an IP address, not a domain name", last)
	}
	return ""
}

func checkLabel(l string, index int) string {
	if len(l) > maxLabelOctets {
		return fmt.Sprintf("label %q is %d octets long, more than %d", l[:maxLabelOctets]+"...", len(l), maxLabelOctets)
	}
	if l == "*" {
		if index == 0 {
			return ""
		}
		return "a wildcard '*' is allowed only as the first label, as in *.example.com"
	}
	for _, c := range []byte(l) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '*':
			return fmt.Sprintf("label %q: '*' is allowed only as a whole first label, as in *.example.com", l)
		default:
			return fmt.Sprintf("label %q: character %q is not allowed (letters, digits, '-' and '_' are)", l, c)
		}
	}
	if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
		return fmt.Sprintf("label %q starts or ends with '-'", l)
	}
	return ""
}

// sanitise makes arbitrary input safe to print in a terminal, a log or a
// report: invalid UTF-8 bytes, control characters, format characters (such as
// U+202E, which reorders what follows on screen) and line or paragraph
// separators become Go-style escapes; a backslash is doubled so an escape
// cannot be forged. The result is at most 255 bytes, cut at an escape or
// rune boundary.
func sanitise(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\\':
			piece = `\\`
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			piece = fmt.Sprintf(`\x%02x`, r)
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError:
			piece = fmt.Sprintf(`\u%04x`, r)
		default:
			piece = s[i : i+size]
		}
		if b.Len()+len(piece) > maxShownBytes {
			break
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}
