// Package metrics exposes checked domains in the Prometheus exposition
// format: per domain its verdict, predicted outcome, failing servers, last
// check time, check duration and findings by code, plus the process's own
// counters (checks, queries sent, errors), on its own registry (never the
// global default, so two servers in one process, or a test, never share
// series). ProbeHandler is the blackbox-exporter-style /probe endpoint:
// one check per request, its metrics only. Every metric, label and the
// /probe contract are in docs/metrics.md.
//
// Label values come from two places only: the domain name, which must be
// a name as probes/input normalises it (lowercase A-labels, so no byte a
// server chose), and fixed vocabularies (verdicts, outcomes, the finding
// catalog's codes, severities). A server-sent string never becomes a label.
package metrics

import (
	"container/list"
	"net/http"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMaxDomains is how many domains New tracks. Each domain costs about
// a dozen series (more with findings); 10,000 domains is some 120,000
// series, as much as one Prometheus target should carry.
const DefaultMaxDomains = 10000

// Options tune NewWith; the zero value is New's.
type Options struct {
	// MaxDomains bounds the domains with series; 0 means
	// DefaultMaxDomains. Past it the domain observed least recently loses
	// its series (counted in caaprobe_metrics_domains_dropped_total).
	MaxDomains int
	// Now is the clock of caaprobe_domain_last_check_timestamp_seconds;
	// nil means time.Now.
	Now func() time.Time
	// NoRuntime leaves out the Go and process collectors (a /probe
	// answer carries only its check's series).
	NoRuntime bool
}

// Metrics is the /metrics state of a process. It is safe for concurrent
// use: checks Observe while Prometheus scrapes.
type Metrics struct {
	reg     *prometheus.Registry
	domains *domainSet
	checks  *prometheus.CounterVec
	queries prometheus.Counter
	errors  prometheus.Counter
	dropped *prometheus.CounterVec
	now     func() time.Time
}

// Verdicts and outcomes as label values, in the order they are exposed.
var (
	verdictValues = []model.Verdict{model.VerdictPass, model.VerdictWarn, model.VerdictFail, model.VerdictError}
	outcomeValues = []model.Outcome{model.OutcomeOK, model.OutcomeIntermittent, model.OutcomeServfail, model.OutcomeUnknown}
)

// Reasons a domain has no series (caaprobe_metrics_domains_dropped_total).
const (
	reasonCap     = "cap"          // evicted to stay under MaxDomains
	reasonInvalid = "invalid-name" // not a normalised name: never a label
)

// New returns Metrics on a registry of its own with the Go and process
// collectors, tracking at most DefaultMaxDomains domains.
func New() *Metrics { return NewWith(Options{}) }

// NewWith returns Metrics with the given options.
func NewWith(o Options) *Metrics {
	if o.MaxDomains <= 0 {
		o.MaxDomains = DefaultMaxDomains
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Metrics{reg: prometheus.NewRegistry(), domains: newDomainSet(o.MaxDomains), now: o.Now,
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caaprobe_checks_total",
			Help: "Domains checked, by verdict."}, []string{"verdict"}),
		queries: prometheus.NewCounter(prometheus.CounterOpts{Name: "caaprobe_queries_sent_total",
			Help: "Queries (attempts and TCP retries) behind the results of the domains checked; a probe shared by two domains of one run counts in each, the discovery walk in none."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "caaprobe_check_errors_total",
			Help: "Checks that could not be completed (verdict error)."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "caaprobe_metrics_domains_dropped_total",
			Help: "Domains left without series: reason cap (evicted, least recently checked first, to stay under the cap) or invalid-name (not a normalised domain name)."}, []string{"reason"}),
	}
	for _, v := range verdictValues {
		m.checks.WithLabelValues(string(v))
	}
	m.dropped.WithLabelValues(reasonCap)
	m.dropped.WithLabelValues(reasonInvalid)
	m.reg.MustRegister(m.domains, m.checks, m.queries, m.errors, m.dropped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "caaprobe_metrics_domains_tracked",
			Help: "Domains with series now."}, func() float64 { return float64(m.domains.len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "caaprobe_metrics_domains_max",
			Help: "The cap on domains with series."}, func() float64 { return float64(o.MaxDomains) }))
	if !o.NoRuntime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Observe records one finished check of d, which took took. A nil d is
// ignored. A domain whose name is not a normalised name (an input line
// that was not a name, reported with verdict error) counts in the
// process-wide counters but gets no series of its own.
func (m *Metrics) Observe(d *model.Domain, took time.Duration) {
	if d == nil {
		return
	}
	s := stateOf(d, took, m.now())
	m.checks.WithLabelValues(string(s.verdict)).Inc()
	if s.verdict == model.VerdictError {
		m.errors.Inc()
	}
	m.queries.Add(float64(queriesOf(d)))
	if s.name == "" {
		m.dropped.WithLabelValues(reasonInvalid).Inc()
		return
	}
	if m.domains.put(s) {
		m.dropped.WithLabelValues(reasonCap).Inc()
	}
}

// Forget removes the series of a domain no longer checked (taken off a
// watch list), so that its last verdict does not alert forever.
func (m *Metrics) Forget(domain string) { m.domains.remove(domain) }

// Handler is the /metrics endpoint: the registry in the exposition format
// the scraper asks for.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A scrape of 10,000 domains is a few megabytes; two at a time
		// are plenty for one Prometheus and bound the memory.
		MaxRequestsInFlight: 2,
		Timeout:             30 * time.Second,
	})
}

// queriesOf counts the queries behind d's results: every attempt of every
// exchange, and the TCP retries after a truncated reply.
func queriesOf(d *model.Domain) int {
	n := 0
	for _, s := range d.Servers {
		for _, r := range s.Results {
			if r.Exchange != nil {
				n += r.Exchange.Attempts
			}
			if r.Fallback != nil {
				n += r.Fallback.Attempts
			}
		}
	}
	return n
}

// domainState is what the series of one domain say, computed once per
// Observe and never changed after (a scrape reads it without a lock).
type domainState struct {
	name     string // "" when d's name is not a normalised name
	verdict  model.Verdict
	outcome  model.Outcome
	failing  int
	last     float64 // Unix seconds
	took     float64 // seconds
	findings []findingCount
}

type findingCount struct {
	code, severity string
	n              int
}

// stateOf reads the series of d. The verdict and outcome are mapped onto
// their fixed sets (anything else, such as an empty verdict of a domain
// never summarised, is an error / unknown), and a code outside the finding
// catalog (a Domain read back from a newer JSON) is "unknown".
func stateOf(d *model.Domain, took time.Duration, now time.Time) *domainState {
	s := &domainState{verdict: model.VerdictError, outcome: model.OutcomeUnknown,
		last: float64(now.UnixNano()) / 1e9, took: took.Seconds()}
	if n, err := input.Normalise(d.Domain); err == nil && n == d.Domain {
		s.name = n
	}
	for _, v := range verdictValues {
		if d.Verdict == v {
			s.verdict = v
		}
	}
	for _, o := range outcomeValues {
		if d.Outcome == o {
			s.outcome = o
		}
	}
	s.failing = len(d.FailingServers())
	for _, f := range d.Findings {
		code, sev := knownCode(f.Code), knownSeverity(f.Severity)
		i := 0
		for i < len(s.findings) && (s.findings[i].code != code || s.findings[i].severity != sev) {
			i++
		}
		if i == len(s.findings) {
			s.findings = append(s.findings, findingCount{code: code, severity: sev})
		}
		s.findings[i].n++
	}
	return s
}

// catalogCodes is the finding catalog as a set.
var catalogCodes = func() map[model.Code]bool {
	m := map[model.Code]bool{}
	for _, f := range catalog.Findings {
		m[f.Code] = true
	}
	return m
}()

func knownCode(c model.Code) string {
	if catalogCodes[c] {
		return string(c)
	}
	return "unknown"
}

func knownSeverity(s model.Severity) string {
	switch s {
	case model.SeverityFail, model.SeverityWarn, model.SeverityInfo:
		return string(s)
	}
	return "unknown"
}

// domainSet holds the state of at most max domains, least recently
// observed evicted first, and is the collector of their series.
type domainSet struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *domainState, most recent first
	byKey map[string]*list.Element
}

func newDomainSet(max int) *domainSet {
	return &domainSet{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// put records s, replacing the domain's earlier state, and reports whether
// another domain was evicted to make room.
func (ds *domainSet) put(s *domainState) (evicted bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if e, ok := ds.byKey[s.name]; ok {
		e.Value = s
		ds.order.MoveToFront(e)
		return false
	}
	if ds.order.Len() >= ds.max {
		old := ds.order.Back()
		ds.order.Remove(old)
		delete(ds.byKey, old.Value.(*domainState).name)
		evicted = true
	}
	ds.byKey[s.name] = ds.order.PushFront(s)
	return evicted
}

func (ds *domainSet) remove(name string) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if e, ok := ds.byKey[name]; ok {
		ds.order.Remove(e)
		delete(ds.byKey, name)
	}
}

func (ds *domainSet) len() int {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.order.Len()
}

var (
	descVerdict = prometheus.NewDesc("caaprobe_domain_verdict",
		"The domain's verdict as a state set: 1 for the current verdict (pass, warn, fail, error), 0 for the others.",
		[]string{"domain", "verdict"}, nil)
	descOutcome = prometheus.NewDesc("caaprobe_domain_outcome",
		"The predicted answer of a CA's validating resolver as a state set: 1 for the current outcome (ok, intermittent, servfail, unknown), 0 for the others.",
		[]string{"domain", "outcome"}, nil)
	descFailing = prometheus.NewDesc("caaprobe_domain_failing_servers",
		"Server addresses whose CAA path fails for some relevant name of the domain.", []string{"domain"}, nil)
	descLast = prometheus.NewDesc("caaprobe_domain_last_check_timestamp_seconds",
		"When the domain's last check ended, in Unix seconds.", []string{"domain"}, nil)
	descDuration = prometheus.NewDesc("caaprobe_domain_check_duration_seconds",
		"How long the domain's last check took.", []string{"domain"}, nil)
	descFindings = prometheus.NewDesc("caaprobe_domain_findings",
		"Findings of the domain's last check by code and severity (codes outside the catalog are \"unknown\").",
		[]string{"domain", "code", "severity"}, nil)
)

// Describe implements prometheus.Collector.
func (ds *domainSet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVerdict, descOutcome, descFailing, descLast, descDuration, descFindings} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The states are copied under the
// lock and sent without it, so a slow scrape never holds up a check.
func (ds *domainSet) Collect(ch chan<- prometheus.Metric) {
	ds.mu.Lock()
	states := make([]*domainState, 0, ds.order.Len())
	for e := ds.order.Front(); e != nil; e = e.Next() {
		states = append(states, e.Value.(*domainState))
	}
	ds.mu.Unlock()
	for _, s := range states {
		collectState(ch, s)
	}
}

func collectState(ch chan<- prometheus.Metric, s *domainState) {
	for _, v := range verdictValues {
		ch <- prometheus.MustNewConstMetric(descVerdict, prometheus.GaugeValue, boolValue(s.verdict == v), s.name, string(v))
	}
	for _, o := range outcomeValues {
		ch <- prometheus.MustNewConstMetric(descOutcome, prometheus.GaugeValue, boolValue(s.outcome == o), s.name, outcomeLabel(o))
	}
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, float64(s.failing), s.name)
	ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, s.last, s.name)
	ch <- prometheus.MustNewConstMetric(descDuration, prometheus.GaugeValue, s.took, s.name)
	for _, f := range s.findings {
		ch <- prometheus.MustNewConstMetric(descFindings, prometheus.GaugeValue, float64(f.n), s.name, f.code, f.severity)
	}
}

// outcomeLabel is an outcome as a label value: the JSON contract's empty
// "not predicted" is "unknown" here, since an empty label value is the
// same as no label to Prometheus.
func outcomeLabel(o model.Outcome) string {
	if o == model.OutcomeUnknown {
		return "unknown"
	}
	return string(o)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
