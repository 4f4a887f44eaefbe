package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/metrics"
	"github.com/caaprobe/caaprobe/probes/model"
)

// TestProbeLab: /probe wired to real checks of the lab answers each
// check's series only (no other domain, no process counters, no Go
// runtime), with caaprobe_probe_success 1 for a pass and 0 for a fail.
func TestProbeLab(t *testing.T) {
	t.Parallel()
	c := labChecker(t)
	var mu sync.Mutex
	checked := map[string]*model.Domain{}
	tooks := map[string]time.Duration{}
	h := metrics.ProbeHandler(func(ctx context.Context, name string) (*model.Domain, time.Duration, error) {
		start := time.Now()
		d := c.Check(ctx, name)
		took := time.Since(start)
		mu.Lock()
		checked[name], tooks[name] = d, took
		mu.Unlock()
		return d, took, nil
	}, metrics.ProbeOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, tc := range []struct {
		target  string
		success float64
	}{{"ok.test", 1}, {"notimp.test", 0}, {"drop.test", 0}} {
		mfs := scrape(t, srv.URL+"/probe?target="+tc.target, "X-Prometheus-Scrape-Timeout-Seconds", "10")
		mu.Lock()
		d, took := checked[tc.target], tooks[tc.target]
		mu.Unlock()
		if d == nil {
			t.Fatalf("%s: not checked", tc.target)
		}
		checkDomain(t, mfs, d, time.Time{}, took)
		if v := one(t, mfs, "caaprobe_probe_success", nil); v != tc.success {
			t.Errorf("%s (verdict %s): probe_success %v, want %v", tc.target, d.Verdict, v, tc.success)
		}
		if v := one(t, mfs, "caaprobe_probe_duration_seconds", nil); v < took.Seconds() {
			t.Errorf("%s: probe duration %v shorter than the check's %v", tc.target, v, took.Seconds())
		}
		for fam := range mfs {
			for _, s := range series(mfs, fam, nil) {
				if dl, ok := s.labels["domain"]; ok && dl != tc.target {
					t.Errorf("%s: series %s of another domain %q", tc.target, fam, dl)
				}
			}
			if !strings.HasPrefix(fam, "caaprobe_domain_") && !strings.HasPrefix(fam, "caaprobe_probe_") {
				t.Errorf("%s: /probe answered %s, not one of its check's series", tc.target, fam)
			}
		}
	}
}

// recorder is a check func that records what it was asked and the time
// left on its context.
type recorder struct {
	mu    sync.Mutex
	names []string
	left  []time.Duration
	err   error
}

func (r *recorder) check(ctx context.Context, name string) (*model.Domain, time.Duration, error) {
	dl, _ := ctx.Deadline()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
	r.left = append(r.left, time.Until(dl))
	if r.err != nil {
		return nil, 0, r.err
	}
	return &model.Domain{Domain: name, Verdict: model.VerdictPass, Outcome: model.OutcomeOK}, time.Millisecond, nil
}

func (r *recorder) last() (string, time.Duration, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.names) == 0 {
		return "", 0, 0
	}
	return r.names[len(r.names)-1], r.left[len(r.left)-1], len(r.names)
}

// TestProbeHostileInput: every parameter of /probe given badly: each is a
// 400 that names the parameter, is plain text, echoes no control byte
// unescaped, stays short, and runs no check; the good spellings
// (a U-label, a trailing dot, a timeout as seconds or a Go duration, a
// huge timeout) run the check with the name normalised and the timeout
// capped.
func TestProbeHostileInput(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	opts := metrics.ProbeOptions{Timeout: 7 * time.Second, MaxTimeout: 20 * time.Second}
	srv := httptest.NewServer(metrics.ProbeHandler(rec.check, opts))
	defer srv.Close()

	long := strings.Repeat("a", 5000)
	bad := []struct {
		name, query string
		header      []string
		mention     string // in the error
	}{
		{"missing target", "", nil, "target"},
		{"other parameter only", "module=caa", nil, "target"},
		{"empty target", "target=", nil, "empty name"},
		{"blank target", "target=%20%20", nil, "empty name"},
		{"two targets", "target=a.test&target=b.test", nil, "target given 2 times"},
		{"too long", "target=" + long, nil, "query string"},
		{"long but under the query cap", "target=" + strings.Repeat("a", 1500), nil, "target"},
		{"label too long", "target=" + strings.Repeat("a", 64) + ".test", nil, "target"},
		{"bad label", "target=-bad-.test", nil, "target"},
		{"empty label", "target=a..test", nil, "target"},
		{"IPv4 literal", "target=192.0.2.1", nil, "target"},
		{"IPv6 literal", "target=" + url.QueryEscape("2001:db8::1"), nil, "target"},
		{"bracketed IPv6", "target=" + url.QueryEscape("[::1]"), nil, "target"},
		{"URL", "target=" + url.QueryEscape("https://example.test/"), nil, "target"},
		{"escape sequence", "target=" + url.QueryEscape("a\x1b[2J.test"), nil, "target"},
		{"NUL", "target=a%00.test", nil, "target"},
		{"markup", "target=" + url.QueryEscape("<script>alert(1)</script>.test"), nil, "target"},
		{"right-to-left override", "target=" + url.QueryEscape("a\u202e.test"), nil, "target"},
		{"invalid UTF-8", "target=a%ff.test", nil, "target"},
		{"bad escape", "target=%zz", nil, "query string"},
		{"root", "target=.", nil, "target"},
		{"timeout not a duration", "target=a.test&timeout=soon", nil, "timeout"},
		{"timeout zero", "target=a.test&timeout=0", nil, "timeout"},
		{"timeout negative", "target=a.test&timeout=-5s", nil, "timeout"},
		{"timeout NaN", "target=a.test&timeout=NaN", nil, "timeout"},
		{"timeout empty", "target=a.test&timeout=", nil, "timeout"},
		{"timeout twice", "target=a.test&timeout=1&timeout=2", nil, "timeout"},
		{"timeout overflowing a duration", "target=a.test&timeout=9999999999999h", nil, "timeout"},
		{"scrape header not a number", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "10s"}, "X-Prometheus-Scrape-Timeout-Seconds"},
		{"scrape header negative", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "-1"}, "X-Prometheus-Scrape-Timeout-Seconds"},
		{"scrape header Inf", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "-Inf"}, "X-Prometheus-Scrape-Timeout-Seconds"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, before := rec.last()
			resp := get(t, srv.URL+"/probe?"+tc.query, tc.header...)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %s, want 400 (%s)", resp.Status, body)
			}
			if !strings.Contains(string(body), tc.mention) {
				t.Errorf("error %q does not name %q", body, tc.mention)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("Content-Type %q, nosniff %q", ct, resp.Header.Get("X-Content-Type-Options"))
			}
			// Markup may be quoted: the answer is text/plain with nosniff
			// (checked above), which no browser renders as HTML.
			if strings.ContainsAny(string(body), "\x1b\x00\u202e\r") || !strings.HasSuffix(string(body), "\n") || strings.Count(string(body), "\n") != 1 {
				t.Errorf("error echoes raw input: %q", body)
			}
			if len(body) > 600 {
				t.Errorf("error is %d bytes", len(body))
			}
			if _, _, after := rec.last(); after != before {
				t.Errorf("a check ran for a bad request")
			}
		})
	}

	good := []struct {
		name, query string
		header      []string
		want        string
		left        time.Duration // the check's time limit, to within a second
	}{
		{"U-label", "target=" + url.QueryEscape("Bücher.test"), nil, "xn--bcher-kva.test", 7 * time.Second},
		{"trailing dot, upper case", "target=EXAMPLE.test.", nil, "example.test", 7 * time.Second},
		{"wildcard", "target=" + url.QueryEscape("*.example.test"), nil, "*.example.test", 7 * time.Second},
		{"module ignored", "target=a.test&module=caa", nil, "a.test", 7 * time.Second},
		{"timeout seconds", "target=a.test&timeout=3", nil, "a.test", 3 * time.Second},
		{"timeout duration", "target=a.test&timeout=2500ms", nil, "a.test", 2500 * time.Millisecond},
		{"timeout huge, capped", "target=a.test&timeout=1e300", nil, "a.test", 20 * time.Second},
		{"timeout huge duration, capped", "target=a.test&timeout=100000h", nil, "a.test", 20 * time.Second},
		{"scrape header, less the offset", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "5"}, "a.test", 4500 * time.Millisecond},
		{"scrape header shorter than the offset", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "0.4"}, "a.test", 200 * time.Millisecond},
		{"scrape header huge, capped", "target=a.test", []string{"X-Prometheus-Scrape-Timeout-Seconds", "1e9"}, "a.test", 20 * time.Second},
		{"timeout under the header", "target=a.test&timeout=2", []string{"X-Prometheus-Scrape-Timeout-Seconds", "10"}, "a.test", 2 * time.Second},
		{"header under the timeout", "target=a.test&timeout=15", []string{"X-Prometheus-Scrape-Timeout-Seconds", "10"}, "a.test", 9500 * time.Millisecond},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			mfs := scrape(t, srv.URL+"/probe?"+tc.query, tc.header...)
			name, left, _ := rec.last()
			if name != tc.want {
				t.Errorf("checked %q, want %q", name, tc.want)
			}
			if left > tc.left || left < tc.left-time.Second {
				t.Errorf("check's time limit %v, want %v", left, tc.left)
			}
			if v := one(t, mfs, "caaprobe_domain_verdict", map[string]string{"domain": tc.want, "verdict": "pass"}); v != 1 {
				t.Errorf("verdict series %v", v)
			}
		})
	}
	t.Run("POST", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/probe?target=a.test", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
			t.Errorf("POST: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
		}
	})
}

// TestProbeCheckError: a check func that made no check (the checker is
// shutting down) is a probe that failed: 200 with probe_success 0 and no
// domain series, as the blackbox exporter answers a failed probe.
func TestProbeCheckError(t *testing.T) {
	t.Parallel()
	rec := &recorder{err: errors.New("shutting down")}
	srv := httptest.NewServer(metrics.ProbeHandler(rec.check, metrics.ProbeOptions{}))
	defer srv.Close()
	mfs := scrape(t, srv.URL+"/probe?target=a.test")
	if v := one(t, mfs, "caaprobe_probe_success", nil); v != 0 {
		t.Errorf("probe_success %v", v)
	}
	if mfs["caaprobe_domain_verdict"] != nil {
		t.Error("domain series without a check")
	}
}

// TestProbeBusy: with MaxInFlight checks running, one more request is
// answered 429 with Retry-After at once, and is served again once a slot
// is free.
func TestProbeBusy(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := metrics.ProbeHandler(func(ctx context.Context, name string) (*model.Domain, time.Duration, error) {
		if name == "slow.test" {
			once.Do(func() { close(entered) })
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return &model.Domain{Domain: name, Verdict: model.VerdictPass}, 0, nil
	}, metrics.ProbeOptions{MaxInFlight: 1, RetryAfter: 3 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()

	done := make(chan int)
	go func() {
		resp, err := http.Get(srv.URL + "/probe?target=slow.test")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first probe never started")
	}
	resp := get(t, srv.URL+"/probe?target=fast.test")
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("busy: %s, Retry-After %q; want 429 and 3", resp.Status, resp.Header.Get("Retry-After"))
	}
	// A bad request is still told what is wrong, busy or not.
	resp = get(t, srv.URL+"/probe?target=")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad request while busy: %s", resp.Status)
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("the slow probe: %d", code)
	}
	scrape(t, srv.URL+"/probe?target=fast.test")
}
