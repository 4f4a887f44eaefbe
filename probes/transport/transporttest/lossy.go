package transporttest

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// Lossy drops a seeded share of the attempts it is given before they
// reach X, returning the timeout at once: a lossy path without the wait.
// MaxConsecutive caps the drops in a row of one question (server, name as
// spelled, type, transport, EDNS and DO), so with more attempts than the
// cap every question is answered in the end, which makes a lossy run's
// findings repeatable. Which attempt is dropped depends on the order the
// engine sends them in; the cap is what makes the outcome not depend on it.
type Lossy struct {
	X              transport.Exchanger
	Servers        []netip.Addr // the addresses whose path is lossy; none means all
	Drop           float64      // share of attempts dropped, 0 to 1
	MaxConsecutive int          // 0 means no cap
	// Timeout is the wait recorded for a dropped attempt.
	Timeout time.Duration

	once    sync.Once
	mu      sync.Mutex
	rng     *rand.Rand
	Seed    uint64
	streak  map[string]int
	dropped int
}

// Dropped is how many attempts were dropped so far.
func (l *Lossy) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Exchange implements transport.Exchanger.
func (l *Lossy) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t probes.Transport) *probes.Exchange {
	l.once.Do(func() {
		l.rng = rand.New(rand.NewPCG(l.Seed, 0x10557))
		l.streak = map[string]int{}
	})
	if len(l.Servers) > 0 && !slices.Contains(l.Servers, server.Addr()) {
		return l.X.Exchange(ctx, server, query, t)
	}
	key := lossKey(server, query, t)
	l.mu.Lock()
	drop := l.rng.Float64() < l.Drop
	if drop && l.MaxConsecutive > 0 && l.streak[key] >= l.MaxConsecutive {
		drop = false
	}
	if drop {
		l.streak[key]++
		l.dropped++
	} else {
		delete(l.streak, key)
	}
	l.mu.Unlock()
	if !drop {
		return l.X.Exchange(ctx, server, query, t)
	}
	q := append([]byte(nil), query...)
	return &probes.Exchange{Server: server, Transport: t, Query: q, Attempts: 1, Timeouts: 1,
		Start: time.Now(), RTT: l.Timeout, Err: probes.ErrTimeout}
}

func lossKey(server netip.AddrPort, query []byte, t probes.Transport) string {
	var b strings.Builder
	b.WriteString(server.String() + "/" + string(t))
	m := new(dns.Msg)
	if m.Unpack(query) != nil || len(m.Question) == 0 {
		return b.String()
	}
	b.WriteString("/" + m.Question[0].Name + "/" + dns.TypeToString[m.Question[0].Qtype])
	if o := m.IsEdns0(); o != nil {
		b.WriteString("/edns")
		if o.Do() {
			b.WriteString("/do")
		}
	}
	return b.String()
}
