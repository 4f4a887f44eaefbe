package summary

import (
	"bytes"
	"encoding/json"
	"flag"
	"testing"

	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, Text, 0, false, 0)
	s.Add(rendertest.Split(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\n")) {
		t.Errorf("the view does not start after a blank line: %q", b.String())
	}
	rendertest.Golden(t, *update, "split.golden", b.Bytes())
}

// TestJSONOneLine: the JSON form is one line of JSON, of kind
// provider-view, counting the domain as failing.
func TestJSONOneLine(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, JSON, 0, false, 0)
	s.Add(rendertest.Split(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", b.String())
	}
	var v struct {
		Kind             string
		Domains, Failing int
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || v.Kind != "provider-view" || v.Domains != 1 || v.Failing != 1 {
		t.Errorf("got %+v (%v) from %s", v, err, b.String())
	}
}

// TestAuto: with auto the view is written only above the threshold.
func TestAuto(t *testing.T) {
	for _, n := range []int{2, 3} {
		var b bytes.Buffer
		s := New(&b, Text, 0, true, 2)
		d := rendertest.Split(t)
		for range n {
			s.Add(d)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got := b.Len() > 0; got != (n > 2) {
			t.Errorf("%d domains above 2: written %v", n, got)
		}
	}
}
