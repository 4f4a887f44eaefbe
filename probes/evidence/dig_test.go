package evidence

import (
	"context"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
)

// TestDigReproduces runs the dig command printed for lab exchanges against
// the lab and checks that dig sees what caaprobe saw. The printed command
// is run as is; for a timeout the test adds only +tries=1 +time=1.
func TestDigReproduces(t *testing.T) {
	dig := requireTool(t, "dig")
	_, ds := checkLab(t, "notimp.test", "refused.test", "drop.test", "lowercase.test", "notimp-unknown.test", "ok.test")
	statusRE := regexp.MustCompile(`status: ([A-Z0-9]+)`)
	for _, tc := range []struct {
		domain string
		probe  model.ProbeID
	}{
		{"notimp.test", catalog.ProbeCAA},
		{"ok.test", catalog.ProbeEDNSVersion},
		{"ok.test", catalog.ProbeOpcode},
		{"ok.test", catalog.ProbeEDNSOption},
		{"ok.test", catalog.ProbeEDNSFlag},
		{"ok.test", catalog.ProbeEDNSCookie},
		{"notimp.test", catalog.ProbeCAATCP},
		{"notimp.test", catalog.ProbeCAANoEDNS},
		{"notimp-unknown.test", catalog.ProbeUnknownType},
		{"refused.test", catalog.ProbeCAAUpper},
		{"drop.test", catalog.ProbeCAA},
		{"lowercase.test", catalog.ProbeCAAUpper},
	} {
		t.Run(tc.domain+"/"+string(tc.probe), func(t *testing.T) {
			_, r := findResult(t, ds[tc.domain], tc.probe)
			line := DigCommand(r.Exchange)
			args := strings.Fields(line)
			if args[0] != "dig" {
				t.Fatalf("not a dig command: %s", line)
			}
			timeout := r.Status == "timeout"
			if timeout {
				args = append(args, "+tries=1", "+time=1")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, dig, args[1:]...).CombinedOutput()
			text := string(out)
			if timeout {
				if !strings.Contains(text, "timed out") && !strings.Contains(text, "communications error") &&
					!strings.Contains(text, "no servers could be reached") {
					t.Errorf("caaprobe saw a timeout; %s\ngave:\n%s", line, text)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, text)
			}
			m := statusRE.FindStringSubmatch(text)
			if m == nil || m[1] != string(r.Status) {
				t.Errorf("caaprobe saw %s; %s\ngave:\n%s", r.Status, line, text)
			}
			// The echoed question as dig prints it must be the bytes the
			// server sent back: lowercase.test lowercases the UPPERCASE query.
			if r.Exchange.Reply != nil {
				q, _, err := wire.ParseQuestion(r.Exchange.Reply)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(text, ";"+string(q.Name)+" ") && !strings.Contains(text, ";"+string(q.Name)+"\t") {
					t.Errorf("dig's question section lacks the echoed %q:\n%s", q.Name, text)
				}
			}
			if tc.domain == "lowercase.test" && !strings.Contains(line, "LOWERCASE.TEST.") {
				t.Errorf("command does not keep the query's casing: %s", line)
			}
		})
	}
}

// TestDigCommandFlags checks the command line against the query's bytes
// for every kind of query the catalog sends.
func TestDigCommandFlags(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.5:5353")
	for _, tc := range []struct {
		name       string
		qname      string
		qtype      uint16
		edns, do   bool
		transport  model.Transport
		port53     bool
		want, deny []string
	}{
		{"edns do", "ExAmple.test", 257, true, true, model.UDP, false,
			[]string{"dig @127.0.0.5 -p 5353 +norec +noadflag +dnssec +nocookie +bufsize=1232 +nsid ExAmple.test. CAA"}, nil},
		{"edns no do", "a.test", catalog.TypeUnknown, true, false, model.UDP, false,
			[]string{"+edns=0 +nodnssec", "+bufsize=1232", "a.test. TYPE666"}, []string{"+dnssec"}},
		{"no edns", "a.test", 257, false, false, model.UDP, false, []string{"+noedns"}, []string{"+bufsize", "+dnssec"}},
		{"tcp port 53", "a.test", 257, true, true, model.TCP, true, []string{"+tcp"}, []string{"-p "}},
		{"quoted name", "a b'c.test", 257, true, true, model.UDP, false, []string{`'a\032b'\''c.test.'`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := wire.BuildQuery(tc.qname, tc.qtype, tc.edns, tc.do)
			if err != nil {
				t.Fatal(err)
			}
			srv := server
			if tc.port53 {
				srv = netip.AddrPortFrom(server.Addr(), 53)
			}
			got := DigCommand(&model.Exchange{Server: srv, Transport: tc.transport, Query: q})
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: lacks %q", got, w)
				}
			}
			for _, d := range tc.deny {
				if strings.Contains(got, d) {
					t.Errorf("%s: has %q", got, d)
				}
			}
		})
	}
}

// TestDigCommandConformance checks the command line of each conformance
// probe's odd query form against its bytes.
func TestDigCommandConformance(t *testing.T) {
	for id, want := range map[model.ProbeID]string{
		catalog.ProbeEDNSVersion: "+edns=1 +nodnssec +noednsneg +nocookie +bufsize=1232 +nsid",
		catalog.ProbeEDNSOption:  "+dnssec +nocookie +bufsize=1232 +nsid +ednsopt=65001:",
		catalog.ProbeEDNSFlag:    "+dnssec +nocookie +bufsize=1232 +ednsflags=0x4000 +nsid",
		catalog.ProbeEDNS512:     "+dnssec +nocookie +bufsize=512 +nsid",
		catalog.ProbeEDNSCookie:  "+dnssec +cookie=caa90be0c00c1e5e +bufsize=1232 +nsid",
		catalog.ProbeOpcode:      "+nsid +opcode=15",
		catalog.ProbeIDHostname:  "+nsid hostname.bind. TXT CH",
	} {
		p, _ := catalog.ProbeByID(id)
		name := "a.test"
		if p.QName != "" {
			name = p.QName
		}
		q, err := wire.BuildProbeQuery(name, p)
		if err != nil {
			t.Fatal(err)
		}
		got := DigCommand(&model.Exchange{Server: netip.MustParseAddrPort("127.0.0.5:53"), Transport: p.Transport, Query: q})
		if !strings.Contains(got, want) {
			t.Errorf("%s: %s lacks %q", id, got, want)
		}
	}
}
