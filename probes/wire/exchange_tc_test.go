package wire

import (
	"testing"
)

// TestTruncated: the TC bit is read only from a reply long enough to have
// it; a 2-byte datagram (all a hostile server may send) is not truncated.
func TestTruncated(t *testing.T) {
	for _, c := range []struct {
		reply []byte
		want  bool
	}{
		{nil, false},
		{[]byte{0, 1}, false},
		{[]byte{0, 1, 0x02}, true},
		{[]byte{0, 1, 0x80, 0}, false},
		{[]byte{0, 1, 0x82, 0}, true},
	} {
		if got := Truncated(c.reply); got != c.want {
			t.Errorf("Truncated(% x) = %v, want %v", c.reply, got, c.want)
		}
	}
}
