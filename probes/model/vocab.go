package model

// ProbeID names a probe in the catalog. IDs are part of the JSON contract.
type ProbeID string

// Transport is the path a query takes.
type Transport string

const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
)

// Code is a stable finding code. Codes are a contract with users' scripts:
// rename one only with a documented migration.
type Code string

// Severity orders findings. Fail means a validating resolver can fail the
// CAA lookup because of it; warn means the server breaks the protocol in a
// way resolvers tolerate.
type Severity string

const (
	SeverityFail Severity = "fail"
	SeverityWarn Severity = "warn"
	// SeverityInfo is about the host running caaprobe, not the servers:
	// it never changes a verdict.
	SeverityInfo Severity = "info"
)

// Issue is one finding code on one result, with the evidence in words.
type Issue struct {
	Code   Code
	Detail string
}

// Status is what became of a probe: the reply's RCODE mnemonic
// (Status(rcodeText)), or one of the statuses below when no reply was
// accepted.
type Status string

// Statuses without an accepted reply (and TC, a truncated UDP reply whose
// TCP retry failed).
const (
	StatusTimeout     Status = "timeout"
	StatusUnreachable Status = "unreachable"
	StatusNoFamily    Status = "no-family"
	StatusLimit       Status = "limit"
	StatusMalformed   Status = "malformed"
	StatusMismatch    Status = "mismatch"
	StatusTC          Status = "TC"
	// StatusLocal: the exchange failed on this host (ErrLocal): nothing
	// is known of the server, so there is no finding, and the
	// cross-checks leave the result out.
	StatusLocal Status = "local-error"
)
