// Package probes is caaprobe's vocabulary and its two core mechanisms: the
// catalog of probes and findings (data, in one place), the exchange (the only
// code that talks to the network) and the judge (pure functions from an
// exchange to findings). Discovery, reporting, evidence and orchestration
// live in subpackages that build on these.
package probes

import (
	"strconv"

	"github.com/miekg/dns"
)

// ProbeID names a probe in the catalog. IDs are part of the JSON contract.
type ProbeID string

// The probes of DESIGN.md. Their IDs appear in the matrix header, the JSON
// output and users' scripts.
const (
	ProbeSOA         ProbeID = "soa"
	ProbeCAA         ProbeID = "caa"
	ProbeCAAUpper    ProbeID = "caa-upper"
	ProbeCAA0x20     ProbeID = "caa-0x20"
	ProbeCAANoEDNS   ProbeID = "caa-noedns"
	ProbeCAATCP      ProbeID = "caa-tcp"
	ProbeUnknownType ProbeID = "unknown-type"
	ProbeDNSKEY      ProbeID = "dnskey"
	ProbeNS          ProbeID = "ns"
)

// Spelling says how a probe writes the query name. Resolvers that use DNS
// 0x20 (draft-vixie-dnsext-dns0x20) send random case; a server must answer
// every spelling alike (RFC 4343 §3) and echo it byte for byte.
type Spelling string

const (
	SpellLower  Spelling = "lower"
	SpellUpper  Spelling = "upper"
	SpellRandom Spelling = "0x20"
)

// Transport is the path a query takes.
type Transport string

const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
)

// TypeUnknown is the unassigned RR type the unknown-type probe asks for, in
// RFC 3597 form (TYPE666). A server must answer it like any type it has no
// data for: NOERROR/NODATA, never NOTIMP.
const TypeUnknown uint16 = 666

// Probe is one kind of query sent to every server address. A probe is data;
// the engine turns it into a query, the judge turns its exchange into
// findings.
type Probe struct {
	ID        ProbeID
	Type      uint16
	Spelling  Spelling
	Transport Transport
	EDNS      bool // send an OPT record (RFC 6891)
	DO        bool // set the DNSSEC OK bit (RFC 3225); implies EDNS
	AtApex    bool // asked once per zone at its apex, not per relevant name
	Signed    bool // only for zones whose parent publishes DS
	Purpose   string
}

// Catalog is every probe, in the order of the matrix columns.
var Catalog = []Probe{
	{ID: ProbeSOA, Type: dns.TypeSOA, Spelling: SpellLower, Transport: UDP, EDNS: true, AtApex: true,
		Purpose: "SOA at the zone apex: is the server alive and authoritative for the zone"},
	{ID: ProbeNS, Type: dns.TypeNS, Spelling: SpellLower, Transport: UDP, EDNS: true, AtApex: true,
		Purpose: "NS at the zone apex: the child's NS set, compared with the parent's delegation"},
	{ID: ProbeCAA, Type: dns.TypeCAA, Spelling: SpellLower, Transport: UDP, EDNS: true, DO: true,
		Purpose: "CAA as most clients ask: lowercase name, UDP, EDNS0 with DO"},
	{ID: ProbeCAAUpper, Type: dns.TypeCAA, Spelling: SpellUpper, Transport: UDP, EDNS: true, DO: true,
		Purpose: "CAA with the name in UPPERCASE: case-insensitive lookup and case-preserving echo"},
	{ID: ProbeCAA0x20, Type: dns.TypeCAA, Spelling: SpellRandom, Transport: UDP, EDNS: true, DO: true,
		Purpose: "CAA with 0x20 random case, fresh per query, as a CA's resolver sends it"},
	{ID: ProbeCAANoEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: UDP,
		Purpose: "CAA without OPT: separates EDNS faults from CAA faults"},
	{ID: ProbeCAATCP, Type: dns.TypeCAA, Spelling: SpellLower, Transport: TCP, EDNS: true, DO: true,
		Purpose: "CAA over TCP, the path a resolver takes after a truncated reply"},
	{ID: ProbeUnknownType, Type: TypeUnknown, Spelling: SpellLower, Transport: UDP, EDNS: true,
		Purpose: "an unassigned type (TYPE666, RFC 3597): servers that NOTIMP unknown types fail CAA the same way"},
	{ID: ProbeDNSKEY, Type: dns.TypeDNSKEY, Spelling: SpellLower, Transport: UDP, EDNS: true, DO: true, AtApex: true, Signed: true,
		Purpose: "DNSKEY at the apex of a signed zone, from every server"},
}

// ProbeByID returns the catalog entry for id.
func ProbeByID(id ProbeID) (Probe, bool) {
	for _, p := range Catalog {
		if p.ID == id {
			return p, true
		}
	}
	return Probe{}, false
}

// IsCAA reports whether the probe asks for CAA, the RRset a CA's lookup needs.
func (p Probe) IsCAA() bool { return p.Type == dns.TypeCAA }

// TypeString renders a query type as dig and the JSON output spell it:
// CAA, SOA, or TYPE666 for types without a mnemonic (RFC 3597 §5).
func TypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok && t != TypeUnknown {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}
