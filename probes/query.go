package probes

import (
	"encoding/binary"
	"fmt"
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
//
// The bytes are written directly rather than through dns.Msg.Pack: a bulk
// run builds a query per exchange, and this is a fixed 12-byte header, one
// question and at most an OPT record (TestBuildQueryMatchesPack holds it
// to miekg/dns's packing).
func BuildQuery(name string, qtype uint16, edns, do bool) ([]byte, error) {
	buf := make([]byte, 12+256+4+11)
	if edns || do {
		buf[11] = 1 // ARCOUNT: the OPT record
	}
	buf[5] = 1 // QDCOUNT
	off, err := dns.PackDomainName(dns.Fqdn(name), buf, 12, nil, false)
	if err != nil {
		return nil, fmt.Errorf("query name %q: %w", name, err)
	}
	binary.BigEndian.PutUint16(buf[off:], qtype)
	binary.BigEndian.PutUint16(buf[off+2:], dns.ClassINET)
	off += 4
	if edns || do {
		// OPT (RFC 6891 §6.1.2): root owner, type 41, CLASS = UDP payload
		// size, TTL = extended RCODE, version 0 and the DO flag, no RDATA.
		buf[off] = 0
		binary.BigEndian.PutUint16(buf[off+1:], dns.TypeOPT)
		binary.BigEndian.PutUint16(buf[off+3:], EDNSBufSize)
		if do {
			buf[off+7] = 0x80
		}
		off += 11
	}
	return buf[:off], nil
}
