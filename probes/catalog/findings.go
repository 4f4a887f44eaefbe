package catalog

import (
	"fmt"

	"github.com/caaprobe/caaprobe/probes/model"
)

const (
	CodeRcodeNotimp         model.Code = "rcode-notimp"
	CodeRcodeRefused        model.Code = "rcode-refused"
	CodeRcodeServfail       model.Code = "rcode-servfail"
	CodeRcodeFormerr        model.Code = "rcode-formerr"
	CodeRcodeOther          model.Code = "rcode-other"
	CodeNXDomainExisting    model.Code = "nxdomain-for-existing-name"
	CodeTimeout             model.Code = "timeout"
	CodeUnreachable         model.Code = "unreachable"
	CodeMalformed           model.Code = "malformed-response"
	CodeInvalidCAA          model.Code = "invalid-caa-rdata"
	CodeQuestionMismatch    model.Code = "question-mismatch"
	CodeIDMismatch          model.Code = "id-mismatch"
	CodeTruncatedTCPFailed  model.Code = "truncated-tcp-failed"
	CodeEDNSIntolerant      model.Code = "edns-intolerant"
	CodeDNSSECBogus         model.Code = "dnssec-bogus"
	CodeDNSSECMissing       model.Code = "dnssec-missing"
	CodeNotAuthoritative    model.Code = "not-authoritative"
	CodeCaseNotPreserved    model.Code = "case-not-preserved"
	CodeCaseSensitiveAnswer model.Code = "case-sensitive-answer"
	CodeInconsistentAnswers model.Code = "inconsistent-answers"
	CodeNSUnresolvable      model.Code = "ns-unresolvable"
	CodeLameServer          model.Code = "lame-server"
	CodeNSMismatch          model.Code = "ns-mismatch"
	CodeNSIsCNAME           model.Code = "ns-is-cname"
	CodeGlueMismatch        model.Code = "glue-mismatch"
	CodeCAACriticalUnknown  model.Code = "caa-critical-unknown-tag"
	CodeLimitReached        model.Code = "limit-reached"
	CodeCNAMELoop           model.Code = "cname-loop"
	CodeFamilyUnreachable   model.Code = "address-family-unreachable"
	CodeIntermittentTimeout model.Code = "intermittent-timeout"
	CodeTrailingGarbage     model.Code = "trailing-garbage"
	CodeNSEC3Iterations     model.Code = "nsec3-iterations"

	// EDNS and opcode compliance (probe set edns, issue 13).
	CodeEDNSVersionIgnored   model.Code = "edns-version-ignored"
	CodeEDNSVersionDropped   model.Code = "edns-version-dropped"
	CodeEDNSOptionIntolerant model.Code = "edns-option-intolerant"
	CodeEDNSFlagIntolerant   model.Code = "edns-flag-intolerant"
	CodeEDNSFlagEchoed       model.Code = "edns-flag-echoed"
	CodeDOIntolerant         model.Code = "do-intolerant"
	CodeOversizeUDPReply     model.Code = "oversize-udp-reply"
	CodeCookieIntolerant     model.Code = "cookie-intolerant"
	CodeOpcodeNotNotimp      model.Code = "opcode-not-notimp"
	// Negative answers (RFC 2308).
	CodeNegativeWithoutSOA model.Code = "negative-without-soa"
	CodeNegativeWrongSOA   model.Code = "negative-wrong-soa"
	// Anycast: one address, several instances, different answers.
	CodeInstanceInconsistent model.Code = "instance-inconsistent"
)

// FindingInfo is everything caaprobe says about a code, in one place: the
// matrix mark, the one-line summary, the RFC clause, what it does to a CA's
// CAA check, and what the operator should change. The docs and the evidence
// report are built from these texts.
type FindingInfo struct {
	Code     model.Code
	Severity model.Severity
	Mark     string // short mark in a matrix cell: printable ASCII, read as dig users read flags (noAA, TCPX), unique ignoring case
	Summary  string // one sentence: what the server did
	RFC      string // the clause that the behaviour breaks
	Requires string // what the RFC requires, for the provider
	Impact   string // what a CA's validating resolver makes of it
	Fix      string // what to change
	Fixture  string // the lab zone that reproduces it
}

// Findings is the finding catalog, in the order the docs present it.
var Findings = []FindingInfo{
	{Code: CodeRcodeNotimp, Severity: model.SeverityFail, Mark: "NOTIMP",
		Summary:  "The server answered NOTIMP to a query for a type it must answer.",
		RFC:      "RFC 1035 §4.1.1; RFC 3597 §3; RFC 8659 §3",
		Requires: "NOTIMP means the server does not support the kind of query (the opcode). A QUERY for any type, including CAA (257) and types the server does not know, must get NOERROR with the data or an empty answer (RFC 3597 §3: unknown types are handled transparently).",
		Impact:   "A resolver treats NOTIMP as a server failure and, when no server answers properly, returns SERVFAIL; the CA cannot check CAA and must refuse to issue (RFC 8659 §3).",
		Fix:      "Answer CAA queries from the zone data: NOERROR with the CAA RRset, or NOERROR with an empty answer and the SOA in the authority section when there is none.",
		Fixture:  "notimp.test, notimp-unknown.test"},
	{Code: CodeRcodeRefused, Severity: model.SeverityFail, Mark: "REFUSED",
		Summary:  "The server answered REFUSED for a zone that is delegated to it.",
		RFC:      "RFC 1035 §4.1.1; RFC 1034 §4.3.2",
		Requires: "A server listed in the delegation must answer authoritatively for the zone; REFUSED is for queries that policy forbids.",
		Impact:   "Resolvers treat REFUSED as a lame server; if every server refuses, the CAA lookup fails with SERVFAIL.",
		Fix:      "Load the zone on this server (or remove the server from the NS set) and allow queries of every type for it.",
		Fixture:  "refused.test"},
	{Code: CodeRcodeServfail, Severity: model.SeverityFail, Mark: "SERVFAIL",
		Summary:  "The authoritative server answered SERVFAIL.",
		RFC:      "RFC 1035 §4.1.1",
		Requires: "An authoritative server answers from its zone data; SERVFAIL means it could not.",
		Impact:   "The resolver tries another server; if all fail, the CAA lookup returns SERVFAIL and the CA refuses to issue.",
		Fix:      "Find why the server cannot answer CAA from the zone (backend errors, unsupported record type in the database) and fix it.",
		Fixture:  "servfail.test"},
	{Code: CodeRcodeFormerr, Severity: model.SeverityFail, Mark: "FORMERR",
		Summary:  "The server answered FORMERR to a well-formed query.",
		RFC:      "RFC 1035 §4.1.1",
		Requires: "FORMERR is only for queries the server cannot parse; the query was well formed.",
		Impact:   "The resolver cannot get the CAA RRset from this server; if all fail, SERVFAIL.",
		Fix:      "Accept and answer CAA queries as any other type.",
		Fixture:  "formerr.test"},
	{Code: CodeRcodeOther, Severity: model.SeverityFail, Mark: "badRcode",
		Summary:  "The server answered with an unexpected RCODE.",
		RFC:      "RFC 1035 §4.1.1; RFC 6895 §2.3",
		Requires: "An authoritative answer is NOERROR or NXDOMAIN.",
		Impact:   "The resolver cannot use the reply; the CAA lookup may fail.",
		Fix:      "Answer with NOERROR or NXDOMAIN from the zone data.",
		Fixture:  "notauth.test (NOTAUTH)"},
	{Code: CodeNXDomainExisting, Severity: model.SeverityFail, Mark: "falseNX",
		Summary:  "The server answered NXDOMAIN for CAA (or an unknown type) at a name that exists.",
		RFC:      "RFC 1034 §4.3.2; RFC 8020 §2",
		Requires: "A name with any data exists; a query for a type it lacks gets NOERROR with an empty answer (NODATA), never NXDOMAIN.",
		Impact:   "NXDOMAIN says the whole name is gone; resolvers cache that (RFC 8020) and may fail other lookups of the name. For CAA the climb goes on, silently hiding a policy.",
		Fix:      "Return NODATA (NOERROR, empty answer, SOA in authority) for types the name has no records of.",
		Fixture:  "nxdomain.test"},
	{Code: CodeTimeout, Severity: model.SeverityFail, Mark: "timeout",
		Summary:  "The server did not answer within the timeout, after retries.",
		RFC:      "RFC 1035 §4.2.1; RFC 8906 §3",
		Requires: "A server answers every query; silently dropping queries of some types is the failure RFC 8906 describes.",
		Impact:   "The resolver times out on this server; if all servers drop CAA, the lookup returns SERVFAIL and the CA refuses to issue.",
		Fix:      "Answer CAA queries; check firewalls and DNS load balancers that drop unknown or newer record types.",
		Fixture:  "drop.test"},
	{Code: CodeUnreachable, Severity: model.SeverityFail, Mark: "unreachable",
		Summary:  "The query could not be delivered: connection refused, port or host unreachable.",
		RFC:      "RFC 1035 §4.2; RFC 7766 §5",
		Requires: "An authoritative server is reachable on UDP and TCP port 53 at every address in its NS set.",
		Impact:   "The resolver cannot use this address; over TCP, truncated answers cannot be completed.",
		Fix:      "Open UDP and TCP port 53 on this address, or remove the address from the NS records and glue.",
		Fixture:  "tc.test (TCP closed)"},
	{Code: CodeMalformed, Severity: model.SeverityFail, Mark: "malformed",
		Summary:  "The reply does not parse as a DNS message.",
		RFC:      "RFC 1035 §4.1",
		Requires: "Every reply is a well-formed message whose RDATA lengths match their contents.",
		Impact:   "The resolver discards the reply as if none came; if every server does this the lookup fails.",
		Fix:      "Fix the encoder that builds CAA RDATA (length and contents) in the server software.",
		Fixture:  "malformed.test; noqr.test (QR bit clear); garbage.test and ptrloop.test (hostile lab)"},
	{Code: CodeInvalidCAA, Severity: model.SeverityFail, Mark: "badCAA",
		Summary:  "A CAA record's RDATA breaks the RFC 8659 syntax.",
		RFC:      "RFC 8659 §4.1",
		Requires: "CAA RDATA is flags, a tag of at least one letter or digit (RFC 6844 advised at most 15), and a value whose syntax the tag defines (RFC 8659 §4.2–§4.4).",
		Impact:   "A CA cannot read the policy; a malformed issue property forbids issuance for that CA.",
		Fix:      "Correct the CAA record in the zone.",
		Fixture:  "badcaa.test; escape.test (hostile lab)"},
	{Code: CodeQuestionMismatch, Severity: model.SeverityFail, Mark: "wrongQ",
		Summary:  "The reply's question section names another name, type or class than the query.",
		RFC:      "RFC 1035 §7.3; RFC 5452 §4.1",
		Requires: "A reply echoes the question it answers; resolvers accept a reply only when ID and question match.",
		Impact:   "The resolver drops the reply as a possible spoof and times out; if all servers do this the lookup fails.",
		Fix:      "Echo the question section exactly as received.",
		Fixture:  "badquestion.test"},
	{Code: CodeIDMismatch, Severity: model.SeverityFail, Mark: "wrongID",
		Summary:  "The reply carries another message ID than the query.",
		RFC:      "RFC 1035 §4.1.1; RFC 5452 §4.3",
		Requires: "The reply's ID is copied from the query.",
		Impact:   "The resolver ignores the reply as a spoof attempt and times out.",
		Fix:      "Copy the query ID into the reply (often a bug in a load balancer or DNS proxy).",
		Fixture:  "badid.test"},
	{Code: CodeTruncatedTCPFailed, Severity: model.SeverityFail, Mark: "TCPX",
		Summary:  "The UDP reply was truncated (TC=1) and the retry over TCP failed.",
		RFC:      "RFC 7766 §5; RFC 1035 §4.2.2",
		Requires: "A server that truncates UDP answers must answer the same query over TCP.",
		Impact:   "The resolver retries over TCP, fails, and returns SERVFAIL.",
		Fix:      "Serve DNS over TCP port 53, or send the full answer over UDP when it fits.",
		Fixture:  "tc.test; tctcp.test (TC=1 over TCP too)"},
	{Code: CodeEDNSIntolerant, Severity: model.SeverityFail, Mark: "noEDNS",
		Summary:  "The server fails queries with EDNS (OPT) and answers the same query without it.",
		RFC:      "RFC 6891 §6.1.1, §7; RFC 8906 §8",
		Requires: "A server that does not implement EDNS ignores the OPT record or answers without it; it must not FORMERR, drop or fail queries that carry OPT.",
		Impact:   "Validating resolvers always send EDNS with DO. Unbound retries without EDNS after FORMERR or NOTIMP, which gets an answer in an unsigned zone but not in a signed one (no signatures without EDNS); after a dropped query nobody falls back (2019 DNS flag day), so the CAA lookup fails at this server.",
		Fix:      "Upgrade or fix the server (or middlebox) that rejects the OPT record.",
		Fixture:  "ednsformerr.test"},
	{Code: CodeDNSSECBogus, Severity: model.SeverityFail, Mark: "bogus",
		Summary:  "DNSSEC signatures or denial proofs do not validate.",
		RFC:      "RFC 4035 §5.3, §5.4; RFC 5155 §8",
		Requires: "Every RRset in a signed zone carries RRSIGs that validate with a key chained to the parent's DS, for every spelling of the name (signatures are over the canonical lowercase form, RFC 4034 §6.2).",
		Impact:   "A validating resolver returns SERVFAIL for the CAA lookup; with 0x20 case randomisation it may fail only for some spellings.",
		Fix:      "Re-sign the zone, fix the key rollover or DS, and make sure on-the-fly signing uses the canonical owner name.",
		Fixture:  "expired.test, casesig.test (UPPERCASE and 0x20 only), www.nsecbitmap.test, www.nsec3bad.test, x.wild.wildbad.test, badds.test, halfbogus.test (ns2 only); see docs/dnssec.md"},
	{Code: CodeDNSSECMissing, Severity: model.SeverityFail, Mark: "noSig",
		Summary:  "A signed zone answered without RRSIG or without a denial-of-existence proof.",
		RFC:      "RFC 4035 §3.1.1, §3.1.3",
		Requires: "A signed zone's server includes RRSIGs with answers and NSEC/NSEC3 proofs with negative answers when the query has DO set.",
		Impact:   "A validating resolver cannot prove the answer and returns SERVFAIL.",
		Fix:      "Serve the zone's signatures and NSEC/NSEC3 records from every server.",
		Fixture:  "nosig.test; nodsproof.test (the parent omits the no-DS proof); see docs/dnssec.md"},
	{Code: CodeNotAuthoritative, Severity: model.SeverityWarn, Mark: "noAA",
		Summary:  "An answer from the zone's own server lacks the AA bit.",
		RFC:      "RFC 1035 §4.1.1; RFC 1034 §4.3.1",
		Requires: "A server answering from its own zone sets AA.",
		Impact:   "Most resolvers accept the data; some treat the server as lame.",
		Fix:      "Serve the zone as a primary or secondary, not from a cache or forwarder.",
		Fixture:  "noaa.test"},
	{Code: CodeCaseNotPreserved, Severity: model.SeverityWarn, Mark: "caseLost",
		Summary:  "The echoed question is not byte-identical to the query (case changed).",
		RFC:      "RFC 4343 §4.1; RFC 1035 §7.3",
		Requires: "A reply copies the question section; case must be preserved.",
		Impact:   "Resolvers that use 0x20 see a mismatch. Unbound then asks every server of the zone again in lowercase and accepts the answer when they all agree; when they differ, that lookup fails (SERVFAIL).",
		Fix:      "Copy the question bytes from the query instead of re-encoding the name.",
		Fixture:  "lowercase.test; capsdiff.test (beside a server with another RRset)"},
	{Code: CodeCaseSensitiveAnswer, Severity: model.SeverityFail, Mark: "caseDiff",
		Summary:  "The server gives a different RCODE or data for different spellings of the same name.",
		RFC:      "RFC 4343 §3; RFC 1034 §3.1",
		Requires: "Name comparison is case-insensitive: every spelling gets the same answer.",
		Impact:   "A CA's resolver randomises case (0x20), so its CAA lookup fails or sees another policy on some queries and not others.",
		Fix:      "Compare names case-insensitively in the lookup (lowercase before database queries).",
		Fixture:  "casesensitive.test"},
	{Code: CodeInconsistentAnswers, Severity: model.SeverityWarn, Mark: "differs",
		Summary:  "The servers of one zone give different CAA RRsets or RCODEs.",
		RFC:      "RFC 1034 §4.3.5; RFC 8659 §3",
		Requires: "All servers of a zone serve the same data (zone transfer, RFC 1034 §4.3.5).",
		Impact:   "Which policy a CA sees depends on the server its resolver picks.",
		Fix:      "Synchronise the zone on every server (check serials and transfers).",
		Fixture:  "inconsistent.test, capsdiff.test"},
	{Code: CodeNSUnresolvable, Severity: model.SeverityFail, Mark: "noNSaddr",
		Summary:  "An NS name has no address.",
		RFC:      "RFC 1034 §4.2.2; RFC 1912 §2.8",
		Requires: "Every NS name resolves to at least one A or AAAA record.",
		Impact:   "Resolvers cannot reach that server; if none resolves, the zone is unresolvable.",
		Fix:      "Publish A/AAAA records (and glue) for the NS name, or remove it from the NS set.",
		Fixture:  "noaddr.test"},
	{Code: CodeLameServer, Severity: model.SeverityFail, Mark: "lame",
		Summary:  "A server listed in the delegation does not answer authoritatively for the zone.",
		RFC:      "RFC 1034 §4.2.2; RFC 8499 §7 (lame delegation)",
		Requires: "Every server in the parent's NS set is authoritative for the zone: SOA with AA set.",
		Impact:   "Resolvers waste time on the server and may fail when others are slow; if all are lame, SERVFAIL.",
		Fix:      "Load the zone on the server, or remove it from the delegation at the registrar.",
		Fixture:  "lame.test (REFUSED), upref.test (upward referral, seen in discovery)"},
	{Code: CodeNSMismatch, Severity: model.SeverityWarn, Mark: "NSdiff",
		Summary:  "The parent's NS set differs from the NS set at the zone apex.",
		RFC:      "RFC 1034 §4.2.2; RFC 7719",
		Requires: "The delegation NS records in the parent match the apex NS RRset of the child.",
		Impact:   "Resolvers may pick servers the parent does not list, or the other way around; a stale server causes intermittent failures.",
		Fix:      "Update the delegation at the registrar or the apex NS RRset so both agree.",
		Fixture:  "nsmismatch.test"},
	{Code: CodeNSIsCNAME, Severity: model.SeverityWarn, Mark: "NSisCNAME",
		Summary:  "An NS name is an alias (CNAME).",
		RFC:      "RFC 2181 §10.3",
		Requires: "The target of an NS record must not be an alias.",
		Impact:   "Some resolvers refuse to follow it; the server is then unreachable for them.",
		Fix:      "Point the NS record at the canonical name.",
		Fixture:  "nscname.test"},
	{Code: CodeGlueMismatch, Severity: model.SeverityWarn, Mark: "glue",
		Summary:  "Glue in the parent differs from the authoritative A/AAAA records of the NS name.",
		RFC:      "RFC 1034 §4.2.1; RFC 9471",
		Requires: "Glue copies the addresses the child publishes.",
		Impact:   "Resolvers use the glue first and may query an address that no longer serves the zone.",
		Fix:      "Update the glue at the registrar.",
		Fixture:  "gluemismatch.test"},
	{Code: CodeCAACriticalUnknown, Severity: model.SeverityWarn, Mark: "critical",
		Summary:  "A CAA record with the critical flag has a tag the CA does not know: no CA may issue.",
		RFC:      "RFC 8659 §4.1",
		Requires: "A CA that meets a critical property it does not understand must not issue.",
		Impact:   "Issuance is forbidden for every CA, whatever the issue properties say.",
		Fix:      "Clear the critical flag or remove the record.",
		Fixture:  "critical.test"},
	{Code: CodeLimitReached, Severity: model.SeverityFail, Mark: "limit",
		Summary:  "A safety limit stopped the check (referral depth, NS count, CNAME chain, bytes or deadline).",
		RFC:      "RFC 1034 §5.3.3; RFC 9520",
		Requires: "Delegations and alias chains are finite and short.",
		Impact:   "Resolvers stop at similar limits and return SERVFAIL.",
		Fix:      "Shorten the chain or fix the loop in the delegation.",
		Fixture:  "manyns.test (1,000 NS, hostile lab)"},
	{Code: CodeCNAMELoop, Severity: model.SeverityFail, Mark: "loop",
		Summary:  "A CNAME chain on the CA's path comes back to a name already on it.",
		RFC:      "RFC 1034 §3.6.2; RFC 8659 §3",
		Requires: "CNAME chains end; loops are an error the resolver signals.",
		Impact:   "Every server answers, yet the resolver's CAA lookup never ends: it returns SERVFAIL and the CA refuses.",
		Fix:      "Point one of the CNAME records at a name that is not an alias (or remove it).",
		Fixture:  "cnameloop.test (checked as www.cnameloop.test)"},
	{Code: CodeFamilyUnreachable, Severity: model.SeverityInfo, Mark: "noRoute",
		Summary:  "This host cannot reach the address family (IPv4 or IPv6) of the server; it was not tested.",
		RFC:      "RFC 3901",
		Requires: "Nothing of the server: this is a limit of the host running caaprobe.",
		Impact:   "Results for that family are unknown; run caaprobe from a host with that connectivity.",
		Fix:      "Run caaprobe where both families are reachable, or restrict with -4/-6.",
		Fixture:  "none: a property of the host running caaprobe, judged from hand-built exchanges in the unit tests"},
	{Code: CodeIntermittentTimeout, Severity: model.SeverityFail, Mark: "flaky",
		Summary:  "The server answered some attempts and dropped others.",
		RFC:      "RFC 1035 §4.2.1; RFC 8906 §3",
		Requires: "A server answers every query.",
		Impact:   "Resolvers time out on some lookups; CAA checks fail intermittently.",
		Fix:      "Look for packet loss, overloaded servers or rate limiting on the path.",
		Fixture:  "fixtures.Chaos (random drops; see TestIntermittentServer)"},
	{Code: CodeTrailingGarbage, Severity: model.SeverityWarn, Mark: "trailing",
		Summary:  "The reply carries bytes after the end of the DNS message.",
		RFC:      "RFC 1035 §4.1",
		Requires: "A reply is exactly one DNS message.",
		Impact:   "Most resolvers ignore the extra bytes; strict parsers drop the reply.",
		Fix:      "Fix the software that appends bytes to replies.",
		Fixture:  "trailing.test"},
	{Code: CodeNSEC3Iterations, Severity: model.SeverityWarn, Mark: "NSEC3iter",
		Summary:  "The zone's NSEC3 records use more hash iterations than validating resolvers compute (above 150), so its denials of existence are not validated.",
		RFC:      "RFC 9276 §3.1, §3.2; RFC 5155 §10.3",
		Requires: "RFC 9276 §3.1: a zone signed with NSEC3 MUST use 0 additional iterations (and SHOULD NOT use a salt). §3.2 lets a validating resolver treat NSEC3 records with more iterations as insecure, after checking their signatures, or answer SERVFAIL; Unbound and BIND treat more than 150 as insecure.",
		Impact:   "Unbound, as Let's Encrypt runs it, answers the CAA query NOERROR without the AD bit: the CA gets its answer and may issue, but a negative CAA answer is no longer protected by DNSSEC, and a resolver that takes RFC 9276's SERVFAIL option fails the lookup.",
		Fix:      "Re-sign the zone with NSEC3PARAM 1 0 0 - (0 iterations, no salt), or with NSEC.",
		Fixture:  "www.nsec3iter.test; see docs/dnssec.md"},
	{Code: CodeEDNSVersionIgnored, Severity: model.SeverityWarn, Mark: "EDNSver",
		Summary:  "The server answered a query with EDNS version 1 as if it were version 0 (or with another RCODE than BADVERS), instead of BADVERS with an OPT record of version 0.",
		RFC:      "RFC 6891 §6.1.3; RFC 8906 (testing EDNS version negotiation)",
		Requires: "A server that receives an EDNS version it does not implement answers BADVERS (extended RCODE 16) and an OPT record whose version is the highest it implements; it must not answer the query.",
		Impact:   "None today for a CA: Unbound (1.17, 1.26) sends EDNS version 0 only. It breaks the version negotiation a future EDNS version needs: a conformance warning.",
		Fix:      "Upgrade the server (or the middlebox in front of it) so it checks the EDNS version: BIND, NSD, Knot and PowerDNS answer BADVERS.",
		Fixture:  "ednsversion.test"},
	{Code: CodeEDNSVersionDropped, Severity: model.SeverityWarn, Mark: "verDrop",
		Summary:  "The server did not answer a query with EDNS version 1, while it answers version 0.",
		RFC:      "RFC 6891 §6.1.3; RFC 8906 (firewalls and load balancers; EDNS version negotiation)",
		Requires: "Every query gets a reply; an unknown EDNS version gets BADVERS with OPT version 0.",
		Impact:   "None today for a CA: Unbound sends EDNS version 0 only. A resolver that tries a newer version times out on this server: a conformance warning.",
		Fix:      "Answer BADVERS to EDNS versions the server does not implement; look for a firewall that drops unknown EDNS versions.",
		Fixture:  "ednsversiondrop.test"},
	{Code: CodeEDNSOptionIntolerant, Severity: model.SeverityWarn, Mark: "optFail",
		Summary:  "The server failed (FORMERR, another RCODE, or no reply) a query that carried an unknown EDNS option, while it answers the same query without it.",
		RFC:      "RFC 6891 §6.1.2; RFC 8906 (testing unknown EDNS options)",
		Requires: "Options a server does not understand are ignored: the query is answered as if they were absent.",
		Impact:   "None today for a CA: Unbound sends no EDNS option. Resolvers that send options (cookies, padding, client subnet) fail at this server: a conformance warning.",
		Fix:      "Upgrade the server or middlebox so unknown EDNS options are ignored.",
		Fixture:  "ednsoption.test"},
	{Code: CodeEDNSFlagIntolerant, Severity: model.SeverityWarn, Mark: "flagFail",
		Summary:  "The server failed (FORMERR, another RCODE, or no reply) a query with an unassigned EDNS flag bit set, while it answers the same query without it.",
		RFC:      "RFC 6891 §6.1.4; RFC 8906 (testing unknown EDNS flags)",
		Requires: "EDNS flag bits without a meaning (Z) are ignored by receivers.",
		Impact:   "None today for a CA: Unbound sets only DO. A flag assigned in the future would make resolvers fail here: a conformance warning.",
		Fix:      "Upgrade the server or middlebox so unknown EDNS flags are ignored.",
		Fixture:  "ednsflag.test"},
	{Code: CodeEDNSFlagEchoed, Severity: model.SeverityWarn, Mark: "flagEcho",
		Summary:  "The server copied an unassigned EDNS flag bit from the query into its reply.",
		RFC:      "RFC 6891 §6.1.4; RFC 8906 (testing unknown EDNS flags)",
		Requires: "Z bits are set to zero by senders: a reply carries only the flags the server itself means (DO echoed when it sends DNSSEC data).",
		Impact:   "None today for a CA. A resolver would read a future flag's meaning into a reply that does not have it: a conformance warning.",
		Fix:      "Build the reply's OPT record afresh instead of copying the query's.",
		Fixture:  "ednsflagecho.test"},
	{Code: CodeDOIntolerant, Severity: model.SeverityFail, Mark: "noDO",
		Summary:  "The server fails CAA queries with the DNSSEC OK bit set (no reply or FORMERR) and answers the same query with EDNS but DO clear.",
		RFC:      "RFC 3225 §3; RFC 6891 §7; RFC 8906 (testing DNSSEC queries)",
		Requires: "A server answers queries with DO set, signed zone or not: without DNSSEC data for an unsigned zone, with signatures for a signed one.",
		Impact:   "Every validating resolver, Unbound as a CA runs it among them, sets DO. After a FORMERR Unbound retries without EDNS, which gets an answer in an unsigned zone but not in a signed one; after a drop it does not fall back (2019 DNS flag day) and the CAA lookup times out at this server: SERVFAIL when no other server answers (docs/prediction.md R3, R4).",
		Fix:      "Upgrade the server or middlebox that rejects the DO bit; serve the zone's signatures (or none) with DO set.",
		Fixture:  "dodrop.test (the only server: Unbound 1.17.1 no answer in 5 of 5 runs)"},
	{Code: CodeOversizeUDPReply, Severity: model.SeverityWarn, Mark: "bigUDP",
		Summary:  "A UDP reply was larger than the EDNS buffer the query advertised, without TC set.",
		RFC:      "RFC 6891 §6.2.3, §7; RFC 1035 §4.2.1",
		Requires: "A UDP reply fits the requestor's advertised payload size; what does not fit is truncated with TC=1, and the client retries over TCP.",
		Impact:   "Unbound advertises 1232 bytes: a server that ignores the buffer sends larger replies for large RRsets, which fragment or are dropped on the path, so the CAA lookup can time out. With small CAA RRsets nothing happens: a warning.",
		Fix:      "Honour the requestor's EDNS buffer size (and a 512-byte limit without EDNS): truncate and set TC.",
		Fixture:  "oversize.test"},
	{Code: CodeCookieIntolerant, Severity: model.SeverityWarn, Mark: "cookie",
		Summary:  "The server failed (FORMERR, another RCODE, or no reply) a query that carried a DNS COOKIE option, while it answers the same query without it.",
		RFC:      "RFC 7873 §5.2; RFC 6891 §6.1.2",
		Requires: "A server that does not implement cookies ignores the option; one that does answers with its own cookie. Either way the query is answered (BADCOOKIE only from a server that requires cookies).",
		Impact:   "None today for a CA: Unbound 1.17 and 1.26 send no cookie (it is off by default). BIND and other resolvers send cookies and would fail at this server: a conformance warning.",
		Fix:      "Upgrade the server or middlebox so the COOKIE option is ignored or answered.",
		Fixture:  "cookie.test"},
	{Code: CodeOpcodeNotNotimp, Severity: model.SeverityWarn, Mark: "opcode",
		Summary:  "The server answered an unassigned opcode with something other than NOTIMP (or not at all).",
		RFC:      "RFC 1035 §4.1.1; RFC 8906 (testing unknown opcodes; response code selection)",
		Requires: "A server that does not implement an opcode answers NOTIMP and copies the opcode.",
		Impact:   "None for a CA: its resolver sends QUERY only. A server that answers unknown opcodes as queries, or drops them (PowerDNS Authoritative 4.7 does), is a conformance warning: new opcodes cannot be deployed against it.",
		Fix:      "Answer NOTIMP to opcodes the server does not implement.",
		Fixture:  "opcode.test"},
	{Code: CodeNegativeWithoutSOA, Severity: model.SeverityFail, Mark: "noSOA",
		Summary:  "A negative answer for CAA (NODATA or NXDOMAIN) has no SOA record in the authority section.",
		RFC:      "RFC 2308 §2.2, §3; RFC 1034 §4.3.4",
		Requires: "An authoritative negative answer carries the zone's SOA in the authority section, with AA set: NOERROR with an empty answer for a name without CAA (NODATA), NXDOMAIN for a name that does not exist.",
		Impact:   "Unbound accepts an empty NODATA when it is the only server's answer. Beside a server that answers properly, Unbound 1.19 and later throw the empty reply away and ask the other server; Unbound 1.17 took it in about half the lookups, so the domain's CAA policy silently vanished and the CA issued as if there were no CAA record. Resolvers also cannot cache the answer (no negative TTL). The model follows Unbound 1.19+ (docs/prediction.md R5).",
		Fix:      "Put the zone's SOA in the authority section of every NODATA and NXDOMAIN answer (the server's negative-answer code, or the DNS load balancer that rewrites replies).",
		Fixture:  "nosoa.test (the only server), part-nosoa.test (beside a good server)"},
	{Code: CodeNegativeWrongSOA, Severity: model.SeverityFail, Mark: "badSOA",
		Summary:  "A negative answer for CAA carries an SOA record of another zone than the one the server is authoritative for.",
		RFC:      "RFC 2308 §2.2, §3",
		Requires: "The SOA in a negative answer is the SOA of the zone the name belongs to.",
		Impact:   "Resolvers drop records outside the zone they asked (Unbound's scrubber removes out-of-zone authority records), which leaves an empty NODATA: the same as negative-without-soa (Unbound 1.17 may lose the CAA policy beside a good server; 1.19+ asks the other server).",
		Fix:      "Serve the negative answer from the right zone: check the server's zone selection (longest match) and any proxy that rewrites authority sections.",
		Fixture:  "wrongsoa.test"},
	{Code: CodeInstanceInconsistent, Severity: model.SeverityWarn, Mark: "instDiff",
		Summary:  "One address gave different CAA answers: replies from different server instances (different NSIDs) differ, or the same lowercase query with EDNS got different answers: an anycast site or a backend behind the address is out of sync.",
		RFC:      "RFC 5001 §2.1; RFC 1034 §4.3.5; RFC 8659 §3",
		Requires: "Every instance behind an address serves the same zone data; NSID (RFC 5001) tells the instances apart.",
		Impact:   "Which CAA policy the CA sees depends on which site or backend its resolver reaches: the CA's decision varies by vantage point and time.",
		Fix:      "Tell the provider which instance (the NSID in the evidence) serves the other answer: that site's zone copy is stale or its transfer is broken.",
		Fixture:  "anycast.test"},
}

// Info returns the catalog entry for code. Codes not in the catalog are a
// programming error and get a fail entry that says so.
func Info(code model.Code) FindingInfo {
	for _, f := range Findings {
		if f.Code == code {
			return f
		}
	}
	return FindingInfo{Code: code, Severity: model.SeverityFail, Mark: "??", Summary: fmt.Sprintf("unknown finding %q", code)}
}
