package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/mpic"
	"github.com/caaprobe/caaprobe/probes/report"
	"github.com/caaprobe/caaprobe/probes/runs"
)

// Remote is one agent as the primary's configuration names it.
type Remote struct {
	// URL is the agent's base address (https://host:port); the client
	// posts to URL/v1/check.
	URL string
	// Vantage is the label and RIR the configuration gives the agent: the
	// decision counts these, whatever the agent says of itself.
	Vantage model.Vantage
	Token   string
	// TLS is the client's TLS configuration (the agent's CA, a client
	// certificate); nil means the system's roots.
	TLS *tls.Config
}

// DefaultDeadline is a perspective's time limit when Client.Deadline is 0.
const DefaultDeadline = 2 * time.Minute

// Client asks remote agents to check names, as a CA's primary asks its
// remote perspectives: all at once, each under its own deadline. Every
// failure becomes that perspective's fault (Answer.Fault), never an error
// of the run: a CA counts an agent it cannot hear from as one that does
// not corroborate.
type Client struct {
	Remotes []Remote
	// Deadline bounds one request to one agent (connect, check, answer).
	Deadline time.Duration
	// MaxResponseBytes bounds an agent's answer (0: DefaultMaxResponseBytes
	// and a little for the envelope).
	MaxResponseBytes int64
	// BatchSize is the names per request (0: DefaultMaxDomains).
	BatchSize int

	once    sync.Once
	clients []*http.Client
}

// Answer is what one agent returned for a batch of names.
type Answer struct {
	Remote Remote
	// Vantage is the configured one, with the sources and host the agent
	// reported.
	Vantage model.Vantage
	Version string // the agent's caaprobe version, when it answered
	// Records are the agent's records by domain name; nil with a Fault.
	Records map[string]*runs.Record
	Fault   mpic.Fault // "" when the agent answered
	Detail  string
}

func (c *Client) init() {
	c.once.Do(func() {
		for _, r := range c.Remotes {
			tr := &http.Transport{
				// No proxy from the environment: the agent is reached
				// directly, as configured.
				Proxy:                 nil,
				TLSClientConfig:       r.TLS,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 0, // the request's deadline bounds the check
				MaxIdleConnsPerHost:   2,
				ForceAttemptHTTP2:     true,
			}
			c.clients = append(c.clients, &http.Client{Transport: tr,
				// A redirect would send the token elsewhere.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
		}
	})
}

// Close releases idle connections.
func (c *Client) Close() {
	c.init()
	for _, hc := range c.clients {
		hc.CloseIdleConnections()
	}
}

// Check sends domains to every remote at once, in batches of BatchSize
// (one batch after another to each remote), and returns one Answer per
// remote and batch: answers[i] are remote i's, in batch order. It returns
// when every remote has answered or failed; no remote holds it past its
// deadline per batch.
func (c *Client) Check(ctx context.Context, domains []string) [][]Answer {
	c.init()
	size := c.BatchSize
	if size <= 0 {
		size = DefaultMaxDomains
	}
	var batches [][]string
	for i := 0; i < len(domains); i += size {
		batches = append(batches, domains[i:min(i+size, len(domains))])
	}
	out := make([][]Answer, len(c.Remotes))
	var wg sync.WaitGroup
	for i := range c.Remotes {
		wg.Go(func() {
			for _, b := range batches {
				out[i] = append(out[i], c.one(ctx, i, b))
			}
		})
	}
	wg.Wait()
	return out
}

// maxTries bounds the requests to one agent for one batch: the first and
// up to two more after an HTTP 429.
const maxTries = 3

// retryAfter reads a Retry-After header's delay in seconds (RFC 9110
// §10.2.3; serve and the agent send seconds), between 1 s and 30 s; an
// absent or unreadable value is 1 s.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil || n < 1:
		return time.Second
	case n > 30:
		return 30 * time.Second
	}
	return time.Duration(n) * time.Second
}

// one is one request to remote i.
func (c *Client) one(ctx context.Context, i int, domains []string) Answer {
	r := c.Remotes[i]
	a := Answer{Remote: r, Vantage: r.Vantage}
	fault := func(kind mpic.Fault, format string, args ...any) Answer {
		a.Records, a.Fault, a.Detail = nil, kind, report.CleanText(fmt.Sprintf(format, args...))
		return a
	}
	deadline := c.Deadline
	if deadline <= 0 {
		deadline = DefaultDeadline
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	body, _ := json.Marshal(Request{Protocol: Protocol, Domains: domains})
	endpoint, err := url.JoinPath(r.URL, fmt.Sprintf("/v%d/check", Protocol))
	if err != nil {
		return fault(mpic.FaultUnreachable, "agent URL %q: %v", r.URL, err)
	}
	var resp *http.Response
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return fault(mpic.FaultUnreachable, "agent URL %q: %v", r.URL, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderProtocol, strconv.Itoa(Protocol))
		if r.Token != "" {
			req.Header.Set("Authorization", "Bearer "+r.Token)
		}
		resp, err = c.clients[i].Do(req)
		if err != nil {
			switch {
			case ctx.Err() == context.DeadlineExceeded:
				return fault(mpic.FaultTimeout, "no answer within %v", deadline)
			case isTLSError(err):
				return fault(mpic.FaultUnreachable, "TLS: %v", err)
			}
			return fault(mpic.FaultUnreachable, "%v", err)
		}
		// An agent that is busy (its queue or a client's rate limit full)
		// says when to come back; the primary waits that long, within
		// this perspective's deadline and at most maxTries times, rather
		// than count a busy perspective as failing at once.
		if resp.StatusCode != http.StatusTooManyRequests || try == maxTries {
			break
		}
		wait := retryAfter(resp.Header.Get("Retry-After"))
		resp.Body.Close()
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return fault(mpic.FaultRefused, "HTTP 429: the agent is busy and asks to wait %v, past this perspective's deadline", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fault(mpic.FaultTimeout, "no answer within %v (the agent was busy)", deadline)
		case <-t.C:
		}
	}
	defer resp.Body.Close()
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes + 1<<20
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fault(mpic.FaultTimeout, "the answer did not end within %v", deadline)
		}
		return fault(mpic.FaultUnreachable, "reading the answer: %v", err)
	}
	if int64(len(raw)) > limit {
		return fault(mpic.FaultBadResponse, "the answer is larger than %d bytes", limit)
	}
	var ans Response
	jerr := json.Unmarshal(raw, &ans)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fault(mpic.FaultAuth, "HTTP 401: %s", orText(ans.Error, "the agent refused the token or certificate"))
	case jerr == nil && len(ans.Supported) > 0:
		return fault(mpic.FaultVersion, "this primary speaks protocol %d, the agent speaks %s: %s", Protocol, versions(ans.Supported), ans.Error)
	case resp.StatusCode == http.StatusNotFound && jerr != nil:
		return fault(mpic.FaultVersion, "HTTP 404 for %s: not a caaprobe agent of protocol %d", endpoint, Protocol)
	case resp.StatusCode != http.StatusOK:
		return fault(mpic.FaultRefused, "HTTP %d: %s", resp.StatusCode, orText(ans.Error, snippet(raw)))
	case jerr != nil:
		return fault(mpic.FaultBadResponse, "not a caaprobe answer: %v (%q)", jerr, snippet(raw))
	case ans.Protocol != Protocol:
		return fault(mpic.FaultVersion, "the agent answered protocol %d, this primary speaks %d", ans.Protocol, Protocol)
	case len(ans.Results) != len(domains):
		return fault(mpic.FaultBadResponse, "%d results for %d domains", len(ans.Results), len(domains))
	}
	a.Version = report.CleanText(ans.Version)
	a.Vantage.Host, a.Vantage.Sources = ans.Vantage.Host, ans.Vantage.Sources
	a.Records = map[string]*runs.Record{}
	for j, line := range ans.Results {
		rec, err := runs.Decode(line)
		if err != nil {
			return fault(mpic.FaultBadResponse, "result %d (%s): %v", j+1, domains[j], err)
		}
		// The configured vantage, not the agent's word for it: the
		// diversity rule counts what the primary was told.
		rec.Vantage = a.Vantage
		rec.Domain.Domain = report.CleanText(rec.Domain.Domain)
		a.Records[rec.Domain.Domain] = rec
	}
	return a
}

// Input is the decision's input for domain from this answer: the agent's
// record, or the fault that left it without one (also when the agent's
// answer has no line for this domain).
func (a *Answer) Input(domain string) mpic.Input {
	in := mpic.Input{Vantage: a.Vantage, Fault: a.Fault, Detail: a.Detail}
	if a.Fault != "" {
		return in
	}
	rec := a.Records[domain]
	if rec == nil {
		in.Fault, in.Detail = mpic.FaultBadResponse, "the agent's answer has no result for "+report.CleanText(domain)
		return in
	}
	in.Domain = report.CleanDomain(rec.Domain)
	return in
}

func isTLSError(err error) bool {
	var (
		ua  x509.UnknownAuthorityError
		hn  x509.HostnameError
		ci  x509.CertificateInvalidError
		rec tls.RecordHeaderError
		ae  *tls.AlertError
		ve  *tls.CertificateVerificationError
	)
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &rec) ||
		errors.As(err, &ae) || errors.As(err, &ve) || strings.Contains(err.Error(), "tls:")
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// snippet is the start of a body that is not what was expected, for the
// reason line.
func snippet(b []byte) string {
	const n = 80
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// LoadCA reads a PEM file of CA certificates for Remote.TLS.
func LoadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}
