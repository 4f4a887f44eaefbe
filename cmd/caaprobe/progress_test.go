package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

// TestProgressOnlyOnTerminal: logs and pipes must not get a progress bar.
func TestProgressOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	sent := func() int64 { return 0 }
	var buf bytes.Buffer
	p := newProgress(&buf, &buf, 1000, sent)
	if p != nil {
		t.Fatal("progress bar on a buffer")
	}
	// A nil progress is a no-op, so callers need no checks.
	p.done(&model.Domain{Verdict: model.VerdictFail})
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("wrote %q to a non-terminal", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f, f, 1000, sent) != nil {
		t.Error("progress bar on a regular file")
	}
}
