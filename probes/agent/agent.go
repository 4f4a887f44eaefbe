// Package agent is caaprobe at a remote vantage point: an http.Handler
// that runs the check engine (probes/check) on the names a primary sends
// and returns what it observed, one `check --format json` line per name,
// tagged with the agent's vantage label, RIR region, version and source
// addresses; and the primary's client for it (client.go). Together they
// are the live form of a CA's multi-perspective check; the decision over
// their results is probes/mpic's (docs/perspectives.md).
//
// The handler mounts anywhere (`caaprobe agent` serves it alone; a server
// of several handlers can mount it on its mux). It authenticates every
// request (a bearer token compared in constant time, or a client
// certificate the TLS layer verified), limits each client's rate, bounds
// the request and response, and speaks a versioned protocol: the version
// is in the path (/v1/check) and in every answer, and a request for a
// version the agent does not speak is answered with the versions it does.
//
// A request names domains and nothing else: the agent queries the roots,
// probes, limits and source address of its own configuration, so a client
// cannot make it query servers of the client's choosing beyond what a
// check of those names would.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/input"
	"github.com/caaprobe/caaprobe/probes/internal/guard"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/report"
)

// Protocol is the version of the check protocol this caaprobe speaks.
const Protocol = 1

// HeaderProtocol carries the protocol version on every request and answer.
const HeaderProtocol = "Caaprobe-Protocol"

// Defaults of the bounds (Config).
const (
	DefaultMaxDomains       = 50
	DefaultMaxRequestBytes  = 64 << 10
	DefaultMaxResponseBytes = 32 << 20
	DefaultRate             = 1 // requests a second per client
	DefaultBurst            = 5
)

// Request is what a primary sends: the names to check.
type Request struct {
	Protocol int      `json:"protocol"`
	Domains  []string `json:"domains"`
}

// Response is the agent's answer. Results holds one line of `check
// --format json` per requested domain, in request order; a name the agent
// could not use comes back with verdict error, so no domain is lost.
type Response struct {
	Protocol  int               `json:"protocol"`
	Vantage   model.Vantage     `json:"vantage"`
	Version   string            `json:"version"`
	Results   []json.RawMessage `json:"results,omitempty"`
	Error     string            `json:"error,omitempty"`
	Supported []int             `json:"supported,omitempty"` // with a version error: the versions this agent speaks
}

// Config is an agent's configuration.
type Config struct {
	// Check is the engine's configuration: roots, probes, limits, source
	// address (check.Config.Source). Each request gets its own Checker, so
	// nothing a request left in the caches answers the next one, as a
	// perspective's resolver has its own cache.
	Check check.Config
	// Vantage labels every answer: Label and RIR as configured, Sources
	// the addresses the queries leave from.
	Vantage model.Vantage
	Version string
	// Tokens are the bearer tokens accepted. A request is also accepted
	// when ClientCerts is set and the TLS layer verified a client
	// certificate (the server's tls.Config must then require and verify
	// one). With neither, every request is refused.
	Tokens      []string
	ClientCerts bool
	// Per-client rate limit (by remote address): requests a second and
	// burst; 0 means the defaults.
	Rate  float64
	Burst int
	// Bounds; 0 means the defaults.
	MaxDomains       int
	MaxRequestBytes  int64
	MaxResponseBytes int
	// Concurrency is the domains of one request checked at once (0: 8).
	Concurrency int
	// Versions are the protocol versions served; nil means {Protocol}.
	// Set only to stand in for an agent of another version.
	Versions []int
}

type handler struct {
	cfg Config
	lim *guard.Limiters
}

// New returns the agent's handler. It answers POST /vN/check.
func New(cfg Config) http.Handler {
	if cfg.MaxDomains <= 0 {
		cfg.MaxDomains = DefaultMaxDomains
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Versions == nil {
		cfg.Versions = []int{Protocol}
	}
	return &handler{cfg: cfg, lim: guard.NewLimiters(cfg.Rate, cfg.Burst)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Rate first: a client guessing tokens is limited too.
	if !h.lim.Allow(r) {
		w.Header().Set("Retry-After", "1")
		h.fail(w, http.StatusTooManyRequests, "rate limit: too many requests from this client")
		return
	}
	if !h.authorised(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="caaprobe agent"`)
		h.fail(w, http.StatusUnauthorized, "not authorised: give the agent's bearer token or a client certificate it trusts")
		return
	}
	v, ok := versionOf(r.URL.Path)
	if !ok {
		h.fail(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %q: the agent answers POST /v%d/check", r.URL.Path, h.cfg.Versions[0]))
		return
	}
	if !contains(h.cfg.Versions, v) {
		h.versionError(w, fmt.Sprintf("protocol version %d is not spoken by this agent (it speaks %s)", v, versions(h.cfg.Versions)))
		return
	}
	if hv := r.Header.Get(HeaderProtocol); hv != "" && hv != strconv.Itoa(v) {
		h.versionError(w, fmt.Sprintf("the %s header says %s but the path says %d", HeaderProtocol, hv, v))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxRequestBytes))
	if err != nil {
		h.fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body: %v (limit %d bytes)", err, h.cfg.MaxRequestBytes))
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("request body is not a check request: %v", err))
		return
	}
	if req.Protocol != v {
		h.versionError(w, fmt.Sprintf("the request says protocol %d but the path says %d", req.Protocol, v))
		return
	}
	if len(req.Domains) == 0 || len(req.Domains) > h.cfg.MaxDomains {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("%d domains: want 1 to %d per request", len(req.Domains), h.cfg.MaxDomains))
		return
	}
	resp := h.answer()
	resp.Results = h.check(r.Context(), req.Domains)
	h.write(w, http.StatusOK, resp)
}

// check runs the engine on the names and returns one JSON line each, in
// order; past the response bound a name's line says so (verdict error).
func (h *handler) check(ctx context.Context, domains []string) []json.RawMessage {
	items := make([]input.Item, len(domains))
	for i, raw := range domains {
		items[i] = input.Item{Name: raw, Source: fmt.Sprintf("request %d", i+1)}
		if n, err := input.Normalise(raw); err != nil {
			items[i].Name = report.CleanText(raw)
			items[i].Err = fmt.Errorf("request %d: %w", i+1, err)
		} else {
			items[i].Name = n
		}
	}
	run := &model.Run{Version: h.cfg.Version, Started: time.Now().UTC(), Vantage: &h.cfg.Vantage}
	c := check.New(h.cfg.Check)
	defer c.Close()
	out := make([]json.RawMessage, 0, len(items))
	size := 0
	seq := func(yield func(input.Item) bool) {
		for _, it := range items {
			if !yield(it) {
				return
			}
		}
	}
	c.Run(ctx, seq, h.cfg.Concurrency, func(it input.Item, d *model.Domain) {
		var b bytes.Buffer
		if err := jsonl.WriteRun(&b, d, run); err != nil || size+b.Len() > h.cfg.MaxResponseBytes {
			b.Reset()
			cut := &model.Domain{Domain: d.Domain, Verdict: model.VerdictError, Source: d.Source,
				Err: fmt.Sprintf("the agent's response limit (%d bytes) was reached before this domain", h.cfg.MaxResponseBytes)}
			jsonl.WriteRun(&b, cut, run)
		}
		size += b.Len()
		out = append(out, bytes.TrimRight(b.Bytes(), "\n"))
	})
	return out
}

func (h *handler) answer() *Response {
	return &Response{Protocol: h.cfg.Versions[0], Vantage: h.cfg.Vantage, Version: h.cfg.Version}
}

func (h *handler) versionError(w http.ResponseWriter, msg string) {
	resp := h.answer()
	resp.Error, resp.Supported = msg, h.cfg.Versions
	h.write(w, http.StatusBadRequest, resp)
}

func (h *handler) fail(w http.ResponseWriter, status int, msg string) {
	resp := h.answer()
	resp.Error = msg
	if status == http.StatusUnauthorized || status == http.StatusTooManyRequests {
		// Nothing about the vantage to a client that has not shown it
		// may ask.
		resp = &Response{Protocol: h.cfg.Versions[0], Error: msg}
	}
	h.write(w, status, resp)
}

func (h *handler) write(w http.ResponseWriter, status int, resp *Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(HeaderProtocol, strconv.Itoa(resp.Protocol))
	w.WriteHeader(status)
	w.Write(b)
}

func (h *handler) authorised(r *http.Request) bool {
	if h.cfg.ClientCerts && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	return guard.Bearer(r, h.cfg.Tokens)
}

// versionOf reads N from /vN/check.
func versionOf(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/v")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "/check")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

func contains(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func versions(l []int) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

// ErrNoAuth is returned by Validate for a configuration that would refuse
// every request.
var ErrNoAuth = errors.New("no token and no client certificates: the agent would refuse every request")

// Validate checks the parts of cfg a command line sets.
func Validate(cfg Config) error {
	if len(cfg.Tokens) == 0 && !cfg.ClientCerts {
		return ErrNoAuth
	}
	if cfg.Vantage.Label == "" {
		return errors.New("the agent needs a vantage label")
	}
	if !mpic.ValidRIR(cfg.Vantage.RIR) {
		return fmt.Errorf("RIR %q: want one of ARIN, RIPE, APNIC, LACNIC, AFRINIC", cfg.Vantage.RIR)
	}
	return nil
}
