package markdown

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestDomainGolden(t *testing.T) {
	var b bytes.Buffer
	run := &model.Run{Version: "v1.2.3", Vantage: &model.Vantage{Label: "eu-1", Host: "probe1"}}
	if err := New(&b).Domain(rendertest.Split(t), run, "eu-1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "from eu-1") {
		t.Errorf("vantage label missing from the report:\n%s", b.String())
	}
	rendertest.Golden(t, *update, "split.md.golden", b.Bytes())
}

// TestChangesGolden: one table for all domains; markup from a server is
// escaped in its cell.
func TestChangesGolden(t *testing.T) {
	var b bytes.Buffer
	s := New(&b)
	for range 2 {
		if err := s.Changes("split.test", rendertest.Changes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DiffDone(rendertest.Stats()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "| | domain |"); n != 1 {
		t.Errorf("%d table headers, want 1", n)
	}
	if strings.Contains(b.String(), "*not*") {
		t.Errorf("emphasis from a detail not escaped:\n%s", b.String())
	}
	rendertest.Golden(t, *update, "changes.md.golden", b.Bytes())
}

func TestNoChanges(t *testing.T) {
	var b bytes.Buffer
	if err := New(&b).DiffDone(rendertest.Stats()); err != nil {
		t.Fatal(err)
	}
	if b.String() != "No changes.\n" {
		t.Errorf("got %q", b.String())
	}
}
