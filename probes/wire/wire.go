// Package wire is the DNS message codec the hot path needs without a full
// unpack: packing a probe's query (query.go), reading a reply's header,
// question and length, and matching a reply to its query. Everything here
// reads untrusted bytes and is fuzzed (probes/judge's FuzzWire).
package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/miekg/dns"
)

// This file reads DNS messages as bytes, without miekg/dns, for the checks
// that a parser would hide: which bytes the question echoes, where a broken
// message stops making sense, and whether bytes trail the message.

// Question is the first question of a message as it stands in the bytes.
type Question struct {
	Name  []byte // the name in presentation form, case as sent ("ExAmPlE.test.")
	Type  uint16
	Class uint16
}

// Header fields read straight from the first 12 bytes.
func ID(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// ParseQuestion reads the first question of msg.
func ParseQuestion(msg []byte) (Question, int, error) {
	if len(msg) < 12 {
		return Question{}, 0, fmt.Errorf("message is %d bytes, shorter than the 12-byte header", len(msg))
	}
	if binary.BigEndian.Uint16(msg[4:]) == 0 {
		return Question{}, 12, errors.New("no question section (QDCOUNT 0)")
	}
	name, off, err := readName(msg, 12)
	if err != nil {
		return Question{}, off, fmt.Errorf("question name: %w", err)
	}
	if off+4 > len(msg) {
		return Question{}, off, fmt.Errorf("question ends at byte %d, before its type and class", len(msg))
	}
	return Question{Name: name, Type: binary.BigEndian.Uint16(msg[off:]), Class: binary.BigEndian.Uint16(msg[off+2:])}, off + 4, nil
}

// Matches reports whether reply answers query the way a resolver checks it
// (RFC 5452 §4): same ID, and the same question with names compared without
// regard to case. Case differences are a finding, not a reason to drop.
func Matches(query, reply []byte) bool {
	if len(reply) < 12 || ID(query) != ID(reply) {
		return false
	}
	qq, _, err := ParseQuestion(query)
	if err != nil {
		return false
	}
	if binary.BigEndian.Uint16(reply[4:]) == 0 {
		// No question: RFC 1035 lets error replies (FORMERR, NOTIMP to an
		// unknown opcode, BADVERS) leave it out. The ID matched on the
		// server's own address and port: keep it for judging.
		return true
	}
	rq, _, err := ParseQuestion(reply)
	if err != nil {
		// A reply with the right ID whose question cannot be read is the
		// server's broken answer, not someone else's: keep it for judging.
		return binary.BigEndian.Uint16(reply[4:]) != 0 || len(reply) == 12
	}
	return qq.Type == rq.Type && qq.Class == rq.Class && bytes.EqualFold(qq.Name, rq.Name)
}

// MessageEnd walks every section of msg without interpreting RDATA and
// returns the offset where the message ends. On error, the offset says where
// parsing stopped, for the evidence report.
func MessageEnd(msg []byte) (int, error) {
	if len(msg) < 12 {
		return len(msg), fmt.Errorf("message is %d bytes, shorter than the 12-byte header", len(msg))
	}
	off := 12
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	for i := 0; i < qd; i++ {
		var err error
		if _, off, err = readName(msg, off); err != nil {
			return off, fmt.Errorf("question %d name: %w", i+1, err)
		}
		if off+4 > len(msg) {
			return len(msg), fmt.Errorf("question %d: message ends at byte %d inside type/class", i+1, len(msg))
		}
		off += 4
	}
	sections := []string{"answer", "authority", "additional"}
	for s, name := range sections {
		count := int(binary.BigEndian.Uint16(msg[6+2*s:]))
		for i := 0; i < count; i++ {
			start := off
			var err error
			if _, off, err = readName(msg, off); err != nil {
				return off, fmt.Errorf("%s record %d owner: %w", name, i+1, err)
			}
			if off+10 > len(msg) {
				return start, fmt.Errorf("%s record %d: message ends at byte %d inside the record header", name, i+1, len(msg))
			}
			rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
			rtype := binary.BigEndian.Uint16(msg[off:])
			off += 10
			if off+rdlen > len(msg) {
				return off, fmt.Errorf("%s record %d (%s): RDLENGTH %d runs past the end of the message (%d bytes left)",
					name, i+1, catalog.TypeString(rtype), rdlen, len(msg)-off)
			}
			off += rdlen
		}
	}
	return off, nil
}

// maxPointers bounds compression-pointer chasing; a name has at most 127
// labels, so more pointers than that is a loop.
const maxPointers = 128

// readName reads a possibly compressed name at off and returns it in
// presentation form with its original case, and the offset after it in the
// message (after the first pointer, if any).
func readName(msg []byte, off int) ([]byte, int, error) {
	var name []byte
	end := -1
	ptrs := 0
	total := 0
	for {
		if off >= len(msg) {
			return nil, off, fmt.Errorf("name runs past the end of the message at byte %d", off)
		}
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				if len(name) == 0 {
					name = append(name, '.')
				}
				return name, end, nil
			}
			if off+1+c > len(msg) {
				return nil, off, fmt.Errorf("label at byte %d runs past the end of the message", off)
			}
			total += c + 1
			if total > 255 {
				return nil, off, fmt.Errorf("name longer than 255 bytes at byte %d", off)
			}
			name = appendLabel(name, msg[off+1:off+1+c])
			off += 1 + c
		case 0xC0:
			if off+2 > len(msg) {
				return nil, off, fmt.Errorf("compression pointer at byte %d cut short", off)
			}
			ptrs++
			if ptrs > maxPointers {
				return nil, off, fmt.Errorf("compression pointer loop at byte %d", off)
			}
			if end < 0 {
				end = off + 2
			}
			target := int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
			if target >= len(msg) {
				return nil, off, fmt.Errorf("compression pointer at byte %d points past the message (to %d)", off, target)
			}
			off = target
		default:
			return nil, off, fmt.Errorf("reserved label type 0x%02x at byte %d", c&0xC0, off)
		}
	}
}

// appendLabel writes a label in presentation form, escaping what dig escapes.
func appendLabel(name, label []byte) []byte {
	for _, b := range label {
		switch {
		case b == '.' || b == '\\' || b == '"' || b == '(' || b == ')' || b == ';' || b == '@' || b == '$':
			name = append(name, '\\', b)
		case b < 0x21 || b > 0x7E:
			name = append(name, '\\', '0'+b/100, '0'+b/10%10, '0'+b%10)
		default:
			name = append(name, b)
		}
	}
	return append(name, '.')
}

// Truncated reports whether reply is a DNS message with the TC bit set; a
// reply too short to have a header is not.
func Truncated(reply []byte) bool { return len(reply) > 2 && reply[2]&0x02 != 0 }

// RcodeText names a message's RCODE as dig does: the mnemonic, BADVERS for
// 16, RCODE<n> for a value without one. Every renderer and stage uses it.
func RcodeText(rc int) string {
	if rc == dns.RcodeBadVers {
		// 16 is BADSIG only in TSIG records; in a message's (extended)
		// RCODE it is BADVERS (RFC 6891 §9).
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
