package serve

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/internal/transporttest"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/store"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// markup is what the lab's markup.test server sends in a CAA value: a
// page that showed it raw would run it.
const markup = `<script>alert(1)</script><img src=x onerror=alert(2)>`

// testLab is an in-process lab (no sockets): ok.test, notimp.test,
// markup.test (a server string with markup) and flip.test, whose server
// answers CAA with NOTIMP once flip is set (a domain that gets worse
// between two runs).
type testLab struct {
	lab  *fixtures.Lab
	flip *atomic.Bool
	// hold, when set, blocks every exchange until it is closed (a run
	// that stays running).
	hold atomic.Pointer[chan struct{}]
}

func caseOf(t testing.TB, zone string) fixtures.Case {
	for _, c := range fixtures.Cases {
		if c.Zone == zone {
			return c
		}
	}
	t.Fatalf("no lab case %s", zone)
	return fixtures.Case{}
}

func newTestLab(t testing.TB) *testLab {
	t.Helper()
	flip := new(atomic.Bool)
	flipper := fixtures.Behaviour{Name: "Flip", Respond: func(r *fixtures.Request) *dns.Msg {
		if flip.Load() && r.Qtype() == dns.TypeCAA {
			m := new(dns.Msg)
			m.SetRcode(r.Msg, dns.RcodeNotImplemented)
			return m
		}
		return r.Answer()
	}}
	cases := []fixtures.Case{caseOf(t, "ok.test"), caseOf(t, "notimp.test"),
		{Zone: "markup.test", Behaviours: []fixtures.Behaviour{fixtures.Conformant}, Records: []string{`@ 3600 CAA 0 issue "` + strings.ReplaceAll(markup, `"`, `\"`) + `"`,
			`@ 3600 CAA 0 issuewild "\027[2J\007evil.example"`}},
		{Zone: "flip.test", Behaviours: []fixtures.Behaviour{flipper}}}
	lab, err := fixtures.Start(fixtures.Options{InProcess: true, Cases: cases})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	return &testLab{lab: lab, flip: flip}
}

// held blocks each exchange while hold is set.
type held struct {
	l *testLab
	x transport.Exchanger
}

func (h held) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	if ch := h.l.hold.Load(); ch != nil {
		select {
		case <-*ch:
		case <-ctx.Done():
		}
	}
	return h.x.Exchange(ctx, server, query, t)
}

func (l *testLab) config() check.Config {
	return check.Config{Roots: []netip.Addr{l.lab.Root}, Port: l.lab.Port, Timeout: 300 * time.Millisecond, Retries: 0,
		DomainTimeout: 10 * time.Second, TrustAnchor: l.lab.TrustAnchor(), Rate: 0,
		Exchanger: held{l, transporttest.Lab(l.lab)}}
}

type harness struct {
	lab *testLab
	st  *store.Store
	srv *Server
	ts  *httptest.Server
}

func newHarness(t testing.TB, edit func(*Options)) *harness {
	t.Helper()
	lab := newTestLab(t)
	st, err := store.Open(filepath.Join(t.TempDir(), "serve.db"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Check: lab.config(), Version: "test", Workers: 1, Queue: 4, MaxNames: 10,
		Rate: 1000, Burst: 1000, PageRate: 1000, PageBurst: 1000, EventsFor: 5 * time.Second}
	if edit != nil {
		edit(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if ch := lab.hold.Swap(nil); ch != nil {
			close(*ch)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		st.Close()
	})
	return &harness{lab: lab, st: st, srv: srv, ts: ts}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t testing.TB, method, path, ctype string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return h.send(t, req)
}

func (h *harness) send(t testing.TB, req *http.Request) response {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (h *harness) get(t testing.TB, path string) response { return h.do(t, "GET", path, "", nil) }

// submit posts names as JSON and returns the new run's id.
func (h *harness) submit(t testing.TB, names ...string) string {
	t.Helper()
	b, _ := json.Marshal(map[string][]string{"names": names})
	r := h.do(t, "POST", "/api/v1/runs", "application/json", bytes.NewReader(b))
	if r.status != http.StatusCreated {
		t.Fatalf("submit %v: %d %s", names, r.status, r.body)
	}
	var v struct{ ID string }
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// wait polls the run until it is finished (bounded).
func (h *harness) wait(t testing.TB, id string) RunView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := h.get(t, "/api/v1/runs/"+id+"?results=1")
		var v RunView
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("%d %s: %v", r.status, r.body, err)
		}
		if finished(v.State) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("run %s not finished in 30 s", id)
	return RunView{}
}

func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.submit(t, "ok.test", "NOTIMP.test.", "ok.test")
	v := h.wait(t, id)
	if v.State != store.StateComplete || v.NamesTotal != 2 || v.NamesDone != 2 || len(v.Results) != 2 {
		t.Fatalf("run = %+v, want complete with 2 results (the repeat checked once)", v)
	}
	var first, second struct{ Domain, Verdict string }
	json.Unmarshal(v.Results[0], &first)
	json.Unmarshal(v.Results[1], &second)
	if first.Domain != "ok.test" || first.Verdict != "pass" || second.Domain != "notimp.test" || second.Verdict != "fail" {
		t.Errorf("results: %+v, %+v; want ok.test pass, notimp.test fail in input order", first, second)
	}
	page := h.get(t, "/r/"+id)
	if page.status != 200 || !strings.Contains(string(page.body), "notimp.test") || !strings.Contains(string(page.body), "rcode-notimp") {
		t.Errorf("result page: %d, no notimp.test finding:\n%.400s", page.status, page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if page.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	// The page is the same bytes every time (from the stored records).
	if again := h.get(t, "/r/"+id); !bytes.Equal(again.body, page.body) {
		t.Error("the result page differs between two requests")
	}
	ev := h.get(t, "/r/"+id+"/evidence.tar.gz")
	files := untar(t, ev.body)
	for _, d := range []string{"ok.test", "notimp.test"} {
		for _, f := range []string{"report.md", "exchanges.pcap", "result.json"} {
			name := "caaprobe-" + id + "/" + d + "/" + f
			if len(files[name]) == 0 {
				t.Errorf("evidence: %s missing or empty (have %v)", name, keys(files))
			}
		}
	}
	if !strings.Contains(string(files["caaprobe-"+id+"/notimp.test/report.md"]), "NOTIMP") {
		t.Error("notimp.test's report.md does not say NOTIMP")
	}
}

func untar(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("evidence is not gzip: %v (%.200s)", err, b)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[hdr.Name] = data
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHistoryShowsChange: flip.test passes, its server starts answering
// NOTIMP, and the second run's history entry says newly-failing; the diff
// endpoint says the same.
func TestHistoryShowsChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	first := h.submit(t, "flip.test", "ok.test")
	h.wait(t, first)
	h.lab.flip.Store(true)
	second := h.submit(t, "flip.test", "ok.test")
	h.wait(t, second)
	r := h.get(t, "/api/v1/domains/flip.test/history")
	var hist struct {
		Domain string
		Runs   []struct {
			Run     string
			Verdict string
			Changes []struct {
				Change string
				Worse  bool
			}
		}
	}
	if err := json.Unmarshal(r.body, &hist); err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(hist.Runs) != 2 || hist.Runs[0].Run != second || hist.Runs[1].Run != first {
		t.Fatalf("history %s: want runs %s, %s newest first", r.body, second, first)
	}
	if hist.Runs[0].Verdict != "fail" || hist.Runs[1].Verdict != "pass" {
		t.Errorf("verdicts %s, %s; want fail then pass", hist.Runs[0].Verdict, hist.Runs[1].Verdict)
	}
	if len(hist.Runs[0].Changes) == 0 || hist.Runs[0].Changes[0].Change != "newly-failing" || !hist.Runs[0].Changes[0].Worse {
		t.Errorf("changes of the second run: %+v, want newly-failing first", hist.Runs[0].Changes)
	}
	page := h.get(t, "/d/flip.test")
	if !strings.Contains(string(page.body), "newly-failing") || strings.Index(string(page.body), second) > strings.Index(string(page.body), first) {
		t.Errorf("domain page: no newly-failing, or not newest first:\n%s", page.body)
	}
	d := h.get(t, "/api/v1/diff?old="+first+"&new="+second)
	var dv DiffView
	if err := json.Unmarshal(d.body, &dv); err != nil || d.status != 200 {
		t.Fatalf("diff: %d %s", d.status, d.body)
	}
	if dv.Stats.Worse != 1 || dv.Stats.Old != 2 || len(dv.Changes) == 0 || dv.Changes[0].Domain != "flip.test" || dv.Changes[0].Kind != "newly-failing" {
		t.Errorf("diff = %+v", dv)
	}
}

// TestQueueFull: one worker held on its run, a queue of one: the third
// submission is refused with 429 and Retry-After, and nothing of it is
// stored or queued.
func TestQueueFull(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Queue = 1 })
	ch := make(chan struct{})
	h.lab.hold.Store(&ch)
	running := h.submit(t, "ok.test")
	// Wait until the worker took it, so the queue is empty again.
	deadline := time.Now().Add(10 * time.Second)
	for len(h.srv.slots) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	queued := h.submit(t, "ok.test")
	var refused int
	for range 20 {
		r := h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("ok.test\n"))
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("submission into a full queue: %d %s, want 429", r.status, r.body)
		}
		if r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		refused++
	}
	if n := len(h.srv.jobs); n > 1 || cap(h.srv.jobs) != 1 {
		t.Errorf("queue holds %d (capacity %d), want at most 1", n, cap(h.srv.jobs))
	}
	for _, id := range []string{running, queued} {
		if _, err := h.st.Run(context.Background(), id); err != nil {
			t.Errorf("run %s: %v", id, err)
		}
	}
	if got := h.get(t, "/api/v1/runs/"+queued); !strings.Contains(string(got.body), `"state":"queued"`) {
		t.Errorf("second run: %s, want queued", got.body)
	}
	h.lab.hold.Store(nil)
	close(ch)
	if v := h.wait(t, queued); v.State != store.StateComplete {
		t.Errorf("queued run after release: %s", v.State)
	}
	_ = refused
}

// TestShutdownMarksIncomplete: a run held mid-check when the shutdown's
// time runs out is marked incomplete; a queued one too; nothing is
// presented as complete.
func TestShutdownMarksIncomplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ch := make(chan struct{})
	h.lab.hold.Store(&ch)
	a := h.submit(t, "ok.test")
	b := h.submit(t, "notimp.test")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	h.srv.Shutdown(ctx)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("shutdown took %v", el)
	}
	for _, id := range []string{a, b} {
		r, err := h.st.Run(context.Background(), id)
		if err != nil || r.State != store.StateIncomplete {
			t.Errorf("run %s: %q, %v; want incomplete", id, r.State, err)
		}
	}
	r := h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("ok.test"))
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("submission after shutdown: %d, want 503", r.status)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.submit(t, "ok.test", "notimp.test")
	r := h.get(t, "/api/v1/runs/"+id+"/events")
	if ct := r.header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := parseEvents(t, r.body)
	if len(events) < 2 || events[len(events)-1].name != "end" {
		t.Fatalf("events %+v: want progress then end", events)
	}
	var last Progress
	json.Unmarshal(events[len(events)-1].data, &last)
	if last.State != store.StateComplete || last.NamesDone != 2 || last.NamesTotal != 2 {
		t.Errorf("end event %+v", last)
	}
}

type event struct {
	name string
	data []byte
}

func parseEvents(t testing.TB, b []byte) []event {
	t.Helper()
	var out []event
	for _, block := range strings.Split(strings.TrimSpace(string(b)), "\n\n") {
		var e event
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				e.name = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				e.data = []byte(v)
			}
		}
		if e.name == "" {
			t.Fatalf("event without a name: %q", block)
		}
		out = append(out, e)
	}
	return out
}

func TestRetentionAfterRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Retain = store.Retention{Runs: 1} })
	first := h.submit(t, "ok.test")
	h.wait(t, first)
	second := h.submit(t, "ok.test")
	h.wait(t, second)
	if r := h.get(t, "/api/v1/runs/"+first); r.status != http.StatusNotFound {
		t.Errorf("first run after --retain-runs 1: %d, want 404", r.status)
	}
	if r := h.get(t, "/api/v1/runs/"+second); r.status != 200 {
		t.Errorf("second run: %d", r.status)
	}
}

func TestFormSubmit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Suggest = []string{"ok.test", "notimp.test"} })
	form := h.get(t, "/")
	if !strings.Contains(string(form.body), "notimp.test") || !strings.Contains(string(form.body), `<textarea`) {
		t.Fatalf("form: %s", form.body)
	}
	r := h.do(t, "POST", "/", "application/x-www-form-urlencoded", strings.NewReader("names=ok.test%0Anotimp.test"))
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("form POST: %d %q", r.status, loc)
	}
	id := strings.TrimPrefix(loc, "/r/")
	progress := h.get(t, loc)
	if progress.status != 200 {
		t.Fatalf("progress page %d", progress.status)
	}
	h.wait(t, id)
	page := h.get(t, loc)
	if !strings.Contains(string(page.body), "rcode-notimp") || !strings.Contains(string(page.body), `href="/d/notimp.test"`) {
		t.Errorf("result page after the form: no finding or no history link")
	}
	bad := h.do(t, "POST", "/", "application/x-www-form-urlencoded", strings.NewReader("names=ok.test%0Abad..name"))
	if bad.status != http.StatusBadRequest || !strings.Contains(string(bad.body), "form:2") {
		t.Errorf("form with a bad name: %d, want 400 naming form:2:\n%s", bad.status, bad.body)
	}
}

func TestTokenGuardsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Tokens = []string{"s3cret"} })
	r := h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("ok.test"))
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", r.status)
	}
	for _, auth := range []string{"Bearer wrong", "Bearer s3cre", "s3cret", "Bearer  s3cret", "Basic s3cret"} {
		req, _ := http.NewRequest("GET", h.ts.URL+"/api/v1/runs/"+store.NewID(), nil)
		req.Header.Set("Authorization", auth)
		if r := h.send(t, req); r.status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, r.status)
		}
	}
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/runs", strings.NewReader("ok.test"))
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Content-Type", "text/plain")
	if r := h.send(t, req); r.status != http.StatusCreated {
		t.Errorf("right token: %d %s", r.status, r.body)
	}
	if r := h.do(t, "POST", "/", "application/x-www-form-urlencoded", strings.NewReader("names=ok.test")); r.status != http.StatusForbidden {
		t.Errorf("form with a token set: %d, want 403", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *Options) { o.Rate, o.Burst = 0.001, 2 })
	var codes []int
	for range 4 {
		r := h.do(t, "POST", "/api/v1/runs", "text/plain", strings.NewReader("ok.test"))
		codes = append(codes, r.status)
	}
	if fmt.Sprint(codes) != "[201 201 429 429]" {
		t.Errorf("statuses %v, want two accepted then 429", codes)
	}
}

type recorder struct {
	mu      sync.Mutex
	domains []string
}

func (r *recorder) Observe(d *model.Domain, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.domains = append(r.domains, fmt.Sprintf("%s %s %v", d.Domain, d.Verdict, took > 0))
}

// TestObserverAndCheckOne: the Observer hears of every checked domain of
// a run, with a duration; CheckOne (for /probe) checks one name outside
// the queue and refuses a bad one.
func TestObserverAndCheckOne(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newHarness(t, func(o *Options) { o.Observer = rec })
	h.wait(t, h.submit(t, "ok.test", "notimp.test"))
	d, took, err := h.srv.CheckOne(context.Background(), "NOTIMP.test.")
	if err != nil || d.Domain != "notimp.test" || d.Verdict != "fail" || took <= 0 {
		t.Errorf("CheckOne: %v %v %v", d, took, err)
	}
	if _, _, err := h.srv.CheckOne(context.Background(), "bad..name"); err == nil {
		t.Error("CheckOne of a bad name: no error")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.domains) != "[ok.test pass true notimp.test fail true notimp.test fail true]" {
		t.Errorf("observed %v", rec.domains)
	}
}
