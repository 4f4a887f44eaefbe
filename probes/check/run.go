package check

import (
	"context"
	"sync"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/report"
)

// Run checks items with at most concurrency domains in flight and calls emit
// for each finished domain in input order. A bad input item is emitted as a
// domain with verdict error, so nothing is silently dropped. The reorder
// window is bounded by concurrency: a slow domain holds back at most that
// many finished ones, so memory does not grow with the input.
func (c *Checker) Run(ctx context.Context, items []input.Item, concurrency int, emit func(*report.Domain)) {
	if concurrency < 1 {
		concurrency = 1
	}
	type slot struct {
		done chan struct{}
		d    *report.Domain
	}
	slots := make(chan *slot, concurrency)
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	go func() {
		defer close(slots)
		for _, it := range items {
			s := &slot{done: make(chan struct{})}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				// Interrupted: the rest are reported as such, in order.
				s.d = interrupted(it)
				close(s.done)
				slots <- s
				continue
			}
			slots <- s
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				s.d = c.CheckItem(ctx, it)
				close(s.done)
			}()
		}
	}()
	for s := range slots {
		<-s.done
		emit(s.d)
	}
	wg.Wait()
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
