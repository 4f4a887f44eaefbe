// Package catalog is caaprobe's data: every probe it sends (this file) and
// every finding it can make (findings.go), each with what is said about it
// (summary, RFC clause, impact, fix, fixture). The engine turns a Probe into
// a query (probes/wire), the judge turns its exchange into findings
// (probes/judge), and the docs and the evidence are written from these
// tables, so a code's severity and its prose cannot drift apart.
package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// The probes (docs/probes.md). Their IDs appear in the matrix header, the JSON
// output and users' scripts.
const (
	ProbeSOA         model.ProbeID = "soa"
	ProbeCAA         model.ProbeID = "caa"
	ProbeCAAUpper    model.ProbeID = "caa-upper"
	ProbeCAA0x20     model.ProbeID = "caa-0x20"
	ProbeCAANoEDNS   model.ProbeID = "caa-noedns"
	ProbeCAATCP      model.ProbeID = "caa-tcp"
	ProbeUnknownType model.ProbeID = "unknown-type"
	ProbeDNSKEY      model.ProbeID = "dnskey"
	ProbeNS          model.ProbeID = "ns"

	// The conformance probes (set "edns", issue 13): each asks CAA at the
	// relevant name in one way a CA's resolver does not, and is judged
	// against the plain caa probe of the same server (CheckServer).
	ProbeEDNSNoDO    model.ProbeID = "edns-nodo"
	ProbeEDNSVersion model.ProbeID = "edns-version"
	ProbeEDNSOption  model.ProbeID = "edns-option"
	ProbeEDNSFlag    model.ProbeID = "edns-flag"
	ProbeEDNS512     model.ProbeID = "edns-512"
	ProbeEDNSCookie  model.ProbeID = "edns-cookie"
	ProbeOpcode      model.ProbeID = "opcode"
	// The instance probes (set "id"): CH TXT names that anycast sites
	// answer with their own name.
	ProbeIDHostname model.ProbeID = "id-hostname"
	ProbeIDServer   model.ProbeID = "id-server"
)

// Set names a probe set: a name that --probes accepts besides probe IDs.
// A set is data: the probes whose Set field carries its name ("" for the
// core probes).
type Set string

// Probe sets.
const (
	// SetEDNS is the EDNS and opcode compliance probes (RFC 6891, RFC
	// 8906). Part of the full plan, not of the CAA-only bulk plan.
	SetEDNS Set = "edns"
	// SetID is the CH TXT instance probes (hostname.bind, id.server).
	SetID Set = "id"
)

// EDNS option codes the probes send.
const (
	// OptionExperimental is an option code from the range RFC 6891 §9
	// reserves for local and experimental use: no server knows it.
	OptionExperimental uint16 = 65001
	// FlagUnknown is an EDNS header flag bit no RFC assigns (the one after
	// DO, RFC 6891 §6.1.4 "Z"): receivers ignore it and never echo it.
	FlagUnknown uint16 = 0x4000
	// OpcodeUnassigned is an opcode IANA has not assigned (RFC 6895 §2.2).
	OpcodeUnassigned = 15
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

// TypeUnknown is the unassigned RR type the unknown-type probe asks for, in
// RFC 3597 form (TYPE666). A server must answer it like any type it has no
// data for: NOERROR/NODATA, never NOTIMP.
const TypeUnknown uint16 = 666

// Probe is one kind of query sent to every server address. A probe is data;
// the engine turns it into a query, the judge turns its exchange into
// findings.
type Probe struct {
	ID        model.ProbeID
	Type      uint16
	Spelling  Spelling
	Transport model.Transport
	EDNS      bool // send an OPT record (RFC 6891)
	DO        bool // set the DNSSEC OK bit (RFC 3225); implies EDNS
	AtApex    bool // asked once per zone at its apex, not per relevant name
	Signed    bool // only for zones whose parent publishes DS
	Purpose   string

	// Set names the probe set the probe belongs to ("" for the core
	// probes); --probes takes a set's name for all its probes.
	Set Set
	// NoNSID leaves out the NSID request every other EDNS query carries,
	// so that the query is byte for byte what a CA's resolver sends (EDNS
	// version 0, DO, 1232-byte buffer, no option at all): a server that
	// fails queries with an option cannot fail these where the resolver
	// would not. Which probes a resolver model reads is the model's
	// (predict.Model.Probes; the Unbound model's in
	// probes/predict/unbound/README.md R1), not the catalog's.
	NoNSID bool
	// The query's form, for the conformance probes: the EDNS version (0
	// when unset), extra EDNS header flag bits, one extra EDNS option with
	// its data, the advertised UDP payload size (EDNSBufSize when 0), the
	// opcode (QUERY when 0), the class (IN when 0) and a fixed query name
	// (the relevant name when "").
	Version    uint8
	Flags      uint16
	Option     uint16
	OptionData []byte
	BufSize    uint16
	Opcode     int
	Class      uint16
	QName      string
	// Expects says what a conformant server answers, for the docs.
	Expects string
}

// Catalog is every probe, in the order of the matrix columns.
var Catalog = []Probe{
	{ID: ProbeSOA, Type: dns.TypeSOA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, AtApex: true,
		Purpose: "SOA at the zone apex: is the server alive and authoritative for the zone"},
	{ID: ProbeNS, Type: dns.TypeNS, Spelling: SpellLower, Transport: model.UDP, EDNS: true, AtApex: true,
		Purpose: "NS at the zone apex: the child's NS set, compared with the parent's delegation"},
	{ID: ProbeCAA, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, NoNSID: true,
		Purpose: "CAA as most clients ask: lowercase name, UDP, EDNS0 with DO"},
	{ID: ProbeCAAUpper, Type: dns.TypeCAA, Spelling: SpellUpper, Transport: model.UDP, EDNS: true, DO: true, NoNSID: true,
		Purpose: "CAA with the name in UPPERCASE: case-insensitive lookup and case-preserving echo"},
	{ID: ProbeCAA0x20, Type: dns.TypeCAA, Spelling: SpellRandom, Transport: model.UDP, EDNS: true, DO: true, NoNSID: true,
		Purpose: "CAA with 0x20 random case, fresh per query, as a CA's resolver sends it"},
	{ID: ProbeCAANoEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP,
		Purpose: "CAA without OPT: separates EDNS faults from CAA faults"},
	{ID: ProbeCAATCP, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.TCP, EDNS: true, DO: true,
		Purpose: "CAA over TCP, the path a resolver takes after a truncated reply"},
	{ID: ProbeUnknownType, Type: TypeUnknown, Spelling: SpellLower, Transport: model.UDP, EDNS: true,
		Purpose: "an unassigned type (TYPE666, RFC 3597): servers that NOTIMP unknown types fail CAA the same way"},
	{ID: ProbeDNSKEY, Type: dns.TypeDNSKEY, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, AtApex: true, Signed: true,
		Purpose: "DNSKEY at the apex of a signed zone, from every server"},

	{ID: ProbeEDNSNoDO, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true,
		Purpose: "CAA with EDNS0 but the DO bit clear: compared with the caa probe (DO set), it tells a server that fails DNSSEC OK queries (RFC 3225) from one that fails EDNS",
		Expects: "the same answer as the caa probe, without DNSSEC records."},
	{ID: ProbeEDNSVersion, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, Version: 1,
		Purpose: "CAA with EDNS version 1 (RFC 6891 §6.1.3): the version negotiation a future resolver would start",
		Expects: "BADVERS (extended RCODE 16) with an OPT record of version 0, the highest version the server implements; no answer data."},
	{ID: ProbeEDNSOption, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, Option: OptionExperimental,
		Purpose: "CAA with an EDNS option of an unassigned code (65001, the experimental range of RFC 6891 §9): unknown options must be ignored (RFC 6891 §6.1.2)",
		Expects: "the same answer as the caa probe."},
	{ID: ProbeEDNSFlag, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, Flags: FlagUnknown,
		Purpose: "CAA with an unassigned EDNS flag bit set (0x4000, RFC 6891 §6.1.4): receivers ignore it",
		Expects: "the same answer as the caa probe, and the reply's OPT without the unknown flag (RFC 6891 §6.1.4: Z is set to zero by senders)."},
	{ID: ProbeEDNS512, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, BufSize: 512,
		Purpose: "CAA with a 512-byte EDNS buffer: a reply that does not fit must be truncated (TC=1) and the TCP retry must work (RFC 6891 §6.2.3, §7; RFC 7766 §5)",
		Expects: "a UDP reply of at most 512 bytes: the whole answer, or TC=1 and then the whole answer over TCP."},
	{ID: ProbeEDNSCookie, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, DO: true, Option: dns.EDNS0COOKIE,
		OptionData: []byte{0xca, 0xa9, 0x0b, 0xe0, 0xc0, 0x0c, 0x1e, 0x5e},
		Purpose:    "CAA with a DNS COOKIE option carrying a client cookie (RFC 7873 §4.1): a server may ignore it or add its own, but must answer",
		Expects:    "the same answer as the caa probe, with or without a server cookie (RFC 7873 §5.2); BADCOOKIE only from a server that requires cookies."},
	{ID: ProbeOpcode, Set: SetEDNS, Type: dns.TypeCAA, Spelling: SpellLower, Transport: model.UDP, EDNS: true, Opcode: OpcodeUnassigned,
		Purpose: "an unassigned opcode (15) with a CAA question: the server must say it does not implement it (RFC 1035 §4.1.1; RFC 8906, testing unknown opcodes)",
		Expects: "NOTIMP, with the opcode copied into the reply."},
	{ID: ProbeIDHostname, Set: SetID, Type: dns.TypeTXT, Class: dns.ClassCHAOS, QName: "hostname.bind.", Spelling: SpellLower, Transport: model.UDP, EDNS: true, AtApex: true,
		Purpose: "TXT hostname.bind in class CH: the name of the server instance that answers (BIND, NSD, Knot), for telling anycast sites apart",
		Expects: "a TXT record with the instance's name, or REFUSED/NOTIMP/an empty answer when the operator hides it; never a finding."},
	{ID: ProbeIDServer, Set: SetID, Type: dns.TypeTXT, Class: dns.ClassCHAOS, QName: "id.server.", Spelling: SpellLower, Transport: model.UDP, EDNS: true, AtApex: true,
		Purpose: "TXT id.server in class CH (RFC 4892): the instance's identity, for telling anycast sites apart",
		Expects: "a TXT record with the instance's name, or REFUSED/NOTIMP/an empty answer when the operator hides it; never a finding."},
}

// Conformance reports a probe of a set (edns, id): its reply is compared
// with the plain caa probe's by the cross-checks rather than judged by its
// RCODE, and it is not on a CA's resolver's path.
func (p Probe) Conformance() bool { return p.Set != "" }

// SetProbes returns the IDs of the probes in set, in catalog order; nil
// when no probe has that set.
func SetProbes(set Set) []model.ProbeID {
	var out []model.ProbeID
	for _, p := range Catalog {
		if p.Set == set {
			out = append(out, p.ID)
		}
	}
	return out
}

// ParsePlan reads a --probes list: comma-separated probe IDs and set names
// (edns, id), in any order, each probe once.
func ParsePlan(list string) ([]model.ProbeID, error) {
	var out []model.ProbeID
	seen := map[model.ProbeID]bool{}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		ids := SetProbes(Set(item))
		if ids == nil {
			if _, ok := ProbeByID(model.ProbeID(item)); !ok {
				return nil, fmt.Errorf("unknown probe or probe set %q (see 'caaprobe probes')", item)
			}
			ids = []model.ProbeID{model.ProbeID(item)}
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// ProbeByID returns the catalog entry for id.
func ProbeByID(id model.ProbeID) (Probe, bool) {
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
