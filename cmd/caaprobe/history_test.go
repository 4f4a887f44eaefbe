package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/runs"
	"github.com/miekg/dns"
)

var demoOnce struct {
	sync.Once
	out      []byte
	evidence string
	err      error
}

// demoJSON is `caaprobe demo --format json --vantage lab-a --evidence
// DIR`, run once per test binary: the lab's every domain, from one
// vantage, and the evidence of the failing ones (demoEvidence) from the
// same run. The whole lab under the race detector is some seconds of CPU
// a run, so the tests of saved runs and of evidence share this one.
func demoJSON(t *testing.T) []byte {
	t.Helper()
	runDemoOnce(t)
	return demoOnce.out
}

// demoEvidence is the folder the shared demo run wrote its bundles to.
func demoEvidence(t *testing.T) string {
	t.Helper()
	runDemoOnce(t)
	return demoOnce.evidence
}

func runDemoOnce(t *testing.T) {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "caaprobe-demo-evidence-")
		if err != nil {
			demoOnce.err = err
			return
		}
		demoOnce.evidence = dir
		var stdout, stderr bytes.Buffer
		err = run(context.Background(), []string{"demo", "--format", "json", "--vantage", "lab-a", "--evidence", dir}, nil, &stdout, &stderr)
		if exitOf(err) != exitFindings {
			demoOnce.err = fmt.Errorf("demo exit %d, want 3: %v\n%s", exitOf(err), err, stderr.String())
		}
		demoOnce.out = stdout.Bytes()
	})
	if demoOnce.err != nil {
		t.Fatal(demoOnce.err)
	}
}

var demoHTMLOnce struct {
	sync.Once
	out, stderr string
	code        int
}

// demoHTML is `caaprobe report --format html --summary` of demoJSON, the
// page TestReportFormats reads and TestHTMLReportInBrowser opens,
// rendered once.
func demoHTML(t *testing.T) string {
	t.Helper()
	run := demoJSON(t)
	demoHTMLOnce.Do(func() {
		path := writeFile(t, "demo.jsonl", run)
		demoHTMLOnce.out, demoHTMLOnce.stderr, demoHTMLOnce.code = runCmd(t, "report", "--format", "html", "--summary", path)
	})
	if demoHTMLOnce.code != exitFindings {
		t.Fatalf("report --format html --summary: exit %d: %s", demoHTMLOnce.code, demoHTMLOnce.stderr)
	}
	return demoHTMLOnce.out
}

// demoPart is every n-th line of demoJSON, from the first: passing and
// failing domains, for the tests that render a run several times over.
func demoPart(t *testing.T, n int) []byte {
	t.Helper()
	var part []byte
	for i, l := range lines(demoJSON(t)) {
		if i%n == 0 {
			part = append(append(part, l...), '\n')
		}
	}
	return part
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(b []byte) [][]byte {
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, nil, &stdout, &stderr)
	return stdout.String(), stderr.String(), exitOf(err)
}

// TestDemoJSONRoundTrip: every line of the demo decodes into the report
// model and encodes back to the same bytes, so nothing the run wrote is
// lost to report, diff and the perspectives; and each line records its
// vantage and time.
func TestDemoJSONRoundTrip(t *testing.T) {
	t.Parallel()
	ls := lines(demoJSON(t))
	if len(ls) < 40 {
		t.Fatalf("demo wrote %d lines", len(ls))
	}
	for i, l := range ls {
		rec, err := runs.Decode(l)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if rec.Vantage.Label != "lab-a" || len(rec.Vantage.Sources) == 0 || rec.Time.IsZero() {
			t.Errorf("line %d (%s): vantage %+v time %v", i+1, rec.Domain.Domain, rec.Vantage, rec.Time)
		}
		var b bytes.Buffer
		if rec.Version == "" || rec.CheckedAt.IsZero() {
			t.Errorf("line %d (%s): caaprobe_version %q checked_at %v", i+1, rec.Domain.Domain, rec.Version, rec.CheckedAt)
		}
		if err := jsonl.WriteRun(&b, rec.Domain, &model.Run{Version: rec.Version, Vantage: &rec.Vantage, Started: rec.CheckedAt}); err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimRight(b.Bytes(), "\n"); !bytes.Equal(got, l) {
			t.Errorf("line %d (%s) does not round-trip:\n got %s\nwant %s", i+1, rec.Domain.Domain, got, l)
		}
	}
}

// TestReportTableAsCheck: report renders a saved run as check printed it.
// The domains are ones whose output does not vary between runs (no random
// IDs, no clock in the details).
func TestReportTableAsCheck(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	domains := []string{"notimp.test", "ok.test", "split.test", "lame.test", "www.alias.test"}
	slices.Sort(domains)
	base := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "500ms", "--retries", "0", "--no-color"}
	table, _, code := runCmd(t, append(append(slices.Clone(base), "--format", "table"), domains...)...)
	if code != exitFindings {
		t.Fatalf("check exit %d", code)
	}
	js, _, _ := runCmd(t, append(append(slices.Clone(base), "--format", "json"), domains...)...)
	out, stderr, code := runCmd(t, "report", "--no-color", writeFile(t, "run.jsonl", []byte(js)))
	if code != exitFindings {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	if out != table {
		t.Errorf("report differs from check:\n--- check\n%s\n--- report\n%s", table, out)
	}
}

// TestReportFormats renders the demo's JSON in every format.
func TestReportFormats(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "demo.jsonl", demoJSON(t))
	n := len(lines(demoJSON(t)))

	out, _, code := runCmd(t, "report", "--no-color", path)
	if code != exitFindings || !strings.Contains(out, "notimp.test  FAIL  resolver outcome: servfail") || !strings.Contains(out, "NOTIMP") {
		t.Errorf("table: exit %d\n%.2000s", code, out)
	}
	out, _, _ = runCmd(t, "report", "--format", "markdown", path)
	if c := strings.Count(out, "# CAA evidence for "); c != n || !strings.Contains(out, "## What to tell the provider") ||
		strings.Count(out, "| Vantage point | lab-a") != n || strings.Count(out, "| caaprobe version | ") != n {
		t.Errorf("markdown: %d reports, want %d", c, n)
	}
	out, _, _ = runCmd(t, "report", "--format", "json", path)
	got := lines([]byte(out))
	if len(got) != n {
		t.Fatalf("json: %d lines, want %d", len(got), n)
	}
	var prev string
	for _, l := range got {
		var d struct{ Domain string }
		if err := json.Unmarshal(l, &d); err != nil || d.Domain < prev {
			t.Fatalf("json: line %s: %v (after %s: not sorted)", l[:min(80, len(l))], err, prev)
		}
		prev = d.Domain
		if !bytes.Contains(demoJSON(t), l) {
			t.Errorf("json: line of %s is not the line read", d.Domain)
		}
	}
	out = demoHTML(t)
	if c := strings.Count(out, `<section class="domain" id=`); c != n {
		t.Errorf("html: %d sections, want %d", c, n)
	}
	for _, want := range []string{"<h2 id=\"summary\">", "Provider view", "What to tell the provider", "<details class=\"exchange\">"} {
		if !strings.Contains(out, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<link rel=\"stylesheet\"", "http://", "https://", "@import", "url("} {
		if strings.Contains(out, bad) {
			t.Errorf("html is not self-contained: it holds %q", bad)
		}
	}

	out, _, _ = runCmd(t, "report", "--no-color", "--only-failing", path)
	if strings.Contains(out, "  PASS  ") || strings.Contains(out, "  WARN  ") || !strings.Contains(out, "  FAIL  ") {
		t.Errorf("--only-failing shows passing or warning domains, or no failing one")
	}
	out, _, _ = runCmd(t, "report", "--no-color", "--summary", path)
	if !strings.Contains(out, fmt.Sprintf("Provider view: %d domains", n)) {
		t.Errorf("--summary: no provider view of %d domains", n)
	}
}

// TestReportBadLines: lines that are not caaprobe results are named with
// file and line on stderr and skipped; the rest renders as without them.
func TestReportBadLines(t *testing.T) {
	t.Parallel()
	ls := lines(demoJSON(t))
	clean := writeFile(t, "clean.jsonl", bytes.Join(ls[:6], []byte("\n")))
	var mixed bytes.Buffer
	junk := []string{"not json at all", `{"foo":1}`, `[1,2,3]`, `{"domain":"x.test","verdict":"maybe"}`, `{"domain":"trunc.test","verdict":"fail","servers":[{"ns":`}
	for i, l := range ls[:6] {
		mixed.Write(l)
		mixed.WriteByte('\n')
		if i < len(junk) {
			mixed.WriteString(junk[i] + "\n")
		}
	}
	mixed.WriteString("\n") // blank lines are not errors
	bad := writeFile(t, "mixed.jsonl", mixed.Bytes())
	want, _, _ := runCmd(t, "report", "--no-color", clean)
	got, stderr, code := runCmd(t, "report", "--no-color", bad)
	if got != want {
		t.Errorf("bad lines changed the report:\n%s\n---\n%s", got, want)
	}
	for _, line := range []int{2, 4, 6, 8, 10} {
		if !strings.Contains(stderr, fmt.Sprintf("mixed.jsonl:%d: skipped", line)) {
			t.Errorf("stderr does not name line %d:\n%s", line, stderr)
		}
	}
	if strings.Count(stderr, "skipped") != len(junk) {
		t.Errorf("stderr reports %d lines, want %d:\n%s", strings.Count(stderr, "skipped"), len(junk), stderr)
	}
	if code == 0 {
		t.Errorf("exit 0 with skipped lines")
	}
	onlyJunk := writeFile(t, "junk.jsonl", []byte(strings.Join(junk, "\n")))
	if _, _, code := runCmd(t, "report", onlyJunk); code != exitUsage {
		t.Errorf("only bad lines: exit %d, want %d", code, exitUsage)
	}
}

// TestReportShardsAnyOrder: the shards of a run, given in any order, read
// as the whole run.
func TestReportShardsAnyOrder(t *testing.T) {
	t.Parallel()
	// A third of the demo's domains (every third line: passing and failing
	// ones), dealt round-robin into three shards; the whole demo made each
	// of the nine renders a second and more under the race detector.
	part := demoPart(t, 3)
	var shards [3]bytes.Buffer
	for i, l := range lines(part) {
		shards[i%3].Write(l)
		shards[i%3].WriteByte('\n')
	}
	var paths []string
	for i := range shards {
		paths = append(paths, writeFile(t, fmt.Sprintf("shard%d.jsonl", i), shards[i].Bytes()))
	}
	whole := writeFile(t, "whole.jsonl", part)
	for _, format := range []string{"table", "json", "markdown"} {
		want, _, _ := runCmd(t, "report", "--no-color", "--summary", "--format", format, whole)
		a, _, _ := runCmd(t, "report", "--no-color", "--summary", "--format", format, paths[0], paths[1], paths[2])
		b, _, _ := runCmd(t, "report", "--no-color", "--summary", "--format", format, paths[2], paths[0], paths[1])
		if a != want || b != want {
			t.Errorf("%s: shards in order %v, reversed %v, same as the whole run", format, a == want, b == want)
		}
	}
}

// flakyProvider answers conformantly until broken is set for its address;
// then that address answers NOTIMP to CAA: a server that starts failing
// between two runs, or fails from one vantage point only.
type flakyProvider struct{ ns1, ns2 atomic.Bool }

func (p *flakyProvider) behaviour() fixtures.Behaviour {
	return fixtures.Behaviour{Name: "FlakyProvider", Respond: func(r *fixtures.Request) *dns.Msg {
		local := r.W.LocalAddr().String()
		broken := (p.ns1.Load() && strings.HasPrefix(local, "127.0.200.11:")) || (p.ns2.Load() && strings.HasPrefix(local, "127.0.200.12:"))
		if broken && r.Msg.Question[0].Qtype == dns.TypeCAA {
			m := new(dns.Msg)
			m.SetRcode(r.Msg, dns.RcodeNotImplemented)
			return m
		}
		return fixtures.Conformant.Respond(r)
	}}
}

var benchMu sync.Mutex // one bench lab at a time: its addresses are fixed

func startFlakyBench(t *testing.T, n int) (*fixtures.Bench, *flakyProvider) {
	t.Helper()
	benchMu.Lock()
	t.Cleanup(benchMu.Unlock)
	p := &flakyProvider{}
	b, err := fixtures.StartBench(fixtures.BenchOptions{N: n, Provider: p.behaviour()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, p
}

func benchCheck(t *testing.T, b *fixtures.Bench, vantage string) []byte {
	t.Helper()
	args := append([]string{"check", "--root", b.Root.String(), "--port", fmt.Sprint(b.Port), "--timeout", "500ms", "--retries", "0",
		"--rate", "0", "--format", "json", "--vantage", vantage}, b.Domains()...)
	out, stderr, code := runCmd(t, args...)
	if code != exitOK && code != exitFindings {
		t.Fatalf("check exit %d: %s", code, stderr)
	}
	return []byte(out)
}

// TestDiffServerStartsFailing: two runs over the bench lab where ns2
// starts answering NOTIMP; diff exits 3 and names the server, the finding
// and the domains; the reverse diff says fixed and exits 0.
func TestDiffServerStartsFailing(t *testing.T) {
	t.Parallel()
	b, p := startFlakyBench(t, 4)
	before := writeFile(t, "before.jsonl", benchCheck(t, b, "cron"))
	p.ns2.Store(true)
	after := writeFile(t, "after.jsonl", benchCheck(t, b, "cron"))

	out, stderr, code := runCmd(t, "diff", before, after)
	if code != exitFindings {
		t.Fatalf("diff exit %d, want 3: %s\n%s", code, stderr, out)
	}
	for _, d := range b.Domains() {
		if !strings.Contains(out, d+"  WORSE") {
			t.Errorf("diff does not call %s worse:\n%s", d, out)
		}
	}
	for _, want := range []string{"newly-failing", "finding-new", "ns2.dns-host.test (127.0.200.12)", "rcode-notimp"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	// A CA's resolver routes around one NOTIMP server (docs/prediction.md):
	// the outcome stays ok until ns1 fails too.
	if strings.Contains(out, "outcome") {
		t.Errorf("diff reports an outcome change while ns1 still answers:\n%s", out)
	}
	if strings.Contains(out, "127.0.200.11") {
		t.Errorf("diff blames ns1, which kept working:\n%s", out)
	}

	js, _, _ := runCmd(t, "diff", "--format", "json", before, after)
	var worse int
	sc := bufio.NewScanner(strings.NewReader(js))
	for sc.Scan() {
		var c runs.Change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("json: %v: %s", err, sc.Text())
		}
		if c.Worse {
			worse++
		}
		if c.Kind == runs.ChangeFindingNew && c.Server != "ns2.dns-host.test (127.0.200.12)" {
			t.Errorf("new finding at %q", c.Server)
		}
	}
	if worse == 0 {
		t.Errorf("json: no change marked worse:\n%s", js)
	}
	md, _, code := runCmd(t, "diff", "--format", "markdown", before, after)
	if code != exitFindings || !strings.Contains(md, "| **worse** | z0.test | newly-failing |") {
		t.Errorf("markdown: exit %d\n%s", code, md)
	}

	out, _, code = runCmd(t, "diff", after, before)
	if code != exitOK || !strings.Contains(out, "fixed") || !strings.Contains(out, "finding-gone") || strings.Contains(out, "WORSE") {
		t.Errorf("reverse diff: exit %d, want 0 and fixed:\n%s", code, out)
	}
	p.ns1.Store(true)
	both := writeFile(t, "both.jsonl", benchCheck(t, b, "cron"))
	out, _, code = runCmd(t, "diff", after, both)
	if code != exitFindings || !strings.Contains(out, "ok → servfail") {
		t.Errorf("diff after ns1 fails too: exit %d, want 3 and ok → servfail:\n%s", code, out)
	}
	out, _, code = runCmd(t, "diff", before, before)
	if code != exitOK || !strings.Contains(out, "0 changed") {
		t.Errorf("diff of a run with itself: exit %d\n%s", code, out)
	}
}

// TestDiffDemo: the demo against itself with a domain dropped and one
// added: gone and new are reported, neither is worse unless it fails.
func TestDiffDemo(t *testing.T) {
	t.Parallel()
	ls := lines(demoJSON(t))
	old := writeFile(t, "old.jsonl", bytes.Join(ls[1:], []byte("\n")))
	cur := writeFile(t, "new.jsonl", bytes.Join(ls[:len(ls)-1], []byte("\n")))
	out, _, _ := runCmd(t, "diff", "--expiry-warning", "0", old, cur)
	first, _ := runs.Decode(ls[0])
	last, _ := runs.Decode(ls[len(ls)-1])
	if !strings.Contains(out, runs.ChangeDomainGone) || !regexp.MustCompile(regexp.QuoteMeta(last.Domain.Domain)+`\n\s+domain-gone`).MatchString(out) {
		t.Errorf("no domain-gone for %s:\n%s", last.Domain.Domain, out)
	}
	if !strings.Contains(out, first.Domain.Domain) {
		t.Errorf("no change for the new domain %s:\n%s", first.Domain.Domain, out)
	}
}

// TestPerspectivesBench: five vantage points over the bench lab. From r1
// and r4 both provider servers fail; from the others both work. One remote
// of three failing is within the quorum, so the CA issues; with r4 too two
// of four remotes fail where one may: the CA does not issue; nor when the
// primary fails.
func TestPerspectivesBench(t *testing.T) {
	t.Parallel()
	b, p := startFlakyBench(t, 3)
	dir := t.TempDir()
	files := map[string]string{}
	for _, v := range []string{"primary", "r1", "r2", "r3", "r4"} {
		p.ns1.Store(v == "r1" || v == "r4")
		p.ns2.Store(v == "r1" || v == "r4")
		files[v] = filepath.Join(dir, v+".jsonl")
		if err := os.WriteFile(files[v], benchCheck(t, b, v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"report", "--perspectives", "--primary", "primary", files["r3"], files["primary"], files["r1"], files["r2"]}
	out, stderr, code := runCmd(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0 (the CA issues): %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"z0.test  CA outcome: PASS", "primary primary", "remote  r1", "✗ fail",
		"server ns1.dns-host.test (127.0.200.11) fails from r1; works from primary, r2, r3",
		"server ns2.dns-host.test (127.0.200.12) fails from r1; works from primary, r2, r3"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	js, _, _ := runCmd(t, append([]string{"report", "--format", "json"}, args[1:]...)...)
	var m struct {
		Domain         string
		CAOutcome      string   `json:"ca_outcome"`
		FailingRemotes []string `json:"failing_remotes"`
		Allowed        int      `json:"allowed_remote_failures"`
	}
	if err := json.Unmarshal(lines([]byte(js))[0], &m); err != nil || m.CAOutcome != string(runs.MPICPass) || !slices.Equal(m.FailingRemotes, []string{"r1"}) || m.Allowed != 1 {
		t.Errorf("json: %+v %v\n%s", m, err, js)
	}
	all := []string{"report", "--perspectives", "--primary", "primary", files["r4"], files["r3"], files["primary"], files["r1"], files["r2"]}
	out, _, code = runCmd(t, all...)
	if code != exitFindings || !strings.Contains(out, "CA outcome: FAIL") || !strings.Contains(out, "fails from r1, r4; works from primary, r2, r3") {
		t.Errorf("with r4: exit %d\n%s", code, out)
	}
	out, _, code = runCmd(t, "report", "--perspectives", "--primary", "r1", files["r3"], files["primary"], files["r1"], files["r2"])
	if code != exitFindings || !strings.Contains(out, "CA outcome: FAIL") || !strings.Contains(out, "the primary r1 fails") {
		t.Errorf("primary r1: exit %d\n%s", code, out)
	}
	html, _, _ := runCmd(t, append([]string{"report", "--format", "html"}, all[1:]...)...)
	for _, want := range []string{"Multi-perspective view", "CA outcome: FAIL", "fails from", "r1, r4"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if _, _, code := runCmd(t, "report", "--perspectives", "--primary", "nowhere", files["r1"]); code != exitUsage {
		t.Errorf("unknown primary: exit %d, want 2", code)
	}
}

// TestReportBenchLab: report and diff read bench-lab's own output (a run
// with no vantage recorded: the file name stands in).
func TestReportBenchLab(t *testing.T) {
	t.Parallel()
	benchMu.Lock()
	defer benchMu.Unlock()
	out := filepath.Join(t.TempDir(), "bench.jsonl")
	if _, stderr, code := runCmd(t, "bench-lab", "-n", "20", "--out", out); code != exitOK {
		t.Fatalf("bench-lab exit %d: %s", code, stderr)
	}
	table, stderr, code := runCmd(t, "report", "--no-color", "--summary", out)
	if code != exitOK || strings.Count(table, "  PASS  ") != 20 || !strings.Contains(table, "Provider view: 20 domains, 0 failing") {
		t.Errorf("report of bench-lab: exit %d %s\n%.1500s", code, stderr, table)
	}
	if _, _, code := runCmd(t, "diff", out, out); code != exitOK {
		t.Errorf("diff of bench-lab with itself: exit %d", code)
	}
}
