package lru

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGoRunsEveryFunction: 2,000 functions, 1,000 of them blocked at once,
// all run; afterwards at most maxIdleWorkers goroutines wait idle, and a
// later burst reuses them rather than starting as many new ones.
func TestGoRunsEveryFunction(t *testing.T) {
	base := runtime.NumGoroutine()
	var ran atomic.Int64
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		Go(func() {
			defer wg.Done()
			<-release
			ran.Add(1)
		})
	}
	close(release)
	wg.Wait()
	for range 1000 {
		wg.Add(1)
		Go(func() { defer wg.Done(); ran.Add(1) })
	}
	wg.Wait()
	if got := ran.Load(); got != 2000 {
		t.Fatalf("%d of 2000 functions ran", got)
	}
	// The finished workers settle into the idle set, bounded.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine()-base > maxIdleWorkers && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if extra := runtime.NumGoroutine() - base; extra > maxIdleWorkers {
		t.Errorf("%d goroutines left after the work, want at most %d idle", extra, maxIdleWorkers)
	}
	if idle := idleWorkers.Load(); idle < 1 || idle > maxIdleWorkers {
		t.Errorf("%d idle workers, want 1..%d", idle, maxIdleWorkers)
	}
	// An idle worker takes the next function: no new goroutine.
	before := runtime.NumGoroutine()
	done := make(chan struct{})
	Go(func() { close(done) })
	<-done
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines %d -> %d: an idle worker was not reused", before, after)
	}
}

// BenchmarkGo compares starting a goroutine per function with Go, for a
// function that needs a deeper stack than a new goroutine starts with (as
// an exchange does).
func BenchmarkGo(b *testing.B) {
	deep := func(wg *sync.WaitGroup) {
		var buf [16 << 10]byte
		buf[len(buf)-1] = 1
		sink.Add(int64(buf[len(buf)-1]))
		wg.Done()
	}
	b.Run("go", func(b *testing.B) {
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			go deep(&wg)
			wg.Wait()
		}
	})
	b.Run("lru.Go", func(b *testing.B) {
		var wg sync.WaitGroup
		for b.Loop() {
			wg.Add(1)
			Go(func() { deep(&wg) })
			wg.Wait()
		}
	})
}

var sink atomic.Int64
