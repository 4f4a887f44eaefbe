package probes

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// This file is the only code in caaprobe that talks to the network. It sends
// queries as bytes and reads replies as bytes itself: miekg/dns's client
// drops replies with a wrong ID and hides the bytes of replies it cannot
// parse, and those are exactly the server bugs caaprobe exists to show.

// Exchange is one query to one server address and everything that came back,
// as raw bytes. It is the evidence behind every finding.
type Exchange struct {
	Server netip.AddrPort
	// Source is the local address and port the last attempt was sent
	// from, read from the socket, so a provider can find the query in its
	// logs and a pcap shows the real client; zero when no socket was opened.
	Source    netip.AddrPort
	Transport Transport
	Query     []byte    // the last query sent (each attempt has a fresh ID)
	Reply     []byte    // the accepted reply; nil when none was accepted
	Start     time.Time // when the last attempt was sent
	RTT       time.Duration
	Attempts  int // queries sent
	Timeouts  int // attempts that got no acceptable reply in time
	// Earlier are the attempts before the last one, in order; each timed
	// out. A provider asked about a timeout wants every query's time and ID.
	Earlier []Attempt
	// Rejected holds datagrams that arrived from the server but did not
	// answer the query (wrong ID or another question), at most
	// maxRejectedKept of them; RejectedCount counts all.
	Rejected      [][]byte
	RejectedCount int
	Err           error // nil when Reply is set
}

// Attempt is one query of an Exchange that was sent and timed out. Its
// bytes are the Exchange's Query but for the ID (see QueryOf).
type Attempt struct {
	ID     uint16
	Source netip.AddrPort // the local address and port it was sent from
	Start  time.Time
	Waited time.Duration // how long the reply was waited for
}

// QueryOf returns the bytes an earlier attempt sent.
func (ex *Exchange) QueryOf(a Attempt) []byte {
	q := slices.Clone(ex.Query)
	if len(q) >= 2 {
		binary.BigEndian.PutUint16(q, a.ID)
	}
	return q
}

// Errors an Exchange can end with. Judge maps them to findings.
var (
	ErrTimeout     = errors.New("no reply before the timeout")
	ErrUnreachable = errors.New("unreachable")
	ErrNoFamily    = errors.New("address family not reachable from this host")
	ErrTooLarge    = errors.New("reply larger than the byte limit")
	ErrMismatch    = errors.New("reply does not match the query (ID or question)")
	// ErrLocal is a failure of this host, not of the server: out of file
	// descriptors (EMFILE, ENFILE), socket buffers or memory (ENOBUFS,
	// ENOMEM), local ports (EADDRNOTAVAIL to an IPv4 server), or a local
	// firewall (EPERM, EACCES). The judge makes no finding of it and the
	// cross-checks leave it out; the engine reports the domain as not
	// checked (probes/check, checkItem). LocalErrors counts them.
	ErrLocal = errors.New("local error on this host")
)

// localErrors counts the exchanges of this process that ended with
// ErrLocal, across every Exchanger.
var localErrors atomic.Int64

// LocalErrors is how many exchanges of this process have ended with a
// local error (ErrLocal) so far. Work done while it grew may rest on such
// an exchange: a discovery or probe result from it is not a fact about
// the servers.
func LocalErrors() int64 { return localErrors.Load() }

// IsLocal reports whether err is a local error of this host (ErrLocal).
func IsLocal(err error) bool { return errors.Is(err, ErrLocal) }

const (
	maxRejectedKept = 8
	maxUDPReply     = 65535
)

// Exchanger sends queries. It is safe for concurrent use.
type Exchanger struct {
	Timeout  time.Duration // per attempt
	Retries  int           // further attempts after a timeout
	Backoff  time.Duration // pause before the first retry, doubling each time
	MaxBytes int           // largest reply accepted over TCP (UDP is capped at 65535 by the protocol)
	// Wait, when set, is called before every attempt to a server address;
	// it is where the per-server rate limit sits.
	Wait func(ctx context.Context, addr netip.Addr) error

	sent atomic.Int64
	bufs sync.Pool // UDP read buffers of maxUDPReply bytes; see readDatagram
}

// Sent counts the queries sent so far, retries included.
func (x *Exchanger) Sent() int64 { return x.sent.Load() }

// Exchange sends query (a packed DNS message; its ID is replaced per attempt)
// to server over transport, retrying timeouts, and returns what happened.
func (x *Exchanger) Exchange(ctx context.Context, server netip.AddrPort, query []byte, transport Transport) *Exchange {
	ex := &Exchange{Server: server, Transport: transport}
	if len(query) < 12 {
		ex.Err = fmt.Errorf("query of %d bytes is shorter than a DNS header", len(query))
		return ex
	}
	backoff := x.Backoff
	for attempt := 0; attempt <= x.Retries; attempt++ {
		if attempt > 0 && backoff > 0 {
			if Sleep(ctx, backoff) != nil {
				break
			}
			backoff *= 2
		}
		if x.Wait != nil {
			if err := x.Wait(ctx, server.Addr()); err != nil {
				ex.Err = err
				return ex
			}
		}
		if ex.Attempts > 0 {
			ex.Earlier = append(ex.Earlier, Attempt{ID: binary.BigEndian.Uint16(ex.Query), Source: ex.Source, Start: ex.Start, Waited: ex.RTT})
		}
		q := make([]byte, len(query))
		copy(q, query)
		binary.BigEndian.PutUint16(q, randomID())
		ex.Query = q
		ex.Attempts++
		ex.Source = netip.AddrPort{}
		x.sent.Add(1)
		ex.Start = time.Now()
		var reply []byte
		var err error
		if transport == TCP {
			reply, err = x.tcp(ctx, server, q, ex)
			if err == nil && !Matches(q, reply) {
				// Over TCP the connection is the server's own, so a reply
				// that does not match is its bug, kept for the judge.
				ex.RejectedCount++
				ex.Rejected = append(ex.Rejected, reply)
				reply, err = nil, ErrMismatch
			}
		} else {
			reply, err = x.udp(ctx, server, q, ex)
		}
		ex.RTT = time.Since(ex.Start)
		if err == nil {
			ex.Reply, ex.Err = reply, nil
			return ex
		}
		ex.Err = err
		if errors.Is(err, ErrLocal) {
			localErrors.Add(1)
		}
		if !errors.Is(err, ErrTimeout) {
			return ex
		}
		ex.Timeouts++
		// A server that answers with the wrong ID or question will do so
		// again; retrying only delays the verdict.
		if ex.RejectedCount > 0 || ctx.Err() != nil {
			return ex
		}
	}
	return ex
}

// ExchangeTC sends query to server over UDP and, when the reply is
// truncated (TC=1, RFC 1035 §4.2.1, RFC 7766 §5), once more over TCP with
// the same question (Exchange gives each attempt a fresh ID). It returns both exchanges for the judge: tcp is nil
// when no retry was needed. Final(udp, tcp) is the one whose reply counts.
// This is caaprobe's one UDP→TCP path: probes, DNSSEC key fetches, the
// --resolver and discovery all go through it.
func (x *Exchanger) ExchangeTC(ctx context.Context, server netip.AddrPort, query []byte) (udp, tcp *Exchange) {
	udp = x.Exchange(ctx, server, query, UDP)
	if Truncated(udp.Reply) {
		tcp = x.Exchange(ctx, server, udp.Query, TCP)
	}
	return udp, tcp
}

// Final is the exchange whose reply counts: the TCP retry when there was
// one, else the UDP exchange.
func Final(udp, tcp *Exchange) *Exchange {
	if tcp != nil {
		return tcp
	}
	return udp
}

// Truncated reports whether reply is a DNS message with the TC bit set; a
// reply too short to have a header is not.
func Truncated(reply []byte) bool { return len(reply) > 2 && reply[2]&0x02 != 0 }

// deadline ends one attempt: the timeout, or the context's deadline when
// that comes first.
func (x *Exchanger) deadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(x.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		return d
	}
	return deadline
}

func (x *Exchanger) udp(ctx context.Context, server netip.AddrPort, q []byte, ex *Exchange) ([]byte, error) {
	conn, err := dialUDP(server)
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
		if Matches(q, reply) {
			if x.MaxBytes > 0 && n > x.MaxBytes {
				return nil, fmt.Errorf("%w: %d-byte UDP reply, limit %d", ErrTooLarge, n, x.MaxBytes)
			}
			return reply, nil
		}
		ex.RejectedCount++
		if len(ex.Rejected) < maxRejectedKept {
			ex.Rejected = append(ex.Rejected, reply)
		}
	}
}

func (x *Exchanger) tcp(ctx context.Context, server netip.AddrPort, q []byte, ex *Exchange) ([]byte, error) {
	deadline := x.deadline(ctx)
	d := net.Dialer{Deadline: deadline}
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
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrTooLarge, n, x.MaxBytes)
	}
	reply := make([]byte, n)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, classify(err, server)
	}
	return reply, nil
}

// dialUDP opens a connected UDP socket from a random source port (RFC 5452
// §9.2), falling back to a port the kernel picks when it is taken.
func dialUDP(server netip.AddrPort) (*net.UDPConn, error) {
	raddr := net.UDPAddrFromAddrPort(server)
	for range 3 {
		laddr := &net.UDPAddr{Port: 1024 + int(randomID())%(65536-1024)}
		conn, err := net.DialUDP("udp", laddr, raddr)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return net.DialUDP("udp", nil, raddr)
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
	if local := Local(err, server); local != nil {
		return local
	}
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
		return fmt.Errorf("%w: %v", ErrNoFamily, err)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", ErrUnreachable, shortErr(err))
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, shortErr(err))
}

// Local returns err as an ErrLocal when it is this host's failure, with
// what to do about it; nil otherwise. EADDRNOTAVAIL to an IPv6 server is
// the host's missing IPv6 source address (ErrNoFamily, a fact about the
// host said once per domain); to an IPv4 server it is local ports run out.
func Local(err error, server netip.AddrPort) error {
	hint := ""
	switch {
	case errors.Is(err, ErrLocal):
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
	return fmt.Errorf("%w: %s%s", ErrLocal, shortErr(err), hint)
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

// Sleep waits for d, or less when ctx ends first; then it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
