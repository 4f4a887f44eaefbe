package metrics

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CheckFunc checks one normalised name under ctx (whose deadline is the
// probe's timeout) and says how long it took. An error means no check was
// made at all (the checker is shutting down); a check that ran and could
// not finish is a Domain with verdict error.
type CheckFunc func(ctx context.Context, name string) (*model.Domain, time.Duration, error)

// ProbeOptions bound /probe; the zero value takes every default.
type ProbeOptions struct {
	// MaxInFlight is how many checks /probe runs at once; a request
	// past it is answered 429 at once. 0 means DefaultProbeInFlight.
	MaxInFlight int
	// Timeout is a check's time limit when the request sets none; 0
	// means DefaultProbeTimeout.
	Timeout time.Duration
	// MaxTimeout caps every timeout a request asks for; 0 means
	// DefaultProbeMaxTimeout.
	MaxTimeout time.Duration
	// TimeoutOffset is taken off Prometheus's scrape timeout header, so
	// the answer is sent before Prometheus gives up on it; 0 means
	// DefaultProbeTimeoutOffset.
	TimeoutOffset time.Duration
	// RetryAfter is the Retry-After of a 429; 0 means 5 seconds.
	RetryAfter time.Duration
}

// Defaults of ProbeOptions.
const (
	DefaultProbeInFlight      = 4
	DefaultProbeTimeout       = 10 * time.Second
	DefaultProbeMaxTimeout    = 2 * time.Minute
	DefaultProbeTimeoutOffset = 500 * time.Millisecond
)

// scrapeTimeoutHeader is the header in which Prometheus sends each
// scrape's timeout, in seconds.
const scrapeTimeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// maxQueryBytes bounds the query string read: a name is at most 253
// octets, and a U-label spelling a few times that.
const maxQueryBytes = 2048

var (
	descProbeSuccess = prometheus.NewDesc("caaprobe_probe_success",
		"1 when the check completed with verdict pass or warn; 0 for fail, error or no check.", nil, nil)
	descProbeDuration = prometheus.NewDesc("caaprobe_probe_duration_seconds",
		"How long the probe took, the check and its metrics.", nil, nil)
)

// ProbeHandler is the blackbox-exporter-style endpoint
// /probe?target=NAME[&timeout=DURATION]: it validates NAME as check does,
// runs one check of it through check with the request's timeout, and
// answers that check's series only (a fresh registry per request) with
// caaprobe_probe_success and caaprobe_probe_duration_seconds. A bad
// parameter is a 400 naming it; more than MaxInFlight checks at once, a
// 429 with Retry-After. The contract is in docs/metrics.md.
func ProbeHandler(check CheckFunc, opts ProbeOptions) http.Handler {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultProbeInFlight
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultProbeTimeout
	}
	if opts.MaxTimeout <= 0 {
		opts.MaxTimeout = DefaultProbeMaxTimeout
	}
	if opts.TimeoutOffset <= 0 {
		opts.TimeoutOffset = DefaultProbeTimeoutOffset
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 5 * time.Second
	}
	return &probeHandler{check: check, opts: opts, slots: make(chan struct{}, opts.MaxInFlight)}
}

type probeHandler struct {
	check CheckFunc
	opts  ProbeOptions
	slots chan struct{}
}

func (h *probeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed, "method "+strconv.Quote(r.Method)+" not allowed: use GET")
		return
	}
	name, timeout, err := h.parse(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(h.opts.RetryAfter.Seconds()))))
		httpError(w, http.StatusTooManyRequests, fmt.Sprintf("%d probes are running already: try again later", h.opts.MaxInFlight))
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	d, took, err := h.check(ctx, name)
	cancel()

	reg := prometheus.NewRegistry()
	success := err == nil && d != nil && (d.Verdict == model.VerdictPass || d.Verdict == model.VerdictWarn)
	var state *domainState
	if err == nil && d != nil {
		state = stateOf(d, took, time.Now())
		if state.name != name {
			// The check answered for another name than asked: show the
			// one asked, never a label the check made up.
			state.name = name
		}
	}
	reg.MustRegister(probeCollector{state: state, success: success, took: time.Since(start)})
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// parse reads and validates the request's parameters: target once, a
// name as check accepts it (probes/input.Normalise); timeout, if given,
// a positive Go duration ("5s") or number of seconds ("2.5"); the scrape
// timeout header likewise in seconds. The timeout is the smallest asked
// for, capped at MaxTimeout.
func (h *probeHandler) parse(r *http.Request) (string, time.Duration, error) {
	if len(r.URL.RawQuery) > maxQueryBytes {
		return "", 0, fmt.Errorf("query string is %d bytes long: at most %d", len(r.URL.RawQuery), maxQueryBytes)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", 0, fmt.Errorf("query string: %v", err)
	}
	targets, ok := q["target"]
	switch {
	case !ok:
		return "", 0, fmt.Errorf("missing parameter target: /probe?target=example.com")
	case len(targets) != 1:
		return "", 0, fmt.Errorf("parameter target given %d times: give one name", len(targets))
	}
	name, err := input.Normalise(targets[0])
	if err != nil {
		return "", 0, fmt.Errorf("target: %v", err)
	}
	timeout := h.opts.Timeout
	if vs, ok := q["timeout"]; ok {
		if len(vs) != 1 {
			return "", 0, fmt.Errorf("parameter timeout given %d times", len(vs))
		}
		t, err := parseTimeout(vs[0], false)
		if err != nil {
			return "", 0, fmt.Errorf("timeout: %v", err)
		}
		timeout = t
	}
	if v := r.Header.Get(scrapeTimeoutHeader); v != "" {
		t, err := parseTimeout(v, true)
		if err != nil {
			return "", 0, fmt.Errorf("header %s: %v", scrapeTimeoutHeader, err)
		}
		// The answer must be written before Prometheus gives up; a
		// scrape timeout shorter than the offset keeps half of it.
		if t > h.opts.TimeoutOffset {
			t -= h.opts.TimeoutOffset
		} else {
			t /= 2
		}
		if _, given := q["timeout"]; !given || t < timeout {
			timeout = t
		}
	}
	return name, min(timeout, h.opts.MaxTimeout), nil
}

// parseTimeout reads a positive duration: seconds as a number, or (unless
// secondsOnly) a Go duration. Huge values are capped by the caller; only
// what is not a positive time is an error.
func parseTimeout(s string, secondsOnly bool) (time.Duration, error) {
	quoted := strconv.Quote(s)
	if len(s) > 64 {
		quoted = strconv.Quote(s[:64]) + "…"
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		if math.IsNaN(f) || f <= 0 {
			return 0, fmt.Errorf("%s is not a positive number of seconds", quoted)
		}
		if f >= float64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64), nil
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if secondsOnly {
		return 0, fmt.Errorf("%s is not a number of seconds", quoted)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s is not a duration (\"5s\", \"1m\") or a number of seconds", quoted)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s is not a positive duration", quoted)
	}
	return d, nil
}

// httpError answers a plain-text error. The message may quote the input
// (input.Normalise escapes every control character in it); nosniff keeps
// a browser from reading it as anything but text.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// probeCollector is one /probe answer's series.
type probeCollector struct {
	state   *domainState // nil when no check was made
	success bool
	took    time.Duration
}

func (p probeCollector) Describe(ch chan<- *prometheus.Desc) {
	(&domainSet{}).Describe(ch)
	ch <- descProbeSuccess
	ch <- descProbeDuration
}

func (p probeCollector) Collect(ch chan<- prometheus.Metric) {
	if p.state != nil {
		collectState(ch, p.state)
	}
	ch <- prometheus.MustNewConstMetric(descProbeSuccess, prometheus.GaugeValue, boolValue(p.success))
	ch <- prometheus.MustNewConstMetric(descProbeDuration, prometheus.GaugeValue, p.took.Seconds())
}
