package dnssec

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCompareNames sorts the example of RFC 4034 §6.1.
func TestCompareNames(t *testing.T) {
	t.Parallel()
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		got := slices.Clone(want)
		r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(got, compareNames)
		if !slices.Equal(got, want) {
			t.Fatalf("canonical order:\n got %q\nwant %q", got, want)
		}
	}
	if !sameName(`\065.example.`, "a.EXAMPLE.") {
		t.Error(`\065 and a are one label in canonical form`)
	}
}

func TestNameRelations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone, name string
		in, below  bool
	}{
		{"example.com.", "example.com.", true, false},
		{"example.com.", "WWW.Example.COM.", true, true},
		{"example.com.", "badexample.com.", false, false},
		{"example.com.", "com.", false, false},
		{".", "com.", true, true},
		{"example.com.", `a\.b.example.com.`, true, true},
	}
	for _, tc := range tests {
		if got := inZone(tc.zone, tc.name); got != tc.in {
			t.Errorf("inZone(%s, %s) = %v", tc.zone, tc.name, got)
		}
		if got := below(tc.zone, tc.name); got != tc.below {
			t.Errorf("below(%s, %s) = %v", tc.zone, tc.name, got)
		}
	}
	if got := ancestor("a.b.Example.com.", 3); got != "b.example.com." {
		t.Errorf("ancestor = %s", got)
	}
}
