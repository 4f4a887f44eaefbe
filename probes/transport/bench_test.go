package transport_test

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
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

// BenchmarkExchange measures the hot path of a bulk run: one CAA query over
// a fresh connected UDP socket to an in-process conformant server, and its
// judging. Serial shows the round-trip cost; Parallel the throughput when
// many exchanges are in flight, as in a run.
func BenchmarkExchange(b *testing.B) {
	bench, err := fixtures.StartBench(fixtures.BenchOptions{N: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bench.Close)
	server := netip.AddrPortFrom(bench.Servers[2].Addr, uint16(bench.Port))
	q, err := wire.BuildQuery("z1.test.", dns.TypeCAA, true, true)
	if err != nil {
		b.Fatal(err)
	}
	// A long timeout: on a loaded machine the in-process server can fall
	// behind, and a benchmark measures speed, not the machine's load. A
	// reply that still does not come is counted, not hidden.
	x := &transport.Socket{Timeout: 5 * time.Second, MaxBytes: 65535}
	p, _ := catalog.ProbeByID(catalog.ProbeCAA)
	jc := judge.Context{Zone: model.MustName("z1.test."), Name: model.MustName("z1.test."), Exists: true}
	var timeouts atomic.Int64
	one := func(b *testing.B) {
		ex := x.Exchange(context.Background(), server, q, model.UDP)
		if errors.Is(ex.Err, model.ErrTimeout) {
			timeouts.Add(1)
			return
		}
		if ex.Reply == nil {
			b.Fatalf("no reply: %v", ex.Err)
		}
		if r := judge.Exchange(p, jc, ex, nil); judge.Fails(&r) {
			b.Fatalf("conformant server judged failing: %+v", r.Issues)
		}
	}
	b.Run("Serial", func(b *testing.B) {
		timeouts.Store(0)
		for b.Loop() {
			one(b)
		}
		b.ReportMetric(float64(timeouts.Load())/float64(b.N), "timeouts/op")
	})
	b.Run("ParallelReused", func(b *testing.B) {
		// As a bulk run sends: sockets carry DefaultReuse exchanges.
		timeouts.Store(0)
		saved := x
		x = &transport.Socket{Timeout: 5 * time.Second, MaxBytes: 65535, Reuse: transport.DefaultReuse}
		defer func() { x.Close(); x = saved }()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one(b)
			}
		})
		b.ReportMetric(float64(timeouts.Load())/float64(b.N), "timeouts/op")
	})
	b.Run("Parallel", func(b *testing.B) {
		// 16 exchanges in flight on 2 CPUs: about what one provider
		// address sees from a run of 64 domains.
		timeouts.Store(0)
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one(b)
			}
		})
		b.ReportMetric(float64(timeouts.Load())/float64(b.N), "timeouts/op")
	})
}
