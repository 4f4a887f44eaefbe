package probes

import "github.com/caaprobe/caaprobe/probes/model"

// The vocabulary and the exchange and result records are the leaf model's
// (probes/model); these names keep the judge's callers reading as before.
type (
	ProbeID   = model.ProbeID
	Transport = model.Transport
	Code      = model.Code
	Severity  = model.Severity
	Issue     = model.Issue
	Status    = model.Status
	Exchange  = model.Exchange
	Attempt   = model.Attempt
	Result    = model.Result
)

const (
	UDP = model.UDP
	TCP = model.TCP

	SeverityFail = model.SeverityFail
	SeverityWarn = model.SeverityWarn
	SeverityInfo = model.SeverityInfo

	StatusTimeout     = model.StatusTimeout
	StatusUnreachable = model.StatusUnreachable
	StatusNoFamily    = model.StatusNoFamily
	StatusLimit       = model.StatusLimit
	StatusMalformed   = model.StatusMalformed
	StatusMismatch    = model.StatusMismatch
	StatusTC          = model.StatusTC
	StatusLocal       = model.StatusLocal
)
