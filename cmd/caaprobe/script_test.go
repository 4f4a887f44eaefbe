package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/rogpeppe/go-internal/testscript"
)

// caaprobeBin is the caaprobe that the end-to-end tests run as a user
// does: built by TestMain with go build, without -race, and put first on
// the scripts' PATH. A subprocess of the race test binary cost about four
// times the CPU of the real binary (0.2 CPU-s only to start, against
// 0.05), and the tests start over a hundred of them; the code they run is
// also run in-process under the race detector (runCmd, the shared demo).
var caaprobeBin string

// TestMain builds caaprobeBin, runs the tests and removes what they
// shared: the binary and the demo run's evidence folder (demoEvidence).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "caaprobe-bin-*")
	if err == nil {
		caaprobeBin = filepath.Join(dir, "caaprobe")
		err = buildCaaprobe(caaprobeBin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "building caaprobe for the end-to-end tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if demoOnce.evidence != "" {
		os.RemoveAll(demoOnce.evidence)
	}
	os.Exit(code)
}

// buildCaaprobe builds this package to out with the go command on PATH
// (the one `go test` and make run).
func buildCaaprobe(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	cmd := exec.Command(goTool, "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, b)
	}
	return nil
}

// TestScripts runs the command-line scripts in testdata/script/*.txtar
// (docs/architecture.md, "CLI scripts"): each is a list of caaprobe
// commands with the exit status, the output lines and the golden files
// they must give. UPDATE_SCRIPTS=1 rewrites the golden files in the
// archives from what the commands printed.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") == "1",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               scriptEnv,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": cmdExitcode, "waitfile": cmdWaitfile, "demotable": cmdDemoTable},
	})
}

// scriptEnv makes the output of a script the same on every machine: no
// colour, a fixed table width, a home and a temporary directory of the
// script's own (the lab writes its trust anchor into TMPDIR), LABPORT, a
// port for `caaprobe lab --port` that was free a moment ago, and
// caaprobeBin first on PATH.
func scriptEnv(e *testscript.Env) error {
	home := filepath.Join(e.WorkDir, "home")
	tmp := filepath.Join(e.WorkDir, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	port, err := freeLabPort()
	if err != nil {
		return err
	}
	e.Setenv("NO_COLOR", "1")
	e.Setenv("COLUMNS", "100")
	e.Setenv("HOME", home)
	e.Setenv("TMPDIR", tmp)
	e.Setenv("LABPORT", strconv.Itoa(port))
	e.Setenv("PATH", filepath.Dir(caaprobeBin)+string(os.PathListSeparator)+e.Getenv("PATH"))
	return nil
}

// freeLabPort is a port that nothing on the lab's root address or on ::1
// holds over UDP or TCP, below Linux's ephemeral range (32768 up) so that
// no client socket takes it between this check and the lab's bind.
func freeLabPort() (int, error) {
	var last error
	for range 50 {
		port := 20000 + rand.IntN(12000)
		if last = portFree(port); last == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port for the lab: %w", last)
}

func portFree(port int) error {
	for _, host := range []string{"127.0.0.2", "127.0.0.3", "::1"} {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		u.Close()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		l.Close()
	}
	return nil
}

// cmdExitcode is the script command "exitcode N PROGRAM [ARGS...]": run
// the program (like exec) and fail unless it exits with status N. exec and
// "! exec" only tell zero from non-zero; caaprobe's statuses each have one
// meaning (docs/cli.md), so the scripts check the number.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("exitcode: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("exitcode: running %s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdWaitfile is the script command "waitfile FILE": wait until FILE
// exists and is not empty, at most 15 s. A background `caaprobe lab` writes its trust
// anchor once every server listens, so a check started after it finds
// the lab up.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	name := ts.MkAbs(args[0])
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, err := os.Stat(name); err == nil && st.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s did not appear within 15 s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdDemoTable is the script command "demotable COLUMNS": the last
// command's stdout is the demo's table, and it must show every lab case
// with every finding code it expects (fixtures.Cases), fit COLUMNS, fold
// the healthy parent rows (the TLD's server is not a row of any domain's
// grid) and end with the provider view. What the lab must show is Go
// data, so it is read here, not spelled out in the script.
func cmdDemoTable(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: demotable COLUMNS")
	}
	width, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("demotable: %q is not a width", args[0])
	}
	if problems := demoTableProblems(ts.ReadFile("stdout"), width); len(problems) > 0 {
		ts.Fatalf("demotable: the demo's table is not as the lab requires:\n%s", strings.Join(problems, "\n"))
	}
}

func demoTableProblems(out string, width int) []string {
	var problems []string
	for _, c := range fixtures.Cases {
		if !strings.Contains(out, c.Zone+"  ") {
			problems = append(problems, "demo output lacks "+c.Zone)
		}
		for _, code := range c.Expect {
			if !strings.Contains(out, code) {
				problems = append(problems, fmt.Sprintf("demo output lacks %s for %s", code, c.Zone))
			}
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > width {
			problems = append(problems, fmt.Sprintf("line %d is %d columns: %q", i+1, n, l))
		}
	}
	if domains := strings.Count(out, "  resolver outcome: "); domains < 40 {
		problems = append(problems, fmt.Sprintf("%d domains in the output", domains))
	}
	if strings.Contains(out, "    ns.nic.test 127.0.0.3:") {
		problems = append(problems, "a healthy TLD row is listed instead of folded")
	}
	if n := strings.Count(out, "  test: 1 server answers every probe as required"); n < 30 {
		problems = append(problems, fmt.Sprintf("the TLD is folded in %d domains", n))
	}
	if !strings.Contains(out, "Provider view:") {
		problems = append(problems, "no provider view at the end of the demo")
	}
	return problems
}
