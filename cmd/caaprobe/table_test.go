package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDemoFitsColumns: with COLUMNS=80 no line of the demo's table output
// (every lab domain, the provider view included) is wider than 80
// columns, and healthy parent rows are folded: the TLD's server is not a
// row of any domain's grid.
func TestDemoFitsColumns(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the whole lab")
	}
	t.Setenv("COLUMNS", "80")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"demo", "--no-color", "--timeout", "500ms", "--retries", "0"}, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitFindings {
		t.Fatalf("exit %d: %v\n%s", got, err, stderr.String())
	}
	out := stdout.String()
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
	if domains := strings.Count(out, "  resolver outcome: "); domains < 40 {
		t.Errorf("%d domains in the output", domains)
	}
	if strings.Contains(out, "    ns.nic.test 127.0.0.3:") {
		t.Errorf("a healthy TLD row is listed instead of folded")
	}
	if n := strings.Count(out, "  test: 1 server answers every probe as required"); n < 30 {
		t.Errorf("the TLD is folded in %d domains", n)
	}
	if !strings.Contains(out, "Provider view:") {
		t.Error("no provider view at the end of the demo")
	}
}

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
