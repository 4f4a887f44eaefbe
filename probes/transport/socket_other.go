//go:build !unix

package transport

import "net"

// readDatagram reads one datagram and returns a copy of exactly its bytes.
// Without raw readiness callbacks the pooled buffer is held for the whole
// wait (see the unix version for why that costs memory).
func (x *Socket) readDatagram(conn *net.UDPConn) ([]byte, error) {
	bp := x.bufs.get()
	defer x.bufs.put(bp)
	n, err := conn.Read(*bp)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), (*bp)[:n]...), nil
}

// sendRecv sends q and reads the first datagram that comes back.
func (x *Socket) sendRecv(conn *net.UDPConn, q []byte) ([]byte, error) {
	if _, err := conn.Write(q); err != nil {
		return nil, err
	}
	return x.readDatagram(conn)
}
