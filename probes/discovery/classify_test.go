package discovery

import (
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// rrs parses zone-file lines (absolute names).
func rrs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// msg builds a reply by hand: RCODE, AA, and the three sections.
func msg(t testing.TB, rcode int, aa bool, answer, ns, extra []string) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.Response = true
	m.Rcode = rcode
	m.Authoritative = aa
	m.Answer, m.Ns, m.Extra = rrs(t, answer...), rrs(t, ns...), rrs(t, extra...)
	return m
}

func TestClassify(t *testing.T) {
	const zone = "example.test."
	soa := "example.test. 300 SOA ns1.example.test. h.example.test. 1 2 3 4 5"
	childSOA := "child.example.test. 300 SOA ns1.example.test. h.example.test. 1 2 3 4 5"
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		m      *dns.Msg
		want   kind
		cut    string
		target string
	}{
		{name: "answer", qname: "www.example.test.", qtype: dns.TypeA,
			m: msg(t, dns.RcodeSuccess, true, []string{"www.example.test. 60 A 192.0.2.1"}, nil, nil), want: kindAnswer},
		{name: "answer in another spelling", qname: "www.example.test.", qtype: dns.TypeA,
			m: msg(t, dns.RcodeSuccess, true, []string{"WwW.Example.TEST. 60 A 192.0.2.1"}, nil, nil), want: kindAnswer},
		{name: "answer without AA is still data", qname: "www.example.test.", qtype: dns.TypeA,
			m: msg(t, dns.RcodeSuccess, false, []string{"www.example.test. 60 A 192.0.2.1"}, nil, nil), want: kindAnswer},
		{name: "apex NS of a co-hosted child", qname: "child.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, true, []string{"child.example.test. 60 NS ns1.example.test."}, nil, nil), want: kindAnswer},
		{name: "referral down", qname: "www.sub.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{"sub.example.test. 60 NS ns.sub.example.test."},
				[]string{"ns.sub.example.test. 60 A 192.0.2.53"}), want: kindReferral, cut: "sub.example.test."},
		{name: "referral down with the parent's NS too", qname: "www.sub.example.test.", qtype: dns.TypeNS,
			m:    msg(t, dns.RcodeSuccess, false, nil, []string{"example.test. 60 NS ns1.example.test.", "sub.example.test. 60 NS ns.sub.example.test."}, nil),
			want: kindReferral, cut: "sub.example.test."},
		{name: "upward referral to the root", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{". 60 NS a.root.test."}, []string{"a.root.test. 60 A 127.0.0.2"}), want: kindLame},
		{name: "upward referral to the TLD", qname: "www.example.test.", qtype: dns.TypeA,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{"test. 60 NS ns.nic.test."}, nil), want: kindLame},
		{name: "referral to the zone itself", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{"example.test. 60 NS ns1.example.test."}, nil), want: kindLame},
		{name: "sideways referral", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{"other.test. 60 NS ns.other.test."}, nil), want: kindLame},
		{name: "referral below the zone but off the name's path", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{"elsewhere.example.test. 60 NS ns.x.test."}, nil), want: kindLame},
		{name: "REFUSED", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeRefused, false, nil, nil, nil), want: kindLame},
		{name: "SERVFAIL", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeServerFailure, false, nil, nil, nil), want: kindError},
		{name: "NOTIMP", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeNotImplemented, true, nil, nil, nil), want: kindError},
		{name: "NXDOMAIN", qname: "nope.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeNameError, true, nil, []string{soa}, nil), want: kindNXDomain, cut: zone},
		{name: "NODATA", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, true, nil, []string{soa}, nil), want: kindNoData, cut: zone},
		{name: "NODATA without SOA", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, true, nil, nil, nil), want: kindNoData, cut: zone},
		{name: "NODATA from a co-hosted child", qname: "www.child.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, true, nil, []string{childSOA}, nil), want: kindNoData, cut: "child.example.test."},
		{name: "NXDOMAIN from a co-hosted child", qname: "nope.child.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeNameError, true, nil, []string{childSOA}, nil), want: kindNXDomain, cut: "child.example.test."},
		{name: "negative answer from the parent zone", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeNameError, true, nil, []string{"test. 300 SOA ns.nic.test. h.nic.test. 1 2 3 4 5"}, nil), want: kindLame},
		{name: "negative answer from an unrelated zone", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, true, nil, []string{"other.test. 300 SOA ns.other.test. h.other.test. 1 2 3 4 5"}, nil), want: kindLame},
		{name: "negative answer without AA is still the zone's", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, []string{soa}, nil), want: kindNoData, cut: zone},
		{name: "negative answer from a recursive server", qname: "www.example.test.", qtype: dns.TypeNS,
			m: func() *dns.Msg {
				m := msg(t, dns.RcodeNameError, false, nil, []string{soa}, nil)
				m.RecursionAvailable = true
				return m
			}(), want: kindLame},
		{name: "child NS in the answer section without AA", qname: "sub.example.test.", qtype: dns.TypeNS,
			m:    msg(t, dns.RcodeSuccess, false, []string{"sub.example.test. 60 NS ns.sub.example.test."}, nil, nil),
			want: kindReferral, cut: "sub.example.test."},
		{name: "empty reply without AA", qname: "www.example.test.", qtype: dns.TypeNS,
			m: msg(t, dns.RcodeSuccess, false, nil, nil, nil), want: kindLame},
		{name: "CNAME", qname: "www.example.test.", qtype: dns.TypeNS,
			m:    msg(t, dns.RcodeSuccess, true, []string{"www.example.test. 60 CNAME target.other.test."}, nil, nil),
			want: kindAlias, target: "target.other.test."},
		{name: "CNAME with its in-zone target's data", qname: "www.example.test.", qtype: dns.TypeA,
			m:    msg(t, dns.RcodeSuccess, true, []string{"www.example.test. 60 CNAME host.example.test.", "host.example.test. 60 A 192.0.2.7"}, nil, nil),
			want: kindAlias, target: "host.example.test."},
		{name: "DNAME", qname: "www.old.example.test.", qtype: dns.TypeNS,
			m:    msg(t, dns.RcodeSuccess, true, []string{"old.example.test. 60 DNAME new.test.", "www.old.example.test. 60 CNAME www.new.test."}, nil, nil),
			want: kindDNAME, target: "www.new.test."},
		{name: "answer for another name without AA", qname: "www.example.test.", qtype: dns.TypeA,
			m: msg(t, dns.RcodeSuccess, false, []string{"elsewhere.test. 60 A 192.0.2.1"}, nil, nil), want: kindLame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := classify(tt.m, model.MustName(zone), tt.qname, tt.qtype)
			if r.kind != tt.want {
				t.Fatalf("kind %s (%s), want %s", r.kind, r.why, tt.want)
			}
			if r.cut.String() != tt.cut {
				t.Errorf("cut %q, want %q", r.cut, tt.cut)
			}
			if r.target.String() != tt.target {
				t.Errorf("target %q, want %q", r.target, tt.target)
			}
			if (r.kind == kindLame || r.kind == kindError) && r.why == "" {
				t.Errorf("a %s reply without a reason", r.kind)
			}
		})
	}
}
