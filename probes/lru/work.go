package lru

import (
	"context"
	"sync"
	"time"
)

// Work is caaprobe's one type for work shared across the domains of a run:
// names, NS addresses, zones, probe units, DNSSEC chains, resolver answers.
// Each key is computed once while it is cached; callers that ask while it
// is being computed wait for that computation instead of starting another.
//
// Three rules keep one domain from spoiling another's results:
//
//   - A computation runs under the Work's own context (cancelled by Close)
//     with a per-computation budget, not under the context of the caller
//     that happened to start it: a domain whose deadline is short stops
//     waiting, but the work it started goes on for the others.
//   - A computation says whether it completed. Only completed values are
//     kept; a value cut short (budget spent, Work closed) is handed to
//     the callers already waiting and then forgotten, and a waiter that
//     still has time runs it again rather than inherit a failure that was
//     only a deadline.
//   - Each caller waits on its own context.
//
// Memory is bounded: at most size finished values are kept, in a
// segmented LRU (see Segmented), plus the computations in flight, which
// are never evicted.
type Work[K comparable, V any] struct {
	budget time.Duration
	stop   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	done     *Segmented[K, V]
	inflight map[K]*job[V]
	epoch    func() int64 // see SetEpoch
}

type job[V any] struct {
	finished chan struct{}
	val      V
	complete bool
}

// NewWork returns a Work that keeps at most size finished values and gives
// each computation at most budget (0: no budget, only Close stops it).
func NewWork[K comparable, V any](size int, budget time.Duration) *Work[K, V] {
	return newWork[K, V](NewSegmented[K, V](size), budget)
}

// NewWorkSegments is NewWork with the segment sizes of its LRU given (see
// NewSegments).
func NewWorkSegments[K comparable, V any](probation, protected int, budget time.Duration) *Work[K, V] {
	return newWork[K, V](NewSegments[K, V](probation, protected), budget)
}

func newWork[K comparable, V any](done *Segmented[K, V], budget time.Duration) *Work[K, V] {
	stop, cancel := context.WithCancel(context.Background())
	return &Work[K, V]{budget: budget, stop: stop, cancel: cancel, done: done, inflight: map[K]*job[V]{}}
}

// SetEpoch makes a value computed while epoch changed incomplete: handed
// to the callers waiting, not kept. The engine passes a count of local
// errors (transport.LocalErrors), so that nothing found while this host
// failed (out of file descriptors) is kept for later domains. Call it
// before the first Do.
func (w *Work[K, V]) SetEpoch(epoch func() int64) { w.epoch = epoch }

// compute runs f and says whether its value may be kept: f says it is
// complete, and the epoch did not change meanwhile.
func (w *Work[K, V]) compute(ctx context.Context, f func(context.Context) (V, bool)) (V, bool) {
	if w.epoch == nil {
		return f(ctx)
	}
	e := w.epoch()
	v, complete := f(ctx)
	return v, complete && w.epoch() == e
}

// Close cancels every computation in flight; later ones start cancelled.
func (w *Work[K, V]) Close() { w.cancel() }

// Do returns the value for key, computing it with compute when it is
// neither cached nor in flight. compute gets the computation's own context
// and reports whether its value is complete. When ctx ends before a value
// is there, Do returns ctx's error; the computation goes on for others.
// A waiter handed an incomplete value runs the computation once more
// while its ctx allows; the value it returns may still be incomplete
// (complete is false), for the caller to report as cut short.
func (w *Work[K, V]) Do(ctx context.Context, key K, compute func(context.Context) (V, bool)) (v V, complete bool, err error) {
	for attempt := 0; attempt < 2; attempt++ {
		c := w.start(key, compute)
		select {
		case <-c.finished:
		case <-ctx.Done():
			var zero V
			return zero, false, ctx.Err()
		}
		v, complete = c.val, c.complete
		if complete || ctx.Err() != nil || w.stop.Err() != nil {
			break
		}
	}
	return v, complete, nil
}

// DoNested is Do for a computation that runs inside another one of the
// same kind (an NS address lookup inside a name lookup): it never waits on
// a computation in flight, which could be one of its own callers (a cycle
// of waits), but runs compute itself under ctx and keeps the value only
// if no other computation for key has finished meanwhile.
func (w *Work[K, V]) DoNested(ctx context.Context, key K, compute func(context.Context) (V, bool)) (V, bool) {
	w.mu.Lock()
	if v, ok := w.done.Get(key); ok {
		w.mu.Unlock()
		return v, true
	}
	_, running := w.inflight[key]
	w.mu.Unlock()
	if !running {
		v, complete, err := w.Do(ctx, key, compute)
		if err == nil {
			return v, complete
		}
		var zero V
		return zero, false
	}
	v, complete := w.compute(ctx, compute)
	if complete {
		w.mu.Lock()
		if _, ok := w.done.Peek(key); !ok {
			w.done.Add(key, v)
		}
		w.mu.Unlock()
	}
	return v, complete
}

// Peek returns a finished value without computing or waiting.
func (w *Work[K, V]) Peek(key K) (V, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done.Peek(key)
}

// start returns the call for key: a finished one from the cache, the one
// in flight, or a new one started in its own goroutine.
func (w *Work[K, V]) start(key K, compute func(context.Context) (V, bool)) *job[V] {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, ok := w.done.Get(key); ok {
		c := &job[V]{finished: make(chan struct{}), val: v, complete: true}
		close(c.finished)
		return c
	}
	if c, ok := w.inflight[key]; ok {
		return c
	}
	c := &job[V]{finished: make(chan struct{})}
	w.inflight[key] = c
	Go(func() {
		ctx, cancel := w.stop, context.CancelFunc(func() {})
		if w.budget > 0 {
			ctx, cancel = context.WithTimeout(w.stop, w.budget)
		}
		c.val, c.complete = w.compute(ctx, compute)
		if ctx.Err() != nil {
			// Whatever compute says, a value made while its context
			// ended may be missing answers: not a fact to keep.
			c.complete = false
		}
		cancel()
		w.mu.Lock()
		delete(w.inflight, key)
		if c.complete {
			w.done.Add(key, c.val)
		}
		w.mu.Unlock()
		close(c.finished)
	})
	return c
}
