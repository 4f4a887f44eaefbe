package evidence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/caaprobe/caaprobe/probes/model"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// The pcap shows the exchanges as a capture on the client would: from the
// source address and port each attempt was sent from (model.Exchange.Source,
// read from the socket), so a provider can match the packets to its logs.
// Only an exchange without a recorded source (a run read back from JSON
// written before sources were kept) gets an invented client: a
// documentation address (RFC 5737, RFC 3849) and a port of its own,
// counted up from ClientPortBase.
var (
	ClientIPv4 = netip.MustParseAddr("192.0.2.1")
	ClientIPv6 = netip.MustParseAddr("2001:db8::1")
)

// ClientPortBase is the client port of the first query in a pcap; the
// n-th query sent (retries counted) uses ClientPortBase+n.
const ClientPortBase = 40000

// TCP sequence numbers start here; fixed so that captures are reproducible.
const (
	clientISN = 1000
	serverISN = 5000
	tcpMSS    = 1400
)

var (
	clientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	serverMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

// Exchanges lists every exchange of d once, in matrix order, each TCP retry
// after its truncated UDP exchange.
func Exchanges(d *model.Domain) []*model.Exchange {
	var out []*model.Exchange
	seen := map[*model.Exchange]bool{}
	add := func(ex *model.Exchange) {
		if ex != nil && !seen[ex] {
			seen[ex] = true
			out = append(out, ex)
		}
	}
	for _, s := range d.Servers {
		for _, r := range s.Results {
			add(r.Exchange)
			add(r.Fallback)
		}
	}
	return out
}

type packet struct {
	at   time.Time
	data []byte
}

// WritePcap writes every exchange of d as Ethernet frames in a classic
// pcap file: UDP datagrams as sent and received, TCP as a connection with
// a handshake, the length-prefixed query and reply segments, and a close.
// Exchanges that were never sent are left out.
func WritePcap(w io.Writer, d *model.Domain) error {
	return writePcap(w, Exchanges(d))
}

func writePcap(w io.Writer, exs []*model.Exchange) error {
	var pkts []packet
	n := 0 // attempts so far: each has its own client port, as each had its own socket
	for _, ex := range exs {
		for _, a := range attempts(ex) {
			port := uint16(ClientPortBase + n%(65536-ClientPortBase))
			n++
			var p []packet
			var err error
			if ex.Transport == model.TCP {
				p, err = tcpPackets(ex.Server, a, port)
			} else {
				p, err = udpPackets(ex.Server, a, port)
			}
			if err != nil {
				return fmt.Errorf("exchange with %s: %w", ex.Server, err)
			}
			pkts = append(pkts, p...)
		}
	}
	sort.SliceStable(pkts, func(i, j int) bool { return pkts[i].at.Before(pkts[j].at) })
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("writing the pcap header: %w", err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.at, CaptureLength: len(p.data), Length: len(p.data)}
		if err := pw.WritePacket(ci, p.data); err != nil {
			return fmt.Errorf("writing a packet: %w", err)
		}
	}
	return nil
}

// attempt is one query of an exchange and what came back to it.
type attempt struct {
	source   netip.AddrPort // zero when not recorded
	query    []byte
	start    time.Time
	rtt      time.Duration
	rejected [][]byte // datagrams that did not answer it (all are put on the last attempt: when they came is not kept)
	reply    []byte
	err      error
}

// attempts lists the queries ex sent, in order: the earlier ones, which
// timed out, then the last. An exchange that was never sent has none.
func attempts(ex *model.Exchange) []attempt {
	if len(ex.Query) == 0 || ex.Start.IsZero() {
		return nil
	}
	var out []attempt
	for _, a := range ex.Earlier {
		out = append(out, attempt{source: a.Source, query: ex.QueryOf(a), start: a.Start, rtt: a.Waited, err: model.ErrTimeout})
	}
	return append(out, attempt{ex.Source, ex.Query, ex.Start, ex.RTT, ex.Rejected, ex.Reply, ex.Err})
}

// endpoints is one direction of an exchange.
type endpoints struct {
	src, dst       netip.AddrPort
	srcMAC, dstMAC net.HardwareAddr
}

// directions are the two directions between the attempt's source (or,
// when none was recorded, the documentation client at port) and server.
func directions(server netip.AddrPort, a attempt, port uint16) (out, in endpoints) {
	server = netip.AddrPortFrom(server.Addr().Unmap().WithZone(""), server.Port())
	client := ClientIPv4
	if server.Addr().Is6() {
		client = ClientIPv6
	}
	c := netip.AddrPortFrom(client, port)
	if src := a.source; src.IsValid() && src.Addr().Unmap().Is4() == server.Addr().Is4() {
		c = netip.AddrPortFrom(src.Addr().Unmap().WithZone(""), src.Port())
	}
	return endpoints{c, server, clientMAC, serverMAC}, endpoints{server, c, serverMAC, clientMAC}
}

func udpPackets(server netip.AddrPort, a attempt, port uint16) ([]packet, error) {
	out, in := directions(server, a, port)
	q, err := frame(out, &layers.UDP{}, a.query)
	if err != nil {
		return nil, err
	}
	pkts := []packet{{a.start, q}}
	back := a.start.Add(a.rtt)
	// Rejected datagrams arrived before the reply that was accepted; when
	// they were read is not kept, so they carry the reply's time.
	for _, r := range a.rejected {
		b, err := frame(in, &layers.UDP{}, r)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, packet{back, b})
	}
	if a.reply != nil {
		b, err := frame(in, &layers.UDP{}, a.reply)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, packet{back, b})
	}
	return pkts, nil
}

func tcpPackets(server netip.AddrPort, a attempt, port uint16) ([]packet, error) {
	out, in := directions(server, a, port)
	var pkts []packet
	var err error
	emit := func(e endpoints, at time.Time, t *layers.TCP, payload []byte) {
		if err != nil {
			return
		}
		var b []byte
		b, err = frame(e, t, payload)
		pkts = append(pkts, packet{at, b})
	}
	t0, back := a.start, a.start.Add(a.rtt)
	c, s := uint32(clientISN), uint32(serverISN)
	emit(out, t0, &layers.TCP{SYN: true, Seq: c}, nil)
	var replies [][]byte
	replies = append(replies, a.rejected...)
	if a.reply != nil {
		replies = append(replies, a.reply)
	}
	if len(replies) == 0 && a.err != nil && !isTimeout(a.err) {
		// Refused or reset: the connection never carried the query.
		emit(in, back, &layers.TCP{RST: true, ACK: true, Seq: 0, Ack: c + 1}, nil)
		return pkts, err
	}
	emit(in, t0, &layers.TCP{SYN: true, ACK: true, Seq: s, Ack: c + 1}, nil)
	c++
	s++
	emit(out, t0, &layers.TCP{ACK: true, Seq: c, Ack: s}, nil)
	q := lengthPrefixed(a.query)
	emit(out, t0, &layers.TCP{PSH: true, ACK: true, Seq: c, Ack: s}, q)
	c += uint32(len(q))
	for _, r := range replies {
		data := lengthPrefixed(r)
		for off := 0; off < len(data); off += tcpMSS {
			seg := data[off:min(off+tcpMSS, len(data))]
			emit(in, back, &layers.TCP{PSH: true, ACK: true, Seq: s, Ack: c}, seg)
			s += uint32(len(seg))
		}
		emit(out, back, &layers.TCP{ACK: true, Seq: c, Ack: s}, nil)
	}
	if len(replies) > 0 {
		emit(out, back, &layers.TCP{FIN: true, ACK: true, Seq: c, Ack: s}, nil)
		emit(in, back, &layers.TCP{FIN: true, ACK: true, Seq: s, Ack: c + 1}, nil)
		emit(out, back, &layers.TCP{ACK: true, Seq: c + 1, Ack: s + 1}, nil)
	}
	return pkts, err
}

func isTimeout(err error) bool { return err != nil && errors.Is(err, model.ErrTimeout) }

// lengthPrefixed frames a message for TCP (RFC 1035 §4.2.2). A message
// longer than 65535 bytes cannot be framed; it is cut, as no server could
// have sent it whole.
func lengthPrefixed(msg []byte) []byte {
	msg = msg[:min(len(msg), 65535)]
	b := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(b, uint16(len(msg)))
	copy(b[2:], msg)
	return b
}

// maxUDPPayload keeps the IP length fields from overflowing: 65535 minus
// the IPv4 and UDP headers.
const maxUDPPayload = 65535 - 20 - 8

// frame builds one Ethernet frame carrying payload in a UDP datagram or TCP
// segment, with lengths and checksums computed by gopacket.
func frame(e endpoints, transport gopacket.SerializableLayer, payload []byte) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: e.srcMAC, DstMAC: e.dstMAC}
	var ip interface {
		gopacket.SerializableLayer
		gopacket.NetworkLayer
	}
	var proto layers.IPProtocol
	switch transport.(type) {
	case *layers.UDP:
		proto = layers.IPProtocolUDP
		if len(payload) > maxUDPPayload {
			return nil, fmt.Errorf("a %d-byte datagram does not fit in one IP packet", len(payload))
		}
	case *layers.TCP:
		proto = layers.IPProtocolTCP
	}
	if e.src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip = &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, Flags: layers.IPv4DontFragment,
			SrcIP: e.src.Addr().AsSlice(), DstIP: e.dst.Addr().AsSlice()}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto,
			SrcIP: e.src.Addr().AsSlice(), DstIP: e.dst.Addr().AsSlice()}
	}
	switch t := transport.(type) {
	case *layers.UDP:
		t.SrcPort, t.DstPort = layers.UDPPort(e.src.Port()), layers.UDPPort(e.dst.Port())
		if err := t.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
	case *layers.TCP:
		t.SrcPort, t.DstPort = layers.TCPPort(e.src.Port()), layers.TCPPort(e.dst.Port())
		t.Window = 65535
		if err := t.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, err
		}
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, transport, gopacket.Payload(payload)); err != nil {
		return nil, fmt.Errorf("building a packet: %w", err)
	}
	return buf.Bytes(), nil
}
