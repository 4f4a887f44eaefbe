package check_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/internal/transporttest"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// fakeLab is the lab's hierarchy with no socket: a Checker over a
// transporttest.Lab fake, so the replies are the lab's and every drop is
// a timeout the engine sees at once.
func fakeLab(t *testing.T) (*fixtures.Lab, *transporttest.Fake, check.Config) {
	t.Helper()
	lab, err := fixtures.Start(fixtures.Options{InProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	fake := transporttest.Lab(lab)
	fake.Timeout = 2 * time.Second // recorded for each drop; nobody waits for it
	cfg := check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 2 * time.Second, Retries: 2,
		Backoff: time.Microsecond, DomainTimeout: 30 * time.Second, TrustAnchor: lab.TrustAnchor(), Exchanger: fake}
	return lab, fake, cfg
}

// TestEngineOverFake: the engine's verdicts over the fake transport, one
// server of ok.test made to misbehave by a script on top of the lab: the
// clean zone passes (the fake is a faithful lab), a server that drops CAA
// gets timeouts with every attempt recorded, a truncated UDP answer is
// fetched again over TCP, a garbled one is malformed, a truncated one
// whose TCP retry fails is truncated-tcp-failed; the other server of the
// zone gets none of it.
func TestEngineOverFake(t *testing.T) {
	t.Parallel()
	lab, _, _ := fakeLab(t)
	servers := serverOf(lab, "ok.test", fixtures.Conformant)
	if len(servers) != 2 {
		t.Fatalf("ok.test has %d conformant servers, want 2", len(servers))
	}
	bad := netip.AddrPortFrom(servers[0], uint16(lab.Port))
	caa := func(tr model.Transport) transporttest.Key {
		return transporttest.Key{Server: bad, Name: "ok.test.", Type: dns.TypeCAA, Transport: tr}
	}
	tests := []struct {
		name   string
		script func(f *transporttest.Fake)
		want   model.Code // at the bad server; "" for a clean pass
		check  func(t *testing.T, f *transporttest.Fake, d *model.Domain)
	}{
		{name: "clean", script: func(*transporttest.Fake) {}},
		{name: "drop", script: func(f *transporttest.Fake) { f.On(caa(""), transporttest.Drop()) }, want: catalog.CodeTimeout,
			check: func(t *testing.T, f *transporttest.Fake, d *model.Domain) {
				for _, s := range d.Servers {
					for _, r := range s.Results {
						if s.Addr != bad.Addr() || r.Probe != catalog.ProbeCAA {
							continue
						}
						ex := r.Exchange
						if ex.Attempts != 3 || ex.Timeouts != 3 || len(ex.Earlier) != 2 || ex.RTT != 2*time.Second {
							t.Errorf("dropped CAA: %d attempts, %d timeouts, %d earlier, RTT %v; want 3, 3, 2 and the 2s timeout recorded",
								ex.Attempts, ex.Timeouts, len(ex.Earlier), ex.RTT)
						}
					}
				}
			}},
		{name: "truncate", script: func(f *transporttest.Fake) { f.On(caa(model.UDP), transporttest.Truncate()) },
			check: func(t *testing.T, f *transporttest.Fake, d *model.Domain) {
				if n := f.Count(caa(model.TCP)); n == 0 {
					t.Error("a truncated UDP answer was not asked again over TCP")
				}
			}},
		{name: "garble", script: func(f *transporttest.Fake) { f.On(caa(""), transporttest.Garble()) }, want: catalog.CodeMalformed},
		{name: "truncate, TCP fails", script: func(f *transporttest.Fake) {
			f.On(caa(model.UDP), transporttest.Truncate()).On(caa(model.TCP), transporttest.Fail(model.ErrUnreachable))
		}, want: catalog.CodeTruncatedTCPFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, fake, cfg := fakeLab(t)
			tt.script(fake)
			c := check.New(cfg)
			defer c.Close()
			d := c.Check(context.Background(), "ok.test")
			if d.Err != "" {
				t.Fatalf("check failed: %s", d.Err)
			}
			var atBad, atOther []string
			for _, f := range d.Findings {
				if f.Server.AddrText() == bad.Addr().String() {
					atBad = append(atBad, string(f.Code))
				} else if f.Severity == model.SeverityFail {
					atOther = append(atOther, string(f.Code)+"@"+f.Server.AddrText())
				}
			}
			if len(atOther) > 0 {
				t.Errorf("fail findings away from the scripted server: %v", atOther)
			}
			switch {
			case tt.want == "" && d.Verdict != model.VerdictPass:
				t.Errorf("verdict %s, want pass: %v", d.Verdict, codes(d))
			case tt.want != "" && !slices.Contains(atBad, string(tt.want)):
				t.Errorf("findings at %s: %v, want %s", bad, atBad, tt.want)
			}
			if tt.check != nil {
				tt.check(t, fake, d)
			}
			if len(fake.Queries()) < 20 {
				t.Errorf("the fake saw %d queries: the engine does not go through it", len(fake.Queries()))
			}
		})
	}
}
