// Package listen opens the sockets caaprobe serves on (serve, agent). It is
// the only package that listens, as probes/transport is the only one that
// dials (TestOnlyTransportTouchesTheNetwork): a listener on another host's
// reach is a decision, so it is made here, once, and refused by default.
package listen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Options says how far a listener may reach.
type Options struct {
	// Public allows an address other than loopback (the command's explicit
	// flag). Without it only 127.0.0.0/8, ::1 and "localhost" are accepted.
	Public bool
}

// TCP listens on addr ("host:port"; port 0 picks a free one). The host
// must be a literal IP address or "localhost": no name is looked up, so
// what is bound is what was written. An empty host (every interface) and
// any non-loopback address are refused unless o.Public.
func TCP(ctx context.Context, addr string, o Options) (net.Listener, error) {
	bind, err := Check(addr, o)
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{KeepAlive: 30 * time.Second}
	ln, err := lc.Listen(ctx, "tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Check validates addr as TCP would and returns the address to bind, with
// "localhost" written as 127.0.0.1.
func Check(addr string, o Options) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %v (want host:port, e.g. 127.0.0.1:8053)", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	if host == "" {
		if !o.Public {
			return "", fmt.Errorf("listen address %q is every interface: refused without the flag that allows a public address", addr)
		}
		return net.JoinHostPort(host, port), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("listen address %q: the host must be an IP address or localhost, not a name to look up", addr)
	}
	if !ip.Unmap().IsLoopback() && !o.Public {
		return "", fmt.Errorf("listen address %q is not loopback: refused without the flag that allows a public address", addr)
	}
	return net.JoinHostPort(ip.String(), port), nil
}
