package lru

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFlightComputesOnce(t *testing.T) {
	f := NewFlight[string, int](10)
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := f.Do(context.Background(), "k", func() int { runs.Add(1); <-release; return 42 })
			if err != nil || v != 42 {
				t.Errorf("got %d, %v", v, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("computed %d times, want 1", runs.Load())
	}
}

func TestFlightForgetsCancelledResults(t *testing.T) {
	f := NewFlight[string, string](10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Do(ctx, "k", func() string { return "cut short" })
	v, _ := f.Do(context.Background(), "k", func() string { return "complete" })
	if v != "complete" {
		t.Errorf("got %q: a result computed under a cancelled context was kept", v)
	}
	v, _ = f.Do(context.Background(), "k", func() string { return "again" })
	if v != "complete" {
		t.Errorf("got %q: a complete result was not kept", v)
	}
}
