package check_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

// startBench starts a bench lab and a checker for it. Timeouts are long:
// these tests count queries, and a retry caused by a busy machine would
// count as a second query.
func startBench(t *testing.T, opts fixtures.BenchOptions, cfg check.Config) (*fixtures.Bench, *check.Checker) {
	t.Helper()
	b, err := fixtures.StartBench(opts)
	if err != nil {
		t.Fatalf("starting the bench lab: %v", err)
	}
	t.Cleanup(b.Close)
	cfg.Roots, cfg.Port, cfg.TrustAnchor = []netip.Addr{b.Root}, b.Port, b.TrustAnchor()
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.DomainTimeout = time.Minute
	return b, check.New(cfg)
}

func runAll(t *testing.T, c *check.Checker, names []string, concurrency int) []*model.Domain {
	t.Helper()
	var r input.Reader
	r.AddArgs(names)
	var out []*model.Domain
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c.Run(ctx, slices.Values(r.Items()), concurrency, func(_ input.Item, d *model.Domain) { out = append(out, d) })
	if len(out) != len(names) {
		t.Fatalf("%d domains reported, want %d", len(out), len(names))
	}
	return out
}

// TestSharedQueriesOnce checks the promise of a bulk run: 100 domains
// under one TLD make the TLD server answer each of the TLD's own CAA
// probes once, not 100 times, and no server sees an identical query
// (name spelling, type, transport) twice.
func TestSharedQueriesOnce(t *testing.T) {
	var tld, provider fixtures.QueryCounter
	b, c := startBench(t, fixtures.BenchOptions{N: 100,
		TLD:      fixtures.Counting(fixtures.Conformant, &tld),
		Provider: fixtures.Counting(fixtures.Conformant, &provider)}, check.Config{})
	ds := runAll(t, c, b.Domains(), 16)
	for _, d := range ds {
		if d.Verdict != model.VerdictPass {
			t.Fatalf("%s: verdict %s (%s), want pass: the bench lab is conformant", d.Domain, d.Verdict, d.Err)
		}
	}
	caaProbes := 0
	for _, p := range catalog.Catalog {
		if p.Type == dns.TypeCAA && !p.AtApex {
			caaProbes++
		}
	}
	if got := tld.Count("test.", dns.TypeCAA); got != caaProbes {
		t.Errorf("TLD asked %d CAA queries for test. over 100 domains, want %d (one per CAA probe)", got, caaProbes)
	}
	// The TLD is asked once per domain for the delegation, never twice.
	if got := tld.Count("z7.test.", dns.TypeNS); got != 1 {
		t.Errorf("TLD asked for z7.test. NS %d times, want 1", got)
	}
	for _, qc := range []*fixtures.QueryCounter{&tld, &provider} {
		for k, n := range qc.Repeats() {
			t.Errorf("identical query sent %d times: %+v", n, k)
		}
	}
}

// TestRateLimitedServerIsNotAFault runs a provider with response rate
// limiting (TC=1 slips beyond 20 replies a second) under a burst: the slips
// must be retried over TCP and no domain may fail because of them.
func TestRateLimitedServerIsNotAFault(t *testing.T) {
	b, c := startBench(t, fixtures.BenchOptions{N: 40, Provider: fixtures.RateLimited(20)}, check.Config{})
	ds := runAll(t, c, b.Domains(), 40)
	slips := 0
	for _, d := range ds {
		for _, f := range d.Findings {
			if f.Severity == model.SeverityFail {
				t.Errorf("%s: fail finding %s at %s (%s) from a rate-limiting server", d.Domain, f.Code, f.Server.Addr, f.Detail)
			}
		}
		for _, s := range d.Servers {
			for _, r := range s.Results {
				if r.Fallback != nil && r.Transport == model.UDP {
					slips++
				}
			}
		}
	}
	// Without slips the test would prove nothing.
	if slips == 0 {
		t.Fatal("no UDP reply was a slip: the burst did not reach the rate limit")
	}
	t.Logf("%d slips retried over TCP", slips)
}

// TestBulkPlanVanityNS: on the vanity-NS shape (every zone has its own
// in-bailiwick ns1/ns2.<zone> with glue), the CAA-only plan sends what a
// CA's path needs, the referral and one CAA query per address, and not the
// glue-vs-zone A/AAAA checks; the full plan still makes them.
func TestBulkPlanVanityNS(t *testing.T) {
	for _, full := range []bool{false, true} {
		var provider fixtures.QueryCounter
		cfg := check.Config{}
		if !full {
			cfg.Probes = []model.ProbeID{catalog.ProbeCAA}
		}
		b, c := startBench(t, fixtures.BenchOptions{N: 50, Vanity: true,
			Provider: fixtures.Counting(fixtures.Conformant, &provider)}, cfg)
		ds := runAll(t, c, b.Domains(), 16)
		c.Close()
		for _, d := range ds {
			if d.Verdict != model.VerdictPass {
				t.Fatalf("full=%v: %s: verdict %s (%s), want pass", full, d.Domain, d.Verdict, d.Err)
			}
		}
		addrQueries := provider.Count("ns1.z7.test.", dns.TypeA) + provider.Count("ns2.z7.test.", dns.TypeA)
		perDomain := float64(c.X.Sent()) / float64(len(ds))
		switch {
		case !full && perDomain > 3.5:
			t.Errorf("CAA-only plan: %.2f queries per domain, want at most 3.5", perDomain)
		case !full && addrQueries != 0:
			t.Errorf("CAA-only plan asked the provider for the NS addresses %d times, want 0", addrQueries)
		case full && addrQueries == 0:
			t.Errorf("full plan: the glue of ns1/ns2.z7.test was never checked against the zone")
		}
		t.Logf("full=%v: %.2f queries per domain", full, perDomain)
	}
}

// TestRunWindowBounded: Run reads its input lazily and a slow domain holds
// output back only within the window (four times the concurrency): while
// z0.test is slow, at most that many items are read ahead of the output,
// and the output is still in input order.
func TestRunWindowBounded(t *testing.T) {
	slow := fixtures.Behaviour{Name: "SlowZ0", Respond: func(r *fixtures.Request) *dns.Msg {
		if len(r.Msg.Question) == 1 && strings.HasSuffix(dns.CanonicalName(r.Msg.Question[0].Name), "z0.test.") {
			time.Sleep(300 * time.Millisecond)
		}
		return r.Answer()
	}}
	const n, concurrency = 200, 4
	b, c := startBench(t, fixtures.BenchOptions{N: n, Provider: slow}, check.Config{Probes: []model.ProbeID{catalog.ProbeCAA}})
	defer c.Close()
	var read, emitted, ahead atomic.Int64
	items := func(yield func(input.Item) bool) {
		for _, d := range b.Domains() {
			r := read.Add(1)
			if a := r - emitted.Load(); a > ahead.Load() {
				ahead.Store(a) // only this goroutine writes ahead
			}
			if !yield(input.Item{Name: d}) {
				return
			}
		}
	}
	var order []string
	c.Run(context.Background(), items, concurrency, func(it input.Item, d *model.Domain) {
		emitted.Add(1)
		order = append(order, d.Domain)
		if d.Domain != it.Name || d.Verdict != model.VerdictPass {
			t.Errorf("emitted %s (%s %s) with the item of %s", d.Domain, d.Verdict, d.Err, it.Name)
		}
	})
	if len(order) != n || !slices.Equal(order, b.Domains()) {
		t.Fatalf("output not in input order or incomplete: %d of %d", len(order), n)
	}
	// +1: the item being handed over when the window filled.
	if a := ahead.Load(); a > 4*concurrency+1 {
		t.Errorf("%d items read ahead of the output behind a slow domain, want at most %d", a, 4*concurrency+1)
	} else if a < 4*concurrency {
		t.Errorf("only %d items read ahead: the slow domain did not hold the output back, the test shows nothing", a)
	}
}
