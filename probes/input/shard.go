package input

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// ParseShard parses the --shard value "K/N": this run takes shard K of N.
// K counts from 0, so K is 0..N-1, matching the JOB_COMPLETION_INDEX that a
// Kubernetes Indexed Job gives each pod ("--shard $JOB_COMPLETION_INDEX/N").
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("shard %q: want K/N, as in 0/4 (K counts from 0)", s)
	}
	k, kerr := parseCount(ks)
	n, nerr := parseCount(ns)
	switch {
	case kerr != nil || nerr != nil:
		return 0, 0, fmt.Errorf("shard %q: want K/N with whole numbers, as in 0/4", s)
	case n < 1:
		return 0, 0, fmt.Errorf("shard %q: N must be at least 1", s)
	case k >= n:
		return 0, 0, fmt.Errorf("shard %q: K must be 0..%d (K counts from 0)", s, n-1)
	}
	return k, n, nil
}

// parseCount accepts plain decimal digits only: strconv.Atoi would also take
// "+1" and "-0", which are more likely a slip than a shard.
func parseCount(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a count: %q", s)
	}
	return strconv.Atoi(s)
}

// shard reports whether the normalised name belongs to shard k of n (k from
// 0, as from ParseShard; n < 1 means no sharding and every name belongs).
//
// Names are assigned by their registrable domain, so all names of one
// domain, and so of its zones, are checked by the same run, which then sees
// every server of a zone and applies one rate limit to it. The assignment
// is a stable hash (FNV-1a, 64 bit), the same on every machine and release,
// so N independent runs over the same list partition it exactly.
func shard(name string, k, n int) bool {
	if n < 1 {
		return true
	}
	return bucket(registrable(name), n) == k
}

// InShard reports whether the item belongs to shard k of n. A usable or
// duplicate item goes with its name's registrable domain (see Shard); an
// unusable one is placed by its text (not its source, whose path may differ
// between the machines of one sharded run), so every bad entry is reported
// by exactly one shard.
func (it Item) InShard(k, n int) bool {
	if n < 1 {
		return true
	}
	if it.Err != nil && !it.Duplicate {
		return bucket(it.Name, n) == k
	}
	return shard(it.Name, k, n)
}

func bucket(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// registrable returns the registrable domain of a name: the public suffix
// plus one label, taking only the ICANN part of the Public Suffix List.
// Private suffixes (github.io, blogspot.com) are one operator's zones, so
// their customers' names are kept together too.
//
// When the name is itself a public suffix ("com", "co.uk") it is its own
// key. Names under a TLD that is not on the list (a lab's ".test") fall
// under the list's default rule, which treats the last label as the suffix,
// so "a.b.test" and "c.b.test" share the key "b.test".
// Registrable is the key names are grouped by, for sharding and for
// spreading a run's queries across zones: the registrable domain (see
// registrable).
func Registrable(name string) string { return registrable(name) }

func registrable(name string) string {
	name = strings.TrimPrefix(name, "*.")
	suffix, icann := publicsuffix.PublicSuffix(name)
	for !icann {
		_, parent, ok := strings.Cut(suffix, ".")
		if !ok {
			break
		}
		suffix, icann = publicsuffix.PublicSuffix(parent)
	}
	if len(suffix) >= len(name) || !strings.HasSuffix(name, suffix) {
		return name
	}
	head := strings.TrimSuffix(strings.TrimSuffix(name, suffix), ".")
	return head[strings.LastIndexByte(head, '.')+1:] + "." + suffix
}
