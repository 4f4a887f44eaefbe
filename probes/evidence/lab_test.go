package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/fixtures"
	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/check"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkLab starts the lab and checks each name in it, as the command does.
func checkLab(t *testing.T, names ...string) (*fixtures.Lab, map[string]*model.Domain) {
	t.Helper()
	return checkLabRetrying(t, 0, names...)
}

// checkLabRetrying is checkLab with retries after a timeout.
func checkLabRetrying(t *testing.T, retries int, names ...string) (*fixtures.Lab, map[string]*model.Domain) {
	t.Helper()
	lab, err := fixtures.Start(fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lab.Close)
	c := check.New(check.Config{Roots: []netip.Addr{lab.Root}, Port: lab.Port, Timeout: 500 * time.Millisecond,
		Retries: retries, DomainTimeout: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string]*model.Domain{}
	for _, n := range names {
		out[n] = c.Check(ctx, n)
	}
	return lab, out
}

// findResult returns the result of probe id for name at the zone's own
// servers (not the TLD's), failing the test when there is none.
func findResult(t *testing.T, d *model.Domain, id model.ProbeID) (*model.Server, *model.Result) {
	t.Helper()
	for _, s := range d.Servers {
		if s.Zone.String() != d.Domain+"." {
			continue
		}
		for _, r := range s.Results {
			if r.Probe == id && r.Name.String() == d.Domain+"." {
				return s, r
			}
		}
	}
	t.Fatalf("%s: no %s result", d.Domain, id)
	return nil, nil
}

// normalise makes a checked domain reproducible for golden files: message
// IDs are renumbered in order of appearance, within each exchange (a reply
// that echoes its query's ID keeps it, a mismatched one gets its own), the
// 0x20 spelling becomes a fixed one, and times become a fixed clock. It
// edits the bytes the renderers read, and the details that quote them, so
// the rendered report stays consistent with its hex dumps.
//
// Numbering per exchange, not per domain: two exchanges' random IDs are
// equal by chance (a domain here sends about 25, so about 1 run in 100
// met such a pair, and a run-wide map gave both the same number).
func normalise(d *model.Domain) {
	ids := map[uint16]uint16{} // raw → first new number, for the details
	next := uint16(0x1000)
	var local map[uint16]uint16 // this exchange's raw → new
	mapID := func(b []byte) {
		if len(b) < 2 {
			return
		}
		id := binary.BigEndian.Uint16(b)
		n, ok := local[id]
		if !ok {
			n, next = next, next+1
			local[id] = n
			if _, seen := ids[id]; !seen {
				ids[id] = n
			}
		}
		binary.BigEndian.PutUint16(b, n)
	}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sources := 0
	var names [][2]string
	for _, s := range d.Servers {
		for _, r := range s.Results {
			var exs []*model.Exchange
			for _, ex := range []*model.Exchange{r.Exchange, r.Fallback} {
				if ex != nil {
					exs = append(exs, ex)
				}
			}
			if r.Probe == catalog.ProbeCAA0x20 && r.QName != "" {
				fixed := alternate(r.QName)
				names = append(names, [2]string{r.QName, fixed})
				from, to := wireName(r.QName), wireName(fixed)
				for _, ex := range exs {
					ex.Query = bytes.ReplaceAll(ex.Query, from, to)
					ex.Reply = bytes.ReplaceAll(ex.Reply, from, to)
					for i := range ex.Rejected {
						ex.Rejected[i] = bytes.ReplaceAll(ex.Rejected[i], from, to)
					}
				}
				r.QName = fixed
			}
			for _, ex := range exs {
				local = map[uint16]uint16{}
				mapID(ex.Query)
				for _, rj := range ex.Rejected {
					mapID(rj)
				}
				mapID(ex.Reply)
				clock = clock.Add(time.Millisecond)
				ex.Start = clock
				// Source ports are random: number them in order.
				for i := range ex.Earlier {
					if ex.Earlier[i].Source.IsValid() {
						sources++
						ex.Earlier[i].Source = netip.AddrPortFrom(ex.Earlier[i].Source.Addr(), uint16(50000+sources))
					}
				}
				if ex.Source.IsValid() {
					sources++
					ex.Source = netip.AddrPortFrom(ex.Source.Addr(), uint16(50000+sources))
				}
				ex.RTT = 250 * time.Microsecond
				if ex.Timeouts > 0 {
					ex.RTT = 500 * time.Millisecond
				}
			}
		}
	}
	idRE := regexp.MustCompile(`ID (\d+)`)
	fix := func(s string) string {
		for _, n := range names {
			s = strings.ReplaceAll(s, n[0], n[1])
		}
		return idRE.ReplaceAllStringFunc(s, func(m string) string {
			v, _ := strconv.Atoi(m[3:])
			if n, ok := ids[uint16(v)]; ok {
				return fmt.Sprintf("ID %d", n)
			}
			return m
		})
	}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			for i := range r.Issues {
				r.Issues[i].Detail = fix(r.Issues[i].Detail)
			}
		}
	}
	judge.Summarise(d)
	d.Explanation = fix(d.Explanation)
	if d.Policy != nil {
		d.Policy.Reason = fix(d.Policy.Reason)
	}
}

// ownServersOnly drops the servers of parent zones (the lab's signed TLD),
// whose replies carry RRSIGs with fresh ECDSA signatures and validity
// times: no two runs give the same bytes, and the golden files are about
// the rendering of the domain's own exchanges.
func ownServersOnly(d *model.Domain) {
	var own []*model.Server
	for _, s := range d.Servers {
		if s.Zone.String() == d.Domain+"." {
			own = append(own, s)
		}
	}
	d.Servers = own
	var names []*model.Name
	for _, n := range d.Names {
		if n.Zone.String() == d.Domain+"." {
			names = append(names, n)
		}
	}
	d.Names = names
}

// alternate spells a name in alternating case, starting upper.
func alternate(name string) string {
	b := []byte(strings.ToLower(name))
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			if up {
				b[i] = c - 32
			}
			up = !up
		}
	}
	return string(b)
}

func wireName(name string) []byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		panic(err)
	}
	return buf[:n]
}

// maskPort hides the lab's port, which changes from run to run.
func maskPort(s string, port int) string {
	p := strconv.Itoa(port)
	s = strings.ReplaceAll(s, "-p "+p+" ", "-p PORT ")
	s = strings.ReplaceAll(s, " port "+p+"\n", " port PORT\n")
	return s
}

func TestReportGolden(t *testing.T) {
	domains := []string{"notimp.test", "malformed.test", "badid.test", "split.test", "lowercase.test", "tc.test"}
	lab, ds := checkLab(t, domains...)
	for _, name := range domains {
		t.Run(name, func(t *testing.T) {
			d := ds[name]
			ownServersOnly(d)
			normalise(d)
			var b bytes.Buffer
			if err := WriteMarkdownRun(&b, d, nil); err != nil {
				t.Fatal(err)
			}
			got := maskPort(b.String(), lab.Port)
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("report.md for %s differs from %s (go test -update rewrites it):\n%s", name, path, firstDiff(got, string(want)))
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "(no line differs)"
}

// TestReportContents checks, apart from the golden files, that the report
// of a failing domain says what a provider needs: the failing address, the
// finding, the RFC clause from the catalog, and the dig command.
func TestReportContents(t *testing.T) {
	_, ds := checkLab(t, "notimp.test", "notimp-unknown.test", "drop.test")
	for _, tc := range []struct {
		domain string
		code   model.Code
		want   []string
	}{
		{"notimp.test", catalog.CodeRcodeNotimp, []string{"status: NOTIMP", "+norec", "NOTIMP.TEST. CAA"}},
		{"notimp-unknown.test", catalog.CodeRcodeNotimp, []string{"notimp-unknown.test. TYPE666", "RFC 3597"}},
		{"drop.test", catalog.CodeTimeout, []string{"+tries=1 +time=1", "none accepted"}},
	} {
		d := ds[tc.domain]
		s, _ := findResult(t, d, catalog.ProbeCAA)
		var b bytes.Buffer
		if err := WriteMarkdownRun(&b, d, nil); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		info := catalog.Info(tc.code)
		want := append([]string{s.Addr.String(), string(tc.code), info.RFC, info.Fix, "dig @" + s.Addr.String()}, tc.want...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: report lacks %q", tc.domain, w)
			}
		}
	}
}
