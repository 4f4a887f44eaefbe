package transport

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
)

// TestReuseBounded: with Socket.Reuse 4, 40 serial exchanges with one
// server use each source port for at most 4 of them, every exchange
// records the source the server saw its query come from, and no two
// exchanges on one port share an ID.
func TestReuseBounded(t *testing.T) {
	var mu sync.Mutex
	from := map[uint16]netip.AddrPort{} // query ID → source the server saw
	_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
		mu.Lock()
		from[binary.BigEndian.Uint16(q)] = f.AddrPort()
		mu.Unlock()
		conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), f)
	})
	x := &Socket{Timeout: time.Second, Reuse: 4}
	defer x.Close()
	uses := map[netip.AddrPort]int{}
	ids := map[netip.AddrPort]map[uint16]bool{}
	for range 40 {
		ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
		if ex.Reply == nil {
			t.Fatalf("no reply: %v", ex.Err)
		}
		id := binary.BigEndian.Uint16(ex.Query)
		mu.Lock()
		seen := from[id]
		mu.Unlock()
		if ex.Source != netip.AddrPortFrom(seen.Addr().Unmap(), seen.Port()) {
			t.Errorf("exchange recorded source %v, the server saw %v", ex.Source, seen)
		}
		uses[ex.Source]++
		if ids[ex.Source] == nil {
			ids[ex.Source] = map[uint16]bool{}
		}
		if ids[ex.Source][id] {
			t.Errorf("ID %d sent twice from %v", id, ex.Source)
		}
		ids[ex.Source][id] = true
	}
	for src, n := range uses {
		if n > 4 {
			t.Errorf("source %v carried %d exchanges, Reuse is 4", src, n)
		}
	}
	if len(uses) < 10 {
		t.Errorf("40 exchanges used %d sockets; with Reuse 4 want at least 10", len(uses))
	}
	if len(uses) == 40 {
		t.Error("no socket was reused: the test proves nothing")
	}
}

// TestStrayNotRejected: a server that answers each query and then sends a
// stray datagram late (a second copy of its reply, or one with another
// ID). The stray lands on the socket kept for reuse; the next exchange
// must not count it as rejected (the judge would make an id-mismatch
// finding of it): it starts over on a fresh socket and gets its reply
// with nothing rejected.
func TestStrayNotRejected(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stray func(reply []byte) []byte
	}{
		{"duplicate", func(r []byte) []byte { return r }},
		{"other-id", func(r []byte) []byte {
			b := append([]byte(nil), r...)
			binary.BigEndian.PutUint16(b, binary.BigEndian.Uint16(b)^1)
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			queries := 0
			_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
				mu.Lock()
				queries++
				mu.Unlock()
				r := answer(t, q, binary.BigEndian.Uint16(q))
				conn.WriteToUDP(r, f)
				time.Sleep(20 * time.Millisecond)
				conn.WriteToUDP(tc.stray(r), f)
			})
			x := &Socket{Timeout: time.Second, Reuse: 8}
			defer x.Close()
			first := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
			if first.Reply == nil || first.RejectedCount != 0 {
				t.Fatalf("first exchange: reply %v, %d rejected, err %v", first.Reply != nil, first.RejectedCount, first.Err)
			}
			if x.pool.n != 1 {
				t.Fatalf("%d idle sockets after a clean exchange, want 1: the test proves nothing", x.pool.n)
			}
			time.Sleep(100 * time.Millisecond) // the stray is now queued on the kept socket
			second := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
			if second.Reply == nil || !wire.Matches(second.Query, second.Reply) {
				t.Fatalf("second exchange: no matching reply: %v", second.Err)
			}
			if second.RejectedCount != 0 || len(second.Rejected) != 0 {
				t.Errorf("second exchange rejected %d datagrams: the earlier exchange's stray was counted", second.RejectedCount)
			}
			if second.Source == first.Source {
				t.Errorf("second exchange recorded the kept socket's source %v; it should have started over on a fresh one", second.Source)
			}
			mu.Lock()
			defer mu.Unlock()
			if queries != 3 {
				t.Errorf("server saw %d queries, want 3 (the second exchange's first try and its fresh retry)", queries)
			}
		})
	}
}

// TestReuseKeepsServerFaults: a server whose first reply is clean and whose
// later replies come after a wrong-ID datagram. On the kept socket that
// datagram is ambiguous; on the fresh socket the exchange starts over on,
// it is this query's and is counted: reuse hides no fault.
func TestReuseKeepsServerFaults(t *testing.T) {
	var mu sync.Mutex
	n := 0
	_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
		mu.Lock()
		n++
		bad := n > 1
		mu.Unlock()
		id := binary.BigEndian.Uint16(q)
		if bad {
			conn.WriteToUDP(answer(t, q, id^1), f)
		}
		conn.WriteToUDP(answer(t, q, id), f)
	})
	x := &Socket{Timeout: time.Second, Reuse: 8}
	defer x.Close()
	if ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP); ex.Reply == nil || ex.RejectedCount != 0 {
		t.Fatalf("first exchange: reply %v, %d rejected", ex.Reply != nil, ex.RejectedCount)
	}
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
	if ex.Reply == nil {
		t.Fatalf("second exchange: no reply: %v", ex.Err)
	}
	if ex.RejectedCount != 1 {
		t.Errorf("second exchange rejected %d, want the server's one wrong-ID datagram", ex.RejectedCount)
	}
	if x.pool.n != 0 {
		t.Errorf("%d sockets kept after an exchange that saw a wrong-ID datagram, want 0", x.pool.n)
	}
	x.Close()
}

// TestCloseReleasesIdle: Close closes the kept sockets, and the Socket
// still works after it.
func TestCloseReleasesIdle(t *testing.T) {
	_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
		conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), f)
	})
	x := &Socket{Timeout: time.Second, Reuse: 8}
	if ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP); ex.Reply == nil {
		t.Fatalf("no reply: %v", ex.Err)
	}
	if got := x.pool.closeAll(); got != 1 {
		t.Errorf("closed %d idle sockets, want 1", got)
	}
	if x.pool.n != 0 || len(x.pool.idle) != 0 {
		t.Errorf("pool holds %d sockets for %d servers after closing", x.pool.n, len(x.pool.idle))
	}
	if ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP); ex.Reply == nil {
		t.Fatalf("after Close: no reply: %v", ex.Err)
	}
	x.Close()
}

// TestIdleTooLongNotReused: a socket idle longer than poolIdleAge is
// closed, not handed out, and the pool forgets the server.
func TestIdleTooLongNotReused(t *testing.T) {
	_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
		conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), f)
	})
	x := &Socket{Timeout: time.Second, Reuse: 8}
	defer x.Close()
	if ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP); ex.Reply == nil {
		t.Fatalf("no reply: %v", ex.Err)
	}
	if x.pool.n != 1 {
		t.Fatalf("%d idle sockets, want 1: the test proves nothing", x.pool.n)
	}
	if s := x.pool.take(addr, time.Now().Add(poolIdleAge+time.Second)); s != nil {
		t.Error("a socket idle past poolIdleAge was handed out")
	}
	if x.pool.n != 0 || len(x.pool.idle) != 0 {
		t.Errorf("pool holds %d sockets for %d servers, want none", x.pool.n, len(x.pool.idle))
	}
}
