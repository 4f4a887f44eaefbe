package check

import (
	"context"
	"sync"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/report"
)

// Run checks items with at most concurrency domains in flight and calls emit
// for each finished domain in input order. A bad input item is emitted as a
// domain with verdict error, so nothing is silently dropped.
//
// Domains are started not strictly in input order but from a lookahead
// window, preferring one whose registrable domain has the fewest checks in
// flight: a portfolio lists www.example.com, api.example.com and
// example.com together, and checking them at once would burst one zone's
// servers (and trip response rate limiting) while spreading them lets each
// server see queries for many zones instead. The window is a few times
// the concurrency, so the results held back for in-order output stay
// bounded whatever the length of the input.
func (c *Checker) Run(ctx context.Context, items []input.Item, concurrency int, emit func(*report.Domain)) {
	if concurrency < 1 {
		concurrency = 1
	}
	window := 4 * concurrency
	keys := func(i int) string { return input.Registrable(items[i].Name) }
	var (
		mu        sync.Mutex
		cond      = sync.NewCond(&mu)
		pending   []int // indices not yet started, in input order
		nextInput int   // next index to move into pending
		nextEmit  int   // next index to emit
		running   int
		inflight  = map[string]int{}
		ready     = map[int]*report.Domain{}
	)
	mu.Lock()
	for nextEmit < len(items) {
		for nextInput < len(items) && nextInput < nextEmit+window {
			pending = append(pending, nextInput)
			nextInput++
		}
		if ctx.Err() != nil {
			// Interrupted: the rest are reported as such, in order.
			for _, i := range pending {
				ready[i] = interrupted(items[i])
			}
			pending = pending[:0]
		}
		for running < concurrency && len(pending) > 0 {
			best := pickNext(pending, keys, inflight)
			i := pending[best]
			pending = append(pending[:best], pending[best+1:]...)
			key := keys(i)
			running++
			inflight[key]++
			go func() {
				d := c.CheckItem(ctx, items[i])
				mu.Lock()
				ready[i] = d
				running--
				inflight[key]--
				cond.Signal()
				mu.Unlock()
			}()
		}
		if d, ok := ready[nextEmit]; ok {
			delete(ready, nextEmit)
			nextEmit++
			mu.Unlock()
			emit(d)
			mu.Lock()
			continue
		}
		// Nothing to emit yet: some check is running (else the loop above
		// would have started one), and it signals when it ends.
		cond.Wait()
	}
	mu.Unlock()
}

// pickNext returns the position in pending of the item to start next: the
// first one whose zone key has the fewest checks in flight.
func pickNext(pending []int, key func(int) string, inflight map[string]int) int {
	best := 0
	for j, i := range pending {
		if inflight[key(i)] < inflight[key(pending[best])] {
			best = j
		}
		if inflight[key(pending[best])] == 0 {
			break
		}
	}
	return best
}

// CheckItem checks one input item; a bad one becomes an error domain.
func (c *Checker) CheckItem(ctx context.Context, it input.Item) *report.Domain {
	if it.Err != nil {
		d := &report.Domain{Domain: it.Name, Source: it.Source, Err: it.Err.Error()}
		d.Summarise()
		d.Explanation = "The input could not be used: " + it.Err.Error()
		return d
	}
	if ctx.Err() != nil {
		return interrupted(it)
	}
	d := c.Check(ctx, it.Name)
	d.Source = it.Source
	if ctx.Err() != nil {
		// Cut short by an interrupt: partial results would show timeouts
		// that the servers did not cause.
		return interrupted(it)
	}
	return d
}

func interrupted(it input.Item) *report.Domain {
	d := &report.Domain{Domain: it.Name, Source: it.Source, Err: "interrupted"}
	d.Summarise()
	d.Explanation = "The run was interrupted before this domain was checked."
	return d
}
