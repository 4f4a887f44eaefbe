package transport

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
)

// TestSourceFromSocket: every exchange records the local address and port
// it was sent from, read from the socket; the server saw exactly that
// source, over model.UDP (each attempt its own, the earlier ones kept) and model.TCP.
func TestSourceFromSocket(t *testing.T) {
	var mu sync.Mutex
	var seen []netip.AddrPort
	_, addr := startUDP(t, func(conn *net.UDPConn, from *net.UDPAddr, q []byte) {
		mu.Lock()
		seen = append(seen, from.AddrPort())
		n := len(seen)
		mu.Unlock()
		if n == 2 { // the first attempt times out
			conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), from)
		}
	})
	x := sock(opts{Timeout: 200 * time.Millisecond, Retries: 1})
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
	mu.Lock()
	if ex.Reply == nil || len(seen) != 2 || len(ex.Earlier) != 1 {
		mu.Unlock()
		t.Fatalf("reply %v, server saw %d queries, %d earlier attempts: want an answer to the second", ex.Reply != nil, len(seen), len(ex.Earlier))
	}
	if ex.Source != seen[1] || ex.Earlier[0].Source != seen[0] {
		t.Errorf("sources %v then %v, the server saw %v", ex.Earlier[0].Source, ex.Source, seen)
	}
	mu.Unlock()

	server, from := serveTCPOnce(t)
	tex := x.Exchange(context.Background(), server, testQuery(t), model.TCP)
	if tex.Reply == nil {
		t.Fatalf("no model.TCP reply: %v", tex.Err)
	}
	if got := <-from; tex.Source != got || !tex.Source.Addr().Is4() {
		t.Errorf("model.TCP source %v, the server saw %v", tex.Source, got)
	}
}

// TestBoundSource: with Socket.Source set, queries over UDP and TCP
// leave from that address (a caaprobe agent's vantage), not the one the
// kernel would pick (127.0.0.1 toward a loopback server).
func TestBoundSource(t *testing.T) {
	src := netip.MustParseAddr("127.0.0.77")
	from := make(chan netip.Addr, 1)
	_, addr := startUDP(t, func(conn *net.UDPConn, f *net.UDPAddr, q []byte) {
		from <- f.AddrPort().Addr().Unmap()
		conn.WriteToUDP(answer(t, q, binary.BigEndian.Uint16(q)), f)
	})
	x := &Socket{Timeout: time.Second, Source: src}
	ex := x.Exchange(context.Background(), addr, testQuery(t), model.UDP)
	if ex.Reply == nil {
		t.Fatalf("no reply: %v", ex.Err)
	}
	if got := <-from; got != src || ex.Source.Addr() != src {
		t.Errorf("UDP: the server saw %v, the exchange records %v; want %v", got, ex.Source, src)
	}
	tserver, tfrom := serveTCPOnce(t)
	tex := x.Exchange(context.Background(), tserver, testQuery(t), model.TCP)
	if tex.Reply == nil {
		t.Fatalf("no TCP reply: %v", tex.Err)
	}
	if got := (<-tfrom).Addr().Unmap(); got != src || tex.Source.Addr() != src {
		t.Errorf("TCP: the server saw %v, the exchange records %v; want %v", got, tex.Source, src)
	}
}

// serveTCPOnce answers one DNS query over TCP on a loopback port and
// sends the client's address and port on the channel.
func serveTCPOnce(t *testing.T) (netip.AddrPort, <-chan netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	from := make(chan netip.AddrPort, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		from <- conn.RemoteAddr().(*net.TCPAddr).AddrPort()
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, q); err != nil {
			return
		}
		a := answer(t, q, binary.BigEndian.Uint16(q))
		conn.Write(append([]byte{byte(len(a) >> 8), byte(len(a))}, a...))
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), from
}
