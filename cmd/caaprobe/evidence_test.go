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

// runFolders lists the run folders under an evidence directory.
func runFolders(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// TestCheckEvidence: each run writes its bundles into a new folder under
// --evidence DIR, so a rerun (with or without the old --force) replaces
// nothing and exits with the findings' status; DIR/index.md lists every
// run's bundles with verdicts and failing servers; the bundle says which
// caaprobe ran, how, and from where.
func TestCheckEvidence(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms", "--retries", "0"}
	dir := t.TempDir()
	for i, extra := range [][]string{{"notimp.test", "ok.test", "*.ok.test"}, {"--force", "notimp.test"}, {"notimp.test"}} {
		args := append(append(append([]string{}, base...), "--evidence", dir, "--format", "json", "--vantage", "test-vantage"), extra...)
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, nil, &stdout, &stderr)
		if got := exitOf(err); got != exitFindings {
			t.Fatalf("run %d: exit %d, want %d: %v\n%s", i+1, got, exitFindings, err, stderr.String())
		}
		if strings.Contains(strings.Join(extra, " "), "--force") != strings.Contains(stderr.String(), "--force is no longer needed") {
			t.Errorf("run %d: the note on --force:\n%s", i+1, stderr.String())
		}
		// Every domain is still reported on stdout.
		if n, want := strings.Count(stdout.String(), "\n"), len(extra)-strings.Count(strings.Join(extra, " "), "--"); n != want {
			t.Errorf("run %d: %d JSON lines, want %d", i+1, n, want)
		}
	}
	runs := runFolders(t, dir)
	if len(runs) != 3 {
		t.Fatalf("%d run folders, want 3: %v", len(runs), runs)
	}
	for _, w := range []string{"notimp.test", "ok.test", "_wildcard.ok.test"} {
		for _, f := range []string{"report.md", "exchanges.pcap", "result.json"} {
			if _, err := os.Stat(filepath.Join(runs[0], w, f)); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	for _, r := range runs {
		if _, err := os.Stat(filepath.Join(r, "notimp.test", "report.md")); err != nil {
			t.Errorf("run folder %s: %v", r, err)
		}
	}
	// Each bundle's result.json is a line of the JSON contract.
	schema := compileSchema(t, "")
	for _, w := range []string{"notimp.test", "ok.test"} {
		js, err := os.ReadFile(filepath.Join(runs[0], w, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(schema, js); err != nil {
			t.Errorf("%s/result.json: %v", w, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(runs[0], "notimp.test", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| caaprobe version | ", "| Command | `caaprobe check --root " + lab.Root.String(), "| Vantage point | test-vantage",
		"| Input | command line argument 1 |", ";; from:     127.0.0.1 port "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(index), "## Run "); n != 3 {
		t.Errorf("index lists %d runs, want 3", n)
	}
	if !strings.Contains(string(index), "| notimp.test | **fail** | servfail | ns1.notimp.test (127.0.0.13) |") {
		t.Errorf("index lacks notimp.test's verdict and failing server:\n%s", index)
	}
}

// TestCheckEvidenceUnwritable: an evidence directory that cannot be
// created is a usage error (exit 2) naming it, before any domain is
// probed: nothing is reported.
func TestCheckEvidenceUnwritable(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	bad := filepath.Join(file, "evidence")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port),
		"--format", "json", "--evidence", bad, "notimp.test"}, nil, &stdout, &stderr)
	if exitOf(err) != exitUsage || err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("exit %d (%v), want %d naming %s", exitOf(err), err, exitUsage, bad)
	}
	if stdout.Len() != 0 {
		t.Errorf("domains were checked: %s", stdout.String())
	}
}

func TestCheckFormatMarkdown(t *testing.T) {
	t.Parallel()
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

// TestDemoEvidence: the demo with --evidence (the shared run of
// demoJSON) writes one run folder with a bundle per failing domain and
// none for a passing one.
func TestDemoEvidence(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("checks the whole lab")
	}
	runs := runFolders(t, demoEvidence(t))
	if len(runs) != 1 {
		t.Fatalf("run folders %v, want one", runs)
	}
	for _, want := range []string{"notimp.test", "drop.test", "split.test", "malformed.test"} {
		if _, err := os.Stat(filepath.Join(runs[0], want, "report.md")); err != nil {
			t.Errorf("no bundle for failing %s: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(runs[0], "ok.test")); !os.IsNotExist(err) {
		t.Errorf("bundle written for the passing ok.test: %v", err)
	}
}
