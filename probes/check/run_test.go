package check

import (
	"slices"
	"testing"

	"github.com/caaprobe/caaprobe/probes/input"
)

// TestPickNextSpreadsZones checks the scheduler's choice: with names of one
// zone listed together, the next check started is of a zone with nothing
// in flight, so one zone's servers are not burst.
func TestPickNextSpreadsZones(t *testing.T) {
	names := []string{"a.x.test", "b.x.test", "c.x.test", "a.y.test", "b.y.test", "z.test"}
	key := func(i int) string { return input.Registrable(names[i]) }
	pending := []int{0, 1, 2, 3, 4, 5}
	inflight := map[string]int{}
	var order []string
	for range 3 {
		j := pickNext(pending, key, inflight)
		i := pending[j]
		pending = slices.Delete(pending, j, j+1)
		inflight[key(i)]++
		order = append(order, names[i])
	}
	if want := []string{"a.x.test", "a.y.test", "z.test"}; !slices.Equal(order, want) {
		t.Errorf("started %v, want %v (one per zone first)", order, want)
	}
	// With every zone busy, the earliest pending name goes next.
	if j := pickNext(pending, key, inflight); names[pending[j]] != "b.x.test" {
		t.Errorf("then %s, want b.x.test", names[pending[j]])
	}
}
