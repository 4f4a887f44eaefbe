package lru

import "testing"

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](2)
	c.Add("a", 1)
	c.Add("b", 2)
	if _, ok := c.Get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.Add("c", 3) // evicts b
	if _, ok := c.Get("b"); ok {
		t.Error("b should have been evicted")
	}
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Errorf("a = %d, %v", v, ok)
	}
	c.Add("a", 10)
	if v, _ := c.Get("a"); v != 10 || c.Len() != 2 {
		t.Errorf("replace: a = %d, len %d", v, c.Len())
	}
}

func TestBoundedUnderLoad(t *testing.T) {
	c := New[int, int](100)
	for i := range 100000 {
		c.Add(i, i)
		c.Get(0) // a hot key stays
	}
	if c.Len() != 100 {
		t.Errorf("len %d, want 100", c.Len())
	}
	if _, ok := c.Get(0); !ok {
		t.Error("the hot key was evicted")
	}
}
