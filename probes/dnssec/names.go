package dnssec

import (
	"bytes"
	"cmp"
	"strings"

	"github.com/miekg/dns"
)

// wireLabels returns the labels of name as wire-format octets with ASCII
// letters lowercased, leftmost label first. Working on octets rather than
// presentation text makes escapes (\. and \DDD) compare the way RFC 4034
// §6.1 orders names; miekg/dns v1.1.73 has no exported canonical ordering.
func wireLabels(name string) ([][]byte, bool) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	buf = buf[:n]
	var labels [][]byte
	for off := 0; off < len(buf) && buf[off] != 0; {
		end := off + 1 + int(buf[off])
		if end > len(buf) {
			return nil, false
		}
		label := buf[off+1 : end]
		for i, c := range label {
			if 'A' <= c && c <= 'Z' {
				label[i] = c + 'a' - 'A'
			}
		}
		labels = append(labels, label)
		off = end
	}
	return labels, true
}

// compareNames orders a and b canonically (RFC 4034 §6.1). Names that do not
// parse sort by their lowercase text so that the order stays total.
func compareNames(a, b string) int {
	la, oka := wireLabels(a)
	lb, okb := wireLabels(b)
	if !oka || !okb {
		return strings.Compare(dns.CanonicalName(a), dns.CanonicalName(b))
	}
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

func sameName(a, b string) bool { return compareNames(a, b) == 0 }

// commonLabels counts the rightmost labels a and b share.
func commonLabels(a, b string) int {
	la, oka := wireLabels(a)
	lb, okb := wireLabels(b)
	if !oka || !okb {
		return 0
	}
	n := 0
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0 && bytes.Equal(la[i], lb[j]); i, j = i-1, j-1 {
		n++
	}
	return n
}

// inZone reports whether name is zone or below it.
func inZone(zone, name string) bool {
	lz, ok := wireLabels(zone)
	return ok && validName(name) && commonLabels(zone, name) == len(lz)
}

// below reports whether name is strictly below ancestor.
func below(ancestor, name string) bool {
	return inZone(ancestor, name) && dns.CountLabel(name) > dns.CountLabel(ancestor)
}

func validName(name string) bool {
	_, ok := wireLabels(name)
	return ok
}

// ancestor returns the last n labels of name, lowercased; n at or above the
// label count returns name itself.
func ancestor(name string, n int) string {
	name = dns.CanonicalName(name)
	idx := dns.Split(name)
	switch {
	case n <= 0:
		return "."
	case n >= len(idx):
		return name
	}
	return name[idx[len(idx)-n]:]
}

// isWildcard reports whether the leftmost label of name is the asterisk label.
func isWildcard(name string) bool {
	return name == "*" || strings.HasPrefix(name, "*.")
}
