package probes

import (
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/miekg/dns"
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
			if IsLocal(got) != tc.local {
				t.Fatalf("classify(%v) = %v: local %v, want %v", tc.err, got, IsLocal(got), tc.local)
			}
		})
	}
	got := classify(emfile(), v4).Error()
	want := "local error on this host: too many open files (raise ulimit -n or lower --concurrency)"
	if got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

// TestJudgeLocalErrorNoFinding: an exchange that failed with EMFILE (in a
// *net.OpError, as the dial returns it) gives no finding, whichever probe,
// and so does a TCP retry after TC=1 that failed so.
func TestJudgeLocalErrorNoFinding(t *testing.T) {
	jc := JudgeContext{Zone: "example.test.", Name: "example.test.", Exists: true}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	for _, p := range Catalog {
		q, err := BuildProbeQuery(Spell("example.test.", p.Spelling), p)
		if err != nil {
			t.Fatal(err)
		}
		ex := &Exchange{Server: server, Transport: p.Transport, Query: q, Attempts: 1, Err: classify(emfile(), server)}
		r := Judge(p, jc, ex, nil)
		if len(r.Issues) != 0 || r.Status != StatusLocal || !r.Local() {
			t.Errorf("%s: status %s, findings %v; want %s and none", p.ID, r.Status, r.Issues, StatusLocal)
		}
	}
	p, _ := ProbeByID(ProbeCAA)
	tc := exchangeFor(t, p, "example.test.", func(q, m *dns.Msg) []byte { m.Truncated = true; m.Answer = nil; return nil })
	failed := &Exchange{Server: server, Transport: TCP, Query: tc.Query, Err: classify(emfile(), server)}
	if r := Judge(p, jc, tc, failed); len(r.Issues) != 0 || !r.Local() {
		t.Errorf("TCP retry failed locally: status %s, findings %v; want none", r.Status, r.Issues)
	}
}

// TestCrossChecksSkipLocal: the failures that gave edns-intolerant and
// case-sensitive-answer under `ulimit -n 64` (the lowercase EDNS query
// failed here, the other forms were answered) give no finding.
func TestCrossChecksSkipLocal(t *testing.T) {
	jc := JudgeContext{Zone: "example.test.", Name: "example.test.", Exists: true}
	server := netip.MustParseAddrPort("127.0.0.1:53")
	var rs []*Result
	for _, p := range Catalog {
		if p.AtApex && p.Type != dns.TypeCAA || p.Set == SetID {
			continue
		}
		ex := exchangeFor(t, p, "example.test.", withSOA(keep, "example.test."))
		if p.ID == ProbeCAA || p.ID == ProbeCAA0x20 {
			ex.Reply, ex.Err = nil, classify(emfile(), server)
		}
		r := Judge(p, jc, ex, nil)
		rs = append(rs, &r)
	}
	// Control: the same results with a server failure instead of a local
	// one do give findings, so the test can fail.
	control := slices.Clone(rs)
	for i, r := range control {
		if r.Local() {
			p, _ := ProbeByID(r.Probe)
			ex := *r.Exchange
			ex.Err = ErrUnreachable // what EMFILE was taken for before

			c := Judge(p, jc, &ex, nil)
			control[i] = &c
		} else {
			c := *r
			c.Issues = slices.Clone(r.Issues)
			control[i] = &c
		}
	}
	CheckServer(control)
	CheckZone(control)
	if !hasAny(control, CodeEDNSIntolerant) || !hasAny(control, CodeCaseSensitiveAnswer) {
		t.Fatalf("control: a server that drops the lowercase query gets no finding: the test proves nothing")
	}
	CheckServer(rs)
	CheckZone(rs)
	CheckDelegation(rs, []string{"ns1.example.test."})
	for _, r := range rs {
		if len(r.Issues) != 0 {
			t.Errorf("%s: findings %v after a local error", r.Probe, r.Issues)
		}
	}
}

func hasAny(rs []*Result, code Code) bool {
	return slices.ContainsFunc(rs, func(r *Result) bool { return r.Has(code) })
}
