package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
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
	// Reuse, when above 1, lets one UDP socket carry up to Reuse exchanges
	// with the same server, one at a time (see udpPool for when a socket
	// may go back); 0 or 1 opens a fresh socket for every exchange. A bulk
	// run sets it: opening and closing a socket is most of an exchange's
	// CPU. Close releases the idle sockets.
	Reuse int

	bufs readBuffers // UDP read buffers of maxUDPReply bytes; see readDatagram
	pool udpPool
}

// Close closes the idle sockets kept for reuse. The Socket stays usable.
func (x *Socket) Close() { x.pool.closeAll() }

// Exchange implements Exchanger: one attempt.
func (x *Socket) Exchange(ctx context.Context, server netip.AddrPort, query []byte, transport model.Transport) *model.Exchange {
	ex := &model.Exchange{Server: server, Transport: transport}
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
	if transport == model.TCP {
		reply, err = x.tcp(ctx, server, q, ex)
		if err == nil && !wire.Matches(q, reply) {
			// Over TCP the connection is the server's own, so a reply
			// that does not match is its bug, kept for the judge.
			ex.RejectedCount++
			ex.Rejected = append(ex.Rejected, reply)
			reply, err = nil, model.ErrMismatch
		}
	} else {
		reply, err = x.udp(ctx, server, q, ex)
	}
	ex.RTT = time.Since(ex.Start)
	ex.Reply, ex.Err = reply, err
	if errors.Is(err, model.ErrTimeout) {
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

func (x *Socket) udp(ctx context.Context, server netip.AddrPort, q []byte, ex *model.Exchange) ([]byte, error) {
	if s := x.pool.take(server, time.Now()); s != nil {
		s.freshID(q)
		if reply, err, sure := x.udpOn(ctx, s, server, q, ex, true); sure {
			return reply, err
		}
		// A datagram that was not this query's reply, or an error, on a
		// reused socket may be the earlier exchange's (a server that
		// answered twice): it is no evidence about this query, so the
		// attempt starts over on a fresh socket with a fresh ID, where
		// whatever arrives is this query's alone.
		binary.BigEndian.PutUint16(q, randomID())
		ex.Start = time.Now()
	}
	s, err := x.openUDP(server)
	if err != nil {
		return nil, classify(err, server)
	}
	reply, err, _ := x.udpOn(ctx, s, server, q, ex, false)
	return reply, err
}

// openUDP opens a fresh socket toward server. When this host is out of
// file descriptors it closes the idle sockets kept for reuse and tries
// once more: a kept socket must never cost an exchange its own.
func (x *Socket) openUDP(server netip.AddrPort) (*pooledUDP, error) {
	conn, err := dialUDP(server, x.Source)
	if err != nil && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) && x.pool.closeAll() > 0 {
		conn, err = dialUDP(server, x.Source)
	}
	if err != nil {
		return nil, err
	}
	return &pooledUDP{conn: conn, source: localAddrPort(conn)}, nil
}

// udpOn sends q on s and reads until its reply, an error or the deadline.
// On a reused socket (reused) it gives up at the first datagram that does
// not match and at any error but a timeout, returning sure false: what
// came may belong to the exchange before. A socket whose exchange got its
// reply and nothing else goes back to the pool; any other is closed.
func (x *Socket) udpOn(ctx context.Context, s *pooledUDP, server netip.AddrPort, q []byte, ex *model.Exchange, reused bool) (reply []byte, err error, sure bool) {
	keep := false
	defer func() {
		if keep && x.Reuse > 1 {
			x.pool.put(server, s, x.Reuse, time.Now())
		} else {
			s.conn.Close()
		}
	}()
	ex.Source = s.source
	s.used++
	if x.Reuse > 1 {
		s.ids = append(s.ids, binary.BigEndian.Uint16(q))
	}
	s.conn.SetDeadline(x.deadline(ctx))
	rejected := 0
	for first := true; ; first = false {
		// A connected UDP socket only delivers datagrams from the queried
		// address and port, so off-path replies from elsewhere never get here.
		var reply []byte
		var err error
		if first {
			reply, err = x.sendRecv(s.conn, q)
		} else {
			reply, err = x.readDatagram(s.conn)
		}
		if err != nil {
			err = classify(err, server)
			return nil, err, !reused || errors.Is(err, model.ErrTimeout)
		}
		n := len(reply)
		if wire.Matches(q, reply) {
			if x.MaxBytes > 0 && n > x.MaxBytes {
				return nil, fmt.Errorf("%w: %d-byte UDP reply, limit %d", model.ErrTooLarge, n, x.MaxBytes), true
			}
			// A server that sent other datagrams may send more: its
			// socket is not reused.
			keep = rejected == 0
			return reply, nil, true
		}
		if reused {
			return nil, nil, false
		}
		rejected++
		ex.RejectedCount++
		if len(ex.Rejected) < maxRejectedKept {
			ex.Rejected = append(ex.Rejected, reply)
		}
	}
}

func (x *Socket) tcp(ctx context.Context, server netip.AddrPort, q []byte, ex *model.Exchange) ([]byte, error) {
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
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", model.ErrTooLarge, n, x.MaxBytes)
	}
	reply := make([]byte, n)
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, classify(err, server)
	}
	return reply, nil
}

// readBuffers is a small free list of UDP read buffers. A buffer is held
// only for one receive (readDatagram), so a few serve every exchange in
// flight. It is not a sync.Pool: the collector empties those, and a bulk
// run collects often, so each cycle allocated fresh 64 KiB buffers (in the
// full plan about an eighth of all allocation, and garbage that kept the
// peak RSS up).
type readBuffers struct {
	once sync.Once
	free chan *[]byte
}

// readBuffersKept bounds the idle buffers kept: about one per CPU is in
// use at a time.
const readBuffersKept = 8

func (r *readBuffers) get() *[]byte {
	r.once.Do(func() { r.free = make(chan *[]byte, readBuffersKept) })
	select {
	case b := <-r.free:
		return b
	default:
		b := make([]byte, maxUDPReply)
		return &b
	}
}

func (r *readBuffers) put(b *[]byte) {
	select {
	case r.free <- b:
	default: // enough kept; the collector takes this one
	}
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
		return model.ErrTimeout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EAFNOSUPPORT):
		return fmt.Errorf("%w: %v", model.ErrNoFamily, err)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", model.ErrUnreachable, shortErr(err))
	}
	return fmt.Errorf("%w: %v", model.ErrUnreachable, shortErr(err))
}

// localErr returns err as a model.ErrLocal when it is this host's failure, with
// what to do about it; nil otherwise. EADDRNOTAVAIL to an IPv6 server is
// the host's missing IPv6 source address (model.ErrNoFamily, a fact about the
// host said once per domain); to an IPv4 server it is local ports run out.
func localErr(err error, server netip.AddrPort) error {
	hint := ""
	switch {
	case errors.Is(err, model.ErrLocal):
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
	return fmt.Errorf("%w: %s%s", model.ErrLocal, shortErr(err), hint)
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

// randomID draws a query ID (RFC 5452 §9.1): an off-path attacker must
// not be able to predict it. The generators are ChaCha8, a cryptographic
// generator, each seeded from crypto/rand; drawing from crypto/rand itself
// for every query cost a bulk run about 2 % of its CPU (the system's
// random source and the stack it needs).
func randomID() uint16 {
	g, _ := idSources.Get().(*mrand.ChaCha8)
	if g == nil {
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		g = mrand.NewChaCha8(seed)
	}
	id := uint16(g.Uint64())
	idSources.Put(g)
	return id
}

// idSources holds seeded generators for randomID, one per goroutine that
// draws at a time.
var idSources sync.Pool
