package model

import "errors"

// The error vocabulary of an Exchange: what the transport ends one with and
// what the judge, the cross-checks and the renderers read. It is the
// model's so that the judge never links the network code.

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
