package input

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) { n, err := c.r.Read(p); c.n += n; return n, err }

// TestStream: items come out as they are read, in order, with duplicates
// marked; the Reader keeps none of them; a loop that stops early stops the
// reading too.
func TestStream(t *testing.T) {
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "z%d.test\n", i)
		if i == 5 {
			b.WriteString("z3.test\n")
		}
	}
	src := &countingReader{r: strings.NewReader(b.String())}
	var readErr error
	var got []Item
	var kept *Reader
	seq := Stream(nil, func(r *Reader) error { kept = r; return r.AddReader("list", src) }, &readErr)
	for it := range seq {
		got = append(got, it)
		if len(got) == 10 {
			break
		}
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	if len(got) != 10 || got[0].Name != "z0.test" || got[6].Name != "z3.test" || !got[6].Duplicate || got[7].Name != "z6.test" {
		t.Fatalf("stream gave %v", got)
	}
	if len(kept.Items()) != 0 {
		t.Errorf("a streaming Reader kept %d items", len(kept.Items()))
	}
	if src.n > 2*(maxLineBytes+2) {
		t.Errorf("read %d bytes for 10 names: the stream did not stop with its loop", src.n)
	}
}

// TestDedupeWindow: duplicates are found within the window; the names
// remembered stay bounded by it however long the list.
func TestDedupeWindow(t *testing.T) {
	var r Reader
	for i := range dedupeWindow + 10 {
		r.AddArgs([]string{fmt.Sprintf("z%d.test", i)})
	}
	if r.first.Len() > dedupeWindow {
		t.Errorf("%d names remembered, want at most %d", r.first.Len(), dedupeWindow)
	}
	r.AddArgs([]string{fmt.Sprintf("z%d.test", dedupeWindow+5), "z0.test"})
	items := r.Items()
	if !items[len(items)-2].Duplicate {
		t.Error("a repeat within the window was not marked")
	}
	if items[len(items)-1].Duplicate {
		t.Error("a repeat beyond the window was marked: the window is not what the docs say")
	}
}
