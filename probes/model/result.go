package model

import (
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// Result is a probe's exchange and its reading.
type Result struct {
	Probe     ProbeID
	Name      DomainName // the relevant name
	QName     string     // the name as spelled in the query
	QType     uint16
	Transport Transport
	Status    Status // RCODE mnemonic ("NOERROR", "NOTIMP"), or why there is no reply (StatusTimeout, ...)
	Rcode     int    // -1 without an accepted reply
	AA, TC    bool
	Msg       *dns.Msg // parsed reply; nil when none or unparsable
	Records   []dns.RR // RRs of QType owned by Name in the answer section
	Issues    []Issue
	Exchange  *Exchange
	// Fallback is the TCP retry after a truncated UDP reply; when it
	// succeeded, the fields above describe its reply.
	Fallback *Exchange
	// NSID is the reply's NSID option (RFC 5001): the name of the server
	// instance that answered, as the server sent it; nil when the reply
	// carries none. Instance gives it as text.
	NSID []byte
}

// Instance is the NSID as people read it (InstanceName); "" without one.
// A result read back from JSON has no NSID field set: it is taken from the
// parsed reply then.
func (r *Result) Instance() string {
	if r.NSID == nil {
		return InstanceName(NSIDOf(r.Msg))
	}
	return InstanceName(r.NSID)
}

// InstanceName renders an NSID as probes/runs does: the text when it is
// valid UTF-8 of printable characters, else the hex digits.
func InstanceName(nsid []byte) string {
	if !utf8.Valid(nsid) {
		return hex.EncodeToString(nsid)
	}
	for _, c := range string(nsid) {
		if !unicode.IsPrint(c) {
			return hex.EncodeToString(nsid)
		}
	}
	return string(nsid)
}

// NSIDOf returns the NSID option of a parsed reply, nil when there is none.
func NSIDOf(m *dns.Msg) []byte {
	if m == nil {
		return nil
	}
	opt := m.IsEdns0()
	if opt == nil {
		return nil
	}
	for _, o := range opt.Option {
		if n, ok := o.(*dns.EDNS0_NSID); ok && n.Nsid != "" {
			if b, err := hex.DecodeString(n.Nsid); err == nil {
				return b
			}
		}
	}
	return nil
}

// Add attaches a finding to the result, once per code: the first detail
// stays.
func (r *Result) Add(code Code, detail string) {
	if !r.Has(code) {
		r.Issues = append(r.Issues, Issue{Code: code, Detail: detail})
	}
}

// Drop removes code from the result's issues.
func (r *Result) Drop(code Code) {
	r.Issues = slices.DeleteFunc(r.Issues, func(i Issue) bool { return i.Code == code })
}

// Has reports whether the result carries code.
func (r *Result) Has(code Code) bool {
	for _, i := range r.Issues {
		if i.Code == code {
			return true
		}
	}
	return false
}

// Local reports whether the result's exchange failed on this host
// (StatusLocal): it says nothing about the server.
func (r *Result) Local() bool { return r != nil && r.Status == StatusLocal }

// Answered reports whether the server gave a usable NOERROR or NXDOMAIN.
func (r *Result) Answered() bool {
	return r.Msg != nil && (r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError)
}

// RdataText is rr in presentation format without its header (owner, TTL,
// class, type): what follows the header's four tabs. miekg/dns escapes a
// tab inside a name, so the first four tabs are the header's.
func RdataText(rr dns.RR) string {
	s := rr.String()
	for range 4 {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return strings.TrimPrefix(rr.String(), rr.Header().String())
		}
		s = s[i+1:]
	}
	return s
}

// Signature is what a resolver would take from the result: the status and
// the canonical RRset. Two results with equal signatures mean the same to a
// CA.
func (r *Result) Signature() string {
	if r.Msg == nil {
		return string(r.Status)
	}
	var rd []string
	for _, rr := range r.Records {
		rd = append(rd, strings.ToLower(RdataText(rr)))
	}
	sort.Strings(rd)
	return string(r.Status) + " [" + strings.Join(rd, "; ") + "]"
}
