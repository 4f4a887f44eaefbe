// Package caa knows what a CAA record (RFC 8659) means, so that caaprobe can
// say whether the records a server returned are well formed and what they let
// a given CA do.
//
// It has three parts, all pure functions without I/O:
//
//   - Parsing: FromRR turns a record miekg/dns unpacked into flags, tag and
//     value (the tag unescaped).
//   - Validation: Validate checks one record against RFC 8659 §4.1–§4.4, the
//     RFC 8657 accounturi and validationmethods parameters, and RFC 9495
//     issuemail, and names the clause each problem breaks.
//   - Policy: Evaluate answers the CA's question for a relevant RRset (may
//     this CA issue for the name, and for a wildcard under it?), and Climb
//     lists the names whose CAA RRsets a CA looks at (RFC 8659 §3).
package caa
