package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serveProc is `caaprobe serve --lab` run as a subprocess (the test
// binary running main, see TestMain).
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
}

// lockedBuffer is the subprocess's stderr, read by the test while the
// process still writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var serveURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

func startServe(t *testing.T, db string, extra ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--lab", "--listen", "127.0.0.1:0", "--db", db, "--timeout", "1s", "--retries", "1"}, extra...)
	cmd := exec.Command(caaprobeBin, args...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, stderr: stderr}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case l := <-line:
		p.url = serveURL.FindString(l)
		if p.url == "" {
			t.Fatalf("serve said %q, no URL", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start; stderr: %s", stderr.String())
	}
	return p
}

func (p *serveProc) get(t *testing.T, path string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(p.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

type runState struct {
	State      string `json:"state"`
	NamesDone  int    `json:"names_done"`
	NamesTotal int    `json:"names_total"`
}

func (p *serveProc) submit(t *testing.T, names ...string) string {
	t.Helper()
	resp, err := http.Post(p.url+"/api/v1/runs", "text/plain", strings.NewReader(strings.Join(names, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ ID string }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("submit: %d %s", resp.StatusCode, b)
	}
	return v.ID
}

func (p *serveProc) state(t *testing.T, id string) runState {
	t.Helper()
	var s runState
	if err := json.Unmarshal(p.get(t, "/api/v1/runs/"+id), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// until polls the run until cond holds (bounded).
func (p *serveProc) until(t *testing.T, id string, what string, cond func(runState) bool) runState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s := p.state(t, id); cond(s) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("run %s: not %s within 60 s", id, what)
	return runState{}
}

// TestServeRestart: a run finishes; a second is killed (SIGKILL) mid-run;
// serve restarted on the same database marks the second incomplete, with
// the results it had stored, and renders the first byte for byte as
// before.
func TestServeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve three times")
	}
	t.Parallel()
	db := filepath.Join(t.TempDir(), "runs.db")
	p := startServe(t, db, "--workers", "1", "--concurrency", "1")
	done := p.submit(t, "ok.test", "notimp.test")
	p.until(t, done, "complete", func(s runState) bool { return s.State == "complete" })
	before := p.get(t, "/r/"+done)
	// drop.test takes seconds (every CAA query times out): the kill comes
	// after ok.test is stored and before the run can finish.
	cut := p.submit(t, "ok.test", "drop.test", "notimp.test", "refused.test")
	p.until(t, cut, "running with a result", func(s runState) bool { return s.State == "running" && s.NamesDone >= 1 })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	q := startServe(t, db)
	s := q.state(t, cut)
	if s.State != "incomplete" || s.NamesDone < 1 || s.NamesDone >= s.NamesTotal {
		t.Errorf("killed run after restart: %+v, want incomplete with 1 to %d results", s, s.NamesTotal-1)
	}
	if got := q.state(t, done); got.State != "complete" || got.NamesDone != 2 {
		t.Errorf("earlier run after restart: %+v", got)
	}
	if after := q.get(t, "/r/"+done); !bytes.Equal(before, after) {
		t.Errorf("the earlier run renders differently after the restart (%d bytes, then %d)", len(before), len(after))
	}
	page := string(q.get(t, "/r/"+cut))
	if !strings.Contains(page, fmt.Sprintf("incomplete: %d of %d", s.NamesDone, s.NamesTotal)) {
		t.Errorf("the killed run's page does not say it is incomplete")
	}
	// SIGTERM: a clean stop, status 0.
	if err := q.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := q.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v; stderr: %s", err, q.stderr.String())
	}
	if !strings.Contains(q.stderr.String(), "marked incomplete") {
		t.Errorf("the restart did not say it marked a run incomplete: %s", q.stderr.String())
	}
}

// TestServeMetricsAndWatch: serve --lab with a watch list queues the
// list as a stored run at once; /metrics, parsed with the Prometheus text
// parser, then carries each watched domain's verdict as checked; /probe
// checks one name now and answers its metrics with probe_success.
func TestServeMetricsAndWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	list := filepath.Join(dir, "watch.txt")
	if err := os.WriteFile(list, []byte("# watched\nok.test\nnotimp.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, filepath.Join(dir, "db"), "--watch", list, "--watch-every", "1h")
	verdict := func(fams map[string]*dto.MetricFamily, domain string) string {
		for _, m := range fams["caaprobe_domain_verdict"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["domain"] == domain && m.GetGauge().GetValue() == 1 {
				return labels["verdict"]
			}
		}
		return ""
	}
	parse := func(b []byte) map[string]*dto.MetricFamily {
		t.Helper()
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("exposition does not parse: %v\n%s", err, b)
		}
		return fams
	}
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		fams = parse(p.get(t, "/metrics"))
		if verdict(fams, "ok.test") != "" && verdict(fams, "notimp.test") != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := verdict(fams, "ok.test"); v != "pass" {
		t.Errorf("ok.test verdict %q in /metrics, want pass", v)
	}
	if v := verdict(fams, "notimp.test"); v != "fail" {
		t.Errorf("notimp.test verdict %q in /metrics, want fail", v)
	}
	if !strings.Contains(p.stderr.String(), "watch list "+list+": run ") {
		t.Errorf("the watch round was not queued as a run; stderr: %s", p.stderr.String())
	}
	probe := parse(p.get(t, "/probe?target=notimp.test"))
	if got := probe["caaprobe_probe_success"].GetMetric(); len(got) != 1 || got[0].GetGauge().GetValue() != 0 {
		t.Errorf("probe_success for notimp.test: %v, want 0", got)
	}
	if v := verdict(probe, "notimp.test"); v != "fail" {
		t.Errorf("/probe verdict %q, want fail", v)
	}
}
