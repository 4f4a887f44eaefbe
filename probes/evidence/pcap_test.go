package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/caaprobe/caaprobe/probes/wire"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// flow is one direction of one exchange as the pcap carries it: addresses,
// ports and the DNS bytes (TCP segments joined, length prefixes kept).
type flow struct {
	src, dst netip.AddrPort
	tcp      bool
	data     []byte
}

func (f flow) key() string {
	return fmt.Sprintf("%v>%v tcp=%v %x", f.src, f.dst, f.tcp, f.data)
}

// wantFlows is what the pcap of d must hold, from the exchanges' bytes:
// every query sent, retries included, each from a client port of its own.
func wantFlows(d *model.Domain) []flow {
	var out []flow
	port := ClientPortBase
	// Each attempt comes from the source its socket had; the counted
	// documentation client only stands in where none was recorded.
	client := func(server, src netip.AddrPort) netip.AddrPort {
		port++
		if src.IsValid() {
			return src
		}
		if server.Addr().Is6() {
			return netip.AddrPortFrom(ClientIPv6, uint16(port-1))
		}
		return netip.AddrPortFrom(ClientIPv4, uint16(port-1))
	}
	for _, ex := range Exchanges(d) {
		if len(ex.Query) == 0 || ex.Start.IsZero() {
			continue
		}
		for _, a := range ex.Earlier {
			q := ex.QueryOf(a)
			if ex.Transport == model.TCP {
				q = lengthPrefixed(q)
			}
			out = append(out, flow{client(ex.Server, a.Source), ex.Server, ex.Transport == model.TCP, q})
		}
		c := client(ex.Server, ex.Source)
		if ex.Transport == model.TCP {
			replies := slices.Clone(ex.Rejected)
			if ex.Reply != nil {
				replies = append(replies, ex.Reply)
			}
			if len(replies) == 0 && !errors.Is(ex.Err, model.ErrTimeout) {
				continue // refused: SYN and RST, no data
			}
			out = append(out, flow{c, ex.Server, true, lengthPrefixed(ex.Query)})
			var back []byte
			for _, r := range replies {
				back = append(back, lengthPrefixed(r)...)
			}
			if len(back) > 0 {
				out = append(out, flow{ex.Server, c, true, back})
			}
			continue
		}
		out = append(out, flow{c, ex.Server, false, ex.Query})
		for _, r := range ex.Rejected {
			out = append(out, flow{ex.Server, c, false, r})
		}
		if ex.Reply != nil {
			out = append(out, flow{ex.Server, c, false, ex.Reply})
		}
	}
	return out
}

// readFlows reads a pcap back with pcapgo and decodes every frame with
// gopacket, joining TCP payloads per direction of each connection.
func readFlows(t *testing.T, pcap []byte) (flows []flow, packets int) {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	tcp := map[string]*flow{}
	var order []string
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
		if ci.Timestamp.IsZero() || ci.CaptureLength != len(data) {
			t.Errorf("packet %d: capture info %+v", packets, ci)
		}
		p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("packet %d does not decode: %v", packets, el.Error())
		}
		var src, dst netip.Addr
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			src, dst = netip.AddrFrom4([4]byte(ip.SrcIP.To4())), netip.AddrFrom4([4]byte(ip.DstIP.To4()))
			// Ethernet pads frames shorter than 60 bytes; only longer ones must match exactly.
			if l := int(ip.Length); l > len(data)-14 || (len(data) > 60 && l != len(data)-14) {
				t.Errorf("packet %d: IPv4 length %d, frame carries %d", packets, ip.Length, len(data)-14)
			}
		case *layers.IPv6:
			src, dst = netip.AddrFrom16([16]byte(ip.SrcIP)), netip.AddrFrom16([16]byte(ip.DstIP))
		default:
			t.Fatalf("packet %d: no IP layer", packets)
		}
		switch l := p.TransportLayer().(type) {
		case *layers.UDP:
			flows = append(flows, flow{netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort)), false, l.Payload})
		case *layers.TCP:
			f := flow{netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort)), true, nil}
			k := f.src.String() + ">" + f.dst.String()
			if tcp[k] == nil {
				tcp[k] = &f
				order = append(order, k)
			}
			tcp[k].data = append(tcp[k].data, l.Payload...)
		}
	}
	for _, k := range order {
		if len(tcp[k].data) > 0 {
			flows = append(flows, *tcp[k])
		}
	}
	return flows, packets
}

func TestPcapReadBack(t *testing.T) {
	domains := []string{"notimp.test", "badid.test", "tc.test", "malformed.test", "drop.test"}
	// One retry, so that drop.test's pcap must show both unanswered queries.
	_, ds := checkLabRetrying(t, 1, domains...)
	retried := 0
	for _, ex := range Exchanges(ds["drop.test"]) {
		retried += len(ex.Earlier)
	}
	if retried == 0 {
		t.Fatal("drop.test was not retried: the pcap test of retries proves nothing")
	}
	for _, d := range ds {
		for _, ex := range Exchanges(d) {
			if !ex.Start.IsZero() && ex.Transport == model.UDP && !ex.Source.IsValid() {
				t.Fatalf("an exchange with %s has no source address: the pcap would invent one", ex.Server)
			}
		}
	}
	for _, name := range domains {
		t.Run(name, func(t *testing.T) {
			d := ds[name]
			var b bytes.Buffer
			if err := WritePcap(&b, d); err != nil {
				t.Fatal(err)
			}
			got, packets := readFlows(t, b.Bytes())
			want := wantFlows(d)
			if packets < len(want) {
				t.Errorf("%d packets for %d flows", packets, len(want))
			}
			keys := func(fs []flow) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.key())
				}
				slices.Sort(out)
				return out
			}
			g, w := keys(got), keys(want)
			if !slices.Equal(g, w) {
				t.Errorf("pcap flows differ from the exchanges:\n got %d: %.300q\nwant %d: %.300q", len(g), g, len(w), w)
			}
		})
	}
}

// requireTool finds a command-line tool. In CI (CI=true) a missing tool
// fails the test: the point there is to run it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return path
}

// TestPcapTshark has Wireshark's dissector read the pcap: every query is
// paired with its reply, IDs and RCODEs are the exchanges', and the
// malformed reply is flagged as malformed.
func TestPcapTshark(t *testing.T) {
	tshark := requireTool(t, "tshark")
	domains := []string{"notimp.test", "malformed.test", "tc.test"}
	lab, ds := checkLab(t, domains...)
	for _, name := range domains {
		t.Run(name, func(t *testing.T) {
			d := ds[name]
			file := filepath.Join(t.TempDir(), "exchanges.pcap")
			var b bytes.Buffer
			if err := WritePcap(&b, d); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			port := strconv.Itoa(lab.Port)
			// -2: two passes, so dns.response_in is filled in.
			cmd := exec.CommandContext(ctx, tshark, "-2", "-n", "-r", file,
				"-d", "udp.port=="+port+",dns", "-d", "tcp.port=="+port+",dns",
				"-Y", "dns || _ws.malformed",
				"-T", "fields", "-E", "separator=|", "-E", "occurrence=f",
				"-e", "dns.id", "-e", "dns.flags.response", "-e", "dns.flags.rcode", "-e", "dns.qry.name",
				"-e", "dns.response_in", "-e", "_ws.malformed", "-e", "tcp.stream", "-e", "udp.srcport")
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tshark: %v\n%s", err, out)
			}
			type row struct{ id, resp, rcode, qname, responseIn, malformed string }
			var rows []row
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(line, "|")
				if len(f) < 6 {
					continue
				}
				id := f[0]
				if v, err := strconv.ParseUint(id, 0, 16); err == nil {
					id = strconv.Itoa(int(v))
				}
				rows = append(rows, row{id, f[1], f[2], f[3], f[4], f[5]})
			}
			for _, ex := range Exchanges(d) {
				if len(ex.Query) < 12 || ex.Start.IsZero() {
					continue
				}
				qid := strconv.Itoa(int(binary.BigEndian.Uint16(ex.Query)))
				var query *row
				for i := range rows {
					if rows[i].id == qid && (rows[i].resp == "False" || rows[i].resp == "0") && query == nil {
						query = &rows[i]
					}
				}
				if query == nil {
					if ex.Transport == model.TCP && ex.Reply == nil {
						continue // refused before the query went out
					}
					t.Errorf("tshark shows no query with ID %s to %v:\n%s", qid, ex.Server, out)
					continue
				}
				q, _, _ := wire.ParseQuestion(ex.Query)
				if !strings.EqualFold(query.qname+".", string(q.Name)) {
					t.Errorf("query %s: tshark name %q, sent %q", qid, query.qname, q.Name)
				}
				_, mferr := wire.MessageEnd(ex.Reply)
				if ex.Reply != nil && mferr == nil && query.responseIn == "" {
					t.Errorf("query %s to %v: tshark pairs no reply (dns.response_in empty)", qid, ex.Server)
				}
			}
			wantMalformed := name == "malformed.test"
			sawMalformed := false
			for _, r := range rows {
				if r.malformed != "" {
					sawMalformed = true
				}
			}
			if sawMalformed != wantMalformed {
				t.Errorf("malformed packets: saw %v, want %v\n%s", sawMalformed, wantMalformed, out)
			}
			if name == "notimp.test" && !strings.Contains(string(out), "|1|4|") {
				t.Errorf("tshark shows no NOTIMP (rcode 4) reply:\n%s", out)
			}
		})
	}
}
