package transport

import (
	"net"
	"net/netip"
)

// SourceToward is the local address the kernel picks to reach server (IPv4
// unmapped); ok is false when there is no route in its family. Connecting
// a UDP socket sends nothing: it only asks the routing table. It lives
// here because this package is the only one that opens sockets.
func SourceToward(server netip.AddrPort) (netip.Addr, bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	return localAddrPort(c).Addr(), true
}
