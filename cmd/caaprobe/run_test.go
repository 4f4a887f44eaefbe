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
	"unicode/utf8"

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

// TestDemo runs the demo once, with its default flags and COLUMNS=80, as
// a subprocess (so in parallel: COLUMNS is its own environment), and
// reads its table twice over:
//   - Cases: every lab case is shown, with every finding code it expects;
//   - FitsColumns: no line of the table (every lab domain, the provider
//     view included) is wider than 80 columns, and healthy parent rows are
//     folded: the TLD's server is not a row of any domain's grid.
func TestDemo(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the demo probes the whole lab")
	}
	r := runBinaryEnv(t, []string{"COLUMNS=80"}, nil, "demo", "--no-color")
	if r.code != exitFindings {
		t.Fatalf("demo exit %d, want %d: %s", r.code, exitFindings, r.stderr)
	}
	out := r.stdout
	t.Run("Cases", func(t *testing.T) {
		for _, c := range fixtures.Cases {
			if !strings.Contains(out, c.Zone+"  ") {
				t.Errorf("demo output lacks %s", c.Zone)
			}
			for _, code := range c.Expect {
				if !strings.Contains(out, code) {
					t.Errorf("demo output lacks %s for %s", code, c.Zone)
				}
			}
		}
	})
	t.Run("FitsColumns", func(t *testing.T) {
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
	})
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
