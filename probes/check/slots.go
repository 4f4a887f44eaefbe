package check

import "context"

// DefaultParallel is Config.Parallel when it is not set: the exchanges
// one domain may have in flight.
const DefaultParallel = 32

// slots bounds the exchanges in flight for one domain (Config.Parallel).
// Every exchange the domain starts takes a slot for its duration, in
// whichever unit or chain it is sent; shared work started by the domain
// keeps counting against it.
type slots chan struct{}

func newSlots(n int) slots { return make(slots, max(n, 1)) }

// take waits for a free slot; it reports false when ctx ends first.
func (s slots) take(ctx context.Context) bool {
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// give frees a slot taken by take.
func (s slots) give() { <-s }
