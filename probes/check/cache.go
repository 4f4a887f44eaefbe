package check

import (
	"container/list"
	"sync"
)

// unitCache shares the probing of one name between the domains of a run
// (every domain under test. needs test.'s CAA answers), so an identical
// query is not sent twice. It holds at most max finished units, dropping
// the least recently used, so memory stays bounded however long the input.
type unitCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*list.Element
	order *list.List // front: most recently used
}

type cacheEntry struct {
	key  string
	done chan struct{}
	unit *unit
}

func newUnitCache(max int) *unitCache {
	return &unitCache{max: max, items: map[string]*list.Element{}, order: list.New()}
}

// get returns the unit for key, computing it with run when nobody has; a
// caller that finds it in progress waits for the first.
func (c *unitCache) get(key string, run func() *unit) *unit {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-e.done
		return e.unit
	}
	e := &cacheEntry{key: key, done: make(chan struct{})}
	c.items[key] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
	c.mu.Unlock()
	e.unit = run()
	close(e.done)
	return e.unit
}
