package check

import (
	"context"
	"sync"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/resolver"
)

// askResolver asks the configured validating resolver for the CAA RRset of
// every relevant name of d, in parallel, in the names' order. Without a
// resolver it returns nil.
func (c *Checker) askResolver(ctx context.Context, d *model.Domain) []model.ResolverCheck {
	if !c.cfg.Resolver.IsValid() {
		return nil
	}
	out := make([]model.ResolverCheck, len(d.Names))
	sem := newSlots(c.cfg.Parallel)
	var wg sync.WaitGroup
	for i, n := range d.Names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := c.resolverAnswer(ctx, n.Name, sem)
			out[i] = model.ResolverCheck{Answer: a, Predicted: string(n.Outcome), Agrees: a.Agrees(string(n.Outcome))}
		}()
	}
	wg.Wait()
	return out
}

// resolverAnswer asks the resolver about name once per run (for the names
// in recent use): every domain under test. shares test.'s answer. Like the
// units, it is shared work under the Checker's context (lru.Work).
func (c *Checker) resolverAnswer(ctx context.Context, name model.DomainName, sem slots) model.Answer {
	a, _, err := c.resolved.Do(ctx, name, func(wctx context.Context) (model.Answer, bool) {
		if !sem.take(wctx) {
			return model.Answer{Name: name.String(), Server: c.cfg.Resolver, Err: wctx.Err().Error()}, false
		}
		defer sem.give()
		return resolver.Query(wctx, c.rx, c.cfg.Resolver, name), true
	})
	if err != nil {
		return model.Answer{Name: name.String(), Server: c.cfg.Resolver, Err: err.Error()}
	}
	return a
}
