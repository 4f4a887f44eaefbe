package caa

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseRDATA(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 255)
	cases := []struct {
		name    string
		rdata   []byte
		want    Record
		wantErr string
	}{
		{"issue", []byte("\x00\x05issueletsencrypt.org"), Record{0, "issue", "letsencrypt.org"}, ""},
		{"critical", []byte("\x80\x03tbsUnknown"), Record{128, "tbs", "Unknown"}, ""},
		{"empty value", []byte("\x00\x05issue"), Record{0, "issue", ""}, ""},
		{"semicolon only", []byte("\x00\x05issue;"), Record{0, "issue", ";"}, ""},
		{"uppercase tag kept", []byte("\x00\x05ISSUEca.example"), Record{0, "ISSUE", "ca.example"}, ""},
		{"binary tag kept for Validate", []byte("\x00\x02a\x00v"), Record{0, "a\x00", "v"}, ""},
		{"binary value", []byte("\x00\x03tag\x00\xff\x01"), Record{0, "tag", "\x00\xff\x01"}, ""},
		{"255-byte tag", append([]byte{0, 255}, long...), Record{0, long, ""}, ""},
		{"nil", nil, Record{}, "RDATA is 0 bytes, needs at least 2"},
		{"one byte", []byte{0}, Record{}, "RDATA is 1 byte, needs at least 2"},
		{"tag length 0", []byte{0, 0}, Record{}, "tag length 0"},
		{"tag length 0 with value", []byte("\x00\x00issue"), Record{}, "tag length 0"},
		{"tag length exceeds", []byte("\x00\x14issue"), Record{}, "tag length 20 exceeds RDATA (5 bytes after"},
		{"tag length exceeds by one", []byte("\x00\x06issue"), Record{}, "tag length 6 exceeds RDATA"},
		{"tag cut to nothing", []byte{0, 1}, Record{}, "tag length 1 exceeds RDATA (0 bytes after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseRDATA(tc.rdata)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseRDATA(%q) error = %v, want containing %q", tc.rdata, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRDATA(%q): %v", tc.rdata, err)
			}
			if got != tc.want {
				t.Fatalf("parseRDATA(%q) = %+v, want %+v", tc.rdata, got, tc.want)
			}
			if p := packRDATA(got); !bytes.Equal(p, tc.rdata) {
				t.Errorf("Pack() = %q, want the input %q back", p, tc.rdata)
			}
		})
	}
}

func TestPackUnrepresentable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		r    Record
	}{
		{"tag over 255 bytes", Record{Tag: strings.Repeat("a", 256)}},
		{"RDATA over 65535 bytes", Record{Tag: "issue", Value: strings.Repeat("x", 65535-2-5+1)}},
	}
	for _, tc := range cases {
		if got := packRDATA(tc.r); got != nil {
			t.Errorf("%s: Pack() returned %d bytes, want nil", tc.name, len(got))
		}
	}
	largest := Record{Tag: "issue", Value: strings.Repeat("x", 65535-2-5)}
	if got := packRDATA(largest); len(got) != 65535 {
		t.Errorf("largest record: Pack() returned %d bytes, want 65535", len(got))
	}
}

func TestFromRR(t *testing.T) {
	t.Parallel()
	mustRR := func(s string) *dns.CAA {
		t.Helper()
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("dns.NewRR(%q): %v", s, err)
		}
		return rr.(*dns.CAA)
	}
	// A tag miekg/dns had to escape when unpacking: its wire bytes must come
	// back.
	wire := []byte("\x00\x04a\"b\x07v\\x")
	hdr := dns.RR_Header{Name: ".", Rrtype: dns.TypeCAA, Class: dns.ClassINET, Rdlength: uint16(len(wire))}
	rr, _, err := dns.UnpackRRWithHeader(hdr, wire, 0)
	if err != nil {
		t.Fatalf("unpacking CAA RDATA: %v", err)
	}
	unpacked := rr.(*dns.CAA)

	cases := []struct {
		name string
		rr   *dns.CAA
		want Record
	}{
		{"zone text", mustRR(`example.com. 300 IN CAA 0 issue "letsencrypt.org"`), Record{0, "issue", "letsencrypt.org"}},
		{"critical", mustRR(`example.com. 300 IN CAA 128 tbs "Unknown"`), Record{128, "tbs", "Unknown"}},
		{"escaped tag from wire", unpacked, Record{0, "a\"b\x07", "v\\x"}},
		{"escapes by hand", &dns.CAA{Flag: 5, Tag: `x\065\"\\\256`, Value: "v"}, Record{5, "xA\"\\256", "v"}},
		{"nil", nil, Record{}},
	}
	for _, tc := range cases {
		if got := FromRR(tc.rr); got != tc.want {
			t.Errorf("%s: FromRR = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
