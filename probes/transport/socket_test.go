package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// TestRandomIDs: query IDs come from ChaCha8 generators seeded from
// crypto/rand, loosely checked: 1000 draws give more than 900 distinct
// values (a fixed or counter-like generator fails; a uniform one gives
// about 992), and so do 1000 draws spread over 50 goroutines (each may
// get a generator of its own: two seeded alike would repeat each other).
func TestRandomIDs(t *testing.T) {
	seen := map[uint16]bool{}
	for range 1000 {
		seen[randomID()] = true
	}
	if len(seen) <= 900 {
		t.Fatalf("%d distinct IDs in 1000", len(seen))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	par := map[uint16]bool{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				id := randomID()
				mu.Lock()
				par[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(par) <= 900 {
		t.Fatalf("%d distinct IDs in 1000 drawn by 50 goroutines", len(par))
	}
}

// TestReadBuffersKept: a buffer given back is handed out again (the
// collector does not empty the free list), every buffer holds the largest
// datagram, and at most readBuffersKept are kept.
func TestReadBuffersKept(t *testing.T) {
	var r readBuffers
	a := r.get()
	if len(*a) != maxUDPReply {
		t.Fatalf("buffer of %d bytes, want %d", len(*a), maxUDPReply)
	}
	r.put(a)
	runtime.GC()
	if b := r.get(); b != a {
		t.Errorf("a buffer given back was not reused after a collection")
	}
	for range 3 * readBuffersKept {
		r.put(new([]byte))
	}
	if n := len(r.free); n != readBuffersKept {
		t.Errorf("%d buffers kept, want %d", n, readBuffersKept)
	}
}

// udpEcho is a loopback model.UDP server that records the source port and ID of
// each query and answers with respond (nil: no answer).
type udpEcho struct {
	conn  *net.UDPConn
	ports map[int]bool
	ids   map[uint16]bool
	done  chan struct{}
}

func startUDP(t *testing.T, respond func(conn *net.UDPConn, from *net.UDPAddr, q []byte)) (*udpEcho, netip.AddrPort) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	u := &udpEcho{conn: conn, ports: map[int]bool{}, ids: map[uint16]bool{}, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:n]...)
			u.ports[from.Port] = true
			u.ids[binary.BigEndian.Uint16(q)] = true
			if respond != nil {
				respond(conn, from, q)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-u.done })
	return u, netip.MustParseAddrPort(conn.LocalAddr().String())
}

func answer(t *testing.T, q []byte, id uint16) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil {
		t.Errorf("query does not parse: %v", err)
		return nil
	}
	m.Response, m.Authoritative = true, true
	m.Id = id
	b, _ := m.Pack()
	return b
}

func testQuery(t *testing.T) []byte {
	q, err := wire.BuildQuery("www.example.test.", dns.TypeCAA, true, true)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestSourcePortsVary: every exchange comes from its own random source
// port (RFC 5452 §9.2).
func TestSourcePortsVary(t *testing.T) {
	u, addr := startUDP(t, func(conn *net.UDPConn, from *net.UDPAddr, q []byte) {
		conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), from)
	})
	x := sock(opts{Timeout: time.Second})
	for range 50 {
		if ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP); ex.Reply == nil {
			t.Fatalf("no reply: %v", ex.Err)
		}
	}
	u.conn.Close()
	<-u.done
	if len(u.ports) < 45 || len(u.ids) < 45 {
		t.Errorf("50 exchanges used %d source ports and %d IDs", len(u.ports), len(u.ids))
	}
}

// TestAcceptOnlyMatching: of a wrong-ID reply, a reply for another
// question, and the right one, sent in that order from the queried
// address and port, only the last is accepted; the others are counted.
func TestAcceptOnlyMatching(t *testing.T) {
	_, addr := startUDP(t, func(conn *net.UDPConn, from *net.UDPAddr, q []byte) {
		id := binary.BigEndian.Uint16(q)
		conn.WriteToUDP(answer(t, q, id^1), from)
		other := new(dns.Msg)
		other.SetQuestion("elsewhere.example.test.", dns.TypeCAA)
		other.Id, other.Response = id, true
		b, _ := other.Pack()
		conn.WriteToUDP(b, from)
		conn.WriteToUDP(answer(t, q, id), from)
	})
	x := sock(opts{Timeout: time.Second})
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
	if ex.Reply == nil {
		t.Fatalf("the matching reply was not accepted: %v", ex.Err)
	}
	if ex.RejectedCount != 2 {
		t.Errorf("rejected %d, want 2", ex.RejectedCount)
	}
	if !wire.Matches(ex.Query, ex.Reply) {
		t.Error("accepted a reply that does not match the query")
	}
}

// TestReplyFromElsewhereIgnored: a reply with the right ID and question
// from another port never reaches the exchange; it times out.
func TestReplyFromElsewhereIgnored(t *testing.T) {
	spoofer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spoofer.Close()
	sent := make(chan bool, 4)
	_, addr := startUDP(t, func(_ *net.UDPConn, from *net.UDPAddr, q []byte) {
		_, err := spoofer.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), from)
		sent <- err == nil
	})
	x := sock(opts{Timeout: 300 * time.Millisecond})
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
	if !<-sent {
		t.Fatal("the spoofed reply could not be sent: the test proves nothing")
	}
	if ex.Reply != nil || !errors.Is(ex.Err, model.ErrTimeout) || ex.RejectedCount != 0 {
		t.Errorf("reply %x err %v rejected %d: want a timeout with nothing seen", ex.Reply, ex.Err, ex.RejectedCount)
	}
}

// TestEarlierAttemptsKept: a server that ignores the first two queries and
// answers the third. The exchange keeps the two unanswered attempts (their
// IDs and times, for the evidence) and the third as Query.
func TestEarlierAttemptsKept(t *testing.T) {
	var mu sync.Mutex
	var ids []uint16
	_, addr := startUDP(t, func(conn *net.UDPConn, from *net.UDPAddr, q []byte) {
		mu.Lock()
		ids = append(ids, binary.BigEndian.Uint16(q))
		n := len(ids)
		mu.Unlock()
		if n == 3 {
			conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), from)
		}
	})
	x := sock(opts{Timeout: 100 * time.Millisecond, Retries: 3})
	query := testQuery(t)
	ex := x.Exchange(context.Background(), addr, query, model.UDP)
	mu.Lock()
	defer mu.Unlock()
	if ex.Reply == nil || ex.Attempts != 3 || ex.Timeouts != 2 || len(ex.Earlier) != 2 || len(ids) != 3 {
		t.Fatalf("reply %v attempts %d timeouts %d earlier %d, server saw %d: want an answer to the third of three",
			ex.Reply != nil, ex.Attempts, ex.Timeouts, len(ex.Earlier), len(ids))
	}
	for i, a := range ex.Earlier {
		if a.ID != ids[i] {
			t.Errorf("attempt %d: ID %d, the server saw %d", i+1, a.ID, ids[i])
		}
		if a.Waited < 100*time.Millisecond || a.Start.IsZero() || !a.Start.Before(ex.Start) {
			t.Errorf("attempt %d: start %v waited %v; the last went at %v", i+1, a.Start, a.Waited, ex.Start)
		}
		q := ex.QueryOf(a)
		if binary.BigEndian.Uint16(q) != a.ID || string(q[2:]) != string(query[2:]) {
			t.Errorf("attempt %d: QueryOf = %x, want the query with ID %d", i+1, q, a.ID)
		}
	}
}

// TestSlowDripCut: a model.TCP server announces 65535 bytes and drips one every
// 20 ms. The exchange ends with a timeout within its Timeout (plus slack),
// not when the drip ends (about 22 minutes).
func TestSlowDripCut(t *testing.T) {
	s := &fixtures.SlowDrip{Interval: 20 * time.Millisecond}
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	x := sock(opts{Timeout: 300 * time.Millisecond})
	start := time.Now()
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.TCP)
	el := time.Since(start)
	if !errors.Is(ex.Err, model.ErrTimeout) {
		t.Errorf("err %v, want a timeout", ex.Err)
	}
	if el > 2*time.Second {
		t.Errorf("exchange took %v with a 300ms timeout", el)
	}
	if s.Sent.Load() == 0 {
		t.Error("the server dripped nothing: the test proves nothing")
	}
	r := judge.Exchange(catalog.Catalog[5], judge.Context{Zone: model.MustName("example.test."), Name: model.MustName("www.example.test.")}, ex, nil)
	if !r.Has(catalog.CodeTimeout) {
		t.Errorf("judged %v, want timeout", r.Issues)
	}
}

// TestMaxBytes: a reply over the byte limit is refused, over model.TCP before it
// is read (the length prefix announces it) and over model.UDP once it arrives.
func TestMaxBytes(t *testing.T) {
	big := func(q []byte) []byte {
		m := new(dns.Msg)
		m.Unpack(q)
		m.Response = true
		for i := range 40 {
			m.Answer = append(m.Answer, &dns.CAA{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeCAA, Class: dns.ClassINET},
				Tag: "issue", Value: strings.Repeat("a", 100) + string(rune('a'+i%26))})
		}
		b, _ := m.Pack()
		return b
	}
	_, addr := startUDP(t, func(conn *net.UDPConn, from *net.UDPAddr, q []byte) { conn.WriteToUDP(big(q), from) })
	for _, limit := range []int{0, 1024} {
		x := sock(opts{Timeout: time.Second, MaxBytes: limit})
		ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
		if limit == 0 && ex.Reply == nil {
			t.Errorf("no limit: reply refused: %v", ex.Err)
		}
		if limit > 0 && !errors.Is(ex.Err, model.ErrTooLarge) {
			t.Errorf("limit %d: err %v, want ErrTooLarge", limit, ex.Err)
		}
	}
}

// opts are the knobs the socket tests turn.
type opts struct {
	Timeout  time.Duration
	Retries  int
	MaxBytes int
}

// sock is the production stack without a rate limit: Retry over Socket.
func sock(o opts) *Retry {
	return &Retry{X: &Socket{Timeout: o.Timeout, MaxBytes: o.MaxBytes}, Retries: o.Retries}
}
