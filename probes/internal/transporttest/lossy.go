package transporttest

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/miekg/dns"
)

// Lossy drops a seeded share of the attempts it is given before they
// reach X, returning the timeout at once: a lossy path without the wait.
// Whether an attempt is dropped is a hash of the seed, the question
// (server, name in lowercase with its spelling's kind, type, transport,
// EDNS and DO) and how many times that question was asked before, so it
// does not depend on the order in which concurrent exchanges arrive: the
// same seed drops the same attempts of every question in every run.
// MaxConsecutive caps the drops in a row of one question, so with more
// attempts than the cap every question is answered in the end.
type Lossy struct {
	X              transport.Exchanger
	Servers        []netip.Addr // the addresses whose path is lossy; none means all
	Drop           float64      // share of attempts dropped, 0 to 1
	MaxConsecutive int          // 0 means no cap
	// Timeout is the wait recorded for a dropped attempt.
	Timeout time.Duration
	Seed    uint64

	mu      sync.Mutex
	asked   map[string]int // attempts of each question so far
	streak  map[string]int // drops in a row of each question
	dropped int
}

// Dropped is how many attempts were dropped so far.
func (l *Lossy) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Exchange implements transport.Exchanger.
func (l *Lossy) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	if len(l.Servers) > 0 && !slices.Contains(l.Servers, server.Addr()) {
		return l.X.Exchange(ctx, server, query, t)
	}
	key := lossKey(server, query, t)
	l.mu.Lock()
	if l.asked == nil {
		l.asked, l.streak = map[string]int{}, map[string]int{}
	}
	n := l.asked[key]
	l.asked[key]++
	drop := chance(l.Seed, key, n) < l.Drop
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
	return &model.Exchange{Server: server, Transport: t, Query: q, Attempts: 1, Timeouts: 1,
		Start: time.Now(), RTT: l.Timeout, Err: model.ErrTimeout}
}

// chance maps (seed, question, attempt) to [0, 1) with FNV-1a: the same
// inputs give the same number in every run and every process.
func chance(seed uint64, key string, attempt int) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(attempt))
	h.Write(b[:])
	h.Write([]byte(key))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// lossKey names a question: the server's address, the transport, and
// the query as sent but for its ID and the name's case (the 0x20 spelling
// is random in every query; its kind — lower, upper, mixed — is what
// stays). Every other byte counts, so two probes that differ only in an
// EDNS option, a flag or the opcode are two questions with their own
// counts, whatever order their attempts interleave in.
func lossKey(server netip.AddrPort, query []byte, t model.Transport) string {
	key := server.Addr().String() + "/" + string(t) // not the port: a lab picks a free one each run
	m := new(dns.Msg)
	if m.Unpack(query) != nil || len(m.Question) == 0 {
		return key
	}
	name := m.Question[0].Name
	kind := "mixed"
	switch name {
	case strings.ToLower(name):
		kind = "lower"
	case strings.ToUpper(name):
		kind = "upper"
	}
	m.Id = 0
	m.Question[0].Name = strings.ToLower(name)
	wire, err := m.Pack()
	if err != nil {
		return key + "/" + kind
	}
	return key + "/" + kind + "/" + string(wire)
}
