package table

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/render/internal/rendertest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDomainAsReport: a domain read back from its JSON line renders as
// probes/report's own table golden of the same domain, so the sink adds
// nothing and loses nothing on the way.
func TestDomainAsReport(t *testing.T) {
	var b bytes.Buffer
	if err := New(&b, Options{}).Domain(rendertest.Split(t), ""); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../../report/testdata/split.table.golden")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("table of the decoded line differs from report's golden:\n--- got:\n%s\n--- want:\n%s", b.String(), want)
	}
}

// TestVantageInSource: a vantage label joins the source line, and the
// domain handed in is not changed.
func TestVantageInSource(t *testing.T) {
	d := rendertest.Split(t)
	src := d.Source
	var b bytes.Buffer
	if err := New(&b, Options{}).Domain(d, "eu-1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), src+", from eu-1") {
		t.Errorf("no %q in:\n%s", src+", from eu-1", b.String())
	}
	if d.Source != src {
		t.Errorf("Domain changed the caller's source to %q", d.Source)
	}
}

func TestChangesGolden(t *testing.T) {
	var b bytes.Buffer
	s := New(&b, Options{})
	if err := s.Changes("split.test", rendertest.Changes()); err != nil {
		t.Fatal(err)
	}
	if err := s.DiffDone(rendertest.Stats()); err != nil {
		t.Fatal(err)
	}
	rendertest.Golden(t, *update, "changes.golden", b.Bytes())
}
