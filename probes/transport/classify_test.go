package transport

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"github.com/caaprobe/caaprobe/probes/model"
)

// emfile is the error a dial returns when this host is out of file
// descriptors, as net wraps it.
func emfile() error {
	return &net.OpError{Op: "dial", Net: "udp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
}

// TestLocalErrorClassified: socket errors of this host become ErrLocal,
// with what to do, and never a server's unreachable or timeout.
func TestLocalErrorClassified(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.1:53")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:53")
	for _, tc := range []struct {
		name   string
		err    error
		server netip.AddrPort
		local  bool
	}{
		{"EMFILE", emfile(), v4, true},
		{"ENFILE", &net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.ENFILE)}, v4, true},
		{"ENOBUFS", &net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.ENOBUFS)}, v4, true},
		{"EADDRNOTAVAIL v4", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, v4, true},
		{"EADDRNOTAVAIL v6 is no-family", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, v6, false},
		{"ECONNREFUSED is the server's", &net.OpError{Op: "read", Err: os.NewSyscallError("recv", syscall.ECONNREFUSED)}, v4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, tc.server)
			if model.IsLocal(got) != tc.local {
				t.Fatalf("classify(%v) = %v: local %v, want %v", tc.err, got, model.IsLocal(got), tc.local)
			}
		})
	}
	got := classify(emfile(), v4).Error()
	want := "local error on this host: too many open files (raise ulimit -n or lower --concurrency)"
	if got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}
