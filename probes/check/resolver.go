package check

import (
	"context"
	"sync"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/resolver"
)

// askResolver asks the configured validating resolver for the CAA RRset of
// every relevant name of d, in parallel, in the names' order. Without a
// resolver it returns nil.
func (c *Checker) askResolver(ctx context.Context, d *report.Domain) []report.ResolverCheck {
	if !c.cfg.Resolver.IsValid() {
		return nil
	}
	// Its own exchanger: a resolver legitimately takes longer than an
	// authoritative server, and its queries must not count against the
	// per-server rate limit of the probes.
	x := &probes.Exchanger{Timeout: resolver.DefaultTimeout, MaxBytes: 65535}
	out := make([]report.ResolverCheck, len(d.Names))
	var wg sync.WaitGroup
	for i, n := range d.Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := resolver.Query(ctx, x, c.cfg.Resolver, n.Name)
			out[i] = report.ResolverCheck{Answer: a, Predicted: n.Outcome, Agrees: a.Agrees(n.Outcome)}
		}()
	}
	wg.Wait()
	return out
}
