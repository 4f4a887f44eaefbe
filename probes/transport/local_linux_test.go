package transport

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// TestExchangeCountsLocalErrors: with this process's file descriptors
// used up (RLIMIT_NOFILE lowered below the ones open), a real exchange ends
// with ErrLocal, is counted, and is not retried as a timeout would be.
func TestExchangeCountsLocalErrors(t *testing.T) {
	x := sock(opts{Timeout: 200 * time.Millisecond, Retries: 2})
	server := netip.MustParseAddrPort("127.0.0.1:9")
	q, err := wire.BuildQuery("example.test.", dns.TypeCAA, true, true)
	if err != nil {
		t.Fatal(err)
	}
	// A first exchange sets up the poller with the limit as it is.
	x.Exchange(context.Background(), server, q, model.UDP)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	before := LocalErrors()
	low := lim
	// Below every descriptor open but stdin, stdout and stderr: the next
	// socket cannot get one.
	low.Cur = 3
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	ex := x.Exchange(context.Background(), server, q, model.UDP)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if !model.IsLocal(ex.Err) {
		t.Fatalf("exchange with no descriptor left: %v, want a local error", ex.Err)
	}
	if got := LocalErrors() - before; got != 1 {
		t.Errorf("LocalErrors grew by %d, want 1", got)
	}
	if ex.Attempts != 1 {
		t.Errorf("%d attempts: a local error is not retried", ex.Attempts)
	}
}
