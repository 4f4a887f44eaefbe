//go:build !unix

package probes

import "errors"

// recv is not available here; readDatagram's callers fall back to Read.
func recv(fd uintptr, buf []byte) (int, error) {
	return 0, errors.ErrUnsupported
}
