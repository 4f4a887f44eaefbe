package check_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/fixtures/zonesign"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// labCases picks lab cases by zone, in the lab's order (parents first).
func labCases(t *testing.T, zones ...string) []fixtures.Case {
	t.Helper()
	var out []fixtures.Case
	for _, c := range fixtures.Cases {
		for _, z := range zones {
			if c.Zone == z {
				out = append(out, c)
			}
		}
	}
	if len(out) != len(zones) {
		t.Fatalf("lab cases %v: found %d", zones, len(out))
	}
	return out
}

// dnssecIssues maps "addr/probe/name" to the DNSSEC issues of that result.
func dnssecIssues(d *model.Domain) map[string][]model.Issue {
	out := map[string][]model.Issue{}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for _, is := range r.Issues {
				if is.Code == catalog.CodeDNSSECBogus || is.Code == catalog.CodeDNSSECMissing {
					k := s.Addr.String() + "/" + string(r.Probe) + "/" + r.Name.Display()
					out[k] = append(out[k], is)
				}
			}
		}
	}
	return out
}

func nameStatus(d *model.Domain, name string) model.DNSSECStatus {
	for _, n := range d.Names {
		if n.Name.Display() == name {
			return n.DNSSEC
		}
	}
	return "(no such name)"
}

// TestDNSSECPerServerAndSpelling checks that each DNSSEC finding lands on
// the very server, probe and spelling that shows it, with its reason.
func TestDNSSECPerServerAndSpelling(t *testing.T) {
	lab, c := startLab(t, fixtures.Options{Cases: labCases(t, "signed.test", "casesig.test", "halfbogus.test", "badds.test", "nosig.test", "expired.test")})
	ctx := context.Background()
	type want struct {
		server int    // index of the server in the case
		probe  string // probe id
		code   model.Code
		reason string // "" means: no DNSSEC finding on this result
	}
	tests := []struct {
		domain string
		status model.DNSSECStatus // the name's DNSSEC state in the report
		want   []want
	}{
		{"signed.test", "secure", []want{{0, "caa", "", ""}, {0, "caa-upper", "", ""}, {0, "caa-0x20", "", ""}, {0, "caa-tcp", "", ""}, {0, "dnskey", "", ""}}},
		// The issue's heart: signatures over the query's spelling are
		// bogus for UPPERCASE and 0x20 only.
		{"casesig.test", "bogus", []want{
			{0, "caa", "", ""}, {0, "caa-tcp", "", ""}, {0, "caa-noedns", "", ""}, {0, "dnskey", "", ""},
			{0, "caa-upper", catalog.CodeDNSSECBogus, "bad-signature"}, {0, "caa-0x20", catalog.CodeDNSSECBogus, "bad-signature"}}},
		{"halfbogus.test", "secure", []want{
			{0, "caa", "", ""}, {0, "caa-0x20", "", ""}, {0, "dnskey", "", ""},
			{1, "caa", catalog.CodeDNSSECBogus, "expired"}, {1, "caa-0x20", catalog.CodeDNSSECBogus, "expired"}, {1, "dnskey", catalog.CodeDNSSECBogus, "expired"}}},
		{"badds.test", "bogus", []want{
			{0, "dnskey", catalog.CodeDNSSECBogus, "ds-matches-no-dnskey"}, {1, "dnskey", catalog.CodeDNSSECBogus, "ds-matches-no-dnskey"},
			{0, "caa", catalog.CodeDNSSECBogus, "ds-matches-no-dnskey"}}},
		{"nosig.test", "missing", []want{{0, "caa", catalog.CodeDNSSECMissing, "missing-rrsig"}, {0, "caa-upper", catalog.CodeDNSSECMissing, "missing-rrsig"}, {0, "dnskey", "", ""}}},
		{"expired.test", "bogus", []want{{0, "caa", catalog.CodeDNSSECBogus, "expired"}, {0, "dnskey", catalog.CodeDNSSECBogus, "expired"}}},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			d := c.Check(ctx, tc.domain)
			if d.Err != "" {
				t.Fatalf("check: %s", d.Err)
			}
			if got := nameStatus(d, tc.domain); got != tc.status {
				t.Errorf("dnssec status %q, want %q", got, tc.status)
			}
			if got := nameStatus(d, "test"); got != "secure" {
				t.Errorf("dnssec status of test. %q, want secure", got)
			}
			issues := dnssecIssues(d)
			for _, w := range tc.want {
				k := lab.AddrOf(tc.domain, w.server).String() + "/" + w.probe + "/" + tc.domain
				got := issues[k]
				if w.code == "" {
					if len(got) > 0 {
						t.Errorf("%s: unexpected %v", k, got)
					}
					continue
				}
				if len(got) != 1 || got[0].Code != w.code || !strings.HasPrefix(got[0].Detail, w.reason+":") {
					t.Errorf("%s: got %v, want %s (%s)", k, got, w.code, w.reason)
				}
			}
		})
	}
}

// TestDNSSECWrongAnchor: with an anchor that is not the lab's root key (or
// IANA's, the default), no chain reaches the lab, so every zone is
// indeterminate (RFC 4033 §5), broken signatures are not findings, and the
// run warns once, with the fix.
func TestDNSSECWrongAnchor(t *testing.T) {
	lab, err := fixtures.Start(fixtures.Options{Cases: labCases(t, "casesig.test", "expired.test", "badds.test")})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(lab.Close)
	other, err := zonesign.NewKey(".", dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string][]dns.RR{
		"unrelated key": {other.DNSKEY.ToDS(dns.SHA256)},
		"IANA default":  nil,
	}
	for name, anchor := range anchors {
		t.Run(name, func(t *testing.T) {
			var warnings []string
			c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond,
				Retries: 1, TrustAnchor: anchor, OnNoAnchor: func(w string) { warnings = append(warnings, w) }})
			defer func() {
				if len(warnings) != 1 || !strings.Contains(warnings[0], "--trust-anchor FILE") || !strings.Contains(warnings[0], "caaprobe lab") {
					t.Errorf("warnings %q: want exactly one, naming --trust-anchor FILE and caaprobe lab", warnings)
				}
			}()
			for _, domain := range lab.Domains() {
				d := c.Check(context.Background(), domain)
				if d.Err != "" {
					t.Fatalf("%s: %s", domain, d.Err)
				}
				if issues := dnssecIssues(d); len(issues) > 0 {
					t.Errorf("%s: DNSSEC findings without a chain: %v", domain, issues)
				}
				if got := nameStatus(d, domain); got != "indeterminate" {
					t.Errorf("%s: status %q, want indeterminate", domain, got)
				}
				if d.Outcome != model.OutcomeOK {
					t.Errorf("%s: outcome %s, want ok", domain, d.Outcome)
				}
			}
		})
	}
}

// TestZoneAnchorForPinnedServers: a provider's new servers, pinned with
// --ns before the DS is published, are validated from an anchor for the
// zone alone. The good zone is secure; the zone that signs over the query's
// spelling is bogus for UPPERCASE and 0x20 only; without the anchor, pinned
// servers are insecure and nothing is judged.
func TestZoneAnchorForPinnedServers(t *testing.T) {
	lab, _ := startLab(t, fixtures.Options{})
	pin := func(zone string) map[model.DomainName][]discovery.NS {
		return map[model.DomainName][]discovery.NS{model.MustName(zone): {{Name: "ns1.newprovider.test.", Addrs: []netip.Addr{lab.AddrOf(zone, 0)}}}}
	}
	checkWith := func(zone string, anchor []dns.RR) *model.Domain {
		c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond,
			Retries: 1, DomainTimeout: 30 * time.Second, Pins: pin(zone), TrustAnchor: anchor})
		return c.Check(context.Background(), zone)
	}
	for _, zone := range []string{"signed.test", "casesig.test"} {
		if len(lab.ZoneAnchor(zone)) == 0 {
			t.Fatalf("the lab has no key for %s", zone)
		}
	}

	anchors := append(lab.TrustAnchor(), lab.ZoneAnchor("signed.test")...)
	if d := checkWith("signed.test", anchors); nameStatus(d, "signed.test") != "secure" || len(dnssecIssues(d)) != 0 {
		t.Errorf("signed.test pinned with its anchor: %s, issues %v; want secure and none", nameStatus(d, "signed.test"), dnssecIssues(d))
	}

	// Only the zone's anchor: the IANA root anchor stays for the rest of
	// the tree (the lab's root is then unvalidated, and that is fine).
	d := checkWith("casesig.test", lab.ZoneAnchor("casesig.test"))
	// Its keys validate from the anchor (a chain, not indeterminate or
	// insecure), and its 0x20 answers do not: bogus, as for Unbound.
	if got := nameStatus(d, "casesig.test"); got != "bogus" {
		t.Errorf("casesig.test pinned with its anchor: DNSSEC %s, want bogus (keys validate, 0x20 answers do not)", got)
	}
	addr := lab.AddrOf("casesig.test", 0).String()
	issues := dnssecIssues(d)
	for _, p := range []model.ProbeID{catalog.ProbeCAAUpper, catalog.ProbeCAA0x20} {
		if len(issues[addr+"/"+string(p)+"/casesig.test"]) == 0 {
			t.Errorf("casesig.test %s: no DNSSEC issue; want bogus for that spelling (%v)", p, issues)
		}
	}
	if n := len(issues[addr+"/caa/casesig.test"]); n != 0 {
		t.Errorf("casesig.test caa (lowercase): %d DNSSEC issues, want none", n)
	}
	// The anchored zone's keys are fetched from the pinned server and
	// shown, as for a zone with a DS.
	dnskey := false
	for _, s := range d.Servers {
		for _, r := range s.Results {
			if s.Addr.String() == addr && r.Probe == catalog.ProbeDNSKEY && r.Msg != nil && len(r.Issues) == 0 {
				dnskey = true
			}
		}
	}
	if !dnskey {
		t.Error("casesig.test pinned with its anchor: no clean dnskey result from the pinned server")
	}

	d = checkWith("casesig.test", lab.TrustAnchor())
	if got := nameStatus(d, "casesig.test"); got != "insecure" || len(dnssecIssues(d)) != 0 {
		t.Errorf("casesig.test pinned without its anchor: %s, issues %v; want insecure and none", got, dnssecIssues(d))
	}
}

func TestReadTrustAnchor(t *testing.T) {
	tests := []struct {
		name, text string
		want       int
		err        string // substring of the error; "" means success
	}{
		{"ds", ". 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", 1, ""},
		{"dnskey and comment", "; root\n. IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n", 1, ""},
		{"syntax error names the line", ". IN DS 20326 8 2 E06D\n. IN DS nonsense\n", 0, "anchor.txt: dns: bad DS KeyTag"},
		{"a zone's", "example. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", 1, ""},
		{"other type", ". IN A 192.0.2.1\n", 0, "want DS or DNSKEY"},
		{"empty", "; nothing\n", 0, "no DS or DNSKEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rrs, err := check.ReadTrustAnchor(strings.NewReader(tc.text), "anchor.txt")
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			case len(rrs) != tc.want:
				t.Errorf("%d records, want %d", len(rrs), tc.want)
			}
			if tc.err != "" && err != nil && strings.Contains(tc.name, "line") && !strings.Contains(err.Error(), "line: 2") {
				t.Errorf("error %q does not name line 2", err)
			}
		})
	}
	// The embedded anchor is well-formed and names both root KSKs.
	var tags []uint16
	for _, rr := range check.IANARootAnchors() {
		tags = append(tags, rr.(*dns.DS).KeyTag)
	}
	if len(tags) != 2 || tags[0] != 20326 || tags[1] != 38696 {
		t.Errorf("IANA anchors have key tags %v, want [20326 38696]", tags)
	}
}

// TestRealSignerZone signs a zone with BIND's dnssec-signzone, serves its
// RRSIGs and NSEC records from the lab, and checks caaprobe's verifier
// agrees with a signer it did not write.
func TestRealSignerZone(t *testing.T) {
	keygen, err1 := exec.LookPath("dnssec-keygen")
	signzone, err2 := exec.LookPath("dnssec-signzone")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install bind9-utils: %v", err)
		}
		t.Skipf("BIND's signing tools are not installed: %v", err)
	}
	const origin = "realsigned.test."
	dir := t.TempDir()
	// The NS is out of bailiwick (its address lives in provider.test) so
	// the lab adds no unsigned records to the signed zone.
	zoneText := strings.Join([]string{
		"$TTL 3600",
		"@ SOA dns9.provider.test. hostmaster.realsigned.test. 1 7200 3600 1209600 300",
		"@ NS dns9.provider.test.",
		`@ CAA 0 issue "letsencrypt.org"`,
		"www A 192.0.2.1",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "db"), []byte(zoneText), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(keygen, "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", dir, origin)
	run(signzone, "-S", "-z", "-K", dir, "-o", origin, "-f", filepath.Join(dir, "db.signed"), filepath.Join(dir, "db"))
	signed, err := os.ReadFile(filepath.Join(dir, "db.signed"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := fixtures.PresignedZone(origin, string(signed))
	if err != nil {
		t.Fatalf("loading the signed zone: %v", err)
	}
	if len(data.Records(origin, dns.TypeRRSIG)) == 0 {
		t.Fatal("dnssec-signzone wrote no RRSIG at the apex")
	}
	cases := append(labCases(t, "provider.test"), fixtures.Case{Zone: "realsigned.test", Data: data,
		Servers: []fixtures.ServerSpec{{Behaviour: fixtures.Conformant, Name: "dns9.provider.test."}}})
	_, c := startLab(t, fixtures.Options{Cases: cases})
	for _, name := range []string{"realsigned.test", "www.realsigned.test"} {
		d := c.Check(context.Background(), name)
		if d.Err != "" {
			t.Fatalf("%s: %s", name, d.Err)
		}
		if got := nameStatus(d, "realsigned.test"); got != "secure" {
			t.Errorf("%s: status %q, want secure", name, got)
		}
		if issues := dnssecIssues(d); len(issues) > 0 {
			t.Errorf("%s: DNSSEC findings on a zone BIND signed: %v", name, issues)
		}
		if d.Outcome != model.OutcomeOK {
			t.Errorf("%s: outcome %s: %s", name, d.Outcome, d.Explanation)
		}
	}
}

// TestDNSSECAlgorithmsAndLimits: the algorithm, iteration and DS fixtures
// of issue 12 point 1 get the DNSSEC status Unbound gives them (AD=1 for
// secure; insecure answers NOERROR without AD; bogus SERVFAIL), per name.
func TestDNSSECAlgorithmsAndLimits(t *testing.T) {
	zones := []string{"signed-rsasha1.test", "expired-rsasha1.test", "signed-nsec3rsasha1.test", "expired-nsec3rsasha1.test",
		"signed-rsasha512.test", "expired-rsasha512.test", "signed-ed448.test", "expired-ed448.test",
		"nsec3iter.test", "dsalgunknown.test"}
	lab, err := fixtures.Start(fixtures.Options{Cases: labCases(t, zones...)})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(lab.Close)
	c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond,
		Retries: 1, TrustAnchor: lab.TrustAnchor()})
	for _, tc := range []struct {
		name   string
		status map[string]string // name -> DNSSEC status
		reason string            // the reason every bogus CAA result gives
		warn   bool              // nsec3-iterations on the www CAA results
	}{
		{"www.signed-rsasha1.test", map[string]string{"www.signed-rsasha1.test": "secure", "signed-rsasha1.test": "secure"}, "", false},
		{"www.signed-nsec3rsasha1.test", map[string]string{"www.signed-nsec3rsasha1.test": "secure", "signed-nsec3rsasha1.test": "secure"}, "", false},
		{"www.signed-rsasha512.test", map[string]string{"www.signed-rsasha512.test": "secure"}, "", false},
		{"www.signed-ed448.test", map[string]string{"www.signed-ed448.test": "secure", "signed-ed448.test": "secure"}, "", false},
		{"expired-rsasha1.test", map[string]string{"expired-rsasha1.test": "bogus"}, "expired", false},
		{"expired-nsec3rsasha1.test", map[string]string{"expired-nsec3rsasha1.test": "bogus"}, "expired", false},
		{"expired-rsasha512.test", map[string]string{"expired-rsasha512.test": "bogus"}, "expired", false},
		{"expired-ed448.test", map[string]string{"expired-ed448.test": "bogus"}, "expired", false},
		{"www.nsec3iter.test", map[string]string{"www.nsec3iter.test": "insecure", "nsec3iter.test": "secure", "test": "secure"}, "", true},
		{"dsalgunknown.test", map[string]string{"dsalgunknown.test": "insecure"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Check(context.Background(), tc.name)
			if d.Err != "" {
				t.Fatal(d.Err)
			}
			for name, want := range tc.status {
				if got := nameStatus(d, name); string(got) != want {
					t.Errorf("%s: DNSSEC %q, want %q", name, got, want)
				}
			}
			issues := dnssecIssues(d)
			if tc.reason == "" && len(issues) > 0 {
				t.Errorf("DNSSEC findings: %v", issues)
			}
			if tc.reason != "" {
				caa := 0
				for k, is := range issues {
					if strings.Contains(k, "/caa") {
						caa++
					}
					if !strings.HasPrefix(is[0].Detail, tc.reason+":") {
						t.Errorf("%s: %s, want reason %s", k, is[0].Detail, tc.reason)
					}
				}
				if caa < 4 {
					t.Errorf("%d CAA results bogus, want every DO probe (%v)", caa, issues)
				}
			}
			warned := 0
			for _, s := range d.Servers {
				for _, r := range s.Results {
					if r.Has(catalog.CodeNSEC3Iterations) {
						warned++
						if r.Name.String() != "www.nsec3iter.test." || !strings.HasPrefix(string(r.Probe), "caa") {
							t.Errorf("nsec3-iterations on %s %s", r.Probe, r.Name)
						}
					}
				}
			}
			if tc.warn != (warned >= 4) {
				t.Errorf("nsec3-iterations on %d results, want it on every DO CAA probe: %v", warned, tc.warn)
			}
			if tc.warn && (d.Verdict != model.VerdictWarn || d.Outcome != model.OutcomeOK) {
				t.Errorf("verdict %s outcome %s, want warn and ok", d.Verdict, d.Outcome)
			}
		})
	}
}
