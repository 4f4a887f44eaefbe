// Package canonical builds the octets an RRSIG signs (RFC 4034 §3.1.8.1,
// §6): the verifier in probes/dnssec needs them for the algorithms
// miekg/dns cannot verify, and the lab's signer for those it cannot sign.
// It is its own package so that both can use it without importing each
// other.
package canonical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// SignedData returns the octets an RRSIG's signature is computed over
// (RFC 4034 §3.1.8.1): the RRSIG RDATA up to and excluding the Signature
// field, the signer's name in lowercase, then every RR of rrset in
// canonical form (§6.2) and canonical order (§6.3), duplicates removed
// once in canonical form (RFC 4034 §6.3, RFC 2181 §5).
//
// Canonical form: the owner lowercased, rebuilt as the wildcard
// "*.<last Labels labels>" when the owner has more labels than the RRSIG's
// Labels field (RFC 4035 §5.3.2); the TTL replaced by the RRSIG's Original
// TTL; domain names in the RDATA of the types RFC 4034 §6.2 lists
// lowercased, less NSEC and HINFO (RFC 6840 §5.1).
//
// miekg/dns builds the same octets inside RRSIG.Sign and RRSIG.Verify
// without exposing them, and has no ED448 (RFC 8080). The tests prove this
// construction is the one miekg/dns signs over, on the algorithms it has,
// and that BIND's ED448 signatures verify over it.
func SignedData(sig *dns.RRSIG, rrset []dns.RR) ([]byte, error) {
	if sig == nil || len(rrset) == 0 {
		return nil, errors.New("signed data: no RRSIG or empty RRset")
	}
	var out []byte
	out = binary.BigEndian.AppendUint16(out, sig.TypeCovered)
	out = append(out, sig.Algorithm, sig.Labels)
	out = binary.BigEndian.AppendUint32(out, sig.OrigTtl)
	out = binary.BigEndian.AppendUint32(out, sig.Expiration)
	out = binary.BigEndian.AppendUint32(out, sig.Inception)
	out = binary.BigEndian.AppendUint16(out, sig.KeyTag)
	signer, err := nameWire(dns.CanonicalName(sig.SignerName))
	if err != nil {
		return nil, fmt.Errorf("signed data: signer %q: %w", sig.SignerName, err)
	}
	out = append(out, signer...)

	type record struct {
		wire  []byte
		rdata int // offset of the RDATA in wire
	}
	recs := make([]record, 0, len(rrset))
	for _, rr := range rrset {
		if rr == nil {
			return nil, errors.New("signed data: nil record")
		}
		c := dns.Copy(rr)
		h := c.Header()
		h.Ttl = sig.OrigTtl
		labels := dns.SplitDomainName(h.Name)
		if len(labels) > int(sig.Labels) {
			h.Name = "*." + strings.Join(labels[len(labels)-int(sig.Labels):], ".") + "."
			if sig.Labels == 0 {
				h.Name = "*."
			}
		}
		h.Name = dns.CanonicalName(h.Name)
		lowerRdataNames(c)
		owner, err := nameWire(h.Name)
		if err != nil {
			return nil, fmt.Errorf("signed data: owner %q: %w", h.Name, err)
		}
		buf := make([]byte, dns.Len(c)+1)
		n, err := dns.PackRR(c, buf, 0, nil, false)
		if err != nil {
			return nil, fmt.Errorf("signed data: %s: %w", dns.Type(h.Rrtype), err)
		}
		// owner, type, class, TTL, RDLENGTH: 10 octets after the owner.
		recs = append(recs, record{wire: buf[:n], rdata: len(owner) + 10})
	}
	slices.SortFunc(recs, func(a, b record) int { return bytes.Compare(a.wire[a.rdata:], b.wire[b.rdata:]) })
	for i, r := range recs {
		if i > 0 && bytes.Equal(r.wire, recs[i-1].wire) {
			continue
		}
		out = append(out, r.wire...)
	}
	return out, nil
}

func nameWire(name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// lowerRdataNames lowercases the domain names in the RDATA of the types
// RFC 4034 §6.2 item 3 lists (miekg/dns has no NXT or A6), without NSEC
// and HINFO (RFC 6840 §5.1).
func lowerRdataNames(rr dns.RR) {
	l := dns.CanonicalName
	switch x := rr.(type) {
	case *dns.NS:
		x.Ns = l(x.Ns)
	case *dns.MD:
		x.Md = l(x.Md)
	case *dns.MF:
		x.Mf = l(x.Mf)
	case *dns.CNAME:
		x.Target = l(x.Target)
	case *dns.SOA:
		x.Ns, x.Mbox = l(x.Ns), l(x.Mbox)
	case *dns.MB:
		x.Mb = l(x.Mb)
	case *dns.MG:
		x.Mg = l(x.Mg)
	case *dns.MR:
		x.Mr = l(x.Mr)
	case *dns.PTR:
		x.Ptr = l(x.Ptr)
	case *dns.MINFO:
		x.Rmail, x.Email = l(x.Rmail), l(x.Email)
	case *dns.MX:
		x.Mx = l(x.Mx)
	case *dns.RP:
		x.Mbox, x.Txt = l(x.Mbox), l(x.Txt)
	case *dns.AFSDB:
		x.Hostname = l(x.Hostname)
	case *dns.RT:
		x.Host = l(x.Host)
	case *dns.SIG:
		x.SignerName = l(x.SignerName)
	case *dns.RRSIG:
		x.SignerName = l(x.SignerName)
	case *dns.PX:
		x.Map822, x.Mapx400 = l(x.Map822), l(x.Mapx400)
	case *dns.NAPTR:
		x.Replacement = l(x.Replacement)
	case *dns.KX:
		x.Exchanger = l(x.Exchanger)
	case *dns.SRV:
		x.Target = l(x.Target)
	case *dns.DNAME:
		x.Target = l(x.Target)
	}
}
