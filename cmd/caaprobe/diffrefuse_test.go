package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffRefusesFile: diff against a file that is not a run of check
// --format json (another schema, junk, empty, a directory, missing,
// unreadable), as OLD or NEW, refuses it: exit 2, a message naming the
// file, and no domain listed as gone or new.
func TestDiffRefusesFile(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "run.jsonl", demoJSON(t))
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.jsonl")
	os.WriteFile(unreadable, demoJSON(t), 0o000)
	cases := map[string]string{
		"other schema": writeFile(t, "other.jsonl", []byte(`{"kind":"change","name":"ok.test"}`+"\n"+`{"foo":1}`+"\n")),
		"junk":         writeFile(t, "junk.jsonl", []byte("not json at all\n")),
		"empty":        writeFile(t, "empty.jsonl", nil),
		"directory":    dir,
		"missing":      filepath.Join(dir, "missing.jsonl"),
	}
	if f, err := os.Open(unreadable); err == nil {
		f.Close() // root reads it anyway
	} else {
		cases["unreadable"] = unreadable
	}
	for name, bad := range cases {
		for _, order := range [][]string{{good, bad}, {bad, good}} {
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				err := run(context.Background(), []string{"diff", order[0], order[1]}, nil, &stdout, &stderr)
				out, errOut := stdout.String(), stderr.String()
				if code := exitOf(err); code != exitUsage || err == nil {
					t.Fatalf("exit %d (%v), want %d", code, err, exitUsage)
				}
				// The message comes back as run's error; main prints it.
				if msg := err.Error(); !strings.Contains(msg, bad) {
					t.Errorf("message %q (stderr %q) does not name %s", msg, errOut, bad)
				}
				if strings.Contains(out, "domain-gone") || strings.Contains(out, "domain-new") {
					t.Errorf("domains listed as gone or new:\n%.300s", out)
				}
			})
		}
	}
}
