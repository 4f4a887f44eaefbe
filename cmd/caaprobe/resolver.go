package main

import (
	"net/netip"
	"strings"
)

// parseResolver reads --resolver: an address with an optional port
// ("192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:53").
func parseResolver(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return netip.AddrPort{}, usageErr("--resolver %q: port 0", s)
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.AddrPort{}, usageErr("--resolver %q: want ADDR or ADDR:PORT ([ADDR]:PORT for IPv6)", s)
	}
	return netip.AddrPortFrom(a.Unmap(), 53), nil
}
