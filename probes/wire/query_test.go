package wire

import (
	"bytes"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/miekg/dns"
)

// TestBuildQueryMatchesPack holds the hand-written query packing to what
// miekg/dns packs for the same query.
func TestBuildQueryMatchesPack(t *testing.T) {
	for _, name := range []string{"example.test.", "ExAmPlE.TeSt", "a\\.b.test.", "_caa.x-y.test.", "."} {
		for _, qtype := range []uint16{dns.TypeCAA, catalog.TypeUnknown, dns.TypeSOA} {
			for _, opt := range []struct{ edns, do bool }{{false, false}, {true, false}, {true, true}} {
				got, err := BuildQuery(name, qtype, opt.edns, opt.do)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				m := new(dns.Msg)
				m.Question = []dns.Question{{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}}
				if opt.edns {
					m.SetEdns0(EDNSBufSize, opt.do)
					opt := m.IsEdns0()
					opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
				}
				want, err := m.Pack()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s %d %+v:\n got %x\nwant %x", name, qtype, opt, got, want)
				}
			}
		}
	}
	if _, err := BuildQuery("bad..name.", dns.TypeCAA, true, true); err == nil {
		t.Error("an empty label packed without error")
	}
}

func BenchmarkBuildQuery(b *testing.B) {
	for b.Loop() {
		BuildQuery("ExAmPlE.TeSt.", dns.TypeCAA, true, true)
	}
}
