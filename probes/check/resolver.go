package check

import (
	"context"
	"sync"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/discovery"
	"github.com/caaprobe/caaprobe/probes/lru"
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
	// authoritative server. It waits on the same per-address rate limit,
	// which covers every server caaprobe asks.
	x := &probes.Exchanger{Timeout: resolver.DefaultTimeout, MaxBytes: 65535, Wait: c.X.Wait}
	out := make([]report.ResolverCheck, len(d.Names))
	var wg sync.WaitGroup
	for i, n := range d.Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := c.resolverAnswer(ctx, x, n.Name)
			out[i] = report.ResolverCheck{Answer: a, Predicted: n.Outcome, Agrees: a.Agrees(n.Outcome)}
		}()
	}
	wg.Wait()
	return out
}

// resolverAnswer asks the resolver about name once per run (for the names
// in recent use): every domain under test. shares test.'s answer.
func (c *Checker) resolverAnswer(ctx context.Context, x *probes.Exchanger, name string) resolver.Answer {
	c.resolved.mu.Lock()
	if c.resolved.names == nil {
		c.resolved.names = lru.New[string, *resolverFuture](discovery.DefaultCacheSize)
	}
	f, ok := c.resolved.names.Get(name)
	if !ok {
		f = &resolverFuture{done: make(chan struct{})}
		c.resolved.names.Add(name, f)
	}
	c.resolved.mu.Unlock()
	if ok {
		select {
		case <-f.done:
			return f.a
		case <-ctx.Done():
			return resolver.Answer{Name: name, Server: c.cfg.Resolver, Err: ctx.Err().Error()}
		}
	}
	f.a = resolver.Query(ctx, x, c.cfg.Resolver, name)
	if ctx.Err() != nil {
		c.resolved.mu.Lock()
		c.resolved.names.Remove(name)
		c.resolved.mu.Unlock()
	}
	close(f.done)
	return f.a
}

type resolverFuture struct {
	done chan struct{}
	a    resolver.Answer
}

// resolverCache holds the resolver's answers of a run.
type resolverCache struct {
	mu    sync.Mutex
	names *lru.Cache[string, *resolverFuture]
}
