package summary

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestProvider(t *testing.T) {
	t.Parallel()
	tests := []struct{ ns, want string }{
		{"ns1.example-dns.net.", "example-dns.net"},
		{"NS2.Example-DNS.net", "example-dns.net"},
		{"a.ns.example.co.uk", "example.co.uk"},
		{"ns1.dns-host.test", "dns-host.test"}, // not in the list: last two labels
		{"ns.nic.test.", "nic.test"},
		{"localhost", "localhost"},
	}
	for _, tt := range tests {
		if got := Provider(tt.ns); got != tt.want {
			t.Errorf("Provider(%q) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

// domain builds a checked domain served by the given NS/address pairs,
// with findings at some of them.
func domain(name string, servers [][2]string, findings ...model.Finding) *model.Domain {
	d := &model.Domain{Domain: name}
	for _, s := range servers {
		d.Servers = append(d.Servers, &model.Server{Zone: model.MustName(name + "."), NS: s[0] + ".", Addr: netip.MustParseAddr(s[1])})
	}
	d.Findings = findings
	d.Verdict = model.VerdictPass
	for _, f := range findings {
		if f.Severity == model.SeverityFail {
			d.Verdict = model.VerdictFail
		} else if d.Verdict == model.VerdictPass {
			d.Verdict = model.VerdictWarn
		}
	}
	return d
}

func finding(code model.Code, sev model.Severity, ns, addr string) model.Finding {
	f := model.Finding{Code: code, Severity: sev, Server: model.ServerRef{NS: ns}, Probe: catalog.ProbeCAA}
	if addr != "" {
		f.Server.Addr = netip.MustParseAddr(addr)
	}
	return f
}

func sample() []*model.Domain {
	good := [][2]string{{"ns1.good-dns.net", "192.0.2.1"}, {"ns2.good-dns.net", "192.0.2.2"}}
	split := [][2]string{{"ns1.bad-dns.net", "198.51.100.1"}, {"ns2.bad-dns.net", "198.51.100.2"}}
	tld := [2]string{"a.nic.example", "203.0.113.53"}
	var out []*model.Domain
	for i := range 3 {
		out = append(out, domain("good"+string(rune('a'+i))+".example", append(good, tld)))
	}
	for i := range 2 {
		out = append(out, domain("bad"+string(rune('a'+i))+".example", append(split, tld),
			finding(catalog.CodeRcodeNotimp, model.SeverityFail, "ns2.bad-dns.net", "198.51.100.2"),
			// Two findings of one code at one server count the domain once.
			finding(catalog.CodeRcodeNotimp, model.SeverityFail, "ns2.bad-dns.net", "198.51.100.2"),
			finding(catalog.CodeCaseNotPreserved, model.SeverityWarn, "ns1.bad-dns.net", "198.51.100.1")))
	}
	out = append(out, &model.Domain{Domain: "broken..example", Verdict: model.VerdictError, Err: "not a domain name"})
	return out
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	s := New()
	for _, d := range sample() {
		s.Add(d)
	}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "summary.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("summary differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	s := New()
	for _, d := range sample() {
		s.Add(d)
	}
	bad := s.servers[serverKey{"ns2.bad-dns.net", netip.MustParseAddr("198.51.100.2")}]
	if bad == nil || bad.domains != 2 || bad.failing != 2 || bad.codes[catalog.CodeRcodeNotimp] != 2 {
		t.Errorf("ns2.bad-dns.net = %+v, want 2 domains, 2 failing, rcode-notimp 2", bad)
	}
	ok := s.servers[serverKey{"ns1.bad-dns.net", netip.MustParseAddr("198.51.100.1")}]
	if ok == nil || ok.failing != 0 || ok.codes[catalog.CodeCaseNotPreserved] != 2 {
		t.Errorf("ns1.bad-dns.net = %+v, want 0 failing and case-not-preserved 2", ok)
	}
	tld := s.servers[serverKey{"a.nic.example", netip.MustParseAddr("203.0.113.53")}]
	if tld == nil || tld.domains != 5 || tld.failing != 0 {
		t.Errorf("TLD server = %+v, want 5 domains, none failing", tld)
	}
	if p := s.providers["bad-dns.net"]; p == nil || p.domains != 2 || p.failing != 2 || len(p.addrs) != 2 {
		t.Errorf("provider bad-dns.net = %+v", p)
	}
	if s.domains != 6 || s.errors != 1 || s.failing != 2 {
		t.Errorf("totals: %d domains, %d errors, %d failing; want 6, 1, 2", s.domains, s.errors, s.failing)
	}
}

// TestBoundedMemory checks that the summary keeps counters, not domains:
// 10,000 domains at the same two servers leave two server entries.
func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	s := New()
	srv := [][2]string{{"ns1.big.test", "127.0.0.1"}, {"ns2.big.test", "127.0.0.2"}}
	for i := range 10000 {
		s.Add(domain("d"+strconv.Itoa(i)+".test", srv,
			finding(catalog.CodeTimeout, model.SeverityFail, "ns2.big.test", "127.0.0.2")))
	}
	if len(s.servers) != 2 || len(s.providers) != 1 {
		t.Fatalf("%d servers, %d providers; want 2 and 1", len(s.servers), len(s.providers))
	}
	if c := s.servers[serverKey{"ns2.big.test", netip.MustParseAddr("127.0.0.2")}]; c.codes[catalog.CodeTimeout] != 10000 {
		t.Errorf("timeout count %d, want 10000", c.codes[catalog.CodeTimeout])
	}
}

// TestWriteWidth: the provider view fits a narrow terminal as wrapped
// lines, and is the grid when there is room (or no limit).
func TestWriteWidth(t *testing.T) {
	s := New()
	for _, d := range sample() {
		s.Add(d)
	}
	var grid, wide, narrow bytes.Buffer
	if err := s.Write(&grid); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteWidth(&wide, 1000); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteWidth(&narrow, 50); err != nil {
		t.Fatal(err)
	}
	if grid.String() != wide.String() || !strings.Contains(grid.String(), "┌") {
		t.Errorf("with room the grid is kept")
	}
	if strings.Contains(narrow.String(), "┌") || !strings.Contains(narrow.String(), "By provider:") {
		t.Errorf("at 50 columns:\n%s", narrow.String())
	}
	for _, l := range strings.Split(narrow.String(), "\n") {
		if utf8.RuneCountInString(l) > 50 {
			t.Errorf("line over 50 columns: %q", l)
		}
	}
}
