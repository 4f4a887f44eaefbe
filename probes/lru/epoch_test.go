package lru

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestWorkEpoch: a value computed while the epoch changed (a local error
// of this host happened meanwhile) is handed over but not kept; one
// computed while it stood still is kept.
func TestWorkEpoch(t *testing.T) {
	var epoch atomic.Int64
	w := NewWork[string, int](8, 0)
	w.SetEpoch(epoch.Load)
	runs := 0
	v, complete, err := w.Do(context.Background(), "k", func(context.Context) (int, bool) {
		runs++
		if runs <= 2 {
			epoch.Add(1) // the caller's run and its one retry
		}
		return runs, true
	})
	if err != nil || complete || v != 2 {
		t.Fatalf("Do = %d, %v, %v; want the second run's 2, incomplete", v, complete, err)
	}
	if _, ok := w.Peek("k"); ok {
		t.Fatal("a value computed while the epoch changed was kept")
	}
	v, complete, _ = w.Do(context.Background(), "k", func(context.Context) (int, bool) { runs++; return runs, true })
	if !complete || v != 3 {
		t.Fatalf("Do = %d, %v; want 3, complete", v, complete)
	}
	if got, ok := w.Peek("k"); !ok || got != 3 {
		t.Fatalf("Peek = %d, %v; want 3 kept", got, ok)
	}
}
