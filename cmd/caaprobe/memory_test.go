package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestLimitMemory: the soft limit follows what the run holds (three times
// the live estimate, at least minMemoryLimit), and a user's GOMEMLIMIT is left
// alone.
func TestLimitMemory(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	for _, c := range []struct {
		estimate int64
		want     int64
	}{
		{10 << 20, minMemoryLimit},
		{100 << 20, 300 << 20},
	} {
		t.Setenv("GOMEMLIMIT", "")
		debug.SetMemoryLimit(math.MaxInt64)
		limitMemory(c.estimate)
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("estimate %d MiB: limit %d MiB, want %d MiB", c.estimate>>20, got>>20, c.want>>20)
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(10 << 20)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set the limit became %d", got)
	}
}
