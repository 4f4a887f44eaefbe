package discovery

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Querier asks one server address one question, without RD, with EDNS and
// the DO bit (so referrals carry DS or the proof of its absence), and
// returns the parsed reply. The walker does nothing else with the network:
// production uses an adapter over a transport.Exchanger, tests canned replies.
type Querier interface {
	Query(ctx context.Context, server netip.Addr, name string, qtype uint16) (*dns.Msg, error)
}

// exchangeQuerier is the production Querier: one exchange over UDP, the
// same question over TCP after a truncated reply, and once more without
// OPT after FORMERR or NOTIMP to EDNS (an EDNS-intolerant server: the
// probes judge it; discovery only needs its data).
type exchangeQuerier struct {
	x    transport.Exchanger
	port int
}

func (q exchangeQuerier) Query(ctx context.Context, server netip.Addr, name string, qtype uint16) (*dns.Msg, error) {
	m, err := q.query(ctx, server, name, qtype, true)
	if err == nil && (m.Rcode == dns.RcodeFormatError || m.Rcode == dns.RcodeNotImplemented) {
		return q.query(ctx, server, name, qtype, false)
	}
	return m, err
}

func (q exchangeQuerier) query(ctx context.Context, server netip.Addr, name string, qtype uint16, edns bool) (*dns.Msg, error) {
	addr := netip.AddrPortFrom(server, uint16(q.port))
	query, err := wire.BuildQuery(name, qtype, edns, edns)
	if err != nil {
		return nil, fmt.Errorf("query for %s: %w", name, err)
	}
	ex := model.Final(transport.ExchangeTC(ctx, q.x, addr, query))
	if ex.Reply == nil {
		return nil, ex.Err
	}
	m := new(dns.Msg)
	if err := m.Unpack(ex.Reply); err != nil {
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	return m, nil
}
