package transport

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when a caller sleeps, so a rate can be measured
// exactly whatever the machine's load.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

func TestPoliteRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rate    float64
		burst   int
		queries int
		want    time.Duration // fake time for the queries to one address
	}{
		// The first burst goes at once; each further query waits 1/rate.
		{"20/s burst 10", 20, 10, 100, 90 * time.Second / 20},
		{"50/s burst 10", 50, 10, 60, 50 * time.Second / 50},
		{"burst only", 20, 10, 10, 0},
		{"1/s burst 1", 1, 1, 5, 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: time.Unix(1e9, 0)}
			p := NewLimiter(tt.rate, tt.burst)
			p.now, p.sleep = clock.Now, clock.Sleep
			a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
			start := clock.Now()
			for range tt.queries {
				if err := p.Wait(context.Background(), a); err != nil {
					t.Fatal(err)
				}
			}
			got := clock.Now().Sub(start)
			if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("%d queries took %v of fake time, want %v", tt.queries, got, tt.want)
			}
			if rate := float64(tt.queries-tt.burst) / got.Seconds(); got > 0 && (rate < tt.rate*0.99 || rate > tt.rate*1.01) {
				t.Errorf("measured %.2f q/s beyond the burst, want %.0f", rate, tt.rate)
			}
			// Another address has its own bucket: its burst is immediate.
			before := clock.Now()
			for range tt.burst {
				if err := p.Wait(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			if waited := clock.Now().Sub(before); waited != 0 {
				t.Errorf("a second address waited %v for its first burst; limits must be per address", waited)
			}
		})
	}
}

func TestPoliteOff(t *testing.T) {
	t.Parallel()
	if p := NewLimiter(0, 10); p != nil {
		t.Fatal("rate 0 must mean no limiter")
	}
}

// TestPoliteRealClock checks the limiter against the real clock with a
// bound that a slow machine cannot break: 30 queries at 20/s with a burst
// of 10 cannot finish in less than one second.
func TestPoliteRealClock(t *testing.T) {
	t.Parallel()
	p := NewLimiter(20, 10)
	a := netip.MustParseAddr("192.0.2.1")
	start := time.Now()
	for range 30 {
		if err := p.Wait(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 950*time.Millisecond {
		t.Errorf("30 queries at 20/s (burst 10) took %v, want at least 1s", el)
	}
}

func TestPoliteCancel(t *testing.T) {
	t.Parallel()
	p := NewLimiter(1, 1)
	a := netip.MustParseAddr("192.0.2.1")
	p.Wait(context.Background(), a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, a); err == nil {
		t.Error("Wait with a cancelled context and an empty bucket returned nil")
	}
}

// TestPoliteForgetsIdleAddresses: the buckets of addresses asked long ago
// (full again, so the same as new ones) are dropped, so a run over a
// million servers does not keep a million buckets.
func TestPoliteForgetsIdleAddresses(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	p := NewLimiter(10, 2)
	p.now, p.sleep = clock.Now, clock.Sleep
	for i := range 3 * politeSweepAbove {
		p.Wait(context.Background(), netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		clock.Sleep(context.Background(), time.Millisecond)
	}
	p.mu.Lock()
	n := len(p.limiters)
	p.mu.Unlock()
	if n > 2*politeSweepAbove {
		t.Errorf("%d buckets kept for %d addresses, want at most %d", n, 3*politeSweepAbove, 2*politeSweepAbove)
	}
}
