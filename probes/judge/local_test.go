package judge

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// localEMFILE is the error the transport gives an exchange whose dial
// found this host out of file descriptors (transport's tests check that
// classification).
func localEMFILE() error {
	return fmt.Errorf("%w: too many open files (raise ulimit -n or lower --concurrency)", model.ErrLocal)
}

// TestJudgeLocalErrorNoFinding: an exchange that failed with EMFILE (in a
// *net.OpError, as the dial returns it) gives no finding, whichever probe,
// and so does a TCP retry after TC=1 that failed so.
func TestJudgeLocalErrorNoFinding(t *testing.T) {
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	for _, p := range catalog.Catalog {
		q, err := wire.BuildProbeQuery(wire.Spell("example.test.", p.Spelling), p)
		if err != nil {
			t.Fatal(err)
		}
		ex := &model.Exchange{Server: server, Transport: p.Transport, Query: q, Attempts: 1, Err: localEMFILE()}
		r := Exchange(p, jc, ex, nil)
		if len(r.Issues) != 0 || r.Status != model.StatusLocal || !r.Local() {
			t.Errorf("%s: status %s, findings %v; want %s and none", p.ID, r.Status, r.Issues, model.StatusLocal)
		}
	}
	p, _ := catalog.ProbeByID(catalog.ProbeCAA)
	tc := exchangeFor(t, p, "example.test.", func(q, m *dns.Msg) []byte { m.Truncated = true; m.Answer = nil; return nil })
	failed := &model.Exchange{Server: server, Transport: model.TCP, Query: tc.Query, Err: localEMFILE()}
	if r := Exchange(p, jc, tc, failed); len(r.Issues) != 0 || !r.Local() {
		t.Errorf("TCP retry failed locally: status %s, findings %v; want none", r.Status, r.Issues)
	}
}

// TestCrossChecksSkipLocal: the failures that gave edns-intolerant and
// case-sensitive-answer under `ulimit -n 64` (the lowercase EDNS query
// failed here, the other forms were answered) give no finding.
func TestCrossChecksSkipLocal(t *testing.T) {
	jc := Context{Zone: model.MustName("example.test."), Name: model.MustName("example.test."), Exists: true}
	var rs []*model.Result
	for _, p := range catalog.Catalog {
		if p.AtApex && p.Type != dns.TypeCAA || p.Set == catalog.SetID {
			continue
		}
		ex := exchangeFor(t, p, "example.test.", withSOA(keep, "example.test."))
		if p.ID == catalog.ProbeCAA || p.ID == catalog.ProbeCAA0x20 {
			ex.Reply, ex.Err = nil, localEMFILE()
		}
		r := Exchange(p, jc, ex, nil)
		rs = append(rs, &r)
	}
	// Control: the same results with a server failure instead of a local
	// one do give findings, so the test can fail.
	control := slices.Clone(rs)
	for i, r := range control {
		if r.Local() {
			p, _ := catalog.ProbeByID(r.Probe)
			ex := *r.Exchange
			ex.Err = model.ErrUnreachable // what EMFILE was taken for before

			c := Exchange(p, jc, &ex, nil)
			control[i] = &c
		} else {
			c := *r
			c.Issues = slices.Clone(r.Issues)
			control[i] = &c
		}
	}
	Apply(CheckServer(control))
	Apply(CheckZone(control))
	if !hasAny(control, catalog.CodeEDNSIntolerant) || !hasAny(control, catalog.CodeCaseSensitiveAnswer) {
		t.Fatalf("control: a server that drops the lowercase query gets no finding: the test proves nothing")
	}
	Apply(CheckServer(rs))
	Apply(CheckZone(rs))
	Apply(CheckDelegation(rs, []string{"ns1.example.test."}))
	for _, r := range rs {
		if len(r.Issues) != 0 {
			t.Errorf("%s: findings %v after a local error", r.Probe, r.Issues)
		}
	}
}

func hasAny(rs []*model.Result, code model.Code) bool {
	return slices.ContainsFunc(rs, func(r *model.Result) bool { return r.Has(code) })
}
