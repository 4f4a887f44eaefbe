package model

// The states the stages hand each other, typed so a comparison names a
// constant rather than a string. Each is a string type whose values are
// the JSON contract's words (docs/json.md), so it encodes as before.

// Permission is what a CAA policy lets a CA do for a name: the JSON's
// policy.issue and policy.wildcard.
type Permission string

const (
	PermissionPermitted Permission = "permitted"
	PermissionForbidden Permission = "forbidden"
	// PermissionVaries: the decision depends on which server the
	// resolver asks.
	PermissionVaries Permission = "varies"
	// PermissionUnknown: a lookup fails before the relevant RRset, so the
	// CA refuses (it cannot check CAA).
	PermissionUnknown Permission = "unknown"
)

func (p Permission) String() string { return string(p) }

// DNSSECStatus is a name's DNSSEC state as a validating resolver sees it
// (the JSON's names[].dnssec); probes/dnssec's Status is this type.
type DNSSECStatus string

const (
	// DNSSECUnvalidated: not validated (the JSON leaves the key out).
	DNSSECUnvalidated   DNSSECStatus = ""
	DNSSECSecure        DNSSECStatus = "secure"
	DNSSECInsecure      DNSSECStatus = "insecure"
	DNSSECBogus         DNSSECStatus = "bogus"
	DNSSECMissing       DNSSECStatus = "missing"
	DNSSECIndeterminate DNSSECStatus = "indeterminate"
)

func (s DNSSECStatus) String() string { return string(s) }
