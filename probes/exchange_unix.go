//go:build unix

package probes

import "syscall"

// recv reads one datagram from a non-blocking socket.
func recv(fd uintptr, buf []byte) (int, error) {
	n, _, err := syscall.Recvfrom(int(fd), buf, 0)
	return n, err
}
