package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caaprobe/caaprobe/probes"
)

// This file and its per-OS companions are the only code in caaprobe that
// talks to the network. They send queries as bytes and read replies as
// bytes: miekg/dns's client drops replies with a wrong ID and hides the
// bytes of replies it cannot parse, and those are exactly the server bugs
// caaprobe exists to show.

const maxUDPReply = 65535

// Socket is the Exchanger over real sockets: one attempt per Exchange, a
// fresh connected socket from a random source port and a fresh random ID
// each time (retries are Retry's, the rate limit Polite's). It is safe for
// concurrent use.
type Socket struct {
	Timeout  time.Duration // per attempt
	MaxBytes int           // largest reply accepted (UDP is capped at 65535 by the protocol); 0 means no limit
	// Source, when valid, is the local address every query is sent from
	// (a perspective agent's own address); otherwise the kernel picks it.
	Source netip.Addr

	bufs sync.Pool // UDP read buffers of maxUDPReply bytes; see readDatagram
}

// Exchange implements Exchanger: one attempt.
func (x *Socket) Exchange(ctx context.Context, server netip.AddrPort, query []byte, transport probes.Transport) *probes.Exchange {
	ex := &probes.Exchange{Server: server, Transport: transport}
	if len(query) < 12 {
		ex.Err = fmt.Errorf("query of %d bytes is shorter than a DNS header", len(query))
		return ex
	}
	q := make([]byte, len(query))
	copy(q, query)
	binary.BigEndian.PutUint16(q, randomID())
	ex.Query = q
	ex.Attempts = 1
	ex.Start = time.Now()
	var reply []byte
	var err error
	if transport == probes.TCP {
		reply, err = x.tcp(ctx, server, q, ex)
		if err == nil && !probes.Matches(q, reply) {
			// Over TCP the connection is the server's own, so a reply
			// that does not match is its bug, kept for the judge.
			ex.RejectedCount++
			ex.Rejected = append(ex.Rejected, reply)
			reply, err = nil, probes.ErrMismatch
		}
	} else {
		reply, err = x.udp(ctx, server, q, ex)
	}
	ex.RTT = time.Since(ex.Start)
	ex.Reply, ex.Err = reply, err
	if errors.Is(err, probes.ErrTimeout) {
		ex.Timeouts = 1
	}
	return ex
}

// deadline ends one attempt: the timeout, or the context's deadline when
// that comes first.
func (x *Socket) deadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(x.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		return d
	}
	return deadline
}

func (x *Socket) udp(ctx context.Context, server netip.AddrPort, q []byte, ex *probes.Exchange) ([]byte, error) {
	conn, err := dialUDP(server, x.Source)
	if err != nil {
		return nil, classify(err, server)
	}
	defer conn.Close()
	ex.Source = localAddrPort(conn)
	conn.SetDeadline(x.deadline(ctx))
	if _, err := conn.Write(q); err != nil {
		return nil, classify(err, server)
	}
	for {
		// A connected UDP socket only delivers datagrams from the queried
		// address and port, so off-path replies from elsewhere never get here.
		reply, err := x.readDatagram(conn)
		if err != nil {
			return nil, classify(err, server)
		}
		n := len(reply)
		if probes.Matches(q, reply) {
			if x.MaxBytes > 0 && n > x.MaxBytes {
				return nil, fmt.Errorf("%w: %d-byte UDP reply, limit %d", probes.ErrTooLarge, n, x.MaxBytes)
			}
			return reply, nil
		}
		ex.RejectedCount++
		if len(ex.Rejected) < maxRejectedKept {
			ex.Rejected = append(ex.Rejected, reply)
		}
	}
}

func (x *Socket) tcp(ctx context.Context, server netip.AddrPort, q []byte, ex *probes.Exchange) ([]byte, error) {
	deadline := x.deadline(ctx)
	d := net.Dialer{Deadline: deadline}
	if x.Source.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: x.Source.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "tcp", server.String())
	if err != nil {
		return nil, classify(err, server)
	}
	defer conn.Close()
	ex.Source = localAddrPort(conn)
	// One deadline for the whole exchange: a server that drips its reply a
	// byte at a time cannot hold the exchange open past it.
	conn.SetDeadline(deadline)
	msg := make([]byte, 2+len(q))
	binary.BigEndian.PutUint16(msg, uint16(len(q)))
	copy(msg[2:], q)
	if _, err := conn.Write(msg); err != nil {
		return nil, classify(err, server)
	}
	var lenbuf [2]byte
	if _, err := io.ReadFull(conn, lenbuf[:]); err != nil {
		return nil, classify(err, server)
	}
	n := int(binary.BigEndian.Uint16(lenbuf[:]))
	if x.MaxBytes > 0 && n > x.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", probes.ErrTooLarge, n, x.MaxBytes)
	}
	reply := make([]byte, n)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, classify(err, server)
	}
	return reply, nil
}

// dialUDP opens a connected UDP socket from a random source port (RFC 5452
// §9.2), falling back to a port the kernel picks when it is taken.
func dialUDP(server netip.AddrPort, source netip.Addr) (*net.UDPConn, error) {
	raddr := net.UDPAddrFromAddrPort(server)
	var ip net.IP
	if source.IsValid() {
		ip = source.AsSlice()
	}
	for range 3 {
		laddr := &net.UDPAddr{IP: ip, Port: 1024 + int(randomID())%(65536-1024)}
		conn, err := net.DialUDP("udp", laddr, raddr)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return net.DialUDP("udp", &net.UDPAddr{IP: ip}, raddr)
}

// localAddrPort is the socket's own address and port (IPv4 unmapped).
func localAddrPort(conn net.Conn) netip.AddrPort {
	var ap netip.AddrPort
	switch a := conn.LocalAddr().(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// classify turns socket errors into the exchange's vocabulary. Errors of
// this host come first (Local): they must never read as the server's.
func classify(err error, server netip.AddrPort) error {
	var ne net.Error
	if local := localErr(err, server); local != nil {
		return local
	}
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return probes.ErrTimeout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
		return fmt.Errorf("%w: %v", probes.ErrNoFamily, err)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", probes.ErrUnreachable, shortErr(err))
	}
	return fmt.Errorf("%w: %v", probes.ErrUnreachable, shortErr(err))
}

// localErr returns err as a probes.ErrLocal when it is this host's failure, with
// what to do about it; nil otherwise. EADDRNOTAVAIL to an IPv6 server is
// the host's missing IPv6 source address (probes.ErrNoFamily, a fact about the
// host said once per domain); to an IPv4 server it is local ports run out.
func localErr(err error, server netip.AddrPort) error {
	hint := ""
	switch {
	case errors.Is(err, probes.ErrLocal):
		return err
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		hint = " (raise ulimit -n or lower --concurrency)"
	case errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.ENOMEM):
		hint = " (the host is short of socket buffers or memory; lower --concurrency)"
	case errors.Is(err, syscall.EADDRNOTAVAIL) && !server.Addr().Unmap().Is6():
		hint = " (local ports run out; lower --concurrency)"
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		hint = " (a local firewall refuses the packet)"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s%s", probes.ErrLocal, shortErr(err), hint)
}

// shortErr drops the "dial udp 127.0.0.1:1->127.0.0.2:53:" prefix that
// repeats what the report already says.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// randomID draws a query ID from crypto/rand (RFC 5452 §9.1): an off-path
// attacker must not be able to predict it.
func randomID() uint16 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return binary.BigEndian.Uint16(b[:])
}
