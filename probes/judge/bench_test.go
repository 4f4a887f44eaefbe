package judge_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// BenchmarkJudge measures judging alone: one recorded CAA exchange judged
// again and again, with no I/O.
func BenchmarkJudge(b *testing.B) {
	bench, err := fixtures.StartBench(fixtures.BenchOptions{N: 10})
	if err != nil {
		b.Fatal(err)
	}
	q, err := wire.BuildQuery("z1.test.", dns.TypeCAA, true, true)
	if err != nil {
		b.Fatal(err)
	}
	x := &transport.Socket{Timeout: time.Second, MaxBytes: 65535}
	ex := x.Exchange(context.Background(), netip.AddrPortFrom(bench.Servers[2].Addr, uint16(bench.Port)), q, model.UDP)
	bench.Close()
	if ex.Reply == nil {
		b.Fatalf("no reply to record: %v", ex.Err)
	}
	p, _ := catalog.ProbeByID(catalog.ProbeCAA)
	jc := judge.Context{Zone: model.MustName("z1.test."), Name: model.MustName("z1.test."), Exists: true}
	for b.Loop() {
		if r := judge.Exchange(p, jc, ex, nil); judge.Fails(&r) || len(r.Records) != 1 {
			b.Fatalf("judged %+v, want one CAA record and no failure", r.Issues)
		}
	}
}
