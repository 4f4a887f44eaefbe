package probes

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"time"
)

// This file holds the record of an exchange and its error vocabulary: what
// the judge, the cross-checks and the renderers read. The code that sends
// the queries is probes/transport, the only package that opens sockets; it
// imports this one, so the judge never links the network code.

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
	// checked (probes/check, checkItem). transport.LocalErrors counts them.
	ErrLocal = errors.New("local error on this host")
)

// IsLocal reports whether err is a local error of this host (ErrLocal).
func IsLocal(err error) bool { return errors.Is(err, ErrLocal) }

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
