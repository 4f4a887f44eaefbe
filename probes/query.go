package probes

import (
	"math/rand/v2"
	"strings"

	"github.com/miekg/dns"
)

// EDNSBufSize is the UDP payload size caaprobe advertises: the DNS flag day
// 2020 value, which avoids IP fragmentation.
const EDNSBufSize = 1232

// Spell writes name (lowercase presentation form) in the given spelling.
// A random spelling has at least one upper and one lower letter when the
// name has two letters or more, so it differs from both other spellings.
func Spell(name string, s Spelling) string {
	switch s {
	case SpellUpper:
		return strings.ToUpper(name)
	case SpellRandom:
		return spell0x20(name)
	}
	return strings.ToLower(name)
}

func spell0x20(name string) string {
	b := []byte(strings.ToLower(name))
	var letters []int
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			letters = append(letters, i)
		}
	}
	for _, i := range letters {
		if rand.IntN(2) == 1 {
			b[i] -= 'a' - 'A'
		}
	}
	if len(letters) >= 2 {
		// Force one of each case so the spelling is neither all-lower nor all-upper.
		up := letters[rand.IntN(len(letters))]
		lo := letters[rand.IntN(len(letters))]
		for lo == up {
			lo = letters[rand.IntN(len(letters))]
		}
		b[up] = b[up] &^ 0x20
		b[lo] = b[lo] | 0x20
	}
	return string(b)
}

// BuildQuery packs a query for name (spelled as it should go on the wire).
// RD is never set: caaprobe asks authoritative servers, and a query with RD
// could be answered from a cache. The ID is replaced per attempt.
func BuildQuery(name string, qtype uint16, edns, do bool) ([]byte, error) {
	m := new(dns.Msg)
	m.Id = 0
	m.RecursionDesired = false
	m.Question = []dns.Question{{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}}
	if edns || do {
		m.SetEdns0(EDNSBufSize, do)
	}
	return m.Pack()
}
