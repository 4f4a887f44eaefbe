//go:build unix

package transport

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// readDatagram reads one datagram and returns a copy of exactly its bytes.
//
// The buffer must hold the largest datagram (64 KiB), yet a reply is
// usually a few hundred bytes and a bulk run has a thousand exchanges
// waiting at once. So the buffer is taken from a pool only once the socket
// is readable (RawConn.Read calls back on readiness), held for one
// non-blocking recv, and returned: the pool holds about one buffer per
// CPU, not one per exchange in flight (measured: 59 MB of buffers at 1,000
// exchanges in flight before, under 1 MB after). The connection's deadline
// still bounds the wait.
func (x *Socket) readDatagram(conn *net.UDPConn) ([]byte, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var reply []byte
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		var done bool
		reply, done, rerr = x.recvOne(fd)
		return done
	})
	if err != nil {
		return nil, err
	}
	return reply, rerr
}

// sendRecv sends q on conn and reads the first datagram that comes back,
// in one readiness wait. The send is made from inside the read callback:
// by then the poller is armed for this read, so a reply that arrives at
// once still wakes it, and the first receive waits for readiness rather
// than trying (and failing with EAGAIN) before any reply can have come.
// That saves a system call and a write path per exchange, a sizeable part
// of a bulk run's CPU. A send the kernel defers (EAGAIN: the socket's
// buffer is full) falls back to a blocking write and readDatagram.
func (x *Socket) sendRecv(conn *net.UDPConn, q []byte) ([]byte, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var reply []byte
	var rerr error
	sent, deferred := false, false
	err = rc.Read(func(fd uintptr) bool {
		if !sent {
			sent = true
			_, werr := syscall.Write(int(fd), q)
			switch {
			case errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EWOULDBLOCK):
				deferred = true
				return true
			case werr != nil:
				rerr = os.NewSyscallError("write", werr)
				return true
			}
			return false // wait for the reply
		}
		var done bool
		reply, done, rerr = x.recvOne(fd)
		return done
	})
	if err != nil {
		return nil, err
	}
	if deferred {
		if _, err := conn.Write(q); err != nil {
			return nil, err
		}
		return x.readDatagram(conn)
	}
	return reply, rerr
}

// recv reads one datagram from a non-blocking socket.
func recv(fd uintptr, buf []byte) (int, error) {
	n, _, err := syscall.Recvfrom(int(fd), buf, 0)
	return n, err
}

// recvOne is one receive in a readiness callback: the datagram copied out
// of a pooled buffer, or done false when the socket was not readable after
// all (EAGAIN: wait again).
func (x *Socket) recvOne(fd uintptr) (reply []byte, done bool, err error) {
	bp := x.bufs.get()
	defer x.bufs.put(bp)
	n, err := recv(fd, *bp)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, os.NewSyscallError("recv", err)
	}
	return append([]byte(nil), (*bp)[:n]...), true, nil
}
