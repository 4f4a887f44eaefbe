package lru

// Segmented is a segmented LRU map of at most size entries: a new entry
// enters a small probation segment, and one asked for again is promoted to
// the protected segment, where it stays while it keeps being used. A bulk
// run meets two kinds of key: most belong to one input domain and are used
// once or by a few names listed next to it; a few (a TLD, a parent zone, a
// big provider's zones) are used by every domain. A plain LRU lets a
// stream of one-off keys push the shared ones out; here the one-off keys
// only cycle through probation. Like Cache, it is not safe for concurrent
// use.
type Segmented[K comparable, V any] struct {
	probation, protected *Cache[K, V]
}

// NewSegmented returns a segmented LRU of at most size entries (at least
// 2): an eighth for probation, the rest protected.
func NewSegmented[K comparable, V any](size int) *Segmented[K, V] {
	size = max(size, 2)
	prob := max(size/8, 1)
	return NewSegments[K, V](prob, size-prob)
}

// NewSegments returns a segmented LRU with the given segment sizes (at
// least 1 each): for values so big that the one-off keys passing through
// probation must be few.
func NewSegments[K comparable, V any](probation, protected int) *Segmented[K, V] {
	return &Segmented[K, V]{probation: New[K, V](probation), protected: New[K, V](protected)}
}

// Get returns the value for k, promoting it to the protected segment.
func (s *Segmented[K, V]) Get(k K) (V, bool) {
	if v, ok := s.protected.Get(k); ok {
		return v, true
	}
	v, ok := s.probation.Get(k)
	if !ok {
		return v, false
	}
	s.probation.Remove(k)
	if old, ok := s.protected.add(k, v); ok {
		// The least recently used protected entry gets another chance.
		s.probation.Add(old.key, old.val)
	}
	return v, true
}

// Peek returns the value for k without changing its standing.
func (s *Segmented[K, V]) Peek(k K) (V, bool) {
	if v, ok := s.protected.Peek(k); ok {
		return v, true
	}
	return s.probation.Peek(k)
}

// Add sets k to v: in place when k is held, else on probation.
func (s *Segmented[K, V]) Add(k K, v V) {
	if _, ok := s.protected.Peek(k); ok {
		s.protected.Add(k, v)
		return
	}
	s.probation.Add(k, v)
}

// Len is the number of entries.
func (s *Segmented[K, V]) Len() int { return s.protected.Len() + s.probation.Len() }
