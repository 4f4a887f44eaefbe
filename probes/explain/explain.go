// Package explain reads what a certificate authority or an ACME client said
// about a failed CAA check — Let's Encrypt's (Boulder's) texts, ACME problem
// documents (RFC 8555 §6.7), the logs of certbot, acme.sh, lego, Caddy and
// cert-manager, and the terse codes of other CAs — and says what it means:
// the certificate names concerned, the name whose CAA lookup failed (which
// may be a parent, or the TLD, reached by the RFC 8659 §3 climb), the kind
// of failure, the perspective that saw it and whether it is likely to last.
//
// Everything here is pure: no network, bounded time and output for any
// input. cmd/caaprobe's explain runs the check on the names found.
package explain

import (
	"strings"
)

// Kind is what failed.
type Kind string

// Kinds of failure.
const (
	// KindServer: the authoritative side: a server of the domain (or of a
	// parent, or the TLD) answered wrongly or not at all.
	KindServer Kind = "server"
	// KindDNSSEC: the CA's validating resolver could not validate the
	// answer (an Extended DNS Error of the DNSSEC family).
	KindDNSSEC Kind = "dnssec"
	// KindPolicy: the CAA records were read and do not permit the CA.
	KindPolicy Kind = "policy"
	// KindResolver: the CA's own resolver or network (a networking error,
	// a server failure at the resolver without an RCODE).
	KindResolver Kind = "resolver"
	// KindUnknown: the message does not say (AWS ACM's CAA_ERROR covers
	// both a forbidding policy and a failed lookup; ZeroSSL's "invalid").
	KindUnknown Kind = "unknown"
)

// Perspective is the vantage point of the CA that saw the failure.
type Perspective string

// Perspectives.
const (
	PerspectivePrimary Perspective = "primary"
	// PerspectiveRemote: a remote perspective of multi-perspective issuance
	// corroboration failed ("During secondary validation", "MPIC failed").
	PerspectiveRemote  Perspective = "remote"
	PerspectiveUnknown Perspective = "unknown"
)

// Permanence says whether the failure will happen again.
type Permanence string

// Permanences.
const (
	Permanent Permanence = "permanent"
	Transient Permanence = "likely-transient"
	// PermanenceUnknown: the text alone cannot tell (a SERVFAIL is the
	// resolver's summary of many faults); the check can.
	PermanenceUnknown Permanence = "unknown"
)

// Problem is one failure the message reports.
type Problem struct {
	// Source is the form it was read from: boulder, acme-problem, certbot,
	// acme.sh, lego, caddy, cert-manager, aws-acm, google-cloud, ssl.com,
	// zerossl.
	Source string `json:"source"`
	// CA is the issuer domain of the CA, when the message tells.
	CA string `json:"ca,omitempty"`
	// Type is the ACME problem type, when given.
	Type string `json:"acme_type,omitempty"`
	// Detail is the CA's own words (bounded).
	Detail string `json:"detail"`
	// Names are the certificate names concerned (ACME identifiers).
	Names []string `json:"names"`
	// Lookup is the name whose CAA lookup failed, or whose CAA RRset
	// forbids; it may be a parent of Names or a TLD.
	Lookup string `json:"lookup,omitempty"`
	// Error is the DNS error as the CA put it: SERVFAIL, query timed out,
	// networking error, DNSSEC Bogus, ...
	Error       string      `json:"error,omitempty"`
	Kind        Kind        `json:"kind"`
	Perspective Perspective `json:"perspective"`
	Permanence  Permanence  `json:"permanence"`
	// Reason says why the Permanence.
	Reason string `json:"permanence_reason"`
	// Meaning is the message in plain words.
	Meaning string `json:"meaning"`
	// Climb explains why the CA looked at Lookup when it is not one of
	// Names (RFC 8659 §3).
	Climb string `json:"climb,omitempty"`
}

// Result is everything read from one message.
type Result struct {
	// Format is the form of the whole message (the Source of its first
	// problem, or what the message looked like when it had none).
	Format   string    `json:"format"`
	Problems []Problem `json:"problems"`
	// Names are every certificate name and lookup name found, in order,
	// without repeats: what to check.
	Names []string `json:"names"`
	// Truncated: the input was longer than MaxInput, or had more problems
	// or names than the limits; the rest was not read.
	Truncated bool `json:"truncated,omitempty"`
}

// Limits that bound Parse's work and output for any input.
const (
	MaxInput    = 1 << 20 // bytes read
	MaxProblems = 64
	MaxNames    = 100
	maxField    = 600 // characters kept of one detail
)

// Parse reads one message (any of the forms in docs/explain.md).
func Parse(text string) Result {
	var res Result
	if len(text) > MaxInput {
		text = text[:MaxInput]
		res.Truncated = true
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	p := &parser{res: &res}
	format := detectFormat(text)
	switch {
	case p.parseJSON(text, format):
	case p.parseYAML(text):
	default:
		p.parseText(text)
	}
	p.finish(text, format)
	return res
}
