// Package lru is a small least-recently-used map. caaprobe's run-wide
// caches (zones, names, DNSSEC chains) use it so that memory stays bounded
// however many domains a run checks, while the entries every domain needs
// (the TLDs, a big provider's zones) stay in because they keep being used.
package lru

import "container/list"

// Cache maps keys to values and holds at most Max entries, dropping the
// least recently used. It is not safe for concurrent use: callers hold
// their own lock, which they need anyway to make get-or-create atomic.
type Cache[K comparable, V any] struct {
	max   int
	ll    *list.List // front: most recently used
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache of at most size entries (at least 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{max: max(size, 1), ll: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value for k and marks it as recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Peek returns the value for k without marking it as used.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	if el, ok := c.items[k]; ok {
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add sets k to v, evicting the least recently used entry when full.
func (c *Cache[K, V]) Add(k K, v V) { c.add(k, v) }

// add is Add, returning the evicted entry, if any.
func (c *Cache[K, V]) add(k K, v V) (evicted entry[K, V], ok bool) {
	if el, ok := c.items[k]; ok {
		el.Value.(*entry[K, V]).val = v
		c.ll.MoveToFront(el)
		return evicted, false
	}
	c.items[k] = c.ll.PushFront(&entry[K, V]{k, v})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		evicted, ok = *last.Value.(*entry[K, V]), true
		delete(c.items, evicted.key)
	}
	return evicted, ok
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.ll.Len() }

// Remove drops k.
func (c *Cache[K, V]) Remove(k K) {
	if el, ok := c.items[k]; ok {
		c.ll.Remove(el)
		delete(c.items, k)
	}
}
