package mpic

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
)

func dom(outcome string, failing ...model.ServerRef) *model.Domain {
	v := model.VerdictPass
	if outcome != "ok" {
		v = model.VerdictFail
	}
	return &model.Domain{Domain: "x.test", Verdict: v, Outcome: model.Outcome(outcome),
		Names: []*model.Name{{Name: model.MustName("x.test."), Outcome: model.Outcome(outcome), Failing: failing}}}
}

func vant(label, rir string) model.Vantage { return model.Vantage{Label: label, RIR: rir} }

// set builds the primary p and remotes r1..r5 (RIRs as given), with the
// inputs of those named in bad failing (servfail) and of those in fault
// returning nothing.
func set(rirs []string, bad, fault map[string]bool) ([]Input, Options) {
	opt := Options{Primary: "p", Vantages: []model.Vantage{vant("p", "ARIN")}, Date: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)}
	var ins []Input
	for i, rir := range append([]string{"ARIN"}, rirs...) {
		label := "p"
		if i > 0 {
			label = "r" + string(rune('0'+i))
			opt.Vantages = append(opt.Vantages, vant(label, rir))
		}
		switch {
		case fault[label]:
			ins = append(ins, Input{Vantage: vant(label, ""), Fault: FaultTimeout, Detail: "no answer within 2s"})
		case bad[label]:
			ins = append(ins, Input{Vantage: vant(label, ""), Domain: dom("servfail", model.ServerRef{NS: "ns1.x.test", Addr: netip.MustParseAddr("127.0.0.10")})})
		default:
			ins = append(ins, Input{Vantage: vant(label, ""), Domain: dom("ok")})
		}
	}
	return ins, opt
}

var five = []string{"ARIN", "RIPE", "APNIC", "RIPE", "LACNIC"}

func TestQuorumAndOrder(t *testing.T) {
	tests := []struct {
		name       string
		rirs       []string
		bad, fault map[string]bool
		want       Decision
		inReason   string
	}{
		{"healthy", five, nil, nil, Issue, "0 of 5 remotes fail"},
		{"one bad remote", five, map[string]bool{"r2": true}, nil, Issue, "1 of 5"},
		{"two bad remotes", five, map[string]bool{"r2": true, "r4": true}, nil, Refuse, "2 remotes fail (r2, r4)"},
		{"bad remote and a timed-out one", five, map[string]bool{"r2": true}, map[string]bool{"r5": true}, Refuse, "r2, r5"},
		{"bad primary", five, map[string]bool{"p": true}, nil, Refuse, "primary p fails"},
		{"one region corroborates", []string{"ARIN", "ARIN", "ARIN", "ARIN", "RIPE"}, map[string]bool{"r5": true}, nil, Refuse, "1 RIR region(s) (ARIN)"},
	}
	for _, tt := range tests {
		ins, opt := set(tt.rirs, tt.bad, tt.fault)
		m := Judge("x.test", ins, opt)
		if m.Decision != tt.want || !strings.Contains(m.Reason, tt.inReason) {
			t.Errorf("%s: decision %s (%s), want %s with %q", tt.name, m.Decision, m.Reason, tt.want, tt.inReason)
		}
		if m.Perspectives[0].Vantage.Label != "p" || len(m.Perspectives) != 6 {
			t.Errorf("%s: perspectives %d, first %s: want all 6, the primary first", tt.name, len(m.Perspectives), m.Perspectives[0].Vantage.Label)
		}
		for l := range tt.fault {
			for _, p := range m.Perspectives {
				if p.Vantage.Label == l && (p.State != StateFail || p.Fault != FaultTimeout) {
					t.Errorf("%s: %s state %s fault %q, want fail / timed out", tt.name, l, p.State, p.Fault)
				}
			}
		}
	}
}

func TestFailingServerNamed(t *testing.T) {
	ins, opt := set(five, map[string]bool{"r3": true}, nil)
	m := Judge("x.test", ins, opt)
	if len(m.Servers) != 1 || m.Servers[0].Server.String() != "ns1.x.test (127.0.0.10)" || len(m.Servers[0].Vantages) != 1 || m.Servers[0].Vantages[0] != "r3" {
		t.Errorf("failing servers %+v: want ns1.x.test failing from r3 only", m.Servers)
	}
}

func TestPhaseIn(t *testing.T) {
	for date, want := range map[string]int{"2025-01-01": 0, "2025-09-15": 2, "2026-03-14": 2, "2026-03-15": 3, "2026-06-15": 4, "2026-12-14": 4, "2026-12-15": 5} {
		d, _ := time.Parse(time.DateOnly, date)
		if got := MinRemotes(d); got != want {
			t.Errorf("%s: %d remotes, want %d", date, got, want)
		}
	}
	ins, opt := set([]string{"ARIN", "RIPE", "APNIC"}, nil, nil)
	if m := Judge("x.test", ins, opt); m.Reproducible || !strings.Contains(m.Note, "cannot reproduce the CA's decision: 3 remotes in 3 regions") {
		t.Errorf("3 remotes on 2026-12-20: reproducible %v, note %q", m.Reproducible, m.Note)
	}
	ins, opt = set([]string{"ARIN", "ARIN", "ARIN", "ARIN", "ARIN"}, nil, nil)
	if m := Judge("x.test", ins, opt); m.Reproducible || !strings.Contains(m.Note, "5 remotes in 1 region") {
		t.Errorf("one region: reproducible %v, note %q", m.Reproducible, m.Note)
	}
	ins, opt = set(five, nil, nil)
	if m := Judge("x.test", ins, opt); !m.Reproducible || m.Note != "" {
		t.Errorf("5 remotes in 4 regions: reproducible %v, note %q", m.Reproducible, m.Note)
	}
}

// TestPolicyCounts: a perspective runs the CAA check, not only the
// lookup: a primary whose policy forbids the CA refuses; one remote that
// reads a forbidding (stale) RRset is one non-corroborating remote, two
// refuse; a policy that varies with the server asked may fail.
func TestPolicyCounts(t *testing.T) {
	forbidden := func() *model.Domain {
		d := dom("ok")
		d.Policy = &model.Policy{CA: "letsencrypt.org", Issue: "forbidden", Wildcard: "forbidden", Reason: `CAA 0 issue "other.example"`}
		return d
	}
	with := func(bad ...string) ([]Input, Options) {
		ins, opt := set(five, nil, nil)
		for i := range ins {
			for _, b := range bad {
				if ins[i].Vantage.Label == b {
					ins[i].Domain = forbidden()
				}
			}
		}
		return ins, opt
	}
	ins, opt := with("p")
	if m := Judge("x.test", ins, opt); m.Decision != Refuse {
		t.Errorf("primary forbidden: decision %s (%s), want refuse", m.Decision, m.Reason)
	}
	ins, opt = with("r3")
	m := Judge("x.test", ins, opt)
	if m.Decision != Issue || len(m.FailingRemotes) != 1 || m.FailingRemotes[0] != "r3" {
		t.Errorf("one remote forbidden: decision %s, failing %v (%s); want issue with r3 failing", m.Decision, m.FailingRemotes, m.Reason)
	}
	for _, p := range m.Perspectives {
		if p.Vantage.Label == "r3" && (p.Fault != FaultForbidden || !strings.Contains(p.Detail, "other.example")) {
			t.Errorf("r3: fault %q detail %q, want the forbidding policy", p.Fault, p.Detail)
		}
	}
	ins, opt = with("r2", "r3")
	if m := Judge("x.test", ins, opt); m.Decision != Refuse {
		t.Errorf("two remotes forbidden: decision %s (%s), want refuse", m.Decision, m.Reason)
	}
	ins, opt = set(five, nil, nil)
	ins[0].Domain.Policy = &model.Policy{Issue: "varies", Wildcard: "varies"}
	if m := Judge("x.test", ins, opt); m.PrimaryState != StateMayFail || m.Outcome != AtRisk {
		t.Errorf("primary policy varies: state %s outcome %s, want may-fail, at risk", m.PrimaryState, m.Outcome)
	}
}
