package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
)

// TestClientFaults: each way an agent's answer can be unusable becomes
// that perspective's fault with its reason, and the other remotes'
// answers are unaffected.
func TestClientFaults(t *testing.T) {
	t.Parallel()
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	big := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"protocol":1,"results":["` + strings.Repeat("x", 4096) + `"]}`))
	})
	short := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"protocol":1,"results":[]}`))
	})
	notResult := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"protocol":1,"results":[{"hello":1}]}`))
	})
	limited := New(Config{Tokens: []string{"t"}, Vantage: model.Vantage{Label: "x"}, Rate: 0.001, Burst: 1})
	ls := httptest.NewServer(limited)
	t.Cleanup(ls.Close)
	redirect := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.1:1/steal", http.StatusFound)
	})
	otherProto := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"protocol":3,"results":[]}`))
	})
	c := &Client{Deadline: 5 * time.Second, MaxResponseBytes: 1024, Remotes: []Remote{
		{URL: big, Vantage: model.Vantage{Label: "big"}},
		{URL: short, Vantage: model.Vantage{Label: "short"}},
		{URL: notResult, Vantage: model.Vantage{Label: "notresult"}},
		{URL: ls.URL, Vantage: model.Vantage{Label: "limited"}, Token: "t"},
		{URL: redirect, Vantage: model.Vantage{Label: "redirect"}, Token: "t"},
		{URL: otherProto, Vantage: model.Vantage{Label: "proto"}},
	}}
	// The limited agent's one request of its burst is spent first.
	(&Client{Remotes: c.Remotes[3:4]}).Check(context.Background(), []string{"a.test"})
	got := c.Check(context.Background(), []string{"a.test"})
	want := []struct {
		fault  mpic.Fault
		detail string
	}{
		{mpic.FaultBadResponse, "larger than 1024 bytes"},
		{mpic.FaultBadResponse, "0 results for 1 domains"},
		{mpic.FaultBadResponse, "result 1 (a.test)"},
		{mpic.FaultRefused, "HTTP 429"},
		{mpic.FaultRefused, "HTTP 302"},
		{mpic.FaultVersion, "answered protocol 3"},
	}
	for i, w := range want {
		a := got[i][0]
		if a.Fault != w.fault || !strings.Contains(a.Detail, w.detail) || a.Records != nil {
			t.Errorf("%s: %q %q, want %q with %q", c.Remotes[i].Vantage.Label, a.Fault, a.Detail, w.fault, w.detail)
		}
		if in := a.Input("a.test"); in.Domain != nil || in.Fault != w.fault || in.Vantage.Label != c.Remotes[i].Vantage.Label {
			t.Errorf("%s: input %+v", c.Remotes[i].Vantage.Label, in)
		}
	}
}

// TestClientBatches: names past the batch size go in further requests,
// and every name comes back in some batch.
func TestClientBatches(t *testing.T) {
	t.Parallel()
	var sizes []int
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		body := make([]byte, 4096)
		k, _ := r.Body.Read(body)
		n = strings.Count(string(body[:k]), ".test")
		sizes = append(sizes, n)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(s.Close)
	c := &Client{BatchSize: 2, Remotes: []Remote{{URL: s.URL, Vantage: model.Vantage{Label: "b"}}}}
	got := c.Check(context.Background(), []string{"a.test", "b.test", "c.test", "d.test", "e.test"})
	if len(got[0]) != 3 || len(sizes) != 3 || sizes[0] != 2 || sizes[2] != 1 {
		t.Errorf("%d answers, request sizes %v; want 3 batches of 2, 2, 1", len(got[0]), sizes)
	}
}

// TestClientWaitsOnBusyAgent: an agent answering 429 with Retry-After is
// asked again after that delay, within the perspective's deadline and at
// most maxTries times; one whose delay passes the deadline is not waited
// for.
func TestClientWaitsOnBusyAgent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	count := map[string]int{}
	busy := func(label string, times int, after string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			count[label]++
			n := count[label]
			mu.Unlock()
			if n <= times {
				w.Header().Set("Retry-After", after)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.Write([]byte(`{"protocol":1,"results":[]}`))
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	c := &Client{Deadline: 10 * time.Second, Remotes: []Remote{
		{URL: busy("once", 1, "1"), Vantage: model.Vantage{Label: "once"}},
		{URL: busy("always", 100, "1"), Vantage: model.Vantage{Label: "always"}},
		{URL: busy("late", 100, "20"), Vantage: model.Vantage{Label: "late"}},
	}}
	got := c.Check(context.Background(), []string{"a.test"})
	// "once" answered the second request: its (empty) answer is judged,
	// so the fault is the answer's, not the 429.
	if a := got[0][0]; !strings.Contains(a.Detail, "0 results for 1 domains") || count["once"] != 2 {
		t.Errorf("once: %q %q after %d requests; want the second request's answer", a.Fault, a.Detail, count["once"])
	}
	if a := got[1][0]; a.Fault != mpic.FaultRefused || !strings.Contains(a.Detail, "HTTP 429") || count["always"] != maxTries {
		t.Errorf("always: %q %q after %d requests; want HTTP 429 after %d", a.Fault, a.Detail, count["always"], maxTries)
	}
	if a := got[2][0]; !strings.Contains(a.Detail, "past this perspective's deadline") || count["late"] != 1 {
		t.Errorf("late: %q %q after %d requests; want no wait past the deadline", a.Fault, a.Detail, count["late"])
	}
}
