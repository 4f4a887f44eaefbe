package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type jsonLine struct {
	Domain  string `json:"domain"`
	Verdict string `json:"verdict"`
	Error   string `json:"error"`
	Source  string `json:"source"`
}

func parseLines(t *testing.T, out []byte) []jsonLine {
	t.Helper()
	var got []jsonLine
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var j jsonLine
		if err := json.Unmarshal(l, &j); err != nil {
			t.Fatalf("output line is not whole JSON: %v: %s", err, l)
		}
		got = append(got, j)
	}
	return got
}

// TestInterruptInProcess cancels the run while the second domain (a server
// that drops CAA, so every probe waits out its timeout) is in flight: the
// first is reported in full, the second and third as interrupted, in order,
// and the exit status is not 0.
func TestInterruptInProcess(t *testing.T) {
	lab := startLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	go func() {
		// ok.test finishes in milliseconds; drop.test takes seconds.
		time.Sleep(700 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	err := run(ctx, []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--format", "json",
		"--concurrency", "1", "--timeout", "2s", "ok.test", "drop.test", "notimp.test"}, nil, &stdout, &stderr)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("interrupted run took %v", el)
	}
	if exitOf(err) == 0 {
		t.Errorf("exit 0 after an interrupt")
	}
	got := parseLines(t, stdout.Bytes())
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(got), stdout.String())
	}
	if got[0].Domain != "ok.test" || got[0].Verdict != "pass" {
		t.Errorf("first line %+v, want ok.test pass", got[0])
	}
	for _, j := range got[1:] {
		if j.Verdict != "error" || j.Error != "interrupted" {
			t.Errorf("%s: verdict %s error %q, want error: interrupted", j.Domain, j.Verdict, j.Error)
		}
	}
}

// TestInterruptSubprocess sends a real SIGINT to caaprobe once the first
// domain's line is out.
func TestInterruptSubprocess(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	lab := startLab(t)
	cmd := exec.Command(caaprobeBin, "check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--format", "json",
		"--concurrency", "1", "--timeout", "3s", "ok.test", "drop.test", "notimp.test")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var lines bytes.Buffer
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		first := true
		for sc.Scan() {
			lines.Write(sc.Bytes())
			lines.WriteByte('\n')
			if first {
				first = false
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("caaprobe did not stop within 20s of SIGINT")
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Errorf("exit %v after SIGINT, want non-zero; stderr: %s", err, stderr.String())
	}
	got := parseLines(t, lines.Bytes())
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3 (every domain present):\n%s", len(got), lines.String())
	}
	if got[0].Verdict != "pass" {
		t.Errorf("first line %+v, want the finished ok.test", got[0])
	}
	if got[2].Error != "interrupted" {
		t.Errorf("last line %+v, want error: interrupted", got[2])
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted: %s", stderr.String())
	}
}

// TestBadInputLines: every kind of bad line gets an error on stderr naming
// file:line, a JSON line with verdict error, and the good name is still
// checked.
func TestBadInputLines(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	long := strings.Repeat("a", 64) + ".test"
	bad := []string{
		"",                  // 1: empty lines are skipped, not errors
		long,                // 2: label over 63 bytes
		"bad_label!.test",   // 3
		"a..test",           // 4
		"xn--zz-bad.test",   // 5: an A-label that is not valid IDNA
		"\x00\x01\xff.test", // 6: binary junk
		"ok.test",           // 7: good
		"ok.test",           // 8: duplicate: checked once, noted on stderr
		strings.Repeat("abcdefghi.", 30) + "test", // 9: name over 253 bytes
	}
	path := filepath.Join(t.TempDir(), "names.txt")
	if err := os.WriteFile(path, []byte(strings.Join(bad, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--format", "json",
		"--timeout", "500ms", "-f", path}, nil, &stdout, &stderr)
	if exitOf(err) != exitOK {
		t.Errorf("exit %d: want 0, the good name passes and the bad lines are only reported", exitOf(err))
	}
	got := parseLines(t, stdout.Bytes())
	okSeen := false
	errLines := map[string]bool{}
	for _, j := range got {
		if j.Domain == "ok.test" && j.Verdict == "pass" {
			okSeen = true
			continue
		}
		if j.Verdict != "error" || j.Error == "" {
			t.Errorf("line %+v: want verdict error with a message", j)
		}
		errLines[j.Source] = true
	}
	if !okSeen {
		t.Errorf("the good name was not checked:\n%s", stdout.String())
	}
	if n := strings.Count(stdout.String(), `"domain":"ok.test"`); n != 1 {
		t.Errorf("ok.test reported %d times, want once", n)
	}
	if !strings.Contains(stderr.String(), ":8: duplicate of ") {
		t.Errorf("stderr does not note the repeat on line 8:\n%s", stderr.String())
	}
	for _, line := range []int{2, 3, 4, 5, 6, 9} {
		where := fmt.Sprintf("%s:%d", path, line)
		if !strings.Contains(stderr.String(), where) {
			t.Errorf("stderr does not name %s:\n%s", where, stderr.String())
		}
		if !errLines[where] && !errLines[fmt.Sprintf("names.txt:%d", line)] {
			t.Errorf("no JSON error line with source %s; sources %v", where, errLines)
		}
	}
}

// TestLabThenCheckSubprocesses is issue 2's acceptance check as a user
// runs it: `caaprobe lab` in one process, `caaprobe check --root --port
// --format json notimp.test` in another; check reports rcode-notimp on the
// lab's NOTIMP server and exits 3.
func TestLabThenCheckSubprocesses(t *testing.T) {
	t.Parallel()
	lab := exec.Command(caaprobeBin, "lab")
	out, err := lab.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lab.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		lab.Process.Signal(syscall.SIGINT)
		lab.Wait()
	}()
	// The address table: "caaprobe lab on port N (root A)", then one line
	// per server: name, address, behaviour, zones.
	var port, root, notimpAddr string
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(10*time.Second, func() { lab.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		line := sc.Text()
		if _, err := fmt.Sscanf(line, "caaprobe lab on port %s (root %s", &port, &root); err == nil {
			root = strings.TrimSuffix(root, ")")
		}
		if f := strings.Fields(line); len(f) >= 4 && f[2] == "NotimpCAA" && f[3] == "notimp.test" {
			notimpAddr = f[1]
		}
		if strings.HasPrefix(line, "Serving until interrupted") {
			break
		}
	}
	if port == "" || root == "" || notimpAddr == "" {
		t.Fatalf("could not read the lab's table: port %q root %q notimp %q", port, root, notimpAddr)
	}
	check := exec.Command(caaprobeBin, "check", "--root", root, "--port", port, "--timeout", "1s", "--format", "json", "notimp.test")
	stdout, err := check.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFindings {
		t.Fatalf("check exit: %v, want status %d; output %s", err, exitFindings, stdout)
	}
	var res struct {
		Findings []struct{ Code, Addr string }
	}
	if err := json.Unmarshal(stdout, &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	found := false
	for _, f := range res.Findings {
		if f.Code == "rcode-notimp" {
			found = true
			if f.Addr != notimpAddr {
				t.Errorf("rcode-notimp at %s, the lab's NOTIMP server is %s", f.Addr, notimpAddr)
			}
		}
	}
	if !found {
		t.Errorf("no rcode-notimp in %s", stdout)
	}
}
