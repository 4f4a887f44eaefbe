package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckEvidence(t *testing.T) {
	lab := startLab(t)
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms", "--retries", "0"}
	for _, tc := range []struct {
		name      string
		existing  []string // bundles present before the run
		args      []string
		exit      int
		written   []string
		stderrHas []string
	}{
		{"fresh", nil, []string{"notimp.test", "ok.test", "*.ok.test"}, exitFindings,
			[]string{"notimp.test", "ok.test", "_wildcard.ok.test"}, []string{"evidence for notimp.test in"}},
		// An evidence problem is said, but does not hide the findings (3).
		{"exists", []string{"notimp.test"}, []string{"notimp.test", "refused.test"}, exitFindings,
			[]string{"refused.test"}, []string{"notimp.test: evidence bundle already exists", "1 evidence bundle(s) could not be written"}},
		{"force", []string{"notimp.test"}, []string{"--force", "notimp.test"}, exitFindings,
			[]string{"notimp.test"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, e := range tc.existing {
				os.MkdirAll(filepath.Join(dir, e), 0o755)
			}
			args := append(append(append([]string{}, base...), "--evidence", dir, "--format", "json"), tc.args...)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, nil, &stdout, &stderr)
			if got := exitOf(err); got != tc.exit {
				t.Fatalf("exit %d, want %d: %v\n%s", got, tc.exit, err, stderr.String())
			}
			msg := stderr.String()
			if err != nil {
				msg += err.Error()
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(msg, s) {
					t.Errorf("stderr lacks %q:\n%s", s, msg)
				}
			}
			for _, w := range tc.written {
				for _, f := range []string{"report.md", "exchanges.pcap", "result.json"} {
					if _, err := os.Stat(filepath.Join(dir, w, f)); err != nil {
						t.Errorf("%v", err)
					}
				}
			}
			// Every domain is still reported on stdout.
			if n := strings.Count(stdout.String(), "\n"); n != len(tc.args)-strings.Count(strings.Join(tc.args, " "), "--") {
				t.Errorf("%d JSON lines for %v", n, tc.args)
			}
		})
	}
}

func TestCheckFormatMarkdown(t *testing.T) {
	lab := startLab(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port),
		"--timeout", "500ms", "--format", "markdown", "notimp.test", "ok.test"}, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitFindings {
		t.Fatalf("exit %d: %v\n%s", got, err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"# CAA evidence for notimp.test", "# CAA evidence for ok.test", "## What to tell the provider",
		fmt.Sprintf("-p %d +norec", lab.Port), "status: NOTIMP"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestDemoEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the whole lab")
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"demo", "--no-color", "--timeout", "500ms", "--retries", "0", "--evidence", dir}, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitFindings {
		t.Fatalf("exit %d: %v\n%s", got, err, stderr.String())
	}
	for _, want := range []string{"notimp.test", "drop.test", "split.test", "malformed.test"} {
		if _, err := os.Stat(filepath.Join(dir, want, "report.md")); err != nil {
			t.Errorf("no bundle for failing %s: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.test")); !os.IsNotExist(err) {
		t.Errorf("bundle written for the passing ok.test: %v", err)
	}
}

func TestForceNeedsEvidence(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "--force", "ok.test"}, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitUsage {
		t.Errorf("exit %d, want %d", got, exitUsage)
	}
}
