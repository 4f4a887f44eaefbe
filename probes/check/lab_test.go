package check_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/model"
)

// startLab starts the whole lab for one test and a checker pointed at it.
func startLab(t *testing.T, opts fixtures.Options) (*fixtures.Lab, *check.Checker) {
	t.Helper()
	lab, err := fixtures.Start(opts)
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(lab.Close)
	return lab, check.New(labConfig(lab))
}

// labConfig is the Checker's configuration for the lab.
func labConfig(lab *fixtures.Lab) check.Config {
	return check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port,
		Timeout: 500 * time.Millisecond, Retries: 1, DomainTimeout: 30 * time.Second,
		// The lab's own root key, so its signed cases validate.
		TrustAnchor: lab.TrustAnchor()}
}

// serverOf finds the lab server that serves zone with behaviour b.
func serverOf(lab *fixtures.Lab, zone string, b fixtures.Behaviour) []netip.Addr {
	var out []netip.Addr
	for _, s := range lab.Servers {
		for _, z := range s.Zones {
			if z.Origin == zone+"." && s.Behaviour.Name == b.Name {
				out = append(out, s.Addr)
			}
		}
	}
	return out
}

// TestLabCases probes every lab domain over real loopback packets: each
// misbehaving server yields its findings on its own address, conformant
// servers yield no fail finding, and the predicted outcome is the case's.
func TestLabCases(t *testing.T) {
	t.Parallel()
	lab, c := startLab(t, fixtures.Options{})
	ctx := context.Background()
	for _, tc := range lab.Cases {
		t.Run(tc.Zone, func(t *testing.T) {
			// The cases share one Checker, as the domains of a run do;
			// most of the time is spent waiting on the servers that drop
			// on purpose, so the cases run at once.
			t.Parallel()
			name := tc.Zone
			if tc.Check != "" {
				name = tc.Check
			}
			d := c.Check(ctx, name)
			if d.Err != "" {
				t.Fatalf("check failed: %s", d.Err)
			}
			for _, c := range contradictions(d) {
				t.Errorf("contradiction: %s", c)
			}
			if string(d.Outcome) != tc.Outcome {
				t.Errorf("outcome %q, want %q (%s)", d.Outcome, tc.Outcome, d.Explanation)
			}
			if tc.Policy != "" && (d.Policy == nil || string(d.Policy.Issue) != tc.Policy) {
				t.Errorf("policy %+v, want issue %s", d.Policy, tc.Policy)
			}
			// Servers that misbehave on purpose: a behaviour other than
			// Conformant, or a spec that breaks the delegation.
			bad := map[string]bool{}
			for _, b := range tc.Behaviours {
				if b.Name != fixtures.Conformant.Name {
					for _, a := range serverOf(lab, tc.Zone, b) {
						bad[a.String()] = true
					}
				}
			}
			for i, sp := range tc.Servers {
				if sp.Lame {
					bad[lab.AddrOf(tc.Zone, i).String()] = true
				}
			}
			expected := map[string]bool{}
			for _, code := range tc.Expect {
				expected[code] = true
				found := false
				for _, f := range d.Findings {
					if string(f.Code) != code {
						continue
					}
					found = true
					if len(bad) > 0 && !bad[f.Server.AddrText()] && f.Severity == model.SeverityFail {
						t.Errorf("%s reported at %s, which is not a misbehaving server of %s", code, f.Server.AddrText(), tc.Zone)
					}
				}
				if !found {
					t.Errorf("expected %s, findings: %v", code, codes(d))
				}
			}
			for _, f := range d.Findings {
				if f.Severity == model.SeverityFail && !bad[f.Server.AddrText()] && !expected[string(f.Code)] {
					t.Errorf("unexpected fail finding: %s at %s (%s) %s", f.Code, f.Server.AddrText(), f.Probe, f.Detail)
				}
			}
			if len(tc.Expect) == 0 && d.Verdict != model.VerdictPass {
				t.Errorf("verdict %s for a conformant zone: %v", d.Verdict, codes(d))
			}
			if len(tc.Expect) > 0 && d.Verdict == model.VerdictPass {
				t.Errorf("verdict pass for a misbehaving zone")
			}
		})
	}
}

func codes(d *model.Domain) []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, string(f.Code)+"@"+f.Server.AddrText()+"/"+string(f.Probe))
	}
	return out
}

// TestRelevantNamesClimb checks that the climb probes every label up to the
// TLD, each at its own zone's servers.
func TestRelevantNamesClimb(t *testing.T) {
	_, c := startLab(t, fixtures.Options{})
	d := c.Check(context.Background(), "www.ok.test")
	var names []string
	for _, n := range d.Names {
		names = append(names, n.Name.String()+"@"+n.Zone.String())
	}
	want := []string{"www.ok.test.@ok.test.", "ok.test.@ok.test.", "test.@test."}
	if !slices.Equal(names, want) {
		t.Fatalf("relevant names %v, want %v", names, want)
	}
	for _, s := range d.Servers {
		if s.Zone.String() == "test." && !strings.HasPrefix(s.NS, "ns.nic.test") {
			t.Errorf("test. probed at %s", s.NS)
		}
	}
	if d.Verdict != model.VerdictPass {
		t.Errorf("verdict %s: %v", d.Verdict, codes(d))
	}
}

// TestWildcardPolicy checks the policy line for a wildcard input.
func TestPolicyLine(t *testing.T) {
	_, c := startLab(t, fixtures.Options{})
	tests := []struct {
		domain   string
		issue    model.Permission
		relevant string
	}{
		{"ok.test", "permitted", "ok.test"},
		{"*.ok.test", "permitted", "ok.test"},
		{"notimp.test", "unknown", ""},
	}
	for _, tc := range tests {
		d := c.Check(context.Background(), tc.domain)
		if d.Policy == nil || d.Policy.Issue != tc.issue || d.Policy.Relevant != tc.relevant {
			t.Errorf("%s: policy %+v, want issue %s relevant %q", tc.domain, d.Policy, tc.issue, tc.relevant)
		}
	}
}

// TestPinnedServers checks --ns: the pinned server is probed instead of the
// delegation's, without discovery for that zone.
func TestPinnedServers(t *testing.T) {
	lab, _ := startLab(t, fixtures.Options{})
	target := lab.AddrOf("split.test", 1) // the NOTIMP server of split.test
	c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond,
		Pins: map[model.DomainName][]discovery.NS{model.MustName("split.test."): {{Name: "ns.newprovider.test.", Addrs: []netip.Addr{target}}}}})
	d := c.Check(context.Background(), "split.test")
	for _, s := range d.Servers {
		if s.Zone.String() == "split.test." && s.NS != "ns.newprovider.test." {
			t.Errorf("probed %s (%s), want only the pinned server", s.NS, s.Addr)
		}
	}
	if d.Outcome != model.OutcomeServfail {
		t.Errorf("outcome %s, want servfail from the pinned NOTIMP server", d.Outcome)
	}
}

// TestAddressFamilies checks -4 and -6 on the zone with an IPv6-only server.
func TestAddressFamilies(t *testing.T) {
	lab, _ := startLab(t, fixtures.Options{})
	for _, tc := range []struct {
		v4, v6 bool
		want   []string
	}{
		{false, false, []string{"127.", "::1"}},
		{true, false, []string{"127."}},
	} {
		c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond, IPv4: tc.v4, IPv6: tc.v6})
		d := c.Check(context.Background(), "v6.test")
		var got []string
		for _, s := range d.Servers {
			if s.Zone.String() == "v6.test." {
				got = append(got, s.Addr.String())
			}
		}
		for _, w := range tc.want {
			if !slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, w) }) {
				t.Errorf("-4=%v -6=%v: servers %v lack %s", tc.v4, tc.v6, got, w)
			}
		}
		if tc.v4 && slices.Contains(got, "::1") {
			t.Errorf("-4 still probed ::1")
		}
	}
}

// TestCancelledCheckDoesNotPoisonTheRun: a domain cut short (its deadline,
// an interrupt) leaves nothing behind that later domains would inherit as
// timeouts or unresolvable servers. The lab's servers answer after up to
// 30 ms, so the cuts land in discovery and in probing.
func TestCancelledCheckDoesNotPoisonTheRun(t *testing.T) {
	t.Parallel()
	slow := fixtures.Chaos(fixtures.ChaosConfig{Seed: 7, MaxDelay: 30 * time.Millisecond})
	// One lab, a fresh Checker for each cut: what must not be poisoned is
	// the Checker's shared work, and a lab takes longer to start than a
	// check takes.
	lab, err := fixtures.Start(fixtures.Options{Wrap: slow})
	if err != nil {
		t.Fatalf("starting the lab: %v", err)
	}
	t.Cleanup(lab.Close)
	// The cuts are all shorter than one attempt, so the attempt timeout
	// only bounds the healthy check after each cut: it is raised above
	// labConfig's 500 ms, which a loaded machine running the race detector
	// can exceed over TCP, because what is under test is what the cut
	// leaves behind (a poisoned cache answers at once), not how fast the
	// lab answers.
	cfg := labConfig(lab)
	cfg.Timeout = 3 * time.Second
	for ms := 5; ms <= 265; ms += 15 {
		cut := time.Duration(ms) * time.Millisecond
		c := check.New(cfg)
		ctx, cancel := context.WithTimeout(context.Background(), cut)
		first := c.Check(ctx, "www.ok.test")
		cancel()
		if first.Verdict != model.VerdictPass && first.Verdict != model.VerdictError {
			t.Errorf("check cut short at %v: verdict %s, want pass or error (a deadline is no server fault): %v", cut, first.Verdict, codes(first))
		}
		d := c.Check(context.Background(), "www.ok.test")
		if d.Verdict != model.VerdictPass || d.Err != "" {
			t.Errorf("after a check cut short at %v: verdict %s err %q findings %v", cut, d.Verdict, d.Err, codes(d))
		}
		c.Close()
	}
}
