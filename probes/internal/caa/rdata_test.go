package caa

import "fmt"

// Wire-format helpers for the tests: production code gets CAA records from
// miekg/dns (FromRR), the fuzz target drives Validate and Evaluate with
// records parsed from arbitrary RDATA.

// parseRDATA splits CAA RDATA (for the fuzz target: caaprobe judges
// records miekg/dns unpacked, see FromRR) into flags, tag and value. It rejects only what
// makes the three fields impossible to find; a tag or value with the wrong
// characters is returned as is, for Validate to report.
func parseRDATA(rdata []byte) (Record, error) {
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

// packRDATA encodes r as CAA RDATA, the inverse of parseRDATA. It returns nil when
// r cannot be encoded: a tag longer than 255 bytes, or RDATA longer than the
// 65535 bytes an RR can carry.
func packRDATA(r Record) []byte {
	size := 2 + len(r.Tag) + len(r.Value)
	if len(r.Tag) > 255 || size > 65535 {
		return nil
	}
	b := make([]byte, 0, size)
	b = append(b, r.Flags, byte(len(r.Tag)))
	b = append(b, r.Tag...)
	return append(b, r.Value...)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
