package lru

import (
	"context"
	"sync"
)

// Flight computes a value per key once, shares it with every caller that
// asks while it is in the cache, and makes concurrent callers for one key
// wait for the first instead of computing it again. It holds at most size
// keys, like Cache. It is safe for concurrent use.
type Flight[K comparable, V any] struct {
	mu    sync.Mutex
	size  int
	calls *Cache[K, *call[V]]
}

type call[V any] struct {
	done chan struct{}
	val  V
}

// NewFlight returns a Flight of at most size keys.
func NewFlight[K comparable, V any](size int) *Flight[K, V] {
	return &Flight[K, V]{size: size}
}

// Do returns the value for key, running compute when no caller has. A
// value computed while ctx was cancelled is handed to the callers already
// waiting but not kept: the next caller computes afresh rather than
// inherit a failure that was only a deadline. A waiter whose ctx ends
// first gets the zero value and ctx's error.
func (f *Flight[K, V]) Do(ctx context.Context, key K, compute func() V) (V, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = New[K, *call[V]](f.size)
	}
	c, ok := f.calls.Get(key)
	if !ok {
		c = &call[V]{done: make(chan struct{})}
		f.calls.Add(key, c)
	}
	f.mu.Unlock()
	if ok {
		select {
		case <-c.done:
			return c.val, nil
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	c.val = compute()
	if ctx.Err() != nil {
		f.mu.Lock()
		if cur, ok := f.calls.Get(key); ok && cur == c {
			f.calls.Remove(key)
		}
		f.mu.Unlock()
	}
	close(c.done)
	return c.val, nil
}
