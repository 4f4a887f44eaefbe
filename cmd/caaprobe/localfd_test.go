//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fdDomain is what TestLowFDLimit compares of a JSON line.
type fdDomain struct {
	Domain   string `json:"domain"`
	Verdict  string `json:"verdict"`
	Error    string `json:"error"`
	Findings []struct {
		Code string `json:"code"`
	} `json:"findings"`
	Servers []json.RawMessage `json:"servers"`
}

func (d fdDomain) codes() []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, f.Code)
	}
	slices.Sort(out)
	return out
}

// fdRun is what one run of the binary under a limit gave: its JSON lines
// by domain, stderr and exit status, or why it could not run.
type fdRun struct {
	got    map[string]fdDomain
	stderr string
	code   int
	err    error
}

// runLimited runs caaprobeBin with args, under
// `ulimit -n` fds when fds > 0. It reports a failure to run in the result
// rather than on t, so that the runs of TestLowFDLimit can go at once.
func runLimited(ctx context.Context, fds int, args ...string) fdRun {
	script := `exec "$0" "$@"`
	if fds > 0 {
		script = fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, fds)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, caaprobeBin}, args...)...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := fdRun{got: map[string]fdDomain{}, stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		return fdRun{err: fmt.Errorf("running under ulimit -n %d: %v", fds, err)}
	}
	for _, l := range bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var d fdDomain
		if err := json.Unmarshal(l, &d); err != nil {
			return fdRun{err: fmt.Errorf("ulimit -n %d: output line is not JSON: %v: %s", fds, err, l)}
		}
		res.got[d.Domain] = d
	}
	return res
}

// TestLowFDLimit is issue 23's done-when: the whole lab checked with
// --concurrency 512 --rate 0 under `ulimit -n 64` (and under a limit so low
// that sockets fail even with the concurrency capped) gives no finding and
// no verdict fail from a local error: every domain is judged as it is
// without the limit, or is verdict error naming the local error, with no
// finding. --concurrency is capped against the limit, with a note.
func TestLowFDLimit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	// The three runs (no limit, 64, 20) go at once, each against a lab of
	// its own: they wait on the lab's dropping servers more than they
	// compute, and a lab of their own keeps one run's queries from
	// touching another's rate limits.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	limits := []int{0, 64, 20}
	results := map[int]chan fdRun{}
	var domains []string
	for _, fds := range limits {
		lab := startLab(t)
		if domains == nil {
			// Every third lab domain: healthy ones and each kind of
			// fault, at a third of the time of the whole lab (each run
			// checks one domain at a time).
			for i, d := range lab.Domains() {
				if i%3 == 0 {
					domains = append(domains, d)
				}
			}
		}
		names := filepath.Join(t.TempDir(), "names.txt")
		if err := os.WriteFile(names, []byte(strings.Join(domains, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Without a limit, one domain at a time: what the capped runs do.
		concurrency := "512"
		if fds == 0 {
			concurrency = "1"
		}
		args := []string{"check", "--root", lab.Root.String(), "--port", fmt.Sprint(lab.Port), "--timeout", "1", "--retries", "1",
			"--trust-anchor", anchorFile(t, lab), "--concurrency", concurrency, "--rate", "0", "--format", "json", "-f", names}
		ch := make(chan fdRun, 1)
		results[fds] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch <- runLimited(ctx, fds, args...)
		}()
	}
	// Before the labs close (cleanups run last first): stop and wait for
	// the runs still going when the test fails early.
	t.Cleanup(func() { cancel(); wg.Wait() })

	base := <-results[0]
	if base.err != nil {
		t.Fatal(base.err)
	}
	want := base.got
	if base.code != exitFindings || len(want) != len(domains) {
		t.Fatalf("baseline: exit %d, %d domains of %d; stderr: %s", base.code, len(want), len(domains), base.stderr)
	}
	for _, fds := range limits[1:] {
		t.Run(fmt.Sprintf("ulimit-n-%d", fds), func(t *testing.T) {
			r := <-results[fds]
			if r.err != nil {
				t.Fatal(r.err)
			}
			got, stderr, code := r.got, r.stderr, r.code
			if !strings.Contains(stderr, "--concurrency 512 lowered to 1: the limit on open files (ulimit -n) is "+fmt.Sprint(fds)) {
				t.Errorf("no note of the capped --concurrency on stderr:\n%s", stderr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d domains, want %d; stderr: %s", len(got), len(want), stderr)
			}
			local, judged := 0, 0
			for name, w := range want {
				g := got[name]
				if g.Verdict == "error" && strings.HasPrefix(g.Error, "local error on this host: ") {
					local++
					if len(g.Findings) != 0 || len(g.Servers) != 0 {
						t.Errorf("%s: not judged, yet findings %v and %d servers", name, g.codes(), len(g.Servers))
					}
					continue
				}
				judged++
				if g.Verdict != w.Verdict || !slices.Equal(g.codes(), w.codes()) {
					t.Errorf("%s: verdict %s %v (error %q), without the limit %s %v", name, g.Verdict, g.codes(), g.Error, w.Verdict, w.codes())
				}
			}
			t.Logf("ulimit -n %d: %d domains judged as without the limit, %d not judged (local error); exit %d", fds, judged, local, code)
			switch {
			case judged == 0 && code != exitInternal:
				t.Errorf("nothing could be checked: exit %d, want %d", code, exitInternal)
			case local > 0 && judged > 0 && code != exitFindings && code != exitIncomplete:
				t.Errorf("exit %d, want %d or %d", code, exitFindings, exitIncomplete)
			case local > 0 && !strings.Contains(stderr, "local error on this host"):
				t.Errorf("stderr does not say the local error:\n%s", stderr)
			}
		})
	}
}
