package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/caaprobe/caaprobe/probes/catalog"
	"github.com/caaprobe/caaprobe/probes/judge"
	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/render/jsonl"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/miekg/dns"
)

// instanceDomain is one server whose replies name instance id; the
// conformance probe edns-version is sent too.
func instanceDomain(t *testing.T, id string) *model.Domain {
	t.Helper()
	d := &model.Domain{Domain: "a.test", Names: []*model.Name{{Name: model.MustName("a.test."), Zone: model.MustName("a.test."), Exists: true}}}
	s := &model.Server{Zone: model.MustName("a.test."), NS: "ns1.a.test.", Addr: netip.MustParseAddr("192.0.2.1")}
	for _, pid := range []model.ProbeID{catalog.ProbeCAA, catalog.ProbeEDNSVersion} {
		p, _ := catalog.ProbeByID(pid)
		q, _ := wire.BuildProbeQuery("a.test.", p)
		qm := new(dns.Msg)
		if err := qm.Unpack(q); err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		m.SetReply(qm)
		m.Authoritative = true
		m.Answer = append(m.Answer, mustCAA(t, `a.test. 300 IN CAA 0 issue "letsencrypt.org"`))
		m.SetEdns0(1232, true)
		if pid == catalog.ProbeEDNSVersion {
			m.Answer = nil
			m.Rcode = dns.RcodeBadVers
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: fmt.Sprintf("%x", id)})
		reply, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		ex := &model.Exchange{Server: netip.AddrPortFrom(s.Addr, 53), Query: q, Reply: reply, Attempts: 1}
		r := judge.Exchange(p, judge.Context{Zone: model.MustName("a.test."), Name: model.MustName("a.test."), Exists: true}, ex, nil)
		s.Results = append(s.Results, &r)
	}
	d.Servers = append(d.Servers, s)
	judge.Summarise(d)
	return d
}

func mustCAA(t *testing.T, s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// TestInstanceInTableAndJSON: the table keeps the conformance probe out of
// the default matrix, shows it in the second one, names the instance under
// the matrix; the JSON carries nsid and nsid_hex per result.
func TestInstanceInTableAndJSON(t *testing.T) {
	d := instanceDomain(t, "lhr-2")
	var b bytes.Buffer
	if err := WriteTable(&b, d, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	main, second, ok := strings.Cut(out, "conformance (")
	if !ok {
		t.Fatalf("no second matrix:\n%s", out)
	}
	if strings.Contains(main, "edns-version") || !strings.Contains(second, "edns-version") || !strings.Contains(second, "BADVERS") {
		t.Errorf("edns-version belongs in the second matrix only:\n%s", out)
	}
	if !strings.Contains(out, "ns1.a.test (192.0.2.1): answered by instance lhr-2 (NSID 6c68722d32)") {
		t.Errorf("no instance line:\n%s", out)
	}
	var js bytes.Buffer
	if err := jsonl.Write(&js, d); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Servers []struct {
			Results []struct {
				Probe   string `json:"probe"`
				NSID    string `json:"nsid"`
				NSIDHex string `json:"nsid_hex"`
			} `json:"results"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(js.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Servers[0].Results {
		if r.NSID != "lhr-2" || r.NSIDHex != "6c68722d32" {
			t.Errorf("%s: nsid %q hex %q", r.Probe, r.NSID, r.NSIDHex)
		}
	}
}
