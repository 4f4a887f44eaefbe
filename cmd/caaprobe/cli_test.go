package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/spf13/cobra"
)

// binResult is what one run of the real binary did.
type binResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// runBinary runs caaprobe as a user does (caaprobeBin, see TestMain),
// with stdin from the given text (nil: /dev/null).
func runBinary(t *testing.T, stdin *string, args ...string) binResult {
	t.Helper()
	return runBinaryEnv(t, nil, stdin, args...)
}

// runBinaryEnv is runBinary with env (KEY=value) added to the binary's
// environment: a test that sets COLUMNS this way can run in parallel,
// which t.Setenv forbids.
func runBinaryEnv(t *testing.T, env []string, stdin *string, args ...string) binResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, caaprobeBin, args...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(*stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := binResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return res
}

func labArgs(lab *fixtures.Lab, args ...string) []string {
	return append([]string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1"}, args...)
}

// TestPreflightBlocked is the done-when: with outbound DNS
// blocked (the root drops every query, UDP and TCP), check exits 1 within
// 10 s, says outbound DNS looks blocked or intercepted, and gives no
// verdict. In parallel with the other tests: the time is the preflight's
// own timeouts (about 5 s), with 5 s of margin for a loaded machine.
func TestPreflightBlocked(t *testing.T) {
	t.Parallel()
	root, err := fixtures.StartDroppingRoot(netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r := runBinary(t, nil, "check", "example.com", "--root", fmt.Sprintf("127.0.0.1:%d", root.Port))
	if r.code != exitInternal {
		t.Errorf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	if r.took > 10*time.Second {
		t.Errorf("took %v, want under 10 s", r.took)
	}
	for _, want := range []string{"outbound DNS looks blocked or intercepted", "127.0.0.1", "none replied", "--root"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("a verdict was printed: %s", r.stdout)
	}
}

// TestPreflightIntercepted: UDP answered NXDOMAIN without AA, TCP
// refused: exit 1, the message says intercepted and what came back.
func TestPreflightIntercepted(t *testing.T) {
	t.Parallel()
	root, err := fixtures.StartInterceptingRoot(netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	r := runBinary(t, nil, "check", "--root", "127.0.0.1", "--port", fmt.Sprint(root.Port), "-4", "example.com", "--format", "json")
	if r.code != exitInternal {
		t.Errorf("exit %d, want 1; stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"outbound DNS looks blocked or intercepted", "intercepted", "NXDOMAIN"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "verdict") {
		t.Errorf("a verdict was printed: %s", r.stdout)
	}
}

// TestPreflightOneFamily: the IPv6 root drops, the IPv4 root (the lab)
// answers: said once on stderr, and the check goes on over IPv4.
func TestPreflightOneFamily(t *testing.T) {
	t.Parallel()
	// A lab of ok.test alone: the full lab serves one case on ::1.
	var cases []fixtures.Case
	for _, c := range fixtures.Cases {
		if c.Zone == "ok.test" {
			cases = append(cases, c)
		}
	}
	lab, err := fixtures.Start(fixtures.Options{Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	v6, err := fixtures.StartDroppingRoot(netip.MustParseAddr("::1"), lab.Port)
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer v6.Close()
	r := runBinary(t, nil, "check", "--root", lab.Root.String()+",::1", "--port", fmt.Sprint(lab.Port), "--timeout", "1", "ok.test")
	if r.code != exitOK {
		t.Errorf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "no IPv6 root server address answered"); n != 1 {
		t.Errorf("the missing family is said %d times, want once:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stdout, "ok.test") {
		t.Errorf("ok.test not checked:\n%s", r.stdout)
	}
}

// TestOptionsAnywhere: flags after the names are flags, not names.
func TestOptionsAnywhere(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	r := runBinary(t, nil, "check", "notimp.test", "--format", "json", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1")
	if r.code != exitFindings {
		t.Errorf("exit %d, want 3; stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], `{"domain":"notimp.test"`) {
		t.Errorf("want one JSON line for notimp.test, got %d lines:\n%.500s", len(lines), r.stdout)
	}
	// --rate after a name is read: a bad value there is refused, naming it
	// (a valid one would only slow the run down, which no test can see
	// without timing it).
	r = runBinary(t, nil, labArgs(lab, "ok.test", "--rate", "-1")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--rate -1") {
		t.Errorf("--rate -1 after the name: exit %d, stderr %s", r.code, r.stderr)
	}
	// --shard after the names is honoured.
	r = runBinary(t, nil, append(labArgs(lab, "ok.test", "www.flag1.test", "--shard", "0/4"), "--format", "json")...)
	if !strings.Contains(r.stderr, "shard 0/4:") {
		t.Errorf("--shard after the names ignored; stderr %s", r.stderr)
	}
	if n := strings.Count(r.stdout, `"domain"`); n > 1 {
		t.Errorf("shard 0/4 of two names of different domains printed %d results", n)
	}
}

// TestVersion: --version, -v and version print the build information.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		r := runBinary(t, nil, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "caaprobe ") || !strings.Contains(r.stdout, "revision") || !strings.Contains(r.stdout, "go1.") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestHelp: help CMD and CMD -h print that command's help on stdout.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help", "check"}, {"check", "-h"}, {"check", "--help"}} {
		r := runBinary(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "caaprobe check [flags]") || !strings.Contains(r.stdout, "--timeout") {
			t.Errorf("%v: exit %d, stdout %.300q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runBinary(t, nil, "help", "diff")
	if !strings.Contains(r.stdout, "--expiry-warning") {
		t.Errorf("help diff: %s", r.stdout)
	}
}

// TestUnknownFlagShort: an unknown flag is one short error with a
// suggestion, not the whole usage.
func TestUnknownFlagShort(t *testing.T) {
	t.Parallel()
	r := runBinary(t, nil, "check", "--colour", "always", "ok.test")
	if r.code != exitUsage {
		t.Errorf("exit %d, want 2", r.code)
	}
	if !strings.Contains(r.stderr, "unknown flag --colour (did you mean --color?)") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n > 3 {
		t.Errorf("the error takes %d lines:\n%s", n, r.stderr)
	}
	r = runBinary(t, nil, "chek", "ok.test")
	if r.code != exitUsage || !strings.Contains(r.stderr, "did you mean check?") {
		t.Errorf("unknown command: exit %d, %s", r.code, r.stderr)
	}
}

// TestEveryFlagParses: each flag of check the earlier versions had still
// parses with its meaning (values are checked by config), in the GNU form
// and, where it was written so, the single-dash form.
func TestEveryFlagParses(t *testing.T) {
	t.Parallel()
	anchor := filepath.Join(t.TempDir(), "anchor")
	os.WriteFile(anchor, []byte(". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"), 0o644)
	flags := [][]string{
		{"--root", "127.0.0.1"}, {"-root", "127.0.0.1"}, {"--port", "5353"}, {"--timeout", "2s"}, {"--timeout", "2"}, {"-timeout=0.5"},
		{"--retries", "1"}, {"--format", "json"}, {"-format", "markdown"}, {"--evidence", t.TempDir()}, {"--no-color"}, {"--color", "never"},
		{"--strict"}, {"-f", "/dev/null"}, {"--ca", "example.net"}, {"-ca", "example.net"}, {"-4"}, {"-6"},
		{"--ns", "ok.test=ns1.ok.test/127.0.0.1"}, {"--probes", "caa,caa-tcp"}, {"--concurrency", "4"}, {"--deadline", "30s"}, {"--deadline", "30"},
		{"--max-referrals", "10"}, {"--max-cname", "4"}, {"--max-ns", "5"}, {"--max-bytes", "4096"}, {"--resolver", "127.0.0.1:5353"},
		{"--resolver-timeout", "3"}, {"--cert", "/dev/null"}, {"--shard", "0/2"}, {"--summary"}, {"--rate", "5"}, {"--trust-anchor", anchor},
		{"--vantage", "lab"},
	}
	for _, fl := range flags {
		var f checkFlags
		cmd := &cobra.Command{Use: "check"}
		f.register(cmd.Flags())
		args := longForms(cmd, fl)
		if err := cmd.Flags().Parse(args); err != nil {
			t.Errorf("%v: %v", fl, err)
			continue
		}
		if _, err := f.config(); err != nil && !strings.Contains(err.Error(), "--force") {
			t.Errorf("%v: config: %v", fl, err)
		}
	}
	// Values that change meaning are read as before.
	var f checkFlags
	cmd := &cobra.Command{Use: "check"}
	f.register(cmd.Flags())
	if err := cmd.Flags().Parse(longForms(cmd, []string{"-timeout", "1.5", "--deadline=90", "-4", "--ns", "a.test=ns.a.test/127.0.0.9", "--ns", "b.test=127.0.0.8"})); err != nil {
		t.Fatal(err)
	}
	if f.timeout != 1500*time.Millisecond || f.deadline != 90*time.Second || !f.ipv4 || len(f.pins) != 2 {
		t.Errorf("timeout %v deadline %v ipv4 %v pins %v", f.timeout, f.deadline, f.ipv4, f.pins)
	}
}

// TestCompletionAndMan: completion scripts for bash, zsh and fish, and man
// pages that groff renders, from the same definitions.
func TestCompletionAndMan(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runBinary(t, nil, "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "caaprobe") {
			t.Errorf("completion %s: exit %d, %.200s %s", sh, r.code, r.stdout, r.stderr)
		}
		if sh == "bash" {
			if _, err := exec.LookPath("bash"); err == nil {
				c := exec.Command("bash", "-n")
				c.Stdin = strings.NewReader(r.stdout)
				if out, err := c.CombinedOutput(); err != nil {
					t.Errorf("bash -n on the completion script: %v %s", err, out)
				}
			}
		}
	}
	dir := t.TempDir()
	r := runBinary(t, nil, "man", dir)
	if r.code != 0 {
		t.Fatalf("man: exit %d %s", r.code, r.stderr)
	}
	page := filepath.Join(dir, "caaprobe-check.1")
	if _, err := os.Stat(page); err != nil {
		t.Fatal(err)
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("no groff to render the page")
	}
	c := exec.Command(groff, "-man", "-Tascii", "-P-c", "-P-b", "-P-u", "-Wall", page)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("groff: %v %s", err, out)
	}
	text := string(out)
	// groff may set hyphens as U+2010; compare on ASCII.
	text = strings.NewReplacer("\u2010", "-", "\u2212", "-").Replace(text)
	for _, want := range []string{"caaprobe-check", "--timeout", "--root", "EXAMPLE", "notimp.test --root"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered man page lacks %q", want)
		}
	}
}

// TestStdinWithoutDash: names piped on stdin are read without "-".
func TestStdinWithoutDash(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	in := "ok.test\nok.test.\n# a comment\n"
	r := runBinary(t, &in, labArgs(lab, "--format", "json")...)
	if r.code != exitOK {
		t.Errorf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, `"domain":"ok.test"`); n != 1 {
		t.Errorf("ok.test reported %d times, want once (the second line repeats it):\n%.300s", n, r.stdout)
	}
	if !strings.Contains(r.stderr, "stdin:2: duplicate of stdin:1") {
		t.Errorf("the repeat is not noted: %s", r.stderr)
	}
	// No names and no stdin: a usage error that says how to give names.
	r = runBinary(t, nil, labArgs(lab)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no names to check") {
		t.Errorf("no names: exit %d, %s", r.code, r.stderr)
	}
}

// okServer is the lab's server of ok.test: its NS name and address.
func okServer(t *testing.T, lab *fixtures.Lab) (string, string) {
	t.Helper()
	for _, s := range lab.Servers {
		if len(s.Zones) > 0 && s.Zones[0].Origin == "ok.test." {
			return strings.TrimSuffix(s.Name, "."), s.Addr.String()
		}
	}
	t.Fatal("no ok.test server in the lab")
	return "", ""
}

// TestPins: --ns ZONE=ADDR, ZONE=NAME (looked up from the roots) and
// ZONE=NAME/ADDR pin the zone's servers, marked (pinned) in the table; a
// pin no name reaches is an error.
func TestPins(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	name, addr := okServer(t, lab)
	for _, pin := range []string{"ok.test=" + addr, "ok.test=" + name, "ok.test=" + name + "/" + addr, "OK.test.=" + name + "."} {
		r := runBinary(t, nil, labArgs(lab, "ok.test", "--ns", pin)...)
		if r.code != exitOK {
			t.Errorf("--ns %s: exit %d; stderr %s", pin, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, "(pinned)") || !strings.Contains(r.stdout, addr) {
			t.Errorf("--ns %s: no pinned row at %s:\n%s", pin, addr, r.stdout)
		}
	}
	r := runBinary(t, nil, labArgs(lab, "ok.test", "--ns", "elsewhere.test="+addr)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--ns elsewhere.test: no name checked reaches this zone") {
		t.Errorf("unused pin: exit %d; stderr %s", r.code, r.stderr)
	}
	r = runBinary(t, nil, labArgs(lab, "ok.test", "--ns", "ok.test=no-such-host.test")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "looking up no-such-host.test") {
		t.Errorf("pin by a name that does not resolve: exit %d; stderr %s", r.code, r.stderr)
	}
}

// TestRootPortForms: --root ADDR:PORT sets the port for every server (a
// lab); a port that contradicts --port is a usage error.
func TestRootPortForms(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	r := runBinary(t, nil, "check", "--root", fmt.Sprintf("%s:%d", lab.Root, lab.Port), "--timeout", "1", "ok.test")
	if r.code != exitOK {
		t.Errorf("--root ADDR:PORT: exit %d; %s", r.code, r.stderr)
	}
	r = runBinary(t, nil, "check", "--root", fmt.Sprintf("%s:%d", lab.Root, lab.Port), "--port", "53", "ok.test")
	if r.code != exitUsage || !strings.Contains(r.stderr, "differs from --port 53") {
		t.Errorf("conflicting ports: exit %d; %s", r.code, r.stderr)
	}
	for _, s := range []string{"[::1]:5353", "::1", "[::1]", "127.0.0.1:53"} {
		if _, err := parseRoot(s); err != nil {
			t.Errorf("parseRoot(%q): %v", s, err)
		}
	}
	if _, err := parseRoot("[::1]:0"); err == nil {
		t.Error("port 0 accepted")
	}
}

// TestResolverChecked: a --resolver that answers authoritatively is
// warned about; one that does not answer is left out (no "agrees").
func TestResolverChecked(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	// The lab's root answers . SOA itself, with AA and without RA.
	r := runBinary(t, nil, labArgs(lab, "ok.test", "--format", "json", "--resolver", fmt.Sprintf("%s:%d", lab.Root, lab.Port))...)
	if !strings.Contains(r.stderr, "answers without recursion (RA clear, AA set, NOERROR): it looks like an authoritative server") {
		t.Errorf("no warning for an authoritative --resolver: %s", r.stderr)
	}
	silent, err := fixtures.StartDroppingRoot(netip.MustParseAddr("127.0.0.1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	r = runBinary(t, nil, labArgs(lab, "ok.test", "--format", "json", "--resolver-timeout", "0.5", "--resolver", fmt.Sprintf("127.0.0.1:%d", silent.Port))...)
	if !strings.Contains(r.stderr, "did not answer") {
		t.Errorf("no warning for a silent --resolver: %s", r.stderr)
	}
	if strings.Contains(r.stdout, `"agrees"`) {
		t.Errorf("a silent resolver is compared: %s", r.stdout)
	}
	if r.code != exitOK {
		t.Errorf("exit %d, want 0 (ok.test passes)", r.code)
	}
}

// TestCertSkips: --cert says how many certificates it skipped and why.
func TestCertSkips(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "chain.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	r := runBinary(t, nil, labArgs(lab, "--cert", dir)...)
	if r.code != exitUsage {
		t.Errorf("exit %d, want 2 (no names)", r.code)
	}
	if !strings.Contains(r.stderr, "0 leaf certificate(s) used from 1 file(s); skipped 1 CA certificate(s)") {
		t.Errorf("stderr does not say what was skipped: %s", r.stderr)
	}
}

// TestOutputFile: --output FILE takes the report instead of stdout (a
// container without a shell cannot redirect).
func TestOutputFile(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	path := filepath.Join(t.TempDir(), "run.jsonl")
	r := runBinary(t, nil, labArgs(lab, "ok.test", "-o", path, "--format", "json")...)
	if r.code != exitOK || r.stdout != "" {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(data), `{"domain":"ok.test"`) {
		t.Errorf("--output file: %v %.200s", err, data)
	}
}

// TestSubcommandFlagsParse: every flag of the other commands still parses
// (GNU form; single-dash long forms are rewritten as for check).
func TestSubcommandFlagsParse(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"report", "--format", "json", "--summary", "--only-failing", "--perspectives", "--primary", "fra", "--no-color", "a.jsonl"},
		{"report", "-format", "markdown", "-summary", "a.jsonl"},
		{"diff", "--format", "markdown", "--expiry-warning", "24h", "a", "b"},
		{"diff", "--expiry-warning", "3600", "a", "b"},
		{"bench-lab", "-n", "10", "--shape", "vanity", "--out", "x", "--blockprofile", "b", "--memprofile", "m", "--cpuprofile", "c", "--probes", "caa"},
		{"bench-lab", "--zones", "10"},
		{"lab", "--port", "5353"},
		{"lab", "-port", "5353"},
		{"probes", "--markdown"},
		{"demo", "--lab-port", "5300", "--format", "json", "--timeout", "1", "--evidence", "dir", "--force"},
	} {
		root := newRoot(&cliEnv{ctx: context.Background()})
		args = longForms(root, args)
		c, rest, err := root.Find(args)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if err := c.ParseFlags(rest); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}
