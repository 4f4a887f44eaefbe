package dnssec

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/caaprobe/caaprobe/fixtures/zonesign"
)

// TestCompareNames sorts the example of RFC 4034 §6.1.
func TestCompareNames(t *testing.T) {
	t.Parallel()
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		got := slices.Clone(want)
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(got, compareNames)
		if !slices.Equal(got, want) {
			t.Fatalf("canonical order:\n got %q\nwant %q", got, want)
		}
	}
	if !sameName(`\065.example.`, "a.EXAMPLE.") {
		t.Error(`\065 and a are one label in canonical form`)
	}
}

func TestNameRelations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone, name string
		in, below  bool
	}{
		{"example.com.", "example.com.", true, false},
		{"example.com.", "WWW.Example.COM.", true, true},
		{"example.com.", "badexample.com.", false, false},
		{"example.com.", "com.", false, false},
		{".", "com.", true, true},
		{"example.com.", `a\.b.example.com.`, true, true},
	}
	for _, tc := range tests {
		if got := inZone(tc.zone, tc.name); got != tc.in {
			t.Errorf("inZone(%s, %s) = %v", tc.zone, tc.name, got)
		}
		if got := below(tc.zone, tc.name); got != tc.below {
			t.Errorf("below(%s, %s) = %v", tc.zone, tc.name, got)
		}
	}
	if got := ancestor("a.b.Example.com.", 3); got != "b.example.com." {
		t.Errorf("ancestor = %s", got)
	}
}

// TestNSEC3OptOut judges proofs whose next-closer record has the opt-out
// flag; zonesign does not build opt-out chains, so the records are edited
// and judged without their signatures.
func TestNSEC3OptOut(t *testing.T) {
	t.Parallel()
	names := map[string][]uint16{
		"example.com.":     {dns.TypeSOA, dns.TypeNS},
		"www.example.com.": {dns.TypeA},
	}
	chain, err := zonesign.NewNSEC3Chain("example.com.", names, "", 0, 300)
	if err != nil {
		t.Fatal(err)
	}
	proof := func(optOut bool) nsec3Proof {
		p := nsec3Proof{zone: "example.com."}
		for _, rr := range chain.NXDomain("nope.example.com.") {
			n := rr.(*dns.NSEC3)
			if optOut {
				n.Flags = 1
			}
			u, ok := usableNSEC3("example.com.", n)
			if !ok {
				t.Fatalf("%s not usable", n)
			}
			p.recs = append(p.recs, u)
		}
		return p
	}
	tests := []struct {
		name   string
		optOut bool
		judge  func(nsec3Proof) Verdict
		want   Reason
	}{
		{"nxdomain", false, func(p nsec3Proof) Verdict { return p.nxDomain("nope.example.com.") }, ReasonNXDomainProven},
		{"nxdomain opt-out", true, func(p nsec3Proof) Verdict { return p.nxDomain("nope.example.com.") }, ReasonOptOut},
		{"nodata without match", false, func(p nsec3Proof) Verdict { return p.noData("nope.example.com.", dns.TypeCAA) }, ReasonDenialNoProof},
		{"nodata in opt-out span", true, func(p nsec3Proof) Verdict { return p.noData("nope.example.com.", dns.TypeCAA) }, ReasonOptOut},
	}
	for _, tc := range tests {
		if v := tc.judge(proof(tc.optOut)); v.Reason != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, v, tc.want)
		}
	}
}
