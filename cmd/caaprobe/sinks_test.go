package main

import (
	"os"
	"strings"
	"testing"
)

// providerText is the provider view written as text: from its first line
// to the end of its tables (caaprobe's own "caaprobe: ..." lines after it
// are not part of it).
func providerText(s string) string {
	i := strings.Index(s, "Provider view")
	if i < 0 {
		return ""
	}
	var out []string
	for _, l := range strings.Split(s[i:], "\n") {
		if strings.HasPrefix(l, "caaprobe") {
			break
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// TestSharedOutputFlags: check, report and diff share --format, -o and
// --summary through one flag set and render.New, so they mean the same:
// report --summary --format markdown writes the provider view where
// check does (stderr, as text) and not into the reports; an unknown
// format is the same usage error in each; diff -o FILE is written whole
// or left as it was.
func TestSharedOutputFlags(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	names := []string{"ok.test", "notimp.test", "split.test"}
	chk := runBinary(t, nil, labArgs(lab, append([]string{"--format", "markdown", "--summary"}, names...)...)...)
	want := providerText(chk.stderr)
	if want == "" || strings.Contains(chk.stdout, "Provider view") {
		t.Fatalf("check --format markdown --summary: provider view not on stderr alone:\nstderr:\n%s", chk.stderr)
	}
	js := runBinary(t, nil, labArgs(lab, append([]string{"--format", "json"}, names...)...)...)
	saved := writeFile(t, "run.jsonl", []byte(js.stdout))
	rep := runBinary(t, nil, "report", "--format", "markdown", "--summary", saved)
	if strings.Contains(rep.stdout, "Provider view") {
		t.Errorf("report --format markdown --summary put the provider view into the reports")
	}
	if got := providerText(rep.stderr); got != want {
		t.Errorf("report's provider view on stderr:\n%s\ncheck's:\n%s", got, want)
	}

	for _, args := range [][]string{
		labArgs(lab, "--format", "yaml", "ok.test"),
		{"report", "--format", "yaml", saved},
		{"diff", "--format", "yaml", saved, saved},
	} {
		r := runBinary(t, nil, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, `--format "yaml": want table, json, markdown or html`) {
			t.Errorf("%s --format yaml: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
	}

	// diff -o: what stdout would get, in the file; a format diff cannot
	// write leaves the old file as it was.
	cur := writeFile(t, "cur.jsonl", []byte(strings.Replace(js.stdout, `"verdict":"pass"`, `"verdict":"warn"`, 1)))
	plain := runBinary(t, nil, "diff", saved, cur)
	if !strings.Contains(plain.stdout, "verdict") {
		t.Fatalf("diff saw no change: %q", plain.stdout)
	}
	dir, path := outputDir(t)
	r := runBinary(t, nil, "diff", "-o", path, saved, cur)
	if b, err := os.ReadFile(path); err != nil || string(b) != plain.stdout || r.stdout != "" || r.code != plain.code {
		t.Errorf("diff -o: exit %d (stdout run %d), stdout %q, file %q (%v); want\n%s", r.code, plain.code, r.stdout, b, err, plain.stdout)
	}
	assertNoTemp(t, dir)
	dir, path = outputDir(t)
	r = runBinary(t, nil, "diff", "--format", "html", "-o", path, saved, cur)
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "diff writes table, json or markdown") {
		t.Errorf("diff --format html: exit %d, stdout %.100q, stderr %q", r.code, r.stdout, r.stderr)
	}
	assertOld(t, dir, path)
}
