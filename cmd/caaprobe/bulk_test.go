package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
)

func startBenchLab(t *testing.T, n int) *fixtures.Bench {
	t.Helper()
	b, err := fixtures.StartBench(fixtures.BenchOptions{N: n})
	if err != nil {
		t.Fatalf("starting the bench lab: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func benchArgs(b *fixtures.Bench, extra ...string) []string {
	return append([]string{"check", "--root", b.Root.String(), "--port", fmt.Sprint(b.Port), "--format", "json",
		"--timeout", "2s", "--rate", "0", "--probes", "caa"}, extra...)
}

// TestBulkInputFile runs a hand-written list through the command: comments
// and blank lines are skipped, every other line gives exactly one JSON
// object in input order, bad lines are error verdicts naming their line, a
// repeat is checked once and noted on stderr (no object), an IDN is checked
// as its A-label, and the exit status follows the good names (all pass: 0)
// while stderr counts the bad lines.
func TestBulkInputFile(t *testing.T) {
	t.Parallel()
	b := startBenchLab(t, 10)
	lines := []string{
		"# customer domains", // 1
		"z3.test",            // 2
		"",                   // 3
		"Z1.Test",            // 4: case normalised
		"bad_label!.test",    // 5: bad
		"z3.test",            // 6: duplicate of line 2
		"bücher.test",        // 7: IDN → xn--bcher-kva.test
		"z2.test # comment",  // 8
		"a..test",            // 9: bad
	}
	path := filepath.Join(t.TempDir(), "names.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, benchArgs(b, "-f", path), nil, &stdout, &stderr)
	if exitOf(err) != exitOK {
		t.Errorf("exit %d, want 0: the good names pass; stderr:\n%s", exitOf(err), stderr.String())
	}
	if !strings.Contains(stderr.String(), "2 input line(s) could not be used") {
		t.Errorf("stderr does not count the bad lines:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "names.txt:6: duplicate of "+path+":2: checked once") {
		t.Errorf("stderr does not note the repeat of line 2 on line 6:\n%s", stderr.String())
	}
	got := parseLines(t, stdout.Bytes())
	type want struct {
		line   int
		domain string // "" for a bad line (its text is sanitised)
		err    bool
	}
	wants := []want{{2, "z3.test", false}, {4, "z1.test", false}, {5, "", true},
		{7, "xn--bcher-kva.test", false}, {8, "z2.test", false}, {9, "", true}}
	if len(got) != len(wants) {
		t.Fatalf("%d JSON lines, want %d:\n%s", len(got), len(wants), stdout.String())
	}
	for i, w := range wants {
		j := got[i]
		if !strings.HasSuffix(j.Source, fmt.Sprintf("names.txt:%d", w.line)) {
			t.Errorf("line %d of output: source %q, want names.txt:%d (input order)", i+1, j.Source, w.line)
		}
		if w.domain != "" && j.Domain != w.domain {
			t.Errorf("names.txt:%d: domain %q, want %q", w.line, j.Domain, w.domain)
		}
		if w.err != (j.Verdict == "error" && j.Error != "") {
			t.Errorf("names.txt:%d: verdict %q error %q; want error=%v", w.line, j.Verdict, j.Error, w.err)
		}
		if w.err && !strings.Contains(stderr.String(), fmt.Sprintf("names.txt:%d", w.line)) {
			t.Errorf("stderr does not name names.txt:%d:\n%s", w.line, stderr.String())
		}
	}
	for _, j := range got[:2] {
		if j.Verdict != "pass" {
			t.Errorf("%s: verdict %s, want pass (bench zones are conformant)", j.Domain, j.Verdict)
		}
	}
}

// TestShardPartition runs the same list as three shards: together they
// report every name exactly once, each in input order.
func TestShardPartition(t *testing.T) {
	t.Parallel()
	b := startBenchLab(t, 30)
	names := b.Domains()
	seen := map[string]int{}
	badSaid := 0 // shards whose stderr names the bad argument
	for k := range 3 {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// A bad argument after the names: reported by one shard only.
		err := run(ctx, benchArgs(b, append(append([]string{"--shard", fmt.Sprintf("%d/3", k)}, names...), "bad..name")...),
			nil, &stdout, &stderr)
		cancel()
		if err != nil && exitOf(err) != 0 {
			t.Fatalf("shard %d/3: %v\n%s", k, err, stderr.String())
		}
		if strings.Contains(stderr.String(), "bad..name") {
			badSaid++
		}
		got := parseLines(t, stdout.Bytes())
		last := -1
		for _, j := range got {
			if j.Verdict == "error" && strings.Contains(j.Error, "bad..name") {
				continue
			}
			seen[j.Domain]++
			i := slices.Index(names, j.Domain)
			if i <= last {
				t.Errorf("shard %d/3: %s out of input order", k, j.Domain)
			}
			last = i
		}
		if len(got) == len(names) {
			t.Errorf("shard %d/3 checked every name: no partition", k)
		}
	}
	for _, n := range names {
		if seen[n] != 1 {
			t.Errorf("%s reported by %d shards, want exactly 1", n, seen[n])
		}
	}
	if badSaid != 1 {
		t.Errorf("the bad argument is reported on stderr by %d shards, want exactly 1", badSaid)
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), benchArgs(b, "--shard", "3/3", "z1.test"), nil, &bytes.Buffer{}, &stderr); exitOf(err) != exitUsage {
		t.Errorf("--shard 3/3: exit %d, want %d (usage)", exitOf(err), exitUsage)
	}
}

// TestSummaryFlag checks the provider view reaches the user: on stdout
// after the tables, on stderr for JSON so stdout stays JSON Lines.
func TestSummaryFlag(t *testing.T) {
	t.Parallel()
	b := startBenchLab(t, 5)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), benchArgs(b, "--summary", "z0.test", "z1.test"), nil, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if strings.Contains(stdout.String(), "Provider view") || !strings.Contains(stderr.String(), "dns-host.test") {
		t.Errorf("JSON run: the provider view must go to stderr only;\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	parseLines(t, stdout.Bytes()) // stdout is still pure JSON Lines
	// On stderr the provider view is itself one line of JSON.
	views := 0
	for _, l := range strings.Split(stderr.String(), "\n") {
		var v struct {
			Kind    string `json:"kind"`
			Domains int    `json:"domains"`
		}
		if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &v) == nil && v.Kind == "provider-view" && v.Domains == 2 {
			views++
		}
	}
	if views != 1 {
		t.Errorf("stderr holds %d JSON provider views for 2 domains, want 1:\n%s", views, stderr.String())
	}
	args := benchArgs(b, "--no-color", "--format", "table")
	args = append(args, b.Domains()...)
	stdout.Reset()
	if err := run(context.Background(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("%v", err)
	}
	if strings.Contains(stdout.String(), "Provider view") {
		t.Error("5 domains in a table run: no provider view without --summary")
	}
}

// TestBenchLabVanity runs bench-lab on the vanity-NS shape with the
// CAA-only plan: every zone passes, the report names the shape, and the
// queries per domain stay within what a CA's path needs (3.5: the
// referral and CAA at two addresses, plus the shared root and TLD). An
// unknown shape is a usage error.
func TestBenchLabVanity(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, []string{"bench-lab", "-n", "200", "--probes", "caa", "--shape", "vanity"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("bench-lab: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "(vanity shape)") || !strings.Contains(out, "pass 200") {
		t.Errorf("bench-lab output:\n%s", out)
	}
	var sent int
	var per float64
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "queries" && f[1] != "" && f[1][0] != '/' {
			fmt.Sscanf(strings.Join(f[1:], " "), "%d (%g per domain)", &sent, &per)
		}
	}
	if per == 0 || per > 3.5 {
		t.Errorf("%.2f queries per domain (%d sent), want at most 3.5:\n%s", per, sent, out)
	}
	if err := run(ctx, []string{"bench-lab", "-n", "2", "--shape", "bogus"}, nil, &stdout, &stderr); exitOf(err) != exitUsage {
		t.Errorf("--shape bogus: exit %d, want %d (usage)", exitOf(err), exitUsage)
	}
}
