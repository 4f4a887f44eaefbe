package model

import (
	"net/netip"
	"testing"
)

// TestServerRefString: the label every output prints, from the fields;
// the instance only when told apart, no address for an NS-only finding.
func TestServerRefString(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		ref  ServerRef
		want string
	}{
		{ServerRef{NS: "ns1.x.test", Addr: a}, "ns1.x.test (192.0.2.1)"},
		{ServerRef{NS: "ns1.x.test", Addr: netip.MustParseAddr("2001:db8::1")}, "ns1.x.test (2001:db8::1)"},
		{ServerRef{NS: "ns1.x.test"}, "ns1.x.test"},
		{ServerRef{NS: "ns1.x.test", Addr: a, Instance: "lhr-1"}, "ns1.x.test (192.0.2.1) instance lhr-1"},
		{ServerRef{}, ""},
	} {
		if got := tc.ref.String(); got != tc.want {
			t.Errorf("%#v: %q, want %q", tc.ref, got, tc.want)
		}
	}
	s := &Server{Zone: MustName("x.test."), NS: "ns1.x.test.", Addr: a}
	if got := s.Ref(); got != (ServerRef{NS: "ns1.x.test", Addr: a}) {
		t.Errorf("Ref: %#v, want the NS without its final dot", got)
	}
	if (ServerRef{NS: "x"}).IsZero() || !(ServerRef{}).IsZero() {
		t.Error("IsZero")
	}
	if (ServerRef{NS: "x"}).AddrText() != "" || (ServerRef{Addr: a}).AddrText() != "192.0.2.1" {
		t.Error("AddrText")
	}
}

// TestFailingServers: each failing server once, in the order of the names.
func TestFailingServers(t *testing.T) {
	r1 := ServerRef{NS: "ns1", Addr: netip.MustParseAddr("192.0.2.1")}
	r2 := ServerRef{NS: "ns2", Addr: netip.MustParseAddr("192.0.2.2")}
	d := &Domain{Names: []*Name{{Failing: []ServerRef{r2, r1}}, {Failing: []ServerRef{r1}}, {}}}
	got := d.FailingServers()
	if len(got) != 2 || got[0] != r2 || got[1] != r1 {
		t.Errorf("FailingServers: %v, want [%v %v]", got, r2, r1)
	}
}
