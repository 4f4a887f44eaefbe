//go:build !unix

package transport

import "net"

// readDatagram reads one datagram and returns a copy of exactly its bytes.
// Without raw readiness callbacks the pooled buffer is held for the whole
// wait (see the unix version for why that costs memory).
func (x *Socket) readDatagram(conn *net.UDPConn) ([]byte, error) {
	bp, _ := x.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, maxUDPReply)
		bp = &b
	}
	defer x.bufs.Put(bp)
	n, err := conn.Read(*bp)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), (*bp)[:n]...), nil
}
