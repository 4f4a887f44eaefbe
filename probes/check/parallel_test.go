package check_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/miekg/dns"
)

// TestParallelPerDomain: Config.Parallel bounds the exchanges in flight for
// one domain, across all its names. www.z0.test and z0.test are probed at
// the same provider addresses, each with the full plan; the provider holds
// every query for a while and counts how many it holds at once.
func TestParallelPerDomain(t *testing.T) {
	var now, peak atomic.Int64
	slow := fixtures.Behaviour{Name: "Slow", Respond: func(r *fixtures.Request) *dns.Msg {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(15 * time.Millisecond)
		now.Add(-1)
		return r.Answer()
	}}
	const parallel = 3
	_, c := startBench(t, fixtures.BenchOptions{N: 1, Provider: slow}, check.Config{Parallel: parallel})
	defer c.Close()
	d := c.Check(context.Background(), "www.z0.test")
	if d.Err != "" {
		t.Fatalf("check failed: %s", d.Err)
	}
	if len(d.Names) < 2 {
		t.Fatalf("%d names checked, want www.z0.test, z0.test and test.", len(d.Names))
	}
	// Discovery asks the provider one query at a time; the probes of the
	// two names share the domain's slots.
	if p := peak.Load(); p > parallel {
		t.Errorf("the provider held %d queries of one domain at once, want at most %d (Config.Parallel)", p, parallel)
	} else if p < 2 {
		t.Errorf("at most %d query in flight: the test shows no parallelism to bound", p)
	}
}
