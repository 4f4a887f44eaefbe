//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const oldReport = "the old report\n"

// outputDir returns a directory holding FILE with the old report.
func outputDir(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "run.out")
	if err := os.WriteFile(path, []byte(oldReport), 0o640); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// assertOld checks that FILE still holds the old report and that no
// temporary file is left beside it.
func assertOld(t *testing.T, dir, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != oldReport {
		t.Errorf("-o file after a failed run: %q, %v; want the old report kept", b, err)
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// runSh runs caaprobeBin under a shell prefix (a ulimit).
func runSh(t *testing.T, prefix string, args ...string) binResult {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", prefix + ` exec "$0" "$@"`, caaprobeBin}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := binResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestOutputAtomicFullDisk: a write that fails part-way (the file size
// limit, `ulimit -f`, as a full disk would: EFBIG instead of ENOSPC) exits
// 1 naming -o FILE and leaves the old file whole, with no temporary file;
// check and report alike.
func TestOutputAtomicFullDisk(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	saved := writeFile(t, "run.jsonl", []byte(runBinary(t, nil, labArgs(lab, "--format", "json", "ok.test", "notimp.test", "casesig.test")...).stdout))
	for _, tc := range []struct {
		name string
		args func(path string) []string
	}{
		{"check", func(path string) []string {
			return labArgs(lab, "--format", "json", "-o", path, "ok.test", "notimp.test", "casesig.test")
		}},
		{"report", func(path string) []string { return []string{"report", "-o", path, saved} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := outputDir(t)
			// 2 blocks: the first domain's line fits, the rest does not.
			r := runSh(t, "ulimit -f 2 &&", tc.args(path)...)
			if r.code != exitInternal || !strings.Contains(r.stderr, "--output "+path) {
				t.Errorf("exit %d, want %d naming --output %s; stderr: %s", r.code, exitInternal, path, r.stderr)
			}
			assertOld(t, dir, path)
		})
	}
}

// TestOutputAtomicReplace: a run that writes its report replaces FILE
// whole with what stdout would have had, keeping FILE's permissions;
// report -o too.
func TestOutputAtomicReplace(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	want := runBinary(t, nil, labArgs(lab, "--format", "json", "--vantage", "v", "ok.test", "notimp.test")...)
	saved := writeFile(t, "run.jsonl", []byte(want.stdout))
	table := runBinary(t, nil, "report", saved)
	sorted := runBinary(t, nil, "report", "--format", "json", saved)
	for _, tc := range []struct {
		name, want string
		code       int
		args       func(path string) []string
	}{
		{"report", table.stdout, exitFindings, func(path string) []string { return []string{"report", "-o", path, saved} }},
		{"report json", sorted.stdout, exitFindings, func(path string) []string { return []string{"report", "--format", "json", "--output", path, saved} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := outputDir(t)
			r := runBinary(t, nil, tc.args(path)...)
			if r.code != tc.code || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing on stdout", r.code, r.stdout, tc.code)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != tc.want {
				t.Errorf("-o file: %v\n%.300s\nwant\n%.300s", err, b, tc.want)
			}
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, %v; want the old file's 0640", st.Mode(), err)
			}
			assertNoTemp(t, dir)
		})
	}
	// check -o FILE: the lines as on stdout (but for the time of the check).
	dir, path := outputDir(t)
	r := runBinary(t, nil, labArgs(lab, "--format", "json", "-o", path, "ok.test", "notimp.test")...)
	b, _ := os.ReadFile(path)
	if r.code != exitFindings || len(lines(b)) != 2 || !bytes.HasPrefix(b, []byte(`{"domain":"ok.test"`)) {
		t.Errorf("check -o: exit %d, file %.200q", r.code, b)
	}
	assertNoTemp(t, dir)
}

// TestOutputAtomicInterrupt: SIGTERM while check -o FILE runs (names still
// coming on stdin) removes the temporary file and keeps the old FILE.
func TestOutputAtomicInterrupt(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	dir, path := outputDir(t)
	cmd := exec.Command(caaprobeBin, labArgs(lab, "--format", "json", "-o", path)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	fmt.Fprintln(stdin, "ok.test")
	// Wait for the run to have started writing: the temporary file.
	for started := false; !started; {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			started = started || strings.Contains(e.Name(), ".tmp-")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	stdin.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInternal {
		t.Errorf("exit %v after SIGTERM, want %d; stderr: %s", err, exitInternal, stderr.String())
	}
	assertOld(t, dir, path)
}

// TestReportSummaryJSON: report --summary --format json writes the
// provider view as check --summary --format json does: one line of JSON on
// stderr, the same view for the same run, and stdout only domain lines.
func TestReportSummaryJSON(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	chk := runBinary(t, nil, labArgs(lab, "--format", "json", "--summary", "ok.test", "notimp.test", "split.test")...)
	view := func(stderr string) string {
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, "{") {
				return l
			}
		}
		return ""
	}
	want := view(chk.stderr)
	if !strings.Contains(want, `"kind":"provider-view"`) {
		t.Fatalf("check --summary --format json: no provider view on stderr: %s", chk.stderr)
	}
	saved := writeFile(t, "run.jsonl", []byte(chk.stdout))
	rep := runBinary(t, nil, "report", "--summary", "--format", "json", saved)
	if got := view(rep.stderr); got != want {
		t.Errorf("report's provider view:\n%s\ncheck's:\n%s", got, want)
	}
	for _, l := range lines([]byte(rep.stdout)) {
		var d struct{ Domain string }
		if err := json.Unmarshal(l, &d); err != nil || d.Domain == "" {
			t.Errorf("stdout line is not a domain: %s", l)
		}
	}
	if len(lines([]byte(rep.stdout))) != 3 {
		t.Errorf("stdout: %d lines, want 3", len(lines([]byte(rep.stdout))))
	}
}

// blockedInOpen reports whether a thread of process pid waits in open(2)
// for a FIFO's writer (Linux: wait_for_partner); ok is false when this
// system does not show it.
func blockedInOpen(pid int) (blocked, ok bool) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false, false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/wchan", pid, task.Name()))
		if err != nil {
			return false, false
		}
		if strings.Contains(string(b), "wait_for_partner") || strings.Contains(string(b), "fifo_open") {
			return true, true
		}
	}
	return false, true
}

// TestFIFOWithoutWriterInterruptible is issue 23's item 4: check -f FIFO
// with no writer waits in open(2); SIGTERM (and SIGINT) end it, exit 1,
// saying it was interrupted.
func TestFIFOWithoutWriterInterruptible(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "names.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skip("mkfifo:", err)
			}
			cmd := exec.Command(caaprobeBin, labArgs(lab, "--format", "json", "-f", fifo)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer cmd.Process.Kill()
			// Wait until it waits for a writer, however slow the machine.
			for {
				blocked, ok := blockedInOpen(cmd.Process.Pid)
				if !ok {
					t.Skip("this system does not show a process waiting in open(2)")
				}
				if blocked {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("exited before waiting for the FIFO: %v; stderr: %s", err, stderr.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			cmd.Process.Signal(sig)
			var err2 error
			select {
			case err2 = <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("still running 60 s after %v, blocked in open(2)", sig)
			}
			if ee, ok := err2.(*exec.ExitError); !ok || ee.ExitCode() != exitInternal {
				t.Errorf("exit %v after %v, want status %d; stderr: %s", err2, sig, exitInternal, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say interrupted: %s", stderr.String())
			}
		})
	}
}

// TestEvidenceFullDisk: evidence that cannot be written part-way (the file
// size limit, `ulimit -f`, in place of a full disk) exits 1, caaprobe's
// failure, not 3, though the domain fails; the report is still whole on
// stdout, and stderr names the bundle and says what the report alone
// would give.
func TestEvidenceFullDisk(t *testing.T) {
	t.Parallel()
	lab := startLab(t)
	dir := filepath.Join(t.TempDir(), "evidence")
	r := runSh(t, "ulimit -f 1 &&", labArgs(lab, "--format", "json", "--evidence", dir, "notimp.test")...)
	if r.code != exitInternal {
		t.Errorf("exit %d, want %d; stderr: %s", r.code, exitInternal, r.stderr)
	}
	if !strings.Contains(r.stderr, "evidence for notimp.test in "+dir) || !strings.Contains(r.stderr, "could not be written") ||
		!strings.Contains(r.stderr, "the report alone would exit 3") {
		t.Errorf("stderr does not name the bundle and the status: %s", r.stderr)
	}
	if got := parseLines(t, []byte(r.stdout)); len(got) != 1 || got[0].Verdict != "fail" {
		t.Errorf("report: %+v, want notimp.test fail", got)
	}
}
