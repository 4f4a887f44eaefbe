package transport

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// TestExchangeTC: a truncated model.UDP reply is retried once over model.TCP with the
// same question (a fresh ID), and both exchanges come back; a whole model.UDP reply is not
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
		// The model.TCP listener needs the model.UDP server's port, which another
		// process may hold over model.TCP: try a few ports.
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
		x := sock(opts{Timeout: 2 * time.Second})
		udp, tcp := ExchangeTC(context.Background(), x, addr, testQuery(t))
		ln.Close()
		if udp == nil || udp.Reply == nil || udp.Transport != model.UDP {
			t.Fatalf("truncate=%v: udp exchange %+v", truncate, udp)
		}
		if !truncate {
			if tcp != nil || model.Final(udp, tcp) != udp {
				t.Errorf("whole model.UDP reply retried over model.TCP: %+v", tcp)
			}
			continue
		}
		if tcp == nil || tcp.Reply == nil || tcp.Transport != model.TCP {
			t.Fatalf("truncated reply: tcp exchange %+v", tcp)
		}
		if q := <-done; len(q) < 12 || string(q[2:]) != string(udp.Query[2:]) {
			t.Errorf("model.TCP retry asked another question than the model.UDP query (ID aside)")
		}
		if model.Final(udp, tcp) != tcp || wire.Truncated(tcp.Reply) {
			t.Errorf("Final is not the model.TCP exchange")
		}
	}
}
