package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestCheckOnlyFailing: --only-failing leaves out passing domains, folded
// parent lines and rows without findings.
func TestCheckOnlyFailing(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	args := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms", "--retries", "0",
		"--no-color", "--only-failing", "ok.test", "split.test"}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitFindings {
		t.Fatalf("exit %d: %v\n%s", got, err, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "ok.test") || !strings.Contains(out, "split.test  FAIL") {
		t.Errorf("domains shown:\n%s", out)
	}
	if strings.Contains(out, "│ ns1.split.test") || !strings.Contains(out, "│ ns2.split.test") || strings.Contains(out, "every probe as required") {
		t.Errorf("rows shown:\n%s", out)
	}
}

// TestTableWidthSource: COLUMNS when set to a number, else the terminal's
// width, else no limit for a file or pipe.
func TestTableWidthSource(t *testing.T) {
	for env, want := range map[string]int{"77": 77, "": 0, "wide": 0, "-5": 0} {
		t.Setenv("COLUMNS", env)
		if got := tableWidth(&bytes.Buffer{}); got != want {
			t.Errorf("COLUMNS=%q: width %d, want %d", env, got, want)
		}
	}
}
