package probes

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTruncated: the TC bit is read only from a reply long enough to have
// it; a 2-byte datagram (all a hostile server may send) is not truncated.
func TestTruncated(t *testing.T) {
	for _, c := range []struct {
		reply []byte
		want  bool
	}{
		{nil, false},
		{[]byte{0, 1}, false},
		{[]byte{0, 1, 0x02}, true},
		{[]byte{0, 1, 0x80, 0}, false},
		{[]byte{0, 1, 0x82, 0}, true},
	} {
		if got := Truncated(c.reply); got != c.want {
			t.Errorf("Truncated(% x) = %v, want %v", c.reply, got, c.want)
		}
	}
}

// TestExchangeTC: a truncated UDP reply is retried once over TCP with the
// same question (a fresh ID), and both exchanges come back; a whole UDP reply is not
// retried.
func TestExchangeTC(t *testing.T) {
	for _, truncate := range []bool{true, false} {
		respond := func(conn *net.UDPConn, from *net.UDPAddr, q []byte) {
			m := new(dns.Msg)
			if m.Unpack(q) != nil {
				return
			}
			m.Response, m.Truncated = true, truncate
			b, _ := m.Pack()
			conn.WriteToUDP(b, from)
		}
		// The TCP listener needs the UDP server's port, which another
		// process may hold over TCP: try a few ports.
		var addr netip.AddrPort
		var ln net.Listener
		for try := 0; ln == nil; try++ {
			_, addr = startUDP(t, respond)
			l, err := net.Listen("tcp", addr.String())
			if err == nil {
				ln = l
			} else if try == 20 {
				t.Fatal(err)
			}
		}
		done := make(chan []byte, 1)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			var l [2]byte
			if _, err := io.ReadFull(conn, l[:]); err != nil {
				return
			}
			q := make([]byte, binary.BigEndian.Uint16(l[:]))
			if _, err := io.ReadFull(conn, q); err != nil {
				return
			}
			done <- q
			m := new(dns.Msg)
			m.Unpack(q)
			m.Response = true
			b, _ := m.Pack()
			conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...))
		}()
		x := &Exchanger{Timeout: 2 * time.Second}
		udp, tcp := x.ExchangeTC(context.Background(), addr, testQuery(t))
		ln.Close()
		if udp == nil || udp.Reply == nil || udp.Transport != UDP {
			t.Fatalf("truncate=%v: udp exchange %+v", truncate, udp)
		}
		if !truncate {
			if tcp != nil || Final(udp, tcp) != udp {
				t.Errorf("whole UDP reply retried over TCP: %+v", tcp)
			}
			continue
		}
		if tcp == nil || tcp.Reply == nil || tcp.Transport != TCP {
			t.Fatalf("truncated reply: tcp exchange %+v", tcp)
		}
		if q := <-done; len(q) < 12 || string(q[2:]) != string(udp.Query[2:]) {
			t.Errorf("TCP retry asked another question than the UDP query (ID aside)")
		}
		if Final(udp, tcp) != tcp || Truncated(tcp.Reply) {
			t.Errorf("Final is not the TCP exchange")
		}
	}
}
