package caa

import (
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

// FromRR converts a CAA record that miekg/dns unpacked. miekg/dns keeps the
// tag in escaped presentation form (\" and \DDD) but the value as raw octets,
// so only the tag is unescaped here. A record built from zone-file text keeps
// any escapes of its value literally.
func FromRR(rr *dns.CAA) Record {
	if rr == nil {
		return Record{}
	}
	return Record{Flags: rr.Flag, Tag: unescape(rr.Tag), Value: rr.Value}
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
