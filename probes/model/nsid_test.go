package model

import (
	"testing"

	"github.com/miekg/dns"
)

// TestNSIDOf: the one NSID decoding, as the judge and the perspectives
// view read it: printable text as is, binary as hex, nothing without OPT.
func TestNSIDOf(t *testing.T) {
	m := new(dns.Msg)
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6669726e2d3033"}) // "firn-03"
	if got := InstanceName(NSIDOf(m)); got != "firn-03" {
		t.Errorf("NSID %q", got)
	}
	opt.Option[0] = &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "00ff"}
	if got := InstanceName(NSIDOf(m)); got != "00ff" {
		t.Errorf("binary NSID %q, want hex", got)
	}
	if NSIDOf(new(dns.Msg)) != nil || NSIDOf(nil) != nil {
		t.Error("NSID without OPT")
	}
}
