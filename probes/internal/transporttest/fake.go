// Package transporttest is a fake transport.Exchanger for the engine's
// tests: scripted replies keyed by server, question name, type and
// transport, which can answer, drop (a timeout, returned at once: no test
// sleeps for it), truncate or garble, and a seeded lossy wrapper for any
// Exchanger. It opens no socket, so a test whose subject is the engine's
// logic runs in microseconds and the same way on a loaded machine.
package transporttest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/transport"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// Key selects the queries a script answers. A zero field matches any
// value: Key{Type: dns.TypeCAA} is every CAA query to any server. Name is
// compared without regard to case unless Exact is set (0x20 spellings
// then need their own script).
type Key struct {
	Server    netip.AddrPort
	Name      string // FQDN; "" for any
	Type      uint16
	Transport model.Transport
	Exact     bool
}

func (k Key) matches(server netip.AddrPort, name string, qtype uint16, t model.Transport) bool {
	if k.Server.IsValid() && k.Server != server || k.Type != 0 && k.Type != qtype || k.Transport != "" && k.Transport != t {
		return false
	}
	switch {
	case k.Name == "":
		return true
	case k.Exact:
		return dns.Fqdn(k.Name) == name
	}
	return strings.EqualFold(dns.Fqdn(k.Name), name)
}

// Reply is what the fake does with one attempt. Build one with Answer,
// Drop, Truncate, Garble, Raw or Fail.
type Reply struct {
	answer  func(q *dns.Msg) *dns.Msg
	drop    bool
	garble  bool
	trunc   bool
	raw     []byte
	err     error
	rtt     time.Duration
	withRTT bool
}

// Answer replies with what edit makes of the query (a response with the
// query's ID and question; edit sets the rest). A nil result drops.
func Answer(edit func(q, reply *dns.Msg)) Reply {
	return Reply{answer: func(q *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if o := q.IsEdns0(); o != nil {
			m.SetEdns0(o.UDPSize(), o.Do())
		}
		if edit != nil {
			edit(q, m)
		}
		return m
	}}
}

// Drop gives no reply: the attempt times out at once, recorded as having
// waited the Fake's Timeout.
func Drop() Reply { return Reply{drop: true} }

// Truncate answers with TC=1 and no records, as a server does when the
// answer does not fit in UDP.
func Truncate() Reply { return Reply{trunc: true} }

// Garble answers with the query's header and question and then bytes
// that do not parse (a record count with no record behind it).
func Garble() Reply { return Reply{garble: true} }

// Raw answers with b as it is, its first two bytes replaced by the
// query's ID so that it is taken as the reply.
func Raw(b []byte) Reply { return Reply{raw: b} }

// Fail ends the attempt with err (model.ErrUnreachable, model.ErrLocal…).
func Fail(err error) Reply { return Reply{err: err} }

// After records rtt as the attempt's round trip (no test waits for it).
func (r Reply) After(rtt time.Duration) Reply { r.rtt, r.withRTT = rtt, true; return r }

type script struct {
	key     Key
	replies []Reply
	n       int // attempts answered so far
}

// Query is one attempt the fake saw.
type Query struct {
	Server    netip.AddrPort
	Transport model.Transport
	Msg       *dns.Msg // the query as sent (nil when it did not parse)
}

// Fake is a transport.Exchanger with scripted replies. Scripts are tried
// in the order added; the first whose key matches answers, with its next
// reply (the last one repeats). A query no script matches goes to
// Default, and is dropped when Default is nil. Safe for concurrent use.
type Fake struct {
	// Default answers what no script does; nil drops it.
	Default func(server netip.AddrPort, t model.Transport, q *dns.Msg) Reply
	// Timeout is the wait recorded for a dropped attempt; 0 means 1 s.
	Timeout time.Duration
	// Now is the clock of the records (Start); nil means a fake clock that
	// advances by each attempt's RTT, so records are ordered and repeatable.
	Now func() time.Time

	mu      sync.Mutex
	scripts []*script
	log     []Query
	clock   time.Time
	port    uint16
}

// On adds a script: attempts matching key get replies in turn, the last
// repeating. It returns f, so scripts chain.
func (f *Fake) On(key Key, replies ...Reply) *Fake {
	if len(replies) == 0 {
		replies = []Reply{Drop()}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts = append(f.scripts, &script{key: key, replies: replies})
	return f
}

// Queries returns the attempts seen so far, in order.
func (f *Fake) Queries() []Query {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Query(nil), f.log...)
}

// Count is how many attempts matched key.
func (f *Fake) Count(key Key) int {
	n := 0
	for _, q := range f.Queries() {
		if q.Msg != nil && len(q.Msg.Question) > 0 && key.matches(q.Server, q.Msg.Question[0].Name, q.Msg.Question[0].Qtype, q.Transport) {
			n++
		}
	}
	return n
}

var _ transport.Exchanger = (*Fake)(nil)

// Exchange implements transport.Exchanger: one attempt, as transport.Socket.
func (f *Fake) Exchange(ctx context.Context, server netip.AddrPort, query []byte, t model.Transport) *model.Exchange {
	ex := &model.Exchange{Server: server, Transport: t}
	if len(query) < 12 {
		ex.Err = fmt.Errorf("query of %d bytes is shorter than a DNS header", len(query))
		return ex
	}
	q := append([]byte(nil), query...)
	msg := new(dns.Msg)
	parsed := msg.Unpack(q) == nil
	f.mu.Lock()
	f.port++
	id := uint16(rand.Uint32())
	binary.BigEndian.PutUint16(q, id)
	msg.Id = id
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 32768+f.port%28000)
	var r Reply
	found := false
	if parsed && len(msg.Question) > 0 {
		qq := msg.Question[0]
		for _, s := range f.scripts {
			if s.key.matches(server, qq.Name, qq.Qtype, t) {
				r = s.replies[min(s.n, len(s.replies)-1)]
				s.n++
				found = true
				break
			}
		}
	}
	var logged *dns.Msg
	if parsed {
		logged = msg.Copy()
	}
	f.log = append(f.log, Query{Server: server, Transport: t, Msg: logged})
	def := f.Default
	f.mu.Unlock()
	if !found {
		r = Drop()
		if def != nil && parsed {
			r = def(server, t, msg)
		}
	}
	ex.Query, ex.Attempts, ex.Source = q, 1, src
	if err := ctx.Err(); err != nil {
		ex.Err = model.ErrTimeout
		ex.Timeouts = 1
		ex.Start = f.now(0)
		return ex
	}
	reply, err := f.build(r, msg, q, parsed)
	rtt := time.Millisecond
	switch {
	case r.withRTT:
		rtt = r.rtt
	case err == model.ErrTimeout:
		rtt = f.timeout()
	}
	ex.Start, ex.RTT = f.now(rtt), rtt
	if err != nil {
		ex.Err = err
		if err == model.ErrTimeout {
			ex.Timeouts = 1
		}
		return ex
	}
	if !wire.Matches(q, reply) {
		ex.RejectedCount++
		ex.Rejected = append(ex.Rejected, reply)
		ex.Err = model.ErrMismatch
		return ex
	}
	ex.Reply = reply
	return ex
}

func (f *Fake) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return time.Second
}

// now returns the start of an attempt that takes rtt, and moves the fake
// clock past it.
func (f *Fake) now(rtt time.Duration) time.Time {
	if f.Now != nil {
		return f.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clock.IsZero() {
		f.clock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	start := f.clock
	f.clock = f.clock.Add(rtt)
	return start
}

func (f *Fake) build(r Reply, q *dns.Msg, wire []byte, parsed bool) ([]byte, error) {
	switch {
	case r.err != nil:
		return nil, r.err
	case r.drop:
		return nil, model.ErrTimeout
	case r.raw != nil:
		b := append([]byte(nil), r.raw...)
		if len(b) >= 2 {
			copy(b, wire[:2])
		}
		return b, nil
	case !parsed:
		return nil, model.ErrTimeout // a server drops what it cannot read
	case r.trunc:
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative, m.Truncated = true, true
		return m.Pack()
	case r.garble:
		m := new(dns.Msg)
		m.SetReply(q)
		b, err := m.Pack()
		if err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint16(b[6:], 1) // ANCOUNT 1, and then
		return append(b, 0xc0), nil          // half a compression pointer
	case r.answer != nil:
		m := r.answer(q)
		if m == nil {
			return nil, model.ErrTimeout
		}
		m.Id = q.Id
		return m.Pack()
	}
	return nil, model.ErrTimeout
}
