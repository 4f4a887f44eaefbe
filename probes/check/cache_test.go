package check

import (
	"fmt"
	"sync/atomic"
	"testing"
)

func TestUnitCacheBounded(t *testing.T) {
	t.Parallel()
	c := newUnitCache(8, 4)
	var runs atomic.Int64
	run := func() (*unit, bool) { runs.Add(1); return &unit{}, true }
	// A shared name used between many one-off names stays (promoted on its
	// second use); the one-off names do not pile up.
	c.get("test.", run)
	for i := range 10000 {
		c.get(fmt.Sprintf("z%d.test.", i), run)
		c.get("test.", run)
	}
	if got := runs.Load(); got != 10001 {
		t.Errorf("%d units computed, want 10001 (test. once)", got)
	}
	if n := c.len(); n > 8+4 {
		t.Errorf("cache holds %d units, want at most 12", n)
	}
}

// TestUnitCacheInFlight checks that a unit being computed is never
// evicted, however many units pass through meanwhile, so every caller that
// arrives while it is in flight finds it and waits for that one run.
func TestUnitCacheInFlight(t *testing.T) {
	t.Parallel()
	c := newUnitCache(1, 1)
	release := make(chan struct{})
	var runs atomic.Int64
	started := make(chan struct{})
	go c.get("slow.", func() (*unit, bool) { runs.Add(1); close(started); <-release; return &unit{}, true })
	<-started
	// Many other units pass through the tiny cache meanwhile.
	for i := range 100 {
		c.get(fmt.Sprintf("other%d.", i), func() (*unit, bool) { return &unit{}, true })
	}
	c.mu.Lock()
	_, held := c.items["slow."]
	c.mu.Unlock()
	if !held {
		t.Fatal("the unit in flight was evicted: a domain needing it now would send its queries again")
	}
	close(release)
	if got := runs.Load(); got != 1 {
		t.Errorf("slow. computed %d times, want 1", got)
	}
}

// TestUnitCacheDropsCutShortUnits: a unit computed while its domain ran out
// of time holds timeouts the servers did not cause; the next domain that
// needs the name probes it again.
func TestUnitCacheDropsCutShortUnits(t *testing.T) {
	t.Parallel()
	c := newUnitCache(8, 8)
	var runs atomic.Int64
	c.get("test.", func() (*unit, bool) { runs.Add(1); return &unit{}, false })
	c.get("test.", func() (*unit, bool) { runs.Add(1); return &unit{}, true })
	c.get("test.", func() (*unit, bool) { runs.Add(1); return &unit{}, true })
	if got := runs.Load(); got != 2 {
		t.Errorf("computed %d times, want 2 (the cut-short unit is not kept, the complete one is)", got)
	}
}
