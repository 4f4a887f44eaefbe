package listen

import (
	"context"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
		want   string // bound address, or "" for refused
	}{
		{"127.0.0.1:8053", false, "127.0.0.1:8053"},
		{"127.9.9.9:0", false, "127.9.9.9:0"},
		{"[::1]:8053", false, "[::1]:8053"},
		{"localhost:8053", false, "127.0.0.1:8053"},
		{"LocalHost:1", false, "127.0.0.1:1"},
		{"[::ffff:127.0.0.1]:1", false, "[::ffff:127.0.0.1]:1"},
		{":8053", false, ""},
		{"0.0.0.0:8053", false, ""},
		{"[::]:8053", false, ""},
		{"192.0.2.1:8053", false, ""},
		{"example.com:8053", false, ""},
		{"example.com:8053", true, ""},
		{"127.0.0.1", false, ""},
		{":8053", true, ":8053"},
		{"192.0.2.1:8053", true, "192.0.2.1:8053"},
	} {
		got, err := Check(tc.addr, Options{Public: tc.public})
		if tc.want == "" {
			if err == nil {
				t.Errorf("Check(%q, public=%v) = %q, want refused", tc.addr, tc.public, got)
			} else if !strings.Contains(err.Error(), tc.addr) {
				t.Errorf("Check(%q): error %q does not name the address", tc.addr, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Check(%q, public=%v) = %q, %v; want %q", tc.addr, tc.public, got, err, tc.want)
		}
	}
}

func TestTCPLoopback(t *testing.T) {
	ln, err := TCP(context.Background(), "127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
		t.Errorf("bound %s", ln.Addr())
	}
	if _, err := TCP(context.Background(), "0.0.0.0:0", Options{}); err == nil {
		t.Error("every interface accepted without Public")
	}
}
