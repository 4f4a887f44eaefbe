package input

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		k, n int
	}{
		{"0/1", 0, 1},
		{"0/4", 0, 4},
		{"3/4", 3, 4},
		{"09/10", 9, 10},
	}
	for _, tt := range good {
		k, n, err := ParseShard(tt.in)
		if err != nil || k != tt.k || n != tt.n {
			t.Errorf("ParseShard(%q) = %d, %d, %v; want %d, %d", tt.in, k, n, err, tt.k, tt.n)
		}
	}
	bad := []struct{ in, want string }{
		{"", "want K/N"},
		{"3", "want K/N"},
		{"4/4", "K must be 0..3 (K counts from 0)"},
		{"1/1", "K must be 0..0"},
		{"0/0", "N must be at least 1"},
		{"-1/4", "whole numbers"},
		{"+1/4", "whole numbers"},
		{"1/ 4", "whole numbers"},
		{"a/b", "whole numbers"},
		{"1/2/3", "whole numbers"},
		{"99999999999999999999/1", "whole numbers"},
	}
	for _, tt := range bad {
		_, _, err := ParseShard(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
			t.Errorf("ParseShard(%q) error = %v, want it to quote the input and contain %q", tt.in, err, tt.want)
		}
	}
}

func TestRegistrable(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"a.b.example.com", "example.com"},
		{"*.example.com", "example.com"},
		{"www.example.co.uk", "example.co.uk"},
		{"co.uk", "co.uk"},
		{"com", "com"},
		{"*.com", "com"},
		{"a.b.test", "b.test"},
		{"b.test", "b.test"},
		{"test", "test"},
		{"user.github.io", "github.io"}, // private suffix: one operator's zone
		{"github.io", "github.io"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, tt := range tests {
		if got := registrable(tt.in); got != tt.want {
			t.Errorf("registrable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestShardStable pins the assignment: it must not change between releases,
// or a sharded run with machines on two versions would skip or repeat names.
func TestShardStable(t *testing.T) {
	t.Parallel()
	pinned := map[string]int{}
	for _, name := range []string{"example.com", "www.example.com", "*.example.com", "b.test", "a.b.test", "com"} {
		pinned[name] = shardOf(name, 16)
	}
	// Same registrable domain, same shard.
	if pinned["example.com"] != pinned["www.example.com"] || pinned["example.com"] != pinned["*.example.com"] || pinned["b.test"] != pinned["a.b.test"] {
		t.Errorf("names of one domain split: %v", pinned)
	}
	// FNV-1a 64 of the registrable domain, mod 16.
	golden := map[string]int{"example.com": 6, "b.test": 9, "com": 14}
	for name, want := range golden {
		if got := pinned[name]; got != want {
			t.Errorf("shard of %q in 16 = %d, want %d (the hash changed)", name, got, want)
		}
	}
}

func shardOf(name string, n int) int {
	found := -1
	for k := 0; k < n; k++ {
		if shard(name, k, n) {
			if found >= 0 {
				return -2
			}
			found = k
		}
	}
	return found
}

func TestShardPartition(t *testing.T) {
	t.Parallel()
	suffixes := []string{"com", "co.uk", "test", "de", "github.io", "xn--zckzah", "org"}
	var names []string
	for i := range 10000 {
		domain := fmt.Sprintf("d%d.%s", i%1500, suffixes[i%len(suffixes)])
		switch i % 4 {
		case 0:
			names = append(names, domain)
		case 1:
			names = append(names, fmt.Sprintf("host%d.%s", i, domain))
		case 2:
			names = append(names, fmt.Sprintf("*.x%d.%s", i, domain))
		case 3:
			names = append(names, fmt.Sprintf("a.b%d.c.%s", i, domain))
		}
	}
	names = append(names, suffixes...)

	for _, n := range []int{1, 2, 3, 8, 50} {
		count := make([]int, n)
		shardOfDomain := map[string]int{}
		for _, name := range names {
			k := shardOf(name, n)
			if k < 0 {
				t.Fatalf("n=%d: %q is in %s", n, name, map[int]string{-1: "no shard", -2: "two shards"}[k])
			}
			count[k]++
			reg := registrable(name)
			if prev, ok := shardOfDomain[reg]; ok && prev != k {
				t.Fatalf("n=%d: %q went to shard %d, but %s is in shard %d", n, name, k, reg, prev)
			}
			shardOfDomain[reg] = k
		}
		total := 0
		for k, c := range count {
			total += c
			// 1500 domains spread over n shards: none should be empty.
			if c == 0 {
				t.Errorf("n=%d: shard %d is empty", n, k)
			}
		}
		if total != len(names) {
			t.Errorf("n=%d: shards hold %d names, input has %d", n, total, len(names))
		}
	}
}

func TestItemInShard(t *testing.T) {
	t.Parallel()
	var r Reader
	r.AddArgs([]string{"www.example.com", "example..com", "example.com", "www.example.com", "1.2.3.4"})
	for _, n := range []int{1, 2, 5, 16} {
		for _, it := range r.Items() {
			in := 0
			for k := range n {
				if it.InShard(k, n) {
					in++
				}
			}
			if in != 1 {
				t.Errorf("n=%d: %+v is in %d shards", n, it, in)
			}
		}
		items := r.Items()
		for k := range n {
			// The duplicate and both names of example.com stay with the
			// first occurrence.
			if items[0].InShard(k, n) != items[2].InShard(k, n) || items[0].InShard(k, n) != items[3].InShard(k, n) {
				t.Errorf("n=%d k=%d: example.com names split", n, k)
			}
		}
	}
	bad := Item{Name: "example..com", Source: "x:1", Err: errors.New("x")}
	same := Item{Name: "example..com", Source: "/other/path/x:1", Err: errors.New("x")}
	for k := range 7 {
		if bad.InShard(k, 7) != same.InShard(k, 7) {
			t.Error("a bad line's shard depends on its source path")
		}
	}
}
