package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// maxFolder is the longest folder name FolderName returns, well under the
// 255-byte limit of common file systems.
const maxFolder = 200

// FolderName maps a domain (as model.Domain.Domain holds it) to the name
// of its bundle folder. The mapping is injective, so two inputs never share
// a folder:
//
//   - lowercase letters, digits, '-' and '.' stand for themselves, so an
//     ordinary name or IDN A-label is its own folder name;
//   - a leading "*." becomes "_wildcard.";
//   - every other byte, and a leading '.', becomes '_' and two hex digits
//     ("_5f" for '_', "_41" for 'A'), so the result never starts with a dot
//     (no ".", "..", or hidden folders) and holds no '/' or '\';
//   - the empty name becomes "_empty";
//   - a result over 200 bytes is cut and ends in "_h" and 16 hex digits of
//     the SHA-256 of the input.
//
// "_w", "_e" and "_h" are not hex escapes, so the three special forms
// cannot arise from escaping.
func FolderName(domain string) string {
	if domain == "" {
		return "_empty"
	}
	var b strings.Builder
	rest := domain
	if strings.HasPrefix(rest, "*.") {
		b.WriteString("_wildcard.")
		rest = rest[2:]
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		plain := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if c == '.' && b.Len() == 0 {
			plain = false
		}
		if plain {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	s := b.String()
	if len(s) <= maxFolder {
		return s
	}
	sum := sha256.Sum256([]byte(domain))
	suffix := "_h" + hex.EncodeToString(sum[:8])
	return s[:maxFolder-len(suffix)] + suffix
}
