package caa

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Record is one CAA property as it sits on the wire (RFC 8659 §4.1). Tag and
// Value hold the raw octets, unescaped and unvalidated, so that a record a
// server got wrong can still be shown and judged.
type Record struct {
	Flags uint8
	Tag   string
	Value string
}

// FlagCritical is the Issuer Critical Flag: bit 0 in RFC 1035 bit order, which
// is the most significant bit of the flags octet (RFC 8659 §4.1).
const FlagCritical uint8 = 0x80

// Critical reports whether the Issuer Critical Flag is set.
func (r Record) Critical() bool { return r.Flags&FlagCritical != 0 }

// ParseRDATA splits CAA RDATA into flags, tag and value. It rejects only what
// makes the three fields impossible to find; a tag or value with the wrong
// characters is returned as is, for Validate to report.
func ParseRDATA(rdata []byte) (Record, error) {
	if len(rdata) < 2 {
		return Record{}, fmt.Errorf("CAA RDATA is %d %s, needs at least 2 (flags and tag length)",
			len(rdata), plural(len(rdata), "byte", "bytes"))
	}
	n := int(rdata[1])
	if n == 0 {
		return Record{}, fmt.Errorf("CAA tag length 0: RFC 8659 §4.1 requires at least 1")
	}
	if rest := len(rdata) - 2; n > rest {
		return Record{}, fmt.Errorf("CAA tag length %d exceeds RDATA (%d %s after the tag length octet)",
			n, rest, plural(rest, "byte", "bytes"))
	}
	return Record{
		Flags: rdata[0],
		Tag:   string(rdata[2 : 2+n]),
		Value: string(rdata[2+n:]),
	}, nil
}

// FromRR converts a CAA record that miekg/dns unpacked. miekg/dns keeps the
// tag in escaped presentation form (\" and \DDD) but the value as raw octets,
// so only the tag is unescaped here. A record built from zone-file text keeps
// any escapes of its value literally; judge wire bytes with ParseRDATA where
// they exist.
func FromRR(rr *dns.CAA) Record {
	if rr == nil {
		return Record{}
	}
	return Record{Flags: rr.Flag, Tag: unescape(rr.Tag), Value: rr.Value}
}

// Pack encodes r as CAA RDATA, the inverse of ParseRDATA. It returns nil when
// r cannot be encoded: a tag longer than 255 bytes, or RDATA longer than the
// 65535 bytes an RR can carry.
func (r Record) Pack() []byte {
	size := 2 + len(r.Tag) + len(r.Value)
	if len(r.Tag) > 255 || size > 65535 {
		return nil
	}
	b := make([]byte, 0, size)
	b = append(b, r.Flags, byte(len(r.Tag)))
	b = append(b, r.Tag...)
	return append(b, r.Value...)
}

// String renders r in the presentation format of RFC 8659 §4.1.1, with
// non-printable bytes as \DDD so that evidence never carries raw control
// characters.
func (r Record) String() string {
	return fmt.Sprintf("%d %s %s", r.Flags, escape(r.Tag, false), escape(r.Value, true))
}

// unescape turns RFC 1035 §5.1 presentation escapes (\X and \DDD) back into
// octets.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v <= 255 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

// escape is the inverse of unescape; quoted adds the double quotes a value
// needs when it may contain spaces.
func escape(s string, quoted bool) string {
	var b strings.Builder
	if quoted {
		b.WriteByte('"')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e || (c == ' ' && !quoted):
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	if quoted {
		b.WriteByte('"')
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// lowerASCII folds only A–Z. strings.ToLower and strings.EqualFold apply
// Unicode folding, under which "iſſue" (long s) would pass for "issue".
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
