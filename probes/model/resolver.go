package model

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Answer is what the resolver said about one name's CAA RRset.
type Answer struct {
	Name    string         // lowercase FQDN that was asked
	Server  netip.AddrPort // the resolver
	Rcode   string         // "NOERROR", "SERVFAIL", …; "" when no usable reply came
	AD      bool           // the resolver validated the answer (RFC 4035 §3.2.3)
	EDE     []EDE          // Extended DNS Errors, in the order they came
	Records int            // CAA records in the answer
	Err     string         // why there is no Rcode: timeout, unreachable, unparsable reply
	// Exchange keeps the bytes, like every probe result does.
	Exchange *Exchange
}

// EDE is one Extended DNS Error option (RFC 8914 §2).
type EDE struct {
	Code uint16
	Text string // EXTRA-TEXT as sent; may be empty
}

// Purpose is the registered name of the code ("Signature Expired").
func (e EDE) Purpose() string {
	if s, ok := dns.ExtendedErrorCodeToString[e.Code]; ok {
		return s
	}
	return "unassigned"
}

// Failed reports whether a CA asking this resolver would fail its CAA
// lookup: no reply at all, or any RCODE but NOERROR and NXDOMAIN (an empty
// or absent RRset is a valid answer for CAA, RFC 8659 §3).
func (a Answer) Failed() bool {
	return a.Rcode != dns.RcodeToString[dns.RcodeSuccess] && a.Rcode != dns.RcodeToString[dns.RcodeNameError]
}

// Agrees says whether the resolver's answer fits caaprobe's predicted
// outcome for the name ("ok", "servfail", "intermittent"; see
// probes/report). An intermittent prediction fits either answer: the
// resolver picked some server. An empty prediction (not checked) fits all.
// No reply for the name agrees with servfail only (a CA's client gives up too).
func (a Answer) Agrees(outcome string) bool {
	if a.Rcode == "" && outcome != "servfail" {
		// No reply for this name: a CA's client gives up the same way, so
		// it agrees with servfail and with nothing else. (A resolver that
		// answers nothing at all is left out before the run, see
		// checkResolver in cmd/caaprobe: its silence is no answer.)
		return false
	}
	switch outcome {
	case "ok":
		return !a.Failed()
	case "servfail":
		return a.Failed()
	}
	return true
}

// Summary is a one-line description: "SERVFAIL, EDE 7 Signature Expired: …".
func (a Answer) Summary() string {
	var b strings.Builder
	if a.Rcode == "" {
		b.WriteString("no answer: " + a.Err)
	} else {
		b.WriteString(a.Rcode)
		if a.AD {
			b.WriteString(" AD")
		}
		if a.Rcode == "NOERROR" {
			fmt.Fprintf(&b, ", %d CAA", a.Records)
		}
	}
	for _, e := range a.EDE {
		fmt.Fprintf(&b, ", EDE %d %s", e.Code, e.Purpose())
		if e.Text != "" {
			b.WriteString(": " + e.Text)
		}
	}
	return b.String()
}

// ResolverCheck is what a real validating resolver (caaprobe check
// --resolver) said about one relevant name, next to caaprobe's prediction
// for it. A disagreement means either the resolver differs from the model
// (say so in docs/interop.md) or a fault the probes cannot see.
type ResolverCheck struct {
	Answer
	Predicted string // the name's outcome from Summarise
	Agrees    bool
}
