// Package guard is what caaprobe's servers (serve, agent) ask of every
// client before any work: a per-client rate limit whose table is bounded,
// and the bearer token, compared in constant time.
package guard

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// MaxClients bounds the per-client limiters kept; past it the table starts
// afresh (a client then gets a fresh burst, never less), so a flood of
// source addresses cannot grow memory.
const MaxClients = 4096

// Limiters are per-client token buckets, keyed by IP address.
type Limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

// NewLimiters allows each client perSecond requests a second, burst at once.
func NewLimiters(perSecond float64, burst int) *Limiters {
	return &Limiters{rate: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// Allow takes one token from r's client's bucket.
func (l *Limiters) Allow(r *http.Request) bool {
	client := ClientOf(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[client]
	if lim == nil {
		if len(l.m) >= MaxClients {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[client] = lim
	}
	return lim.Allow()
}

// ClientOf is the client's address without the port. Behind a reverse
// proxy every client is the proxy: limit there (docs/serve.md).
func ClientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Bearer reports whether r carries one of tokens as its bearer token.
// Every token is compared, in constant time each: neither the position nor
// the length of a match shows in the timing. Empty tokens match nothing.
func Bearer(r *http.Request, tokens []string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return false
	}
	match := 0
	for _, t := range tokens {
		if t != "" {
			match |= subtle.ConstantTimeCompare([]byte(got), []byte(t))
		}
	}
	return match == 1
}
