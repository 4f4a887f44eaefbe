package wire

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/miekg/dns"
)

// EDNSBufSize is the UDP payload size caaprobe advertises: the DNS flag day
// 2020 value, which avoids IP fragmentation.
const EDNSBufSize = 1232

// Spell writes name (lowercase presentation form) in the given spelling.
// A random spelling has at least one upper and one lower letter when the
// name has two letters or more, so it differs from both other spellings.
func Spell(name string, s catalog.Spelling) string {
	switch s {
	case catalog.SpellUpper:
		return strings.ToUpper(name)
	case catalog.SpellRandom:
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
// Every query with EDNS asks for the server's NSID (RFC 5001 §2.1: an empty
// NSID option), so each reply says which instance of an anycast address
// answered; except the probes marked NoNSID (caa, caa-upper, caa-0x20),
// which send byte for byte the query a CA's resolver sends (Unbound 1.17
// and 1.26: EDNS 0, DO, a 1232-byte buffer, no option at all). Those are
// the queries the prediction rests on: a server that fails any query with
// an EDNS option (edns-option-intolerant) would otherwise fail them where
// Unbound does not, and a wrong servfail would follow. The instance that
// answered an address is read from its other probes (caa-tcp, soa, the
// edns set, ...), which carry the option.
//
// The bytes are written directly rather than through dns.Msg.Pack: a bulk
// run builds a query per exchange, and this is a fixed 12-byte header, one
// question and at most an OPT record (TestBuildQueryMatchesPack holds it
// to miekg/dns's packing).
func BuildQuery(name string, qtype uint16, edns, do bool) ([]byte, error) {
	return BuildProbeQuery(name, catalog.Probe{Type: qtype, EDNS: edns, DO: do})
}

// nsidOption is an empty NSID option (RFC 5001 §2.1): code 3, length 0.
var nsidOption = []byte{0, byte(dns.EDNS0NSID), 0, 0}

// BuildProbeQuery packs the query of probe p for name: its type, class,
// opcode and EDNS form (version, flags, option, buffer size). p.QName, when
// set, is not applied here: the caller passes the name to send.
func BuildProbeQuery(name string, p catalog.Probe) ([]byte, error) {
	edns := p.EDNS || p.DO
	buf := make([]byte, 12, 12+256+4+11+len(nsidOption)+4+len(p.OptionData))
	buf[2] = byte(p.Opcode&0xf) << 3
	if edns {
		buf[11] = 1 // ARCOUNT: the OPT record
	}
	buf[5] = 1 // QDCOUNT
	buf = buf[:cap(buf)]
	off, err := dns.PackDomainName(dns.Fqdn(name), buf, 12, nil, false)
	if err != nil {
		return nil, fmt.Errorf("query name %q: %w", name, err)
	}
	class := p.Class
	if class == 0 {
		class = dns.ClassINET
	}
	binary.BigEndian.PutUint16(buf[off:], p.Type)
	binary.BigEndian.PutUint16(buf[off+2:], class)
	off += 4
	if edns {
		// OPT (RFC 6891 §6.1.2): root owner, type 41, CLASS = UDP payload
		// size, TTL = extended RCODE, version and flags (DO), then the
		// options: NSID, and the probe's own.
		size := p.BufSize
		if size == 0 {
			size = EDNSBufSize
		}
		flags := p.Flags
		if p.DO {
			flags |= 0x8000
		}
		buf[off] = 0
		binary.BigEndian.PutUint16(buf[off+1:], dns.TypeOPT)
		binary.BigEndian.PutUint16(buf[off+3:], size)
		buf[off+5] = 0 // extended RCODE
		buf[off+6] = p.Version
		binary.BigEndian.PutUint16(buf[off+7:], flags)
		rdlen := off + 9
		off += 11
		if !p.NoNSID {
			off += copy(buf[off:], nsidOption)
		}
		if p.Option != 0 {
			binary.BigEndian.PutUint16(buf[off:], p.Option)
			binary.BigEndian.PutUint16(buf[off+2:], uint16(len(p.OptionData)))
			off += 4
			off += copy(buf[off:], p.OptionData)
		}
		binary.BigEndian.PutUint16(buf[rdlen:], uint16(off-rdlen-2))
	}
	return buf[:off], nil
}
