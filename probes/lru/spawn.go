package lru

import "sync/atomic"

// Go runs f in a goroutine, reusing one that has finished an earlier
// function when one is idle.
//
// A bulk run starts several short goroutines per domain (a unit, its
// probes, the domain itself); each new one began with a small stack and
// grew it on the deep exchange path, and copying stacks was about 7 % of a
// CAA-only run's CPU. A reused goroutine keeps the stack it grew (until
// the collector shrinks an idle one). At most maxIdleWorkers wait idle;
// beyond that a finished goroutine ends, so an idle run holds only that
// many.
func Go(f func()) {
	select {
	case workers <- f:
	default:
		go worker(f)
	}
}

const maxIdleWorkers = 256

var (
	workers     = make(chan func()) // unbuffered: a send succeeds only to an idle worker
	idleWorkers atomic.Int32
)

func worker(f func()) {
	for {
		f()
		if idleWorkers.Add(1) > maxIdleWorkers {
			idleWorkers.Add(-1)
			return
		}
		f = <-workers
		idleWorkers.Add(-1)
	}
}
