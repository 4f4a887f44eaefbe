package transport

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"golang.org/x/time/rate"
)

// Politeness defaults: a run over thousands of domains at one provider
// sends all of them to the same few addresses. 50 queries a second with a
// burst of 10 stays far below the response-rate-limiting thresholds that
// BIND, Knot and NSD operators commonly configure (BIND's rate-limit
// examples start at 5–10 identical responses a second per client /24, and
// caaprobe's queries are nearly all distinct), while a 10,000-domain
// CAA-only check of one provider still finishes in minutes.
const (
	DefaultRate  = 50
	DefaultBurst = 10
)

// Limiter holds one token bucket per server address. It covers every query
// caaprobe sends, root and TLD servers included, because it wraps the
// Exchanger (Wrap), below discovery and probing alike; the --resolver's
// exchanger wraps the same Limiter, so both share one bucket per address. A bucket that has filled
// up again is the same as a new one, so those are dropped once the map
// holds more than politeSweepAbove: memory follows the addresses asked
// within the last burst/rate seconds, not every address of the run.
type Limiter struct {
	rate  rate.Limit
	burst int
	// now and sleep are the clock; tests put a fake one here.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu       sync.Mutex
	limiters map[netip.Addr]*rate.Limiter
	sweepAt  int // sweep when the map reaches this size
}

// politeSweepAbove is the map size from which full buckets are dropped.
const politeSweepAbove = 4096

// NewLimiter returns a limiter of perSecond queries a second to each
// address with the given burst; perSecond <= 0 means no limit (nil).
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, now: time.Now, sleep: Sleep,
		limiters: map[netip.Addr]*rate.Limiter{}}
}

// sweep drops the buckets that are full again (no query owes them time);
// the next sweep comes when the map has doubled from what stayed, so the
// sweeps cost O(1) per new address. The caller holds p.mu.
func (p *Limiter) sweep() {
	now := p.now()
	for a, l := range p.limiters {
		if l.TokensAt(now) >= float64(p.burst) {
			delete(p.limiters, a)
		}
	}
	p.sweepAt = 2 * len(p.limiters)
}

// Wait blocks until one more query may go to addr.
func (p *Limiter) Wait(ctx context.Context, addr netip.Addr) error {
	p.mu.Lock()
	l, ok := p.limiters[addr]
	if !ok {
		if len(p.limiters) >= max(p.sweepAt, politeSweepAbove) {
			p.sweep()
		}
		l = rate.NewLimiter(p.rate, p.burst)
		p.limiters[addr] = l
	}
	// Reserving under the lock gives queries to one address their slots in
	// the order they asked, so no domain starves behind later ones.
	r := l.ReserveN(p.now(), 1)
	p.mu.Unlock()
	if !r.OK() {
		return fmt.Errorf("rate limit for %s: burst %d too small", addr, p.burst)
	}
	d := r.DelayFrom(p.now())
	if d <= 0 {
		return nil
	}
	if err := p.sleep(ctx, d); err != nil {
		r.CancelAt(p.now())
		return fmt.Errorf("waiting for the rate limit of %s: %w", addr, err)
	}
	return nil
}

// Wrap returns x with every exchange waiting its turn at p first; a nil
// Limiter (no limit) returns x itself. Put it below Retry, so each
// attempt waits, retries included.
func (p *Limiter) Wrap(x Exchanger) Exchanger {
	if p == nil {
		return x
	}
	return polite{x: x, limit: p}
}

// polite is an Exchanger behind a Limiter.
type polite struct {
	x     Exchanger
	limit *Limiter
}

func (p polite) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	if err := p.limit.Wait(ctx, server.Addr()); err != nil {
		return &model.Exchange{Server: server, Transport: t, Err: err}
	}
	return p.x.Exchange(ctx, server, query, t)
}
