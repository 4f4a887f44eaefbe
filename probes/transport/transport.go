// Package transport is the only code in caaprobe that opens sockets: every
// query any other package sends (discovery, the probes, DNSSEC key
// fetches, the --resolver cross-check, --ns pins, the preflight) goes
// through an Exchanger. The socket implementation (Socket) sends the query
// bytes and reads the reply bytes itself; Retry, Polite and ExchangeTC are
// written once over the interface, so a fake Exchanger
// (probes/internal/transporttest) gets the same retries, rate limit and
// TC→TCP path as the sockets do.
//
// The records an exchange leaves (model.Exchange, model.Attempt) and its
// error vocabulary are the leaf model's (probes/model), where the judge and
// the renderers read them; the queries are packed by probes/wire. Nothing
// pure imports this package.
package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
)

// Exchanger sends one packed DNS query (its ID is replaced) to server over
// t and returns everything that came back, as bytes, with timings. It
// never returns nil and is safe for concurrent use.
type Exchanger interface {
	Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange
}

// ExchangeTC sends query to server over UDP and, when the reply is
// truncated (TC=1, RFC 1035 §4.2.1, RFC 7766 §5), once more over TCP with
// the same question (each attempt has a fresh ID). It returns both
// exchanges for the judge: tcp is nil when no retry was needed.
// model.Final(udp, tcp) is the one whose reply counts. This is caaprobe's
// one UDP→TCP path: probes, DNSSEC key fetches, the --resolver, pins and
// discovery all go through it.
func ExchangeTC(ctx context.Context, x Exchanger, server netip.AddrPort, query []byte) (udp, tcp *model.Exchange) {
	udp = x.Exchange(ctx, server, query, model.UDP)
	if wire.Truncated(udp.Reply) {
		tcp = x.Exchange(ctx, server, udp.Query, model.TCP)
	}
	return udp, tcp
}

// localErrors counts the exchanges of this process that ended with
// model.ErrLocal, across every Retry.
var localErrors atomic.Int64

// LocalErrors is how many exchanges of this process have ended with a
// local error (model.ErrLocal) so far. Work done while it grew may rest
// on such an exchange: a discovery or probe result from it is not a fact
// about the servers.
func LocalErrors() int64 { return localErrors.Load() }

// maxRejectedKept bounds the datagrams kept that did not answer the query.
const maxRejectedKept = 8

// Retry sends each query up to 1+Retries times while the attempts time
// out, pausing Backoff before the first retry and doubling it each time,
// and merges the attempts into one model.Exchange (the earlier ones in
// Earlier). It sits above Polite, so every attempt waits its turn at the
// rate limit. It also counts the attempts sent and the local errors.
type Retry struct {
	X       Exchanger
	Retries int
	Backoff time.Duration
	// Sleep is the pause between attempts; nil means Sleep. A
	// test with a fake clock puts its own here.
	Sleep func(ctx context.Context, d time.Duration) error

	sent atomic.Int64
}

// Sent counts the queries sent so far through r, retries included.
func (r *Retry) Sent() int64 { return r.sent.Load() }

// Exchange implements Exchanger.
func (r *Retry) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	ex := &model.Exchange{Server: server, Transport: t}
	if len(query) < 12 {
		ex.Err = fmt.Errorf("query of %d bytes is shorter than a DNS header", len(query))
		return ex
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	backoff := r.Backoff
	for attempt := 0; attempt <= r.Retries; attempt++ {
		if attempt > 0 && backoff > 0 {
			if sleep(ctx, backoff) != nil {
				break
			}
			backoff *= 2
		}
		one := r.X.Exchange(ctx, server, query, t)
		if one.Attempts > 0 {
			r.sent.Add(int64(one.Attempts))
			if ex.Attempts > 0 {
				ex.Earlier = append(ex.Earlier, model.Attempt{ID: queryID(ex.Query), Source: ex.Source, Start: ex.Start, Waited: ex.RTT})
			}
			ex.Earlier = append(ex.Earlier, one.Earlier...)
			ex.Query, ex.Source, ex.Start, ex.RTT = one.Query, one.Source, one.Start, one.RTT
			ex.Attempts += one.Attempts
			ex.Timeouts += one.Timeouts
		}
		ex.RejectedCount += one.RejectedCount
		for _, b := range one.Rejected {
			if len(ex.Rejected) < maxRejectedKept {
				ex.Rejected = append(ex.Rejected, b)
			}
		}
		ex.Reply, ex.Err = one.Reply, one.Err
		if one.Err == nil {
			return ex
		}
		if errors.Is(one.Err, model.ErrLocal) {
			localErrors.Add(1)
		}
		if !errors.Is(one.Err, model.ErrTimeout) {
			return ex
		}
		// A server that answers with the wrong ID or question will do so
		// again; retrying only delays the verdict.
		if ex.RejectedCount > 0 || ctx.Err() != nil {
			return ex
		}
	}
	return ex
}

func queryID(q []byte) uint16 {
	if len(q) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(q)
}

// New is the stack every caller uses: Retry (retries, backoff, counting)
// over the rate limit (limit; nil means none) over base, the Socket or a
// fake.
func New(base Exchanger, limit *Limiter, retries int, backoff time.Duration) *Retry {
	return &Retry{X: limit.Wrap(base), Retries: retries, Backoff: backoff}
}
