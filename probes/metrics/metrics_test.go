package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/internal/transporttest"
	"github.com/caaprobe/caaprobe/probes/metrics"
	"github.com/caaprobe/caaprobe/probes/model"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
)

// labChecker is a Checker over the in-process lab (no socket: every drop
// is a timeout the engine sees at once), as probes/check's fakeLab builds it.
func labChecker(t testing.TB) *check.Checker {
	t.Helper()
	lab, err := fixtures.Start(fixtures.Options{InProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	fake := transporttest.Lab(lab)
	fake.Timeout = time.Second
	c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: time.Second, Retries: 1,
		Backoff: time.Microsecond, DomainTimeout: 30 * time.Second, TrustAnchor: lab.TrustAnchor(), Exchanger: fake})
	t.Cleanup(c.Close)
	return c
}

// scrape GETs url (with the headers given) and parses the body with the
// Prometheus text parser.
func scrape(t *testing.T, url string, header ...string) map[string]*dto.MetricFamily {
	t.Helper()
	resp := get(t, url, header...)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(prommodel.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the scrape of %s: %v", url, err)
	}
	return mfs
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// series returns the samples of family name whose labels include want,
// as label sets with values.
func series(mfs map[string]*dto.MetricFamily, name string, want map[string]string) []sample {
	var out []sample
	mf := mfs[name]
	if mf == nil {
		return nil
	}
	for _, m := range mf.Metric {
		labels := map[string]string{}
		for _, lp := range m.Label {
			labels[lp.GetName()] = lp.GetValue()
		}
		ok := true
		for k, v := range want {
			if labels[k] != v {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Untyped != nil:
			v = m.Untyped.GetValue()
		}
		out = append(out, sample{labels, v})
	}
	return out
}

type sample struct {
	labels map[string]string
	value  float64
}

// one is the value of the single sample of name with labels want.
func one(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	s := series(mfs, name, want)
	if len(s) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, want, len(s))
	}
	return s[0].value
}

func outcomeLabel(o model.Outcome) string {
	if o == "" {
		return "unknown"
	}
	return string(o)
}

// checkDomain asserts every per-domain series of d in a scrape: both state
// sets (one 1, the rest 0), the failing servers as the distinct entries of
// the names' failing lists, the timestamp (unless at is zero) and duration given, and one
// findings series per code and severity with its count.
func checkDomain(t *testing.T, mfs map[string]*dto.MetricFamily, d *model.Domain, at time.Time, took time.Duration) {
	t.Helper()
	dom := map[string]string{"domain": d.Domain}
	vs := series(mfs, "caaprobe_domain_verdict", dom)
	if len(vs) != 4 {
		t.Errorf("%s: %d verdict series, want 4 (pass, warn, fail, error)", d.Domain, len(vs))
	}
	for _, s := range vs {
		want := 0.0
		if s.labels["verdict"] == string(d.Verdict) {
			want = 1
		}
		if s.value != want {
			t.Errorf("%s: verdict %s = %v, want %v (the domain's verdict is %s)", d.Domain, s.labels["verdict"], s.value, want, d.Verdict)
		}
	}
	if v := one(t, mfs, "caaprobe_domain_verdict", map[string]string{"domain": d.Domain, "verdict": string(d.Verdict)}); v != 1 {
		t.Errorf("%s: the current verdict %s is %v", d.Domain, d.Verdict, v)
	}
	os := series(mfs, "caaprobe_domain_outcome", dom)
	if len(os) != 4 {
		t.Errorf("%s: %d outcome series, want 4", d.Domain, len(os))
	}
	for _, s := range os {
		want := 0.0
		if s.labels["outcome"] == outcomeLabel(d.Outcome) {
			want = 1
		}
		if s.value != want {
			t.Errorf("%s: outcome %s = %v, want %v (outcome %q)", d.Domain, s.labels["outcome"], s.value, want, d.Outcome)
		}
	}
	failing := map[model.ServerRef]bool{}
	for _, n := range d.Names {
		for _, f := range n.Failing {
			failing[f] = true
		}
	}
	if v := one(t, mfs, "caaprobe_domain_failing_servers", dom); v != float64(len(failing)) {
		t.Errorf("%s: failing servers %v, want %d (%v)", d.Domain, v, len(failing), failing)
	}
	if v := one(t, mfs, "caaprobe_domain_last_check_timestamp_seconds", dom); !at.IsZero() && v != float64(at.UnixNano())/1e9 {
		t.Errorf("%s: last check %v, want %v", d.Domain, v, float64(at.UnixNano())/1e9)
	}
	if v := one(t, mfs, "caaprobe_domain_check_duration_seconds", dom); v != took.Seconds() {
		t.Errorf("%s: duration %v, want %v", d.Domain, v, took.Seconds())
	}
	want := map[[2]string]float64{}
	for _, f := range d.Findings {
		want[[2]string{string(f.Code), string(f.Severity)}]++
	}
	got := map[[2]string]float64{}
	for _, s := range series(mfs, "caaprobe_domain_findings", dom) {
		got[[2]string{s.labels["code"], s.labels["severity"]}] = s.value
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: findings series %v, want %v", d.Domain, got, want)
	}
}

// TestScrapeLabRun: real checks of lab domains fed to Observe, /metrics
// scraped over HTTP and parsed with the Prometheus text parser: each
// domain's series say what its model.Domain says, the process counters
// add up over the run, and a name that is not a name gets no series.
func TestScrapeLabRun(t *testing.T) {
	t.Parallel()
	c := labChecker(t)
	base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clock := base
	m := metrics.NewWith(metrics.Options{Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	names := []string{"ok.test", "notimp.test", "drop.test", "lowercase.test", "inconsistent.test", "alias.test"}
	var domains []*model.Domain
	var tooks []time.Duration
	for i, name := range names {
		start := time.Now()
		d := c.Check(context.Background(), name)
		// A distinct duration per domain, so a series mixed up with
		// another domain's shows.
		took := time.Since(start) + time.Duration(i)*time.Millisecond
		m.Observe(d, took)
		domains, tooks = append(domains, d), append(tooks, took)
	}
	// An input line that was not a name: reported with verdict error,
	// never a label.
	bad := &model.Domain{Domain: `bad"name\x1b[2J`, Source: "names.txt:3", Err: "not a name", Verdict: model.VerdictError}
	m.Observe(bad, 0)

	mfs := scrape(t, srv.URL)
	for i, d := range domains {
		checkDomain(t, mfs, d, base.Add(time.Duration(i+1)*time.Minute), tooks[i])
	}
	// The lab's cases are what the test relies on: a clean pass and a
	// failing server with its finding.
	if domains[0].Verdict != model.VerdictPass || domains[1].Verdict != model.VerdictFail {
		t.Fatalf("ok.test %s, notimp.test %s: the lab changed", domains[0].Verdict, domains[1].Verdict)
	}
	if v := one(t, mfs, "caaprobe_domain_failing_servers", map[string]string{"domain": "notimp.test"}); v < 1 {
		t.Errorf("notimp.test: %v failing servers", v)
	}
	if v := one(t, mfs, "caaprobe_domain_findings", map[string]string{"domain": "notimp.test", "code": "rcode-notimp", "severity": "fail"}); v < 1 {
		t.Errorf("notimp.test: %v rcode-notimp findings", v)
	}
	if v := one(t, mfs, "caaprobe_domain_verdict", map[string]string{"domain": "notimp.test", "verdict": "fail"}); v != 1 {
		t.Errorf(`caaprobe_domain_verdict{domain="notimp.test",verdict="fail"} = %v: the alert would not fire`, v)
	}

	// Only the names observed are label values.
	for fam, mf := range mfs {
		for _, s := range series(mfs, fam, nil) {
			if dl, ok := s.labels["domain"]; ok && !slices.Contains(names, dl) {
				t.Errorf("%s has domain label %q, which was not observed as a name", mf.GetName(), dl)
			}
		}
	}
	if v := one(t, mfs, "caaprobe_metrics_domains_dropped_total", map[string]string{"reason": "invalid-name"}); v != 1 {
		t.Errorf("dropped (invalid-name) %v, want 1", v)
	}

	counts := map[string]float64{}
	for _, d := range append(domains, bad) {
		counts[string(d.Verdict)]++
	}
	for _, v := range []string{"pass", "warn", "fail", "error"} {
		if got := one(t, mfs, "caaprobe_checks_total", map[string]string{"verdict": v}); got != counts[v] {
			t.Errorf("checks_total{verdict=%s} %v, want %v", v, got, counts[v])
		}
	}
	if got := one(t, mfs, "caaprobe_check_errors_total", nil); got != counts["error"] {
		t.Errorf("check_errors_total %v, want %v", got, counts["error"])
	}
	// The queries behind the results: every attempt and TCP retry of
	// each domain's results. (A unit shared by several domains, test.'s
	// CAA, counts in each, so this is not the checker's c.X.Sent().)
	attempts := 0
	for _, d := range domains {
		for _, s := range d.Servers {
			for _, r := range s.Results {
				for _, ex := range []*model.Exchange{r.Exchange, r.Fallback} {
					if ex != nil {
						attempts += ex.Attempts
					}
				}
			}
		}
	}
	if q := one(t, mfs, "caaprobe_queries_sent_total", nil); q <= 0 || q != float64(attempts) {
		t.Errorf("queries_sent_total %v, the results' attempts %d", q, attempts)
	}
	if v := one(t, mfs, "caaprobe_metrics_domains_tracked", nil); v != float64(len(names)) {
		t.Errorf("domains tracked %v, want %d", v, len(names))
	}
	// The Go and process collectors are there (own registry, not the
	// global default, which would be the same).
	if mfs["go_goroutines"] == nil {
		t.Error("no go_goroutines in /metrics")
	}
}

// TestObserveAgain: a second check of a domain replaces its series: the
// verdict state set moves, findings of the first check that are gone do
// not linger, and the counters count both checks.
func TestObserveAgain(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	d := &model.Domain{Domain: "example.test", Verdict: model.VerdictFail, Outcome: model.OutcomeServfail,
		Names: []*model.Name{{Name: model.MustName("example.test."), Failing: []model.ServerRef{ref("ns1", "192.0.2.1"), ref("ns2", "192.0.2.2")}},
			{Name: model.MustName("test."), Failing: []model.ServerRef{ref("ns1", "192.0.2.1")}}},
		Findings: []model.Finding{{Code: catalog.CodeRcodeNotimp, Severity: model.SeverityFail},
			{Code: catalog.CodeRcodeNotimp, Severity: model.SeverityFail}, {Code: "made-up-by-a-newer-version", Severity: "odd"}},
		Servers: []*model.Server{{Results: []*model.Result{{Exchange: &model.Exchange{Attempts: 3}, Fallback: &model.Exchange{Attempts: 1}},
			{Exchange: &model.Exchange{Attempts: 2}}}}}}
	m.Observe(d, 2*time.Second)
	mfs := scrape(t, srv.URL)
	dom := map[string]string{"domain": "example.test"}
	if v := one(t, mfs, "caaprobe_domain_failing_servers", dom); v != 2 {
		t.Errorf("failing servers %v, want 2 distinct", v)
	}
	if v := one(t, mfs, "caaprobe_domain_findings", map[string]string{"domain": "example.test", "code": "rcode-notimp", "severity": "fail"}); v != 2 {
		t.Errorf("rcode-notimp findings %v, want 2", v)
	}
	if v := one(t, mfs, "caaprobe_domain_findings", map[string]string{"domain": "example.test", "code": "unknown", "severity": "unknown"}); v != 1 {
		t.Errorf("a code outside the catalog: %v, want it counted as unknown/unknown", v)
	}
	if v := one(t, mfs, "caaprobe_queries_sent_total", nil); v != 6 {
		t.Errorf("queries %v, want 3+1+2", v)
	}

	d2 := &model.Domain{Domain: "example.test", Verdict: model.VerdictPass, Outcome: model.OutcomeOK}
	m.Observe(d2, time.Second)
	mfs = scrape(t, srv.URL)
	checkDomain(t, mfs, d2, time.Time{}, time.Second) // the timestamp is checked below
	if at := one(t, mfs, "caaprobe_domain_last_check_timestamp_seconds", dom); time.Since(time.Unix(int64(at), 0)) > time.Minute {
		t.Errorf("last check %v is not now", at)
	}
	if n := len(series(mfs, "caaprobe_domain_findings", dom)); n != 0 {
		t.Errorf("%d findings series left from the first check", n)
	}
	if v := one(t, mfs, "caaprobe_checks_total", map[string]string{"verdict": "fail"}) + one(t, mfs, "caaprobe_checks_total", map[string]string{"verdict": "pass"}); v != 2 {
		t.Errorf("checks %v, want 2", v)
	}
	// New's registry has the Go and process collectors.
	if mfs["go_goroutines"] == nil || mfs["process_cpu_seconds_total"] == nil {
		t.Error("no go_goroutines or process_cpu_seconds_total in /metrics")
	}
	m.Forget("example.test")
	mfs = scrape(t, srv.URL)
	if n := len(series(mfs, "caaprobe_domain_verdict", dom)); n != 0 {
		t.Errorf("%d verdict series after Forget", n)
	}
}

// TestCardinalityCap: past MaxDomains the domain observed least recently
// loses its series, a domain observed again is kept, and each eviction is
// counted.
func TestCardinalityCap(t *testing.T) {
	t.Parallel()
	m := metrics.NewWith(metrics.Options{MaxDomains: 3, NoRuntime: true})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	obs := func(name string) {
		m.Observe(&model.Domain{Domain: name, Verdict: model.VerdictPass, Outcome: model.OutcomeOK}, time.Millisecond)
	}
	for _, n := range []string{"a.test", "b.test", "c.test"} {
		obs(n)
	}
	obs("a.test") // a is now the most recent; b the least
	obs("d.test") // evicts b
	obs("e.test") // evicts c
	mfs := scrape(t, srv.URL)
	var got []string
	for _, s := range series(mfs, "caaprobe_domain_failing_servers", nil) {
		got = append(got, s.labels["domain"])
	}
	slices.Sort(got)
	if fmt.Sprint(got) != "[a.test d.test e.test]" {
		t.Errorf("domains with series %v, want [a.test d.test e.test]", got)
	}
	if v := one(t, mfs, "caaprobe_metrics_domains_dropped_total", map[string]string{"reason": "cap"}); v != 2 {
		t.Errorf("dropped (cap) %v, want 2", v)
	}
	if v := one(t, mfs, "caaprobe_metrics_domains_tracked", nil); v != 3 {
		t.Errorf("tracked %v, want 3", v)
	}
	if v := one(t, mfs, "caaprobe_checks_total", map[string]string{"verdict": "pass"}); v != 6 {
		t.Errorf("checks %v, want 6: an evicted domain's check still counts", v)
	}
}

// benchDomains are n synthetic domains of a provider, each with a finding
// or two and a failing server on every tenth.
func benchDomains(n int) []*model.Domain {
	out := make([]*model.Domain, n)
	for i := range out {
		d := &model.Domain{Domain: fmt.Sprintf("customer%d.example", i), Verdict: model.VerdictPass, Outcome: model.OutcomeOK,
			Names:   []*model.Name{{Name: model.MustName(fmt.Sprintf("customer%d.example.", i))}},
			Servers: []*model.Server{{Results: []*model.Result{{Exchange: &model.Exchange{Attempts: 1}}}}}}
		if i%10 == 0 {
			d.Verdict, d.Outcome = model.VerdictFail, model.OutcomeServfail
			d.Names[0].Failing = []model.ServerRef{ref("ns1.provider.example", "192.0.2.1")}
			d.Findings = []model.Finding{{Code: catalog.CodeTimeout, Severity: model.SeverityFail},
				{Code: catalog.CodeEDNSIntolerant, Severity: model.SeverityWarn}}
		}
		out[i] = d
	}
	return out
}

// BenchmarkObserveScrape10k: 10,000 domains observed, then one scrape of
// /metrics (the text format, as Prometheus asks without an Accept header).
func BenchmarkObserveScrape10k(b *testing.B) {
	ds := benchDomains(10000)
	m := metrics.NewWith(metrics.Options{NoRuntime: true})
	h := m.Handler()
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		for _, d := range ds {
			m.Observe(d, time.Second)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
		bytes = rec.Body.Len()
	}
	b.ReportMetric(float64(bytes), "bytes/scrape")
}

// BenchmarkObserve: one Observe of a domain already tracked among 10,000.
func BenchmarkObserve(b *testing.B) {
	ds := benchDomains(10000)
	m := metrics.NewWith(metrics.Options{NoRuntime: true})
	for _, d := range ds {
		m.Observe(d, time.Second)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Observe(ds[i%len(ds)], time.Second)
		i++
	}
}

func ref(ns, addr string) model.ServerRef {
	return model.ServerRef{NS: ns, Addr: netip.MustParseAddr(addr)}
}
