package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
)

func startLab(t *testing.T) *fixtures.Lab {
	t.Helper()
	lab, err := fixtures.Start(fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	return lab
}

// anchorFile writes the lab's root trust anchor to a file for
// check --trust-anchor and returns its path.
func anchorFile(t *testing.T, lab *fixtures.Lab) string {
	t.Helper()
	var text strings.Builder
	for _, rr := range lab.TrustAnchor() {
		text.WriteString(rr.String() + "\n")
	}
	path := filepath.Join(t.TempDir(), "lab-anchor.txt")
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckJSONNotimp is the acceptance check: with the lab served,
// check --format json notimp.test reports rcode-notimp on the right address
// and exits 3.
func TestCheckJSONNotimp(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port),
		"--timeout", "500ms", "--format", "json", "notimp.test"}, nil, &stdout, &stderr)
	if got := exitOf(err); got != exitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", got, exitFindings, stderr.String())
	}
	var out struct {
		Domain   string
		Verdict  string
		Outcome  string
		Findings []struct{ Code, Addr, Probe string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, stdout.String())
	}
	var want string
	for _, s := range lab.Servers {
		if s.Behaviour.Name == fixtures.NotimpCAA.Name && s.Zones[0].Origin == "notimp.test." {
			want = s.Addr.String()
		}
	}
	found := false
	for _, f := range out.Findings {
		if f.Code == "rcode-notimp" {
			found = true
			if f.Addr != want {
				t.Errorf("rcode-notimp at %s, want %s", f.Addr, want)
			}
		}
	}
	if !found || out.Verdict != "fail" || out.Outcome != "servfail" {
		t.Errorf("got verdict %s outcome %s findings %v", out.Verdict, out.Outcome, out.Findings)
	}
}

func TestCheckExitCodes(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms", "--no-color"}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"pass", []string{"ok.test"}, exitOK},
		{"warn passes", []string{"lowercase.test"}, exitOK},
		{"warn with --strict", []string{"--strict", "lowercase.test"}, exitFindings},
		{"fail", []string{"refused.test"}, exitFindings},
		// Only a warning, but the CA's decision depends on the server asked.
		{"policy varies", []string{"inconsistent.test"}, exitFindings},
		{"bad input only", []string{"bad..name"}, exitUsage},
		// Issue 14 point 4: one meaning per exit status.
		{"policy forbids the --ca", []string{"--ca", "other-ca.example", "ok.test"}, exitFindings},
		{"policy forbids every CA", []string{"www.flag1.test"}, exitFindings},
		{"deadline: not checked", []string{"--deadline", "0.3", "--timeout", "1", "drop.test"}, exitIncomplete},
		{"bad line beside a good one", []string{"bad..name", "ok.test"}, exitOK},
		{"bad line beside a failing one", []string{"bad..name", "refused.test"}, exitFindings},
		{"repeats alone", []string{"ok.test", "ok.test", "OK.test."}, exitOK},
		{"trailing dot", []string{"ok.test."}, exitOK},
		{"bad flag", []string{"--format", "xml", "ok.test"}, exitUsage},
		{"no names", []string{}, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append(append([]string{}, base...), tc.args...), strings.NewReader(""), &stdout, &stderr)
			if got := exitOf(err); got != tc.want {
				t.Errorf("exit %d, want %d (err %v)\nstdout: %s\nstderr: %s", got, tc.want, err, stdout.String(), stderr.String())
			}
		})
	}
}

func TestProbesListsCatalog(t *testing.T) {
	t.Parallel()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"probes"}, nil, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"caa-0x20", "unknown-type", "rcode-notimp", "case-sensitive-answer"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("probes output lacks %s", want)
		}
	}
}

// TestDemoTableControl: the demo script's table check (demotable)
// fails on a table that lacks the lab's cases, is too wide or lists the
// TLD's healthy server, so its passing in demo.txtar means something.
func TestDemoTableControl(t *testing.T) {
	t.Parallel()
	if p := demoTableProblems("", 80); len(p) < len(fixtures.Cases) {
		t.Errorf("an empty table gives %d problems", len(p))
	}
	wide := strings.Repeat("x", 81) + "\n    ns.nic.test 127.0.0.3:53\n"
	p := demoTableProblems(wide, 80)
	var sawWidth, sawTLD bool
	for _, s := range p {
		sawWidth = sawWidth || strings.Contains(s, "81 columns")
		sawTLD = sawTLD || strings.Contains(s, "healthy TLD row")
	}
	if !sawWidth || !sawTLD {
		t.Errorf("a wide table with the TLD's row: %q", p)
	}
}

// TestCatalogDocs fails when docs/probes.md is stale or lacks a section for
// a probe or finding code of the catalog.
func TestCatalogDocs(t *testing.T) {
	t.Parallel()
	var want bytes.Buffer
	if err := writeCatalogMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/probes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range catalog.Findings {
		if !bytes.Contains(got, []byte("### finding `"+string(f.Code)+"`")) {
			t.Errorf("docs/probes.md has no section for finding %s", f.Code)
		}
	}
	for _, p := range catalog.Catalog {
		if !bytes.Contains(got, []byte("### probe `"+string(p.ID)+"`")) {
			t.Errorf("docs/probes.md has no section for probe %s", p.ID)
		}
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("docs/probes.md is stale: run 'make docs'")
	}
}
