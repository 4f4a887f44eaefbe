package check

import (
	"container/list"
	"sync"
)

// unitCache shares the probing of one name between the domains of a run
// (every domain under test. needs test.'s CAA answers), so an identical
// query is not sent twice. It is a segmented LRU, because the two kinds of
// unit in a bulk run behave differently:
//
//   - most units are an input domain's own name, used by that domain alone
//     (duplicates are removed from the input) or by a few subdomains listed
//     near it; they enter the small probation segment and leave it soon;
//   - a unit asked for a second time (a TLD, a parent, a shared zone) is
//     promoted to the protected segment and stays while it keeps being
//     used, however many one-off units pass through probation.
//
// A unit still being computed is never evicted, so every domain that needs
// it while it is in flight waits for the same exchanges. The memory held
// is bounded by the two capacities plus the units in flight, not by the
// length of the input.
type unitCache struct {
	mu                 sync.Mutex
	probMax, protMax   int
	items              map[string]*list.Element
	probation, protect *list.List // front: most recently used
}

type cacheEntry struct {
	key       string
	done      chan struct{}
	unit      *unit
	finished  bool // unit is set; guarded by unitCache.mu
	protected bool // in which list the element is
}

func newUnitCache(probation, protected int) *unitCache {
	return &unitCache{probMax: max(probation, 1), protMax: max(protected, 1), items: map[string]*list.Element{},
		probation: list.New(), protect: list.New()}
}

// get returns the unit for key, computing it with run when nobody has; a
// caller that finds it in progress waits for the first.
func (c *unitCache) get(key string, run func() (u *unit, keep bool)) *unit {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.protected {
			c.protect.MoveToFront(el)
		} else {
			// Asked for again: a shared name. Promote it.
			c.probation.Remove(el)
			e.protected = true
			c.items[key] = c.protect.PushFront(e)
			c.trim()
		}
		c.mu.Unlock()
		<-e.done
		return e.unit
	}
	e := &cacheEntry{key: key, done: make(chan struct{})}
	c.items[key] = c.probation.PushFront(e)
	c.trim()
	c.mu.Unlock()
	u, keep := run()
	c.mu.Lock()
	e.unit, e.finished = u, true
	if !keep {
		// Cut short (the computing domain's deadline, an interrupt): the
		// waiters get it, later domains probe afresh rather than inherit
		// timeouts the servers did not cause.
		if el, ok := c.items[key]; ok && el.Value.(*cacheEntry) == e {
			if e.protected {
				c.protect.Remove(el)
			} else {
				c.probation.Remove(el)
			}
			delete(c.items, key)
		}
	}
	c.trim()
	c.mu.Unlock()
	close(e.done)
	return u
}

// trim demotes the least recently used protected units to probation and
// drops finished units from the end of probation until both fit. Units in
// flight are skipped, so probation may briefly hold more than probMax.
func (c *unitCache) trim() {
	for c.protect.Len() > c.protMax {
		el := c.protect.Back()
		e := el.Value.(*cacheEntry)
		c.protect.Remove(el)
		e.protected = false
		c.items[e.key] = c.probation.PushFront(e)
	}
	el := c.probation.Back()
	for c.probation.Len() > c.probMax && el != nil {
		prev := el.Prev()
		if e := el.Value.(*cacheEntry); e.finished {
			c.probation.Remove(el)
			delete(c.items, e.key)
		}
		el = prev
	}
}

// len reports the units held, for tests.
func (c *unitCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
