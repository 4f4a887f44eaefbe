package discovery_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
)

// TestWalkerOverLab walks the in-process lab over real loopback packets
// through the production Querier (transport.Socket under transport.Retry: UDP, TCP after TC, a
// retry without EDNS after FORMERR).
func TestWalkerOverLab(t *testing.T) {
	lab, err := fixtures.Start(fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	w := &discovery.Walker{X: transport.New(&transport.Socket{Timeout: 500 * time.Millisecond}, nil, 1, 0),
		Roots: []netip.Addr{lab.Root}, Port: lab.Port}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tests := []struct {
		name, zone string
		coHosted   bool
		ds         bool
		lame       int
	}{
		{name: "www.deep.sub.cuts.test", zone: "deep.sub.cuts.test."},
		{name: "ednsformerr.test", zone: "ednsformerr.test."},
		{name: "tc.test", zone: "tc.test."},
		{name: "signed.test", zone: "signed.test.", ds: true},
		{name: "good.cohost.test", zone: "good.cohost.test.", coHosted: true, ds: true},
		{name: "www.badds.cohost.test", zone: "badds.cohost.test.", coHosted: true, ds: true},
		{name: "www.upref.test", zone: "upref.test.", lame: 1},
	}
	for _, tt := range tests {
		n, err := w.Lookup(ctx, model.MustName(tt.name))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		z := n.Zone
		if z.Name.String() != tt.zone || z.CoHosted != tt.coHosted || (len(z.DS) > 0) != tt.ds || len(z.Lame()) != tt.lame {
			t.Errorf("%s: zone %s co-hosted %v DS %d lame %v; want %s %v DS %v lame %d",
				tt.name, z.Name, z.CoHosted, len(z.DS), z.Lame(), tt.zone, tt.coHosted, tt.ds, tt.lame)
		}
		for _, ns := range z.NS {
			if len(ns.Addrs) == 0 || ns.GlueMismatch != "" {
				t.Errorf("%s: server %+v", tt.name, ns)
			}
		}
	}
}
