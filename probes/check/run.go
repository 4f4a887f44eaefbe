package check

import (
	"context"
	"iter"
	"slices"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/lru"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
)

// Run checks the items as they come from items (read lazily, so an input
// of millions of lines is never held whole) with at most concurrency
// domains in flight, and calls emit for each finished domain in input
// order, with its item. A bad input item is emitted as a domain with
// verdict error, so nothing is silently dropped. When ctx ends, the items
// not yet checked (and the rest of the input) are emitted as interrupted,
// and the shared work still in flight is cancelled (Close).
//
// Domains are started not strictly in input order but from a lookahead
// window, preferring one whose registrable domain has the fewest checks in
// flight: a portfolio lists www.example.com, api.example.com and
// example.com together, and checking them at once would burst one zone's
// servers (and trip response rate limiting) while spreading them lets each
// server see queries for many zones instead. The window is four times the
// concurrency and it is all Run holds: items read but not yet emitted,
// whether waiting, running or finished and held back for in-order output.
// A slow domain holds output back by at most the window; nothing of a
// domain is kept once it is emitted.
func (c *Checker) Run(ctx context.Context, items iter.Seq[input.Item], concurrency int, emit func(input.Item, *model.Domain)) {
	concurrency = max(concurrency, 1)
	window := 4 * concurrency
	stopAfter := context.AfterFunc(ctx, c.Close)
	defer stopAfter()

	// The input is read by its own goroutine, so a slow source (a pipe)
	// never holds back the output of domains already finished.
	in := make(chan input.Item)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(in)
		for it := range items {
			select {
			case in <- it:
			case <-quit:
				return
			}
		}
	}()

	type slot struct {
		it  input.Item
		key string
		d   *model.Domain
	}
	type result struct {
		seq int
		d   *model.Domain
	}
	var (
		held     = map[int]*slot{} // read, not yet emitted: at most window
		pending  []int             // held items not yet started, in input order
		nextRead int               // sequence number of the next item read
		nextEmit int
		running  int
		inflight = map[string]int{}
		done     = make(chan result, concurrency)
		inputCh  = in
		ctxDone  = ctx.Done() // nil once handled (and for a ctx that never ends)
		stopped  bool
	)
	for {
		for s := held[nextEmit]; s != nil && s.d != nil; s = held[nextEmit] {
			delete(held, nextEmit)
			nextEmit++
			emit(s.it, s.d)
		}
		if inputCh == nil && nextEmit == nextRead {
			return
		}
		for running < concurrency && len(pending) > 0 && !stopped {
			best := pickNext(pending, func(seq int) string { return held[seq].key }, inflight)
			seq := pending[best]
			pending = slices.Delete(pending, best, best+1)
			s := held[seq]
			running++
			inflight[s.key]++
			lru.Go(func() { done <- result{seq, c.checkItem(ctx, s.it)} })
		}
		read := inputCh
		if nextRead >= nextEmit+window {
			read = nil // the window is full: emit before reading on
		}
		select {
		case it, ok := <-read:
			if !ok {
				inputCh = nil
				continue
			}
			s := &slot{it: it, key: input.Registrable(it.Name)}
			held[nextRead] = s
			if stopped {
				s.d = interrupted(it)
			} else {
				pending = append(pending, nextRead)
			}
			nextRead++
		case r := <-done:
			s := held[r.seq]
			s.d = r.d
			running--
			if inflight[s.key]--; inflight[s.key] == 0 {
				delete(inflight, s.key)
			}
		case <-ctxDone:
			// Interrupted: the items not started, and the rest of the
			// input, are reported as such, in order.
			ctxDone, stopped = nil, true
			for _, seq := range pending {
				held[seq].d = interrupted(held[seq].it)
			}
			pending = nil
		}
	}
}

// LiveEstimate is about the most heap a Run at this concurrency holds:
// the bounded run-wide caches and the window of 4×concurrency domains,
// each with its results for the probe plan. Measured with bench-lab's
// memory peaks: the caches take about 12 MiB, a domain in the window
// about 8 KiB plus 4 KiB per probe of the plan. It does not grow with
// the input. The command sets the collector's soft limit from it.
func (c *Checker) LiveEstimate(concurrency int) int64 {
	const base, perDomain, perProbe = 12 << 20, 8 << 10, 4 << 10
	window := int64(4 * max(concurrency, 1))
	return base + window*int64(perDomain+perProbe*len(c.probes))
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

// checkItem checks one input item; a bad one becomes an error domain.
func (c *Checker) checkItem(ctx context.Context, it input.Item) *model.Domain {
	if it.Err != nil {
		d := &model.Domain{Domain: it.Name, Source: it.Source, Err: it.Err.Error()}
		judge.Summarise(d)
		d.Explanation = "The input could not be used: " + it.Err.Error()
		return d
	}
	if ctx.Err() != nil {
		return interrupted(it)
	}
	mark := transport.LocalErrors()
	var d *model.Domain
	if c.cfg.Repeat > 1 {
		d = c.repeated(ctx, it.Name)
	} else {
		d = c.Check(ctx, it.Name)
	}
	d.Source = it.Source
	if ctx.Err() != nil {
		// Cut short by an interrupt: partial results would show timeouts
		// that the servers did not cause.
		return interrupted(it)
	}
	if err := localError(d, mark); err != nil {
		// This host failed (local.go): not the servers' doing.
		return notJudged(it, err)
	}
	return d
}

func interrupted(it input.Item) *model.Domain {
	d := &model.Domain{Domain: it.Name, Source: it.Source, Err: "interrupted"}
	judge.Summarise(d)
	d.Explanation = "The run was interrupted before this domain was checked."
	return d
}
