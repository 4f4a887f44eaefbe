package lru

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkComputesOncePerKey(t *testing.T) {
	w := NewWork[string, int](10, 0)
	defer w.Close()
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, complete, err := w.Do(context.Background(), "k", func(context.Context) (int, bool) {
				runs.Add(1)
				<-release
				return 42, true
			})
			if err != nil || !complete || v != 42 {
				t.Errorf("got %d, %v, %v", v, complete, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("computed %d times, want 1", runs.Load())
	}
	if _, ok := w.Peek("k"); !ok {
		t.Error("a complete value was not kept")
	}
}

// A caller with a short deadline starts the work and gives up; the work
// goes on under the Work's own context, and a caller without a deadline
// gets the complete value from that same computation.
func TestWorkCallerDeadlineDoesNotCutSharedWork(t *testing.T) {
	w := NewWork[string, string](10, time.Minute)
	defer w.Close()
	var runs atomic.Int32
	slow := func(ctx context.Context) (string, bool) {
		runs.Add(1)
		select {
		case <-time.After(50 * time.Millisecond):
			return "complete", true
		case <-ctx.Done():
			return "cut short", false
		}
	}
	short, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, _, err := w.Do(short, "k", slow); err == nil {
		t.Fatal("the short caller got a value before its deadline; the test needs it to give up")
	}
	v, complete, err := w.Do(context.Background(), "k", slow)
	if err != nil || !complete || v != "complete" {
		t.Errorf("second caller got %q, complete=%v, %v", v, complete, err)
	}
	if runs.Load() != 1 {
		t.Errorf("computed %d times, want 1: the second caller should join the first computation", runs.Load())
	}
}

// A computation cut short by its budget is not kept, and a waiter that
// still has time runs it again.
func TestWorkIncompleteIsRerunNotKept(t *testing.T) {
	w := NewWork[string, int](10, 0)
	defer w.Close()
	var runs atomic.Int32
	v, complete, err := w.Do(context.Background(), "k", func(context.Context) (int, bool) {
		if runs.Add(1) == 1 {
			return 1, false
		}
		return 2, true
	})
	if err != nil || !complete || v != 2 {
		t.Errorf("got %d, complete=%v, %v; want the re-run's complete 2", v, complete, err)
	}
	if runs.Load() != 2 {
		t.Errorf("ran %d times, want 2", runs.Load())
	}
	w2 := NewWork[string, int](10, 0)
	defer w2.Close()
	v, complete, _ = w2.Do(context.Background(), "k", func(context.Context) (int, bool) { return 7, false })
	if complete || v != 7 {
		t.Errorf("got %d, complete=%v; want the incomplete 7 reported as such", v, complete)
	}
	if _, ok := w2.Peek("k"); ok {
		t.Error("an incomplete value was kept")
	}
}

func TestWorkBudgetEndsComputation(t *testing.T) {
	w := NewWork[string, int](10, 20*time.Millisecond)
	defer w.Close()
	start := time.Now()
	_, complete, err := w.Do(context.Background(), "k", func(ctx context.Context) (int, bool) {
		<-ctx.Done()
		return 0, true // claims completeness, but its context ended
	})
	if err != nil || complete {
		t.Errorf("complete=%v, %v: a computation whose budget ran out is not complete", complete, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestWorkCloseCancels(t *testing.T) {
	w := NewWork[string, int](10, 0)
	started := make(chan struct{})
	done := make(chan bool)
	go func() {
		_, complete, _ := w.Do(context.Background(), "k", func(ctx context.Context) (int, bool) {
			close(started)
			<-ctx.Done()
			return 0, false
		})
		done <- complete
	}()
	<-started
	w.Close()
	select {
	case complete := <-done:
		if complete {
			t.Error("complete after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the computation")
	}
}

// Two nested computations that need each other (zone A's NS name in B,
// B's in A) must not wait on each other forever.
func TestWorkNestedNeverWaitsOnACycle(t *testing.T) {
	w := NewWork[string, string](10, 0)
	defer w.Close()
	var lookup func(ctx context.Context, key string, chain []string) string
	lookup = func(ctx context.Context, key string, chain []string) string {
		for _, c := range chain {
			if c == key {
				return "cycle"
			}
		}
		other := map[string]string{"a": "b", "b": "a"}[key]
		v, _ := w.DoNested(ctx, key, func(ctx context.Context) (string, bool) {
			time.Sleep(10 * time.Millisecond) // both start before either finishes
			return key + "→" + lookup(ctx, other, append(chain, key)), true
		})
		return v
	}
	var wg sync.WaitGroup
	out := make([]string, 2)
	for i, k := range []string{"a", "b"} {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = lookup(context.Background(), k, nil) }()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("nested computations waited on each other")
	}
	for i, v := range out {
		if v == "" {
			t.Errorf("lookup %d got nothing", i)
		}
	}
}

func TestSegmentedKeepsSharedKeys(t *testing.T) {
	s := NewSegmented[int, int](16) // 2 on probation, 14 protected
	s.Add(-1, -1)
	s.Get(-1) // asked again: shared, protected
	for i := range 1000 {
		s.Add(i, i) // one-off keys
	}
	if _, ok := s.Peek(-1); !ok {
		t.Error("a shared key was pushed out by one-off keys")
	}
	if s.Len() > 16 {
		t.Errorf("holds %d entries, bound is 16", s.Len())
	}
	if _, ok := s.Peek(5); ok {
		t.Error("an old one-off key is still held")
	}
	if _, ok := s.Peek(999); !ok {
		t.Error("the newest one-off key is not held")
	}
}
