package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// server answers one question, or returns nil to stay silent (a timeout).
type server func(qname string, qtype uint16) *dns.Msg

// fakeNet is the walker's network in unit tests: canned replies per server
// address, question by question, and a log of what was asked.
type fakeNet struct {
	servers map[netip.Addr]server
	mu      sync.Mutex
	asked   []string
}

var errSilent = errors.New("no reply before the timeout")

func (f *fakeNet) Query(ctx context.Context, a netip.Addr, name string, qtype uint16) (*dns.Msg, error) {
	name = dns.CanonicalName(name)
	f.mu.Lock()
	f.asked = append(f.asked, fmt.Sprintf("%s %s %s", a, name, dns.TypeToString[qtype]))
	f.mu.Unlock()
	s, ok := f.servers[a]
	if !ok {
		return nil, errSilent
	}
	m := s(name, qtype)
	if m == nil {
		return nil, errSilent
	}
	m = m.Copy()
	m.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}
	return m, nil
}

func (f *fakeNet) count(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, q := range f.asked {
		if strings.Contains(q, pattern) {
			n++
		}
	}
	return n
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

const (
	rootIP = "127.0.0.2"
	tldIP  = "127.0.0.3"
)

// refer answers every name under cut with a referral to it.
func refer(t *testing.T, cut string, authority, glue []string) func(string, uint16) *dns.Msg {
	m := msg(t, dns.RcodeSuccess, false, nil, authority, glue)
	return func(qname string, qtype uint16) *dns.Msg {
		if dns.IsSubDomain(cut, qname) && !(qname == cut && qtype == dns.TypeDS) {
			return m
		}
		return nil
	}
}

// first returns the first non-nil reply of fns.
func first(fns ...func(string, uint16) *dns.Msg) server {
	return func(qname string, qtype uint16) *dns.Msg {
		for _, f := range fns {
			if m := f(qname, qtype); m != nil {
				return m
			}
		}
		return nil
	}
}

// zoneData answers from a tiny zone: exact records by "owner type", NODATA
// with the SOA for other types at known owners and below, NXDOMAIN never.
func zoneData(t *testing.T, apex string, records ...string) func(string, uint16) *dns.Msg {
	soa := fmt.Sprintf("%s 300 SOA ns1.%s h.%s 1 2 3 4 5", apex, apex, apex)
	data := map[string][]string{}
	for _, r := range records {
		rr := rrs(t, r)[0]
		k := dns.CanonicalName(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
		data[k] = append(data[k], r)
	}
	return func(qname string, qtype uint16) *dns.Msg {
		if !dns.IsSubDomain(apex, qname) {
			return nil
		}
		if got := data[qname+" "+dns.TypeToString[qtype]]; len(got) > 0 {
			return msg(t, dns.RcodeSuccess, true, got, nil, nil)
		}
		if got := data[qname+" CNAME"]; len(got) > 0 {
			return msg(t, dns.RcodeSuccess, true, got, nil, nil)
		}
		return msg(t, dns.RcodeSuccess, true, nil, []string{soa}, nil)
	}
}

// hierarchy is a root that refers test. to the TLD server.
func hierarchy(t *testing.T, tld server, more map[string]server) *fakeNet {
	f := &fakeNet{servers: map[netip.Addr]server{
		addr(rootIP): first(refer(t, "test.", []string{"test. 60 NS ns.nic.test."}, []string{"ns.nic.test. 60 A " + tldIP})),
		addr(tldIP):  tld,
	}}
	for a, s := range more {
		f.servers[addr(a)] = s
	}
	return f
}

func walker(f *fakeNet) *Walker {
	return &Walker{Q: f, Roots: []netip.Addr{addr(rootIP)}}
}

func lookup(t *testing.T, w *Walker, name string) *Name {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := w.Lookup(ctx, model.MustName(name))
	if err != nil {
		t.Fatalf("Lookup(%s): %v", name, err)
	}
	return n
}

func nsAddrs(z *Zone) map[string][]string {
	out := map[string][]string{}
	for _, ns := range z.NS {
		for _, a := range ns.Addrs {
			out[ns.Name] = append(out[ns.Name], a.String())
		}
	}
	return out
}

func TestWalkReferralChain(t *testing.T) {
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test."}, []string{"ns1.example.test. 60 A 127.0.0.10"})),
		map[string]server{
			"127.0.0.10": first(
				refer(t, "sub.example.test.", []string{"sub.example.test. 60 NS ns.sub.example.test."}, []string{"ns.sub.example.test. 60 A 127.0.0.20"}),
				zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.10")),
			"127.0.0.20": first(zoneData(t, "sub.example.test.", "ns.sub.example.test. 60 A 127.0.0.20", "www.sub.example.test. 60 A 192.0.2.1")),
		})
	w := walker(f)
	n := lookup(t, w, "WWW.sub.example.test")
	if n.Name.String() != "www.sub.example.test." || !n.Exists || !n.CNAME.IsZero() {
		t.Fatalf("name %+v", n)
	}
	z := n.Zone
	if z.Name.String() != "sub.example.test." || z.Parent.String() != "example.test." || !z.FromReferral || z.CoHosted {
		t.Fatalf("zone %s parent %s referral %v co-hosted %v", z.Name, z.Parent, z.FromReferral, z.CoHosted)
	}
	if got := nsAddrs(z); !slices.Equal(got["ns.sub.example.test."], []string{"127.0.0.20"}) || !z.NS[0].Glue || z.NS[0].GlueMismatch != "" {
		t.Errorf("servers %v, %+v", got, z.NS)
	}
	if p := w.Zone(model.MustName("example.test")); p == nil || p.Parent.String() != "test." {
		t.Errorf("parent zone not kept: %+v", p)
	}
	// A second name under the same cut starts from it: no new referral.
	before := f.count(rootIP + " ")
	lookup(t, w, "mail.sub.example.test")
	if f.count(rootIP+" ") != before {
		t.Errorf("the root was asked again for a name under a known cut")
	}
}

func TestWalkUpwardReferralIsLame(t *testing.T) {
	upward := func(string, uint16) *dns.Msg {
		return msg(t, dns.RcodeSuccess, false, nil, []string{". 60 NS a.root.test."}, []string{"a.root.test. 60 A " + rootIP})
	}
	good := zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.10", "ns2.example.test. 60 A 127.0.0.11",
		"www.example.test. 60 A 192.0.2.1")
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test.", "example.test. 60 NS ns2.example.test."},
			[]string{"ns1.example.test. 60 A 127.0.0.10", "ns2.example.test. 60 A 127.0.0.11"})),
		map[string]server{"127.0.0.10": upward, "127.0.0.11": first(good)})
	w := walker(f)
	n := lookup(t, w, "www.example.test")
	if n.Zone.Name.String() != "example.test." || !n.Exists {
		t.Fatalf("name %+v in %s", n, n.Zone.Name)
	}
	for _, ns := range n.Zone.NS {
		if ns.GlueMismatch != "" {
			t.Errorf("false glue mismatch from the lame server's answer: %s", ns.GlueMismatch)
		}
	}
	lame := n.Zone.Lame()
	if len(lame) != 1 || lame[0].Addr != addr("127.0.0.10") || lame[0].NS != "ns1.example.test." || !strings.Contains(lame[0].Detail, "upward referral") {
		t.Errorf("lame servers %+v, want ns1 at 127.0.0.10 (upward referral)", lame)
	}
}

func TestWalkEveryServerLame(t *testing.T) {
	refused := func(string, uint16) *dns.Msg { return msg(t, dns.RcodeRefused, false, nil, nil, nil) }
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test."}, []string{"ns1.example.test. 60 A 127.0.0.10"})),
		map[string]server{"127.0.0.10": refused})
	_, err := walker(f).Lookup(context.Background(), model.MustName("www.example.test"))
	if err == nil || !strings.Contains(err.Error(), "lame (REFUSED") {
		t.Fatalf("error %v, want one naming the lame server", err)
	}
}

// coHostedNet serves p.test and its child c.p.test on one server, with no
// referral between them; ds answers "c.p.test DS".
func coHostedNet(t *testing.T, ds func(string, uint16) *dns.Msg) *fakeNet {
	child := zoneData(t, "c.p.test.", "c.p.test. 60 NS ns1.p.test.", "www.c.p.test. 60 A 192.0.2.1")
	parent := zoneData(t, "p.test.", "ns1.p.test. 60 A 127.0.0.10")
	both := func(qname string, qtype uint16) *dns.Msg {
		if qname == "c.p.test." && qtype == dns.TypeDS {
			return ds(qname, qtype)
		}
		if dns.IsSubDomain("c.p.test.", qname) {
			return child(qname, qtype)
		}
		return parent(qname, qtype)
	}
	return hierarchy(t,
		first(refer(t, "p.test.", []string{"p.test. 60 NS ns1.p.test.", "p.test. 60 DS 1 13 2 AABB"}, []string{"ns1.p.test. 60 A 127.0.0.10"})),
		map[string]server{"127.0.0.10": both})
}

func TestWalkCoHostedChildWithDS(t *testing.T) {
	ds := func(string, uint16) *dns.Msg {
		return msg(t, dns.RcodeSuccess, true, []string{"c.p.test. 60 DS 12345 13 2 AABBCCDD",
			"c.p.test. 60 RRSIG DS 13 3 60 20300101000000 20200101000000 1 p.test. AAAA"}, nil, nil)
	}
	for _, name := range []string{"c.p.test", "www.c.p.test", "nope.www.c.p.test"} {
		t.Run(name, func(t *testing.T) {
			f := coHostedNet(t, ds)
			n := lookup(t, walker(f), name)
			z := n.Zone
			if z.Name.String() != "c.p.test." || z.Parent.String() != "p.test." || !z.CoHosted || z.FromReferral {
				t.Fatalf("zone %s parent %s co-hosted %v referral %v", z.Name, z.Parent, z.CoHosted, z.FromReferral)
			}
			if len(z.DS) != 1 || z.DS[0].KeyTag != 12345 || len(z.DSSigs) != 1 || len(z.NoDS) != 0 {
				t.Errorf("DS %v sigs %v no-DS %v", z.DS, z.DSSigs, z.NoDS)
			}
			if got := nsAddrs(z); !slices.Equal(got["ns1.p.test."], []string{"127.0.0.10"}) {
				t.Errorf("the child's servers %v, want its own NS set", got)
			}
			if f.count("127.0.0.10 c.p.test. DS") != 1 {
				t.Errorf("the parent's servers were asked for the DS %d times, want 1", f.count("c.p.test. DS"))
			}
		})
	}
}

func TestWalkCoHostedChildWithoutDS(t *testing.T) {
	noDS := func(string, uint16) *dns.Msg {
		return msg(t, dns.RcodeSuccess, true, nil, []string{
			"p.test. 300 SOA ns1.p.test. h.p.test. 1 2 3 4 5",
			"c.p.test. 300 NSEC ns1.p.test. NS RRSIG NSEC",
			"c.p.test. 300 RRSIG NSEC 13 3 300 20300101000000 20200101000000 1 p.test. AAAA"}, nil)
	}
	f := coHostedNet(t, noDS)
	z := lookup(t, walker(f), "www.c.p.test").Zone
	if z.Name.String() != "c.p.test." || !z.CoHosted || len(z.DS) != 0 {
		t.Fatalf("zone %s co-hosted %v DS %v", z.Name, z.CoHosted, z.DS)
	}
	var types []string
	for _, rr := range z.NoDS {
		types = append(types, dns.TypeToString[rr.Header().Rrtype])
	}
	if !slices.Equal(types, []string{"NSEC", "RRSIG"}) {
		t.Errorf("no-DS proof %v, want the parent's NSEC and its RRSIG", types)
	}
}

func TestWalkAsksDSOnlyUnderASignedParent(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(fmt.Sprint("signed=", signed), func(t *testing.T) {
			auth := []string{"example.test. 60 NS ns1.example.test."}
			tldRefer := []string{"test. 60 NS ns.nic.test."}
			if signed {
				tldRefer = append(tldRefer, "test. 60 DS 1 13 2 AABB")
			}
			tldNoDS := msg(t, dns.RcodeSuccess, true, nil, []string{
				"test. 300 SOA ns.nic.test. h.nic.test. 1 2 3 4 5",
				"example.test. 300 NSEC z.test. NS RRSIG NSEC"}, nil)
			f := &fakeNet{servers: map[netip.Addr]server{
				addr(rootIP): first(refer(t, "test.", tldRefer, []string{"ns.nic.test. 60 A " + tldIP})),
				addr(tldIP): func(qname string, qtype uint16) *dns.Msg {
					if qname == "example.test." && qtype == dns.TypeDS {
						return tldNoDS
					}
					return refer(t, "example.test.", auth, []string{"ns1.example.test. 60 A 127.0.0.10"})(qname, qtype)
				},
				addr("127.0.0.10"): zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.10"),
			}}
			z := lookup(t, walker(f), "example.test").Zone
			asked := f.count("example.test. DS")
			if signed && (asked != 1 || len(z.NoDS) != 1) {
				t.Errorf("signed parent, referral without DS or proof: asked DS %d times, proof %v", asked, z.NoDS)
			}
			if !signed && asked != 0 {
				t.Errorf("unsigned parent: asked DS %d times, want 0 (one query less per domain)", asked)
			}
		})
	}
}

func TestWalkDelegationCycle(t *testing.T) {
	f := hierarchy(t,
		first(
			refer(t, "a.test.", []string{"a.test. 60 NS ns.b.test."}, nil),
			refer(t, "b.test.", []string{"b.test. 60 NS ns.a.test."}, nil)),
		nil)
	w := walker(f)
	for _, name := range []string{"a.test", "b.test"} {
		n := lookup(t, w, name)
		ns := n.Zone.NS
		if len(ns) != 1 || len(ns[0].Addrs) != 0 || !strings.Contains(ns[0].Err, "delegation cycle") {
			t.Errorf("%s: servers %+v, want one without address for a delegation cycle", name, ns)
		}
	}
}

func TestWalkNSIsCNAME(t *testing.T) {
	f := hierarchy(t,
		first(
			refer(t, "x.test.", []string{"x.test. 60 NS ns.provider.test."}, nil),
			refer(t, "provider.test.", []string{"provider.test. 60 NS ns1.provider.test."}, []string{"ns1.provider.test. 60 A 127.0.0.30"})),
		map[string]server{
			"127.0.0.30": zoneData(t, "provider.test.", "ns1.provider.test. 60 A 127.0.0.30",
				"ns.provider.test. 60 CNAME real.provider.test.", "real.provider.test. 60 A 127.0.0.31"),
		})
	// The zone's CNAME reply for A carries only the CNAME: the walker
	// follows it to the target.
	z := lookup(t, walker(f), "x.test").Zone
	if len(z.NS) != 1 || z.NS[0].CNAME != "real.provider.test." || !slices.Equal(nsAddrs(z)["ns.provider.test."], []string{"127.0.0.31"}) {
		t.Errorf("servers %+v, want ns.provider.test as a CNAME to real.provider.test at 127.0.0.31", z.NS)
	}
}

func TestWalkGlueMismatch(t *testing.T) {
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test."}, []string{"ns1.example.test. 60 A 127.0.0.10"})),
		map[string]server{"127.0.0.10": zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.99")})
	z := lookup(t, walker(f), "example.test").Zone
	if len(z.NS) != 1 || !strings.Contains(z.NS[0].GlueMismatch, "127.0.0.10; the zone says 127.0.0.99") {
		t.Errorf("glue mismatch %q", z.NS[0].GlueMismatch)
	}
	if len(z.Lame()) != 0 {
		t.Errorf("lame servers %v", z.Lame())
	}
}

func TestWalkAlias(t *testing.T) {
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test."}, []string{"ns1.example.test. 60 A 127.0.0.10"})),
		map[string]server{"127.0.0.10": zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.10",
			"www.example.test. 60 CNAME target.other.test.")})
	n := lookup(t, walker(f), "www.example.test")
	if n.CNAME.String() != "target.other.test." || n.Zone.Name.String() != "example.test." || !n.Exists {
		t.Errorf("name %+v", n)
	}
}

// TestWalkCallerDeadline: a lookup whose caller gives up early does not
// stop the shared walk, and a later caller gets the complete answer.
func TestWalkCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	slow := zoneData(t, "example.test.", "ns1.example.test. 60 A 127.0.0.10")
	f := hierarchy(t,
		first(refer(t, "example.test.", []string{"example.test. 60 NS ns1.example.test."}, []string{"ns1.example.test. 60 A 127.0.0.10"})),
		map[string]server{"127.0.0.10": func(q string, t uint16) *dns.Msg { <-release; return slow(q, t) }})
	w := walker(f)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Lookup(ctx, model.MustName("www.example.test")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the caller's deadline", err)
	}
	close(release)
	n := lookup(t, w, "www.example.test")
	if n.Zone.Name.String() != "example.test." {
		t.Errorf("zone %s", n.Zone.Name)
	}
}

// TestWalkConcurrentShared: many names looked up at once share the work of
// their zones (the co-hosted child's DS is asked once), and lookups that
// need each other (both ends of a delegation cycle) all finish.
func TestWalkConcurrentShared(t *testing.T) {
	ds := func(string, uint16) *dns.Msg {
		return msg(t, dns.RcodeSuccess, true, []string{"c.p.test. 60 DS 12345 13 2 AABBCCDD"}, nil, nil)
	}
	f := coHostedNet(t, ds)
	tld := f.servers[addr(tldIP)]
	cycle := first(
		refer(t, "a.test.", []string{"a.test. 60 NS ns.b.test."}, nil),
		refer(t, "b.test.", []string{"b.test. 60 NS ns.a.test."}, nil))
	f.servers[addr(tldIP)] = first(tld, cycle)
	w := walker(f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("w%d.c.p.test", i))
	}
	names = append(names, "a.test", "b.test", "ns.a.test", "ns.b.test", "c.p.test", "p.test")
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	zones := make([]string, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := w.Lookup(ctx, model.MustName(n))
			errs[i] = err
			if err == nil {
				zones[i] = got.Zone.Name.String()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("lookups did not finish: waits on each other?")
	}
	for i, n := range names {
		switch {
		case strings.HasSuffix(n, "c.p.test") && zones[i] != "c.p.test.":
			t.Errorf("%s: zone %q, error %v", n, zones[i], errs[i])
		case n == "a.test" && zones[i] != "a.test.":
			t.Errorf("a.test: zone %q, error %v", zones[i], errs[i])
		case strings.HasPrefix(n, "ns.") && errs[i] == nil:
			t.Errorf("%s resolved inside a delegation cycle", n)
		}
	}
	if n := f.count("c.p.test. DS"); n != 1 {
		t.Errorf("the co-hosted child's DS was asked %d times for %d names, want once", n, len(names))
	}
}
