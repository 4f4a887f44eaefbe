// Package resolver asks a validating recursive resolver (the kind a CA runs)
// for a name's CAA RRset and records what it says: RCODE, the AD bit and any
// Extended DNS Error (RFC 8914). caaprobe's verdicts are predictions of what
// such a resolver will do; this package is how a user (and the interop tests)
// compare the prediction with a real one. The query goes through a
// transport.Exchanger (probes/transport, the only code that touches the
// network), with the same retries and rate limit as every other query.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// DefaultTimeout bounds one query to the resolver. It is longer than the
// per-server timeout of the probes because the resolver itself waits for
// slow or silent authoritative servers (Unbound 1.17 takes tens of seconds
// to give up on a server that drops CAA queries).
const DefaultTimeout = 10 * time.Second

// Query asks server for name's CAA RRset the way a CA's client does: RD=1,
// EDNS0 with DO=1, CD=0, so the resolver validates and reports with AD and
// EDE. A truncated UDP reply is retried over TCP.
func Query(ctx context.Context, x transport.Exchanger, server netip.AddrPort, name model.DomainName) model.Answer {
	a := model.Answer{Name: name.String(), Server: server}
	q, err := BuildQuery(name)
	if err != nil {
		a.Err = err.Error()
		return a
	}
	ex := model.Final(transport.ExchangeTC(ctx, x, server, q))
	a.Exchange = ex
	if ex.Reply == nil {
		a.Err = errText(ex.Err)
		return a
	}
	parse(&a, ex.Reply)
	return a
}

// BuildQuery packs the resolver query for name (ID 0; the exchanger sets it).
func BuildQuery(name model.DomainName) ([]byte, error) {
	m := new(dns.Msg)
	m.SetQuestion(name.String(), dns.TypeCAA)
	m.Id = 0
	m.RecursionDesired = true
	m.CheckingDisabled = false
	m.SetEdns0(wire.EDNSBufSize, true)
	b, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing the resolver query for %s: %w", name, err)
	}
	return b, nil
}

// parse reads RCODE (extended by the OPT record), AD, EDE options and the
// CAA count from a reply that already matched the query.
func parse(a *model.Answer, reply []byte) {
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		a.Err = fmt.Sprintf("unparsable reply from the resolver: %v", err)
		return
	}
	a.Rcode = dns.RcodeToString[m.Rcode]
	if a.Rcode == "" {
		a.Rcode = fmt.Sprintf("RCODE%d", m.Rcode)
	}
	a.AD = m.AuthenticatedData
	for _, rr := range m.Answer {
		if _, ok := rr.(*dns.CAA); ok {
			a.Records++
		}
	}
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				a.EDE = append(a.EDE, model.EDE{Code: e.InfoCode, Text: e.ExtraText})
			}
		}
	}
}

func errText(err error) string {
	switch {
	case err == nil:
		return "no reply"
	case errors.Is(err, model.ErrTimeout):
		return "no reply before the timeout"
	}
	return err.Error()
}
